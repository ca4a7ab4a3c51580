"""
The sans-IO response writer (L{_wire.writer}): how a response is delimited
(RFC 9112 section 6) and whether the connection persists (section 9.3).
"""

from __future__ import annotations

import pytest

from twisted_web_re._wire.writer import ResponseWriter, errorResponse

FIELDS = {b"content-type": [b"text/plain"], b"date": [b"D"], b"server": [b"S"]}


def writer(
    version: bytes = b"HTTP/1.1", method: bytes = b"GET", keep: bool = True
) -> ResponseWriter:
    w = ResponseWriter(b"test")
    w.reset(version, method, keep)
    return w


def test_wholeBodyGetsItsLength() -> None:
    """A body given whole goes out with its Content-Length, in one piece."""
    w = writer()
    w.commit(200, b"OK", FIELDS, [b"a=b"])
    out = w.whole(b"hello")
    assert out == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: D\r\nServer: S\r\n"
        b"Set-Cookie: a=b\r\nContent-Length: 5\r\n\r\nhello"
    )
    assert w.keepAlive and w.sent == 5


def test_unknownLengthIsChunkedOn11() -> None:
    """A body of unknown length is chunked for HTTP/1.1, ended by a last chunk."""
    w = writer()
    w.commit(200, b"OK", FIELDS, [])
    head = w.head(None)
    assert b"Transfer-Encoding: chunked\r\n" in head
    assert w.body(b"abc") == b"3\r\nabc\r\n"
    assert w.body(b"") == b""
    assert w.end() == b"0\r\n\r\n"
    assert w.chunked and w.keepAlive


def test_unknownLengthClosesOn10() -> None:
    """HTTP/1.0 has no chunks: the close ends the body, and says so."""
    w = writer(b"HTTP/1.0", keep=True)
    w.commit(200, b"OK", FIELDS, [])
    head = w.head(None)
    assert b"Transfer-Encoding" not in head and b"Content-Length" not in head
    assert b"Connection: close\r\n" in head
    assert w.body(b"abc") == b"abc"
    assert not w.keepAlive


def test_keepAliveNamedFor10() -> None:
    """An HTTP/1.0 client that asked to keep the connection is told it is kept."""
    w = writer(b"HTTP/1.0", keep=True)
    w.commit(200, b"OK", FIELDS, [])
    assert b"Connection: keep-alive\r\n" in w.whole(b"x")


@pytest.mark.parametrize(
    ("method", "code"), [(b"HEAD", 200), (b"GET", 304), (b"GET", 204)]
)
def test_noBodyResponses(method: bytes, code: int) -> None:
    """HEAD, 304 and 204 carry no body, whatever is written."""
    w = writer(method=method)
    w.commit(code, b"X", FIELDS, [])
    out = w.whole(b"body")
    assert not out.endswith(b"body")
    assert w.sent == 0


def test_declaredLengthCutsExcess() -> None:
    """Bytes past a declared Content-Length are dropped, and the connection closes."""
    w = writer()
    w.commit(200, b"OK", {**FIELDS, b"content-length": [b"3"]}, [])
    w.head(None)
    assert w.body(b"abcdef") == b"abc"
    assert w.problem is not None and not w.keepAlive


def test_declaredLengthShort() -> None:
    """A body short of its declared length ends the connection."""
    w = writer()
    w.commit(200, b"OK", {**FIELDS, b"content-length": [b"10"]}, [])
    w.whole(b"abc")
    assert w.problem is not None and not w.keepAlive


def test_invalidDeclaredLengthIgnored() -> None:
    """An invalid Content-Length is ignored (and reported), not sent."""
    w = writer()
    w.commit(200, b"OK", {**FIELDS, b"content-length": [b"x"]}, [])
    assert w.problem is not None
    assert b"Content-Length: 2\r\n" in w.whole(b"ab")


def test_connectionCloseFromApplication() -> None:
    """An application's Connection: close is kept and ends the connection."""
    w = writer()
    w.commit(200, b"OK", {**FIELDS, b"connection": [b"close"]}, [])
    assert b"Connection: close\r\n" in w.whole(b"")
    assert not w.keepAlive


def test_recommitReplaces() -> None:
    """A head committed again before it is sent replaces the first."""
    w = writer()
    w.commit(200, b"OK", FIELDS, [])
    w.commit(500, b"Internal Server Error", FIELDS, [])
    assert w.whole(b"").startswith(b"HTTP/1.1 500 ")


def test_defaultDateAndServer() -> None:
    """Date and Server are added unless the application set them."""
    w = writer()
    w.commit(200, b"OK", {}, [])
    head = w.whole(b"")
    assert b"\r\nDate: " in head and b"\r\nServer: test\r\n" in head


def test_errorResponse() -> None:
    """The error response is whole, plain text, and closes the connection."""
    out = errorResponse(400, b"Bad Request", b"bad\n", b"test")
    assert out.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Content-Length: 4\r\nConnection: close\r\n" in out
    assert out.endswith(b"\r\n\r\nbad\n")


def test_wholeBodyOfItsDeclaredLength() -> None:
    """
    A whole body as long as the Content-Length the application declared
    goes out with that one length, nothing reported, the connection kept.
    """
    w = writer()
    w.commit(200, b"OK", {**FIELDS, b"content-length": [b"5"]}, [])
    out = w.whole(b"hello")
    assert out == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: D\r\nServer: S\r\n"
        b"Content-Length: 5\r\n\r\nhello"
    )
    assert w.keepAlive and w.sent == 5 and w.problem is None
    assert w.body(b"more") == b""


def test_wholeBodyLongerThanDeclared() -> None:
    """
    A whole body longer than its declared Content-Length is cut to it, the
    connection is not kept, and the problem is reported.
    """
    w = writer()
    w.commit(200, b"OK", {**FIELDS, b"content-length": [b"3"]}, [])
    out = w.whole(b"hello")
    assert out.endswith(b"Content-Length: 3\r\n\r\nhel")
    assert not w.keepAlive and w.sent == 3 and w.problem is not None


def _state(w: ResponseWriter) -> tuple[object, ...]:
    return (w.keepAlive, w.sent, w.problem, w.chunked, w.pending, w.body(b"more"))


@pytest.mark.parametrize("version", [b"HTTP/1.1", b"HTTP/1.0"])
@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("method", [b"GET", b"HEAD"])
@pytest.mark.parametrize("code", [200, 204, 304, 404])
@pytest.mark.parametrize("declared", [None, b"5", b"3", b"9", b"x"])
@pytest.mark.parametrize("connection", [None, [b"close"], [b"upgrade"]])
@pytest.mark.parametrize("body", [b"", b"hello"])
def test_wholeIsHeadBodyAndEnd(
    version: bytes,
    keep: bool,
    method: bytes,
    code: int,
    declared: bytes | None,
    connection: list[bytes] | None,
    body: bytes,
) -> None:
    """
    A response given whole goes out byte for byte as if its head, its body
    and its end had been given one after another (the length then known),
    and leaves the connection in the same state: kept or not, the bytes
    counted, any problem reported, whatever the request's version and
    persistence and the response's status, length and Connection field.
    """
    fields = dict(FIELDS)
    if declared is not None:
        fields[b"content-length"] = [declared]
    if connection is not None:
        fields[b"connection"] = connection
    whole = writer(version, method, keep)
    whole.commit(code, b"X", fields, [])
    steps = writer(version, method, keep)
    steps.commit(code, b"X", fields, [])
    out = steps.head(len(body))
    out += steps.body(body) + steps.end()
    assert whole.whole(body) == out
    assert _state(whole) == _state(steps)
