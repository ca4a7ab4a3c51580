"""
Serialising response heads and chunks (RFC 9112 sections 4, 5, 7), and the
values the server adds to every response: C{Date} and canonical field names.
"""

from __future__ import annotations

import math
import re
import time
from email.utils import formatdate

#: Matches what no field value may hold: CR, LF (header injection) and NUL.
BAD_VALUE = re.compile(rb"[\x00\r\n]")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_REASON = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")

# Spellings that str.title() gets wrong; everything else is Title-Case.
_SPECIAL_NAMES = {
    b"content-md5": b"Content-MD5",
    b"dnt": b"DNT",
    b"etag": b"ETag",
    b"p3p": b"P3P",
    b"te": b"TE",
    b"www-authenticate": b"WWW-Authenticate",
    b"x-xss-protection": b"X-XSS-Protection",
    b"content-security-policy": b"Content-Security-Policy",
    b"x-content-security-policy": b"X-Content-Security-Policy",
    b"x-webkit-csp": b"X-WebKit-CSP",
}

#: Lower-cased field names already spelled by L{canonicalName}; read-only
#: outside this module (a hot path looks names up here directly).
CANONICAL_NAMES: dict[bytes, bytes] = dict(_SPECIAL_NAMES)
_CANONICAL_CACHE_SIZE = 4096


def canonicalName(lowerName: bytes) -> bytes:
    """
    Return the conventional spelling of a lower-cased field name, such as
    C{Content-Type} for C{content-type}.
    """
    name = CANONICAL_NAMES.get(lowerName)
    if name is None:
        name = b"-".join(part.capitalize() for part in lowerName.split(b"-"))
        if len(CANONICAL_NAMES) < _CANONICAL_CACHE_SIZE:
            CANONICAL_NAMES[lowerName] = name
    return name


def checkFieldName(name: bytes) -> None:
    """
    @raise ValueError: C{name} is not a token, so it could break the head.
    """
    if _TOKEN.fullmatch(name) is None:
        raise ValueError(f"invalid header name {name!r}")


def checkFieldValue(value: bytes) -> None:
    """
    @raise ValueError: C{value} holds CR, LF or NUL, which could inject
        another header or end the head early.
    """
    if BAD_VALUE.search(value) is not None:
        raise ValueError(f"header value {value!r} contains CR, LF or NUL")


def checkReason(reason: bytes) -> None:
    """
    @raise ValueError: C{reason} is not a valid reason phrase.
    """
    if _REASON.fullmatch(reason) is None:
        raise ValueError(f"invalid reason phrase {reason!r}")


def statusLine(code: int, reason: bytes) -> bytes:
    """
    Return the status line for an HTTP/1.1 response, CRLF included.
    """
    return b"HTTP/1.1 %d %s\r\n" % (code, reason)


def chunk(data: bytes) -> bytes:
    """
    Return C{data} framed as one chunk of a chunked body; empty C{data} gives
    C{b""}, since an empty chunk would end the body.
    """
    if not data:
        return b""
    return b"%x\r\n%s\r\n" % (len(data), data)


#: The chunk that ends a chunked body, with an empty trailer section.
LAST_CHUNK = b"0\r\n\r\n"

_dateCache: tuple[int, bytes] = (0, b"")


def httpDate(when: float | None = None) -> bytes:
    """
    Return C{when} (default: now) as an IMF-fixdate (RFC 9110 section 5.6.7).

    The current time's value is formatted once a second and reused.
    """
    global _dateCache
    if when is not None:
        return formatdate(math.floor(when), usegmt=True).encode("ascii")
    now = int(time.time())
    cached = _dateCache
    if cached[0] == now:
        return cached[1]
    value = formatdate(now, usegmt=True).encode("ascii")
    _dateCache = (now, value)
    return value
