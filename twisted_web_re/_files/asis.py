"""
Parsing the head of an C{.asis} file: a response written out whole, as in
Apache's mod_asis.  Pure functions over bytes.
"""

from __future__ import annotations

import re

# An .asis file's first line: an HTTP/1.x status line.
_ASIS_STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([2-5][0-9][0-9])(?: ([^\r\n]*))?")
# A field line: RFC 9110 section 5 token, colon, value of visible characters,
# spaces and tabs (no CTL: a CR, LF or NUL would inject into the response).
_ASIS_FIELD = re.compile(
    rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\x20-\x7e\x80-\xff\t]*?)[ \t]*"
)
# The fields whose values the server decides from the body it sends.
_FRAMING_FIELDS = frozenset({b"content-length", b"transfer-encoding", b"connection"})


class MalformedASIS(ValueError):
    """An C{.asis} file's head cannot be used."""


def parseASIS(
    head: bytes,
) -> tuple[int, bytes | None, dict[bytes, list[bytes]], int]:
    """
    Parse an C{.asis} file's head: an optional C{HTTP/1.x} status line, then
    header fields (C{Status: 404 Not Found} as well, as Apache's mod_asis
    has it), each line ending in LF or CRLF, then an empty line.

    @return: the status, its reason phrase if given, lower-cased field names
        to their values in order, and where the body starts.
    @raise MalformedASIS: there is no empty line within C{head}, or a line
        is neither a status line nor a valid field line.
    """
    lines = []
    start = 0
    while True:
        end = head.find(b"\n", start)
        if end < 0:
            raise MalformedASIS("no empty line ends the head")
        line = head[start:end].removesuffix(b"\r")
        start = end + 1
        if not line:
            break
        lines.append(line)
    status, reason = 200, None
    first = _ASIS_STATUS_LINE.fullmatch(lines[0]) if lines else None
    if first is not None:
        status, reason = int(first.group(1)), first.group(2)
        lines = lines[1:]
    fields: dict[bytes, list[bytes]] = {}
    for line in lines:
        field = _ASIS_FIELD.fullmatch(line)
        if field is None:
            raise MalformedASIS(f"invalid line {line[:80]!r}")
        name, value = field.group(1).lower(), field.group(2)
        if name == b"status":
            parts = value.split(b" ", 1)
            if not (parts[0].isdigit() and 200 <= int(parts[0]) <= 599):
                raise MalformedASIS(f"invalid status {value[:80]!r}")
            status, reason = int(parts[0]), parts[1] if len(parts) > 1 else None
        elif name not in _FRAMING_FIELDS:
            fields.setdefault(name, []).append(value)
    return status, reason, fields, start
