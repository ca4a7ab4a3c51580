#!/usr/bin/env python3
"""Redirect as the query string says (see README.md)."""

import os
import sys

kind = os.environ.get("QUERY_STRING", "")
if kind == "local":
    head = "Location: /target.txt\n"
elif kind == "cgi":
    head = "Location: /cgi-bin/env.py/after?from=redirect\n"
elif kind == "absolute":
    head = "Location: http://example.com/elsewhere\n"
elif kind == "loop":
    head = "Location: /cgi-bin/redirect.py?loop\n"
elif kind == "redirect-with-status":
    head = (
        "Status: 301 Moved Permanently\nLocation: http://example.com/moved\n"
        "Content-Type: text/plain\n"
    )
else:
    head = "Content-Type: text/plain\n"
sys.stdout.write(head + "\n")
if kind == "redirect-with-status":
    sys.stdout.write("moved\n")
