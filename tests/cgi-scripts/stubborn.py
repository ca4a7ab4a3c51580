#!/usr/bin/env python3
"""Like hang.py, but ignoring SIGTERM: only SIGKILL ends it."""

import os
import signal
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
sys.stderr.write("stubborn.py pid=%d\n" % os.getpid())
sys.stderr.flush()
time.sleep(60)
