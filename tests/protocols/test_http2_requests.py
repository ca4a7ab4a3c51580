"""
Tests for how L{HTTP2Connection} turns HTTP/2 requests into the same
requests HTTP/1.1 makes, and sends their responses as HEADERS and DATA.
"""

from __future__ import annotations

from typing import Any

from _h2client import H2Client, processWith
from h2.errors import ErrorCodes

from twisted_web_re import http
from twisted_web_re.http import combinedLogFormatter, datetimeToLogString

SEEN: list[http.Request] = []


def _echo(request: http.Request) -> None:
    """Answer with the method, target, version and body."""
    SEEN.append(request)
    assert request.content is not None
    request.setHeader(b"content-type", b"text/plain")
    request.write(
        request.method + b" " + request.uri + b" " + request.clientproto + b"\n"
    )
    request.write(request.content.read())
    request.finish()


def _whole(request: http.Request) -> None:
    """Answer whole, inside process()."""
    SEEN.append(request)
    request.setHeader(b"content-type", b"text/plain")
    request.setHeader(b"connection", b"close")
    request.setHeader(b"keep-alive", b"timeout=5")
    request.setHeader(b"transfer-encoding", b"chunked")
    request.setHeader(b"upgrade", b"websocket")
    request.setHeader(b"proxy-connection", b"close")
    request.addCookie(b"a", b"1")
    request.addCookie(b"b", b"2")
    request.write(b"hello")
    request.finish()


def _client(handler: Any = _echo, **kwargs: Any) -> H2Client:
    SEEN.clear()
    return H2Client(processWith(handler), **kwargs)


def test_pseudoHeadersBecomeTheRequestHead() -> None:
    """
    A request's C{:method} and C{:path} become its method and target, its
    C{:authority} its C{Host}, and its version is C{HTTP/2}.
    """
    h2 = _client()
    stream = h2.request(b"/a/b?x=1", headers=[(b"x-one", b"1")])
    response = h2.response(stream)
    assert response.status == 200
    assert response.ended
    assert response.body == b"GET /a/b?x=1 HTTP/2\n"
    request = SEEN[0]
    assert request.getHeader(b"host") == b"example.com"
    assert request.getHeader(b"x-one") == b"1"
    assert request.args == {b"x": [b"1"]}


def test_hostFieldKeptOverAuthority() -> None:
    """A request with both C{Host} and C{:authority} equal keeps its Host."""
    h2 = _client()
    h2.request(headers=[(b"host", b"example.com")])
    assert SEEN[0].requestHeaders.getRawHeaders(b"host") == [b"example.com"]


def test_cookiesJoined() -> None:
    """
    Cookie fields sent apart (for compression) reach the request as one,
    joined with C{"; "} (RFC 9113 section 8.2.3).
    """
    h2 = _client()
    h2.request(headers=[(b"cookie", b"a=1"), (b"cookie", b"b=2")])
    assert SEEN[0].getHeader(b"cookie") == b"a=1; b=2"
    assert SEEN[0].getCookie(b"b") == b"2"


def test_responseFields() -> None:
    """
    A response written whole carries its length, C{Date} and C{Server}, each
    cookie as its own C{set-cookie}, and none of the fields specific to an
    HTTP/1.1 connection.
    """
    h2 = _client(_whole)
    stream = h2.request()
    response = h2.response(stream)
    assert response.body == b"hello"
    assert response.header(b"content-length") == b"5"
    assert response.header(b"date")
    assert response.header(b"server")
    assert response.headers[b"set-cookie"] == [b"a=1", b"b=2"]
    for name in (
        b"connection",
        b"keep-alive",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-connection",
    ):
        assert name not in response.headers


def test_postBody() -> None:
    """
    A request body arrives in the request's content, and the request is
    logged once, as HTTP/2.
    """
    h2 = _client()
    stream = h2.request(b"/up", b"POST", body=b"x" * 100_000)
    response = h2.response(stream)
    assert response.body == b"POST /up HTTP/2\n" + b"x" * 100_000
    assert h2.logged == [SEEN[0]]
    line = combinedLogFormatter(datetimeToLogString(0), SEEN[0])
    assert '"POST /up HTTP/2" 200 ' in line


def test_headHasNoBody() -> None:
    """A HEAD response carries the length a GET would have, and no body."""
    h2 = _client(_whole)
    stream = h2.request(method=b"HEAD")
    response = h2.response(stream)
    assert response.ended
    assert response.body == b""
    assert response.header(b"content-length") == b"5"
    assert SEEN[0].sentLength == 0


def _code(code: int) -> Any:
    def handler(request: http.Request) -> None:
        SEEN.append(request)
        request.setResponseCode(code)
        request.write(b"ignored")
        request.finish()

    return handler


