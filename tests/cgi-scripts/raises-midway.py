#!/usr/bin/env python3
"""A head and part of a body, then an uncaught exception (exit status 1)."""

import sys
import time

out = sys.stdout
out.write("Content-Type: text/plain\n\nfirst half\n")
out.flush()
time.sleep(0.2)
raise RuntimeError("the second half failed")
