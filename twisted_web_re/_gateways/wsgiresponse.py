"""
Checking what a WSGI application says in C{start_response}: its status line
and its header list, turned into the code, reason and fields the server
writes, or refused with a C{TypeError} or C{ValueError} naming the problem.
"""

from __future__ import annotations

import re

from twisted_web_re._wire.serialise import checkFieldName, checkFieldValue, checkReason

__all__ = ["parseHeaders", "parseStatus"]

# PEP 3333 forbids applications the HTTP/1.1 hop-by-hop fields (the list of
# RFC 2616 section 13.5.1, as wsgiref has it, and RFC 9110's Trailer): they
# are the server's to decide.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)

# A final status: a 1xx cannot end a response, and the code has three digits.
_STATUS = re.compile(r"([2-9][0-9][0-9]) (.*)", re.DOTALL)

# Status lines seen before, parsed: applications use a handful.
_STATUSES: dict[str, tuple[int, bytes]] = {}


def parseStatus(status: object) -> tuple[int, bytes]:
    """
    Return the code and reason phrase of a WSGI status such as C{"200 OK"}.

    @raise TypeError: C{status} is not a C{str}.
    @raise ValueError: it is not a three-digit final code, a space and a
        Latin-1 reason phrase without control characters.
    """
    if type(status) is not str:
        raise TypeError(
            f"a WSGI status is a str such as '200 OK', not {type(status).__name__}: "
            f"{status!r}"
        )
    parsed = _STATUSES.get(status)
    if parsed is not None:
        return parsed
    match = _STATUS.fullmatch(status)
    try:
        if match is None:
            raise ValueError
        reason = match.group(2).encode("latin-1")
        checkReason(reason)
    except (ValueError, UnicodeEncodeError):
        raise ValueError(
            f"a WSGI status is a three-digit final code, a space and a Latin-1 "
            f"reason phrase, not {status!r}"
        ) from None
    parsed = (int(match.group(1)), reason)
    if len(_STATUSES) < 256:
        _STATUSES[status] = parsed
    return parsed


#: Fields seen before, checked and converted: applications send the same
#: few again and again.  Only short ones are kept, and the whole table is
#: dropped when full, so that fields that vary (cookies, lengths) cannot
#: grow it or crowd out those that do not.
_FIELDS: dict[tuple[str, str], tuple[bytes, bytes]] = {}
_FIELDS_MAX = 512
_FIELD_CACHED_LENGTH = 256


def parseHeaders(headers: object) -> tuple[list[tuple[bytes, bytes]], int | None]:
    """
    Check WSGI response headers and return them as lower-cased bytes names and
    bytes values, with the C{Content-Length} they declare, if any.

    @raise TypeError: C{headers} is not a list of C{(str, str)} tuples.
    @raise ValueError: a name is not a token, a value is not Latin-1 or holds
        CR, LF or NUL, a field is hop-by-hop, or C{Content-Length} is not one
        decimal number.
    """
    if not isinstance(headers, list):
        raise TypeError(
            f"WSGI response headers are a list, not {type(headers).__name__}: "
            f"{headers!r}"
        )
    parsed = []
    declared = None
    fields = _FIELDS
    for header in headers:
        if (
            not isinstance(header, tuple)
            or len(header) != 2
            or type(header[0]) is not str
            or type(header[1]) is not str
        ):
            raise TypeError(f"a WSGI response header is a (str, str) tuple: {header!r}")
        field = fields.get(header)
        if field is None:
            field = _parseField(header)
            if len(header[1]) <= _FIELD_CACHED_LENGTH:
                if len(fields) >= _FIELDS_MAX:
                    fields.clear()
                fields[(header[0], header[1])] = field
        if field[0] == b"content-length":
            if declared is not None:
                raise ValueError(
                    f"a WSGI response declares an invalid Content-Length: {header!r}"
                )
            declared = int(field[1])
        parsed.append(field)
    return parsed, declared


def _parseField(header: tuple[str, str]) -> tuple[bytes, bytes]:
    """
    Check one WSGI response header and return its lower-cased bytes name and
    its bytes value (a C{Content-Length} without surrounding spaces).

    @raise ValueError: see L{parseHeaders}.
    """
    name, value = header
    try:
        rawName = name.encode("latin-1")
        rawValue = value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"a WSGI response header must be Latin-1: {header!r}"
        ) from None
    checkFieldName(rawName)
    checkFieldValue(rawValue)
    lower = rawName.lower()
    if lower in _HOP_BY_HOP:
        raise ValueError(
            f"a WSGI application may not set the hop-by-hop header {name!r} "
            f"(PEP 3333): the server manages the connection"
        )
    if lower == b"content-length":
        rawValue = rawValue.strip()
        if not rawValue.isdigit():
            raise ValueError(
                f"a WSGI response declares an invalid Content-Length: {header!r}"
            )
    return lower, rawValue