def test_noBodyFor204And304() -> None:
    """Neither a 204 nor a 304 carries a body (nor counts one as sent)."""
    for code in (204, 304):
        h2 = _client(_code(code))
        stream = h2.request()
        response = h2.response(stream)
        assert response.status == code
        assert response.ended
        assert response.body == b""
        assert SEEN[0].sentLength == 0


def test_sentLengthCounted() -> None:
    """The request's C{sentLength} is its body bytes sent."""
    h2 = _client(_whole)
    h2.request()
    assert SEEN[0].sentLength == 5


def test_streamsInterleave() -> None:
    """Several streams on one connection are each answered."""
    pending: list[http.Request] = []
    h2 = _client(pending.append)
    first = h2.request(b"/1")
    second = h2.request(b"/2")
    assert h2.response(first).status is None
    for request in reversed(pending):
        request.write(request.uri)
        request.finish()
    h2.pump()
    assert h2.response(first).body == b"/1"
    assert h2.response(second).body == b"/2"
    assert len(h2.logged) == 2


def test_malformedRequestResetsOnlyItsStream(logged: list[dict[str, Any]]) -> None:
    """
    A request h2 finds malformed (an upper-case field name) is reset with
    PROTOCOL_ERROR and logged once; another stream on the connection goes on.
    """
    pending: list[http.Request] = []
    h2 = _client(pending.append)
    good = h2.request(b"/good")
    h2.client.config.validate_outbound_headers = False
    h2.client.config.normalize_outbound_headers = False
    bad = h2.request(b"/bad", headers=[(b"X-Upper", b"1")])
    assert h2.response(bad).reset == ErrorCodes.PROTOCOL_ERROR
    assert not h2.closed
    assert [r.uri for r in pending] == [b"/good"]
    pending[0].write(b"ok")
    pending[0].finish()
    h2.pump()
    assert h2.response(good).body == b"ok"
    lines = [e for e in logged if "Malformed HTTP/2" in e.get("log_format", "")]
    assert len(lines) == 1


def test_badContentLengthResetsOnlyItsStream() -> None:
    """
    A body longer than its C{content-length} resets its stream with
    PROTOCOL_ERROR, not the connection.
    """
    h2 = _client()
    h2.client.config.validate_outbound_headers = False
    stream = h2.request(
        b"/up", b"POST", headers=[(b"content-length", b"3")], body=None, end=False
    )
    h2.client.send_data(stream, b"toolong", end_stream=True)
    h2.pump()
    assert h2.response(stream).reset == ErrorCodes.PROTOCOL_ERROR
    assert not h2.closed
    other = h2.request(b"/after")
    assert h2.response(other).status == 200


def test_invalidContentLengthResetsOnlyItsStream() -> None:
    """A C{content-length} that is not a number resets only its stream."""
    h2 = _client()
    h2.client.config.validate_outbound_headers = False
    stream = h2.request(b"/", headers=[(b"content-length", b"abc")])
    assert h2.response(stream).reset == ErrorCodes.PROTOCOL_ERROR
    assert not h2.closed


def test_parserRefusalAnswers400() -> None:
    """
    A head h2 accepts but our request parser refuses (a target that is not
    a path) is answered 400 on its stream.
    """
    h2 = _client()
    stream = h2.request(b"nopath")
    response = h2.response(stream)
    assert response.status == 400
    assert response.ended
    assert SEEN == []


def test_tooManyFieldsAnswers431() -> None:
    """More header fields than C{maxHeaderCount} is answered 431."""
    h2 = _client()
    stream = h2.request(headers=[(b"x-%d" % i, b"v") for i in range(101)])
    assert h2.response(stream).status == 431


def test_cookieFieldsSentApartCountAsOne() -> None:
    """
    Cookie fields sent apart are one field of the request: more of them
    than C{maxHeaderCount} is no reason for a 431 (the count is the one the
    request would have over HTTP/1.1, with one Cookie field).
    """
    h2 = _client()
    cookies = [(b"cookie", b"c%d=v" % i) for i in range(150)]
    stream = h2.request(headers=cookies)
    assert h2.response(stream).status == 200
    assert SEEN[0].getCookie(b"c149") == b"v"


def test_declaredBodyTooLargeAnswers413() -> None:
    """A declared body larger than the limit is answered 413 at once."""
    h2 = _client()
    stream = h2.request(
        b"/",
        b"POST",
        headers=[(b"content-length", b"%d" % (200 * 1024 * 1024))],
        end=False,
    )
    response = h2.response(stream)
    assert response.status == 413
    assert response.ended
