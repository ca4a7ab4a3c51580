#!/usr/bin/env python3
"""
A CGI program in Python: answers with the request's method, its query string
and its body, read from standard input.
"""

import os
import sys

length = int(os.environ.get("CONTENT_LENGTH") or 0)
body = sys.stdin.buffer.read(length)
out = sys.stdout.buffer
out.write(b"Content-Type: text/plain\n\n")
out.write(
    f"{os.environ['REQUEST_METHOD']} {os.environ.get('QUERY_STRING', '')}\n".encode()
)
out.write(body)
