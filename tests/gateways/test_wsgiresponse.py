"""
Tests for L{twisted_web_re._gateways.wsgiresponse}: the checks of what a WSGI
application gives C{start_response} hold for fields seen before (kept in a
bounded table) as for new ones.
"""

from __future__ import annotations

import pytest

from twisted_web_re._gateways import wsgiresponse
from twisted_web_re._gateways.wsgiresponse import parseHeaders


def test_repeatedFieldsParsedAlike() -> None:
    """
    The same headers sent again give the same fields and Content-Length as
    the first time.
    """
    headers = [("Content-Type", "text/plain"), ("Content-Length", " 13 ")]
    first = parseHeaders(headers)
    assert first == ([(b"content-type", b"text/plain"), (b"content-length", b"13")], 13)
    assert parseHeaders(list(headers)) == first


def test_repeatedContentLengthStillRefused() -> None:
    """
    Two Content-Length fields are refused even when each was seen (and
    accepted) before.
    """
    parseHeaders([("Content-Length", "5")])
    with pytest.raises(ValueError, match="invalid Content-Length"):
        parseHeaders([("Content-Length", "5"), ("Content-Length", "5")])


def test_invalidFieldRefusedEveryTime() -> None:
    """
    A field refused once is refused again: only accepted fields are kept.
    """
    for _ in range(2):
        with pytest.raises(ValueError, match="hop-by-hop"):
            parseHeaders([("Connection", "close")])
        with pytest.raises(ValueError):
            parseHeaders([("X-Bad", "a\r\nb")])
        with pytest.raises(TypeError):
            parseHeaders([("X-Bytes", b"value")])


def test_fieldTableBounded() -> None:
    """
    Fields that vary (a cookie per response) do not grow the table of fields
    seen before past its bound, and long values are not kept at all.
    """
    for number in range(3 * wsgiresponse._FIELDS_MAX):
        parseHeaders([("Set-Cookie", f"session={number}")])
        assert len(wsgiresponse._FIELDS) <= wsgiresponse._FIELDS_MAX
    long = "x" * (wsgiresponse._FIELD_CACHED_LENGTH + 1)
    assert parseHeaders([("X-Long", long)]) == ([(b"x-long", long.encode())], None)
    assert ("X-Long", long) not in wsgiresponse._FIELDS
