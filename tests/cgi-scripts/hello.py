#!/usr/bin/env python3
"""The smallest CGI program, in Python."""

import sys

sys.stdout.write("Content-Type: text/plain\r\n\r\nHello from Python\n")
