#!/usr/bin/env python3
"""A Status field that is not a status."""

import sys

sys.stdout.write("Status: abc\nContent-Type: text/plain\n\nbody\n")
