#!/usr/bin/env python3
"""Read CONTENT_LENGTH bytes of input and answer them back."""

import os
import sys

length = int(os.environ.get("CONTENT_LENGTH") or 0)
data = bytearray()
while len(data) < length:
    piece = sys.stdin.buffer.read(min(65536, length - len(data)))
    if not piece:
        break
    data += piece
out = sys.stdout.buffer
out.write(b"Content-Type: application/octet-stream\n")
out.write(b"Content-Length: %d\n\n" % len(data))
out.write(data)
