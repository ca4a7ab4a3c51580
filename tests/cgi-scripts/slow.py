#!/usr/bin/env python3
"""A head, then a line every 50 ms for 20 s; its pid on standard error."""

import os
import sys
import time

sys.stderr.write("slow.py pid=%d\n" % os.getpid())
sys.stderr.flush()
out = sys.stdout
out.write("Content-Type: text/plain\n\n")
out.flush()
for i in range(400):
    out.write("line %d\n" % i)
    out.flush()
    time.sleep(0.05)
