#!/usr/bin/env python3
"""Answer with the environment this CGI program got, as JSON."""

import json
import os
import sys

body = json.dumps(
    {"environ": dict(os.environ), "argv": sys.argv, "cwd": os.getcwd()},
    sort_keys=True,
).encode("utf-8", "surrogateescape")
sys.stdout.buffer.write(
    b"Content-Type: application/json\nContent-Length: %d\n\n" % len(body) + body
)
