#!/usr/bin/env python3
"""Write its pid to standard error, then nothing for a minute."""

import os
import sys
import time

sys.stderr.write("hang.py pid=%d\n" % os.getpid())
sys.stderr.flush()
time.sleep(60)
