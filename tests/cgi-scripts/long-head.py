#!/usr/bin/env python3
"""A response head longer than the server accepts (64 KiB)."""

import sys

sys.stdout.write("Content-Type: text/plain\nX-Long: " + "a" * 70000 + "\n\nbody\n")
