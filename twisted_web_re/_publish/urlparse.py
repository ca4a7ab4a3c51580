"""
twisted.web.http's URL helpers for code that parses URLs itself: C{urlparse}
and C{parse_qs}, on bytes.
"""

from __future__ import annotations

import urllib.parse
from urllib.parse import ParseResultBytes, unquote_to_bytes


def urlparse(url: bytes) -> ParseResultBytes:
    """
    Split C{url} into its six parts (scheme, netloc, path, params, query,
    fragment), as bytes, as L{urllib.parse.urlparse} does.

    Every byte is kept: one that is not ASCII stays in its part rather than
    failing the parse.

    @param url: the URL.
    @raise TypeError: C{url} is not bytes (text must be encoded first, so
        that it is clear which bytes the parts are).
    """
    if not isinstance(url, (bytes, bytearray)):
        raise TypeError(f"url must be bytes, not {type(url).__name__}: {url!r}")
    parts = urllib.parse.urlparse(bytes(url).decode("latin-1"))
    return ParseResultBytes(*(part.encode("latin-1") for part in parts))


def parse_qs(
    qs: bytes, keep_blank_values: int = 0, strict_parsing: int = 0
) -> dict[bytes, list[bytes]]:
    """
    Parse a query string (or an urlencoded form) into each name's list of
    values, in the order they came: C{b"a=1&b=2&a=3"} gives
    C{{b"a": [b"1", b"3"], b"b": [b"2"]}}.

    Fields are separated by C{&} only, as in C{request.args} and the WHATWG
    URL standard (a C{;} is part of a value); C{+} is a space and C{%XX} the
    byte it names.  A field without C{=} is skipped.

    @param qs: the query string, without its C{?}.
    @param keep_blank_values: keep fields with an empty value (C{b"a="}),
        which are otherwise skipped.
    @param strict_parsing: raise on a field without C{=} rather than skip it.
    @raise TypeError: C{qs} is not bytes.
    @raise ValueError: with C{strict_parsing}, a field has no C{=}.
    """
    if not isinstance(qs, (bytes, bytearray)):
        raise TypeError(f"qs must be bytes, not {type(qs).__name__}: {qs!r}")
    result: dict[bytes, list[bytes]] = {}
    for field in bytes(qs).split(b"&"):
        name, equals, value = field.partition(b"=")
        if not equals:
            if strict_parsing:
                raise ValueError(f"query field without '=': {field!r}")
            continue
        if value or keep_blank_values:
            result.setdefault(unquote_to_bytes(name.replace(b"+", b" ")), []).append(
                unquote_to_bytes(value.replace(b"+", b" "))
            )
    return result
