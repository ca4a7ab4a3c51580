"""
Tests for L{twisted_web_re.http.Request}: what an application reads from a
request, and how what it does to the response shows up on the wire.

Each test serves real bytes through an L{HTTPChannel} on a L{StringTransport}
(see L{_httpparse.Server}).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from _httpparse import HOST as HOST_ADDRESS
from _httpparse import PEER, Response, Server
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from twisted_web_re import http
from twisted_web_re.http_headers import Headers

# -- raw requests -----------------------------------------------------------------

HOST = b"Host: example.com\r\n"

GET_QUERY = b"GET /a/b?x=1&x=2&y=&z&sp=a+b%21 HTTP/1.1\r\n" + HOST + b"\r\n"
GET_ABSOLUTE = b"GET http://example.com/p/q?k=v HTTP/1.1\r\n" + HOST + b"\r\n"
GET_ABSOLUTE_NO_PATH = b"GET http://example.com HTTP/1.1\r\n" + HOST + b"\r\n"
GET_10 = b"GET /old HTTP/1.0\r\n\r\n"
GET_HEADERS = (
    b"GET / HTTP/1.1\r\n" + HOST + b"X-Custom: first\r\n"
    b"x-custom: second\r\nAccept: text/html\r\nX-Utf8: caf\xc3\xa9\r\n\r\n"
)
GET_COOKIES = (
    b"GET / HTTP/1.1\r\n"
    + HOST
    + b'Cookie: a=1; b="two"; empty=\r\nCookie: c=3\r\n\r\n'
)
GET_AUTH = (
    b"GET / HTTP/1.1\r\n"
    + HOST
    + b"Authorization: Basic "
    + base64.b64encode(b"alice:s3:cret")
    + b"\r\n\r\n"
)
GET_BAD_AUTH = b"GET / HTTP/1.1\r\n" + HOST + b"Authorization: Basic !!!\r\n\r\n"
GET_BEARER = b"GET / HTTP/1.1\r\n" + HOST + b"Authorization: Bearer token\r\n\r\n"

# The time the resource last changed, and HTTP dates around it.
MODIFIED = 1_795_000_000
MODIFIED_DATE = http.datetimeToString(MODIFIED)
BEFORE_DATE = http.datetimeToString(MODIFIED - 3600)
AFTER_DATE = http.datetimeToString(MODIFIED + 3600)


def conditional(method: bytes, *fields: bytes) -> bytes:
    """Return a C{method} request for C{/} with the given extra header lines."""
    body = b"Content-Length: 0\r\n" if method == b"POST" else b""
    return (
        method
        + b" / HTTP/1.1\r\n"
        + HOST
        + body
        + b"".join(f + b"\r\n" for f in fields)
        + b"\r\n"
    )


def serve(
    raw: bytes, inspect: Callable[[http.Request], Any] = lambda request: None
) -> tuple[Server, http.Request, Any]:
    """
    Serve C{raw}; inside C{process()} call C{inspect(request)}, then answer
    C{b"ok"} unless C{inspect} finished the request itself.

    @return: the server, the request and what C{inspect} returned.
    """
    results: list[Any] = []

    def handler(request: http.Request) -> None:
        results.append(inspect(request))
        if not request.finished:
            request.write(b"ok")
            request.finish()

    server = Server(handler)
    server.feed(raw)
    [request] = server.processed
    return server, request, results[0]


def only(server: Server, method: bytes = b"GET") -> Response:
    """The single response C{server} wrote."""
    [response] = server.responses([method])
    return response


# -- the request line ----------------------------------------------------------------


def test_methodUriPath() -> None:
    """
    C{method}, C{uri} (the target as sent) and C{path} (without the query
    string) describe the request line.
    """
    _, request, _ = serve(GET_QUERY)
    assert request.method == b"GET"
    assert request.uri == b"/a/b?x=1&x=2&y=&z&sp=a+b%21"
    assert request.path == b"/a/b"
    assert request.clientproto == b"HTTP/1.1"


def test_args() -> None:
    """
    C{args} maps each query argument to all its values, keeping repeated keys
    and blank values, decoded, as bytes.
    """
    _, request, _ = serve(GET_QUERY)
    assert request.args == {
        b"x": [b"1", b"2"],
        b"y": [b""],
        b"z": [b""],
        b"sp": [b"a b!"],
    }


def test_argsEmptyWithoutQuery() -> None:
    """
    A request without a query string has no arguments.
    """
    _, request, _ = serve(b"GET /plain HTTP/1.1\r\n" + HOST + b"\r\n")
    assert request.args == {}
    assert request.path == b"/plain"


def test_absoluteFormTarget() -> None:
    """
    For an absolute-form target, C{uri} is the target as sent and C{path} is
    its path part.
    """
    _, request, _ = serve(GET_ABSOLUTE)
    assert request.uri == b"http://example.com/p/q?k=v"
    assert request.path == b"/p/q"
    assert request.args == {b"k": [b"v"]}
    _, request, _ = serve(GET_ABSOLUTE_NO_PATH)
    assert request.path == b"/"


def test_clientprotoHttp10() -> None:
    """
    C{clientproto} is the version the client sent.
    """
    _, request, _ = serve(GET_10)
    assert request.clientproto == b"HTTP/1.0"


def test_methodCaseKept() -> None:
    """
    Methods are case-sensitive and passed on exactly as sent.
    """
    _, request, _ = serve(b"PaTcH / HTTP/1.1\r\n" + HOST + b"\r\n")
    assert request.method == b"PaTcH"


# -- request headers -----------------------------------------------------------------


def test_getHeader() -> None:
    """
    C{getHeader} finds a header in any case, returning its last value: bytes
    for a bytes name, str for a str name, and C{None} when absent.
    """
    _, request, _ = serve(GET_HEADERS)
    assert request.getHeader(b"x-custom") == b"second"
    assert request.getHeader(b"X-CUSTOM") == b"second"
    assert request.getHeader("X-Custom") == "second"
    assert request.getHeader("x-utf8") == "caf\u00e9"
    assert request.getHeader(b"x-utf8") == b"caf\xc3\xa9"
    assert request.getHeader(b"missing") is None
    assert request.getHeader("missing") is None


def test_requestHeadersKeepAllValues() -> None:
    """
    C{requestHeaders} holds every value of a repeated header, in order.
    """
    _, request, _ = serve(GET_HEADERS)
    assert request.requestHeaders.getRawHeaders(b"x-custom") == [b"first", b"second"]
    assert isinstance(request.requestHeaders, Headers)


def test_getAllHeaders() -> None:
    """
    C{getAllHeaders} maps each lower-cased header name to its last value.
    """
    _, request, _ = serve(GET_HEADERS)
    assert request.getAllHeaders() == {
        b"host": b"example.com",
        b"x-custom": b"second",
        b"accept": b"text/html",
        b"x-utf8": b"caf\xc3\xa9",
    }


def test_cookies() -> None:
    """
    C{getCookie} and C{received_cookies} give the cookies the client sent,
    across several C{Cookie} fields, quotes removed, blank values kept.
    """
    _, request, _ = serve(GET_COOKIES)
    assert request.getCookie(b"a") == b"1"
    assert request.getCookie(b"b") == b"two"
    assert request.getCookie(b"c") == b"3"
    assert request.getCookie(b"empty") == b""
    assert request.getCookie(b"missing") is None
    assert request.received_cookies == {
        b"a": b"1",
        b"b": b"two",
        b"empty": b"",
        b"c": b"3",
    }


def test_noCookies() -> None:
    """
    A request without cookies has none.
    """
    _, request, _ = serve(GET_10)
    assert request.received_cookies == {}
    assert request.getCookie(b"a") is None


def test_basicCredentials() -> None:
    """
    C{getUser} and C{getPassword} return the Basic credentials; the password
    may itself contain colons.
    """
    _, request, _ = serve(GET_AUTH)
    assert request.getUser() == b"alice"
    assert request.getPassword() == b"s3:cret"


@pytest.mark.parametrize(
    "raw", [GET_10, GET_BAD_AUTH, GET_BEARER], ids=["none", "malformed", "bearer"]
)
def test_noBasicCredentials(raw: bytes) -> None:
    """
    Without valid Basic credentials, user and password are empty.
    """
    _, request, _ = serve(raw)
    assert request.getUser() == b""
    assert request.getPassword() == b""


def test_addresses() -> None:
    """
    C{getClientAddress} is the peer's address and C{getHost} the local one.
    """
    _, request, _ = serve(GET_10)
    assert request.getClientAddress() == PEER
    assert request.getHost() == HOST_ADDRESS


def test_isSecureFalseOnPlainTransport() -> None:
    """
    A request over a plain (non-TLS) transport is not secure.
    """
    _, request, _ = serve(GET_10)
    assert request.isSecure() is False


def test_contentEmptyWithoutBody() -> None:
    """
    A request without a body has an empty, readable C{content}.
    """
    _, request, _ = serve(GET_10)
    assert request.content is not None
    request.content.seek(0)
    assert request.content.read() == b""


# -- shaping the response ------------------------------------------------------------


def test_initialState() -> None:
    """
    Before anything is written a request's response is 200, not started,
    not finished, with nothing sent.
    """
    seen: dict[str, Any] = {}

    def inspect(request: http.Request) -> None:
        seen["before"] = (
            request.code,
            request.startedWriting,
            request.finished,
            request.sentLength,
        )
        request.write(b"abc")
        seen["written"] = (bool(request.startedWriting), request.finished)
        request.write(b"de")
        request.finish()
        seen["finished"] = (bool(request.finished), request.sentLength)

    serve(GET_10, inspect)
    assert seen["before"] == (200, 0, 0, 0)
    assert seen["written"] == (True, 0)
    assert seen["finished"] == (True, 5)


def test_sentLengthOfStreamedResponse() -> None:
    """
    C{sentLength} counts body bytes only, not chunk framing.
    """
    server = Server()
    server.handler = server.later
    server.feed(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    [request] = server.pending
    request.write(b"12345")
    request.write(b"678")
    request.finish()
    assert request.sentLength == 8
    assert request.code == 200


def test_setResponseCode() -> None:
    """
    C{setResponseCode} sets C{code} and the standard reason phrase, or the
    given one.
    """

    def inspect(request: http.Request) -> None:
        request.setResponseCode(404)
        assert request.code == 404
        assert request.code_message == b"Not Found"
        request.setResponseCode(418, b"Short And Stout")

    server, _, _ = serve(GET_10, inspect)
    response = only(server)
    assert (response.status, response.reason) == (418, b"Short And Stout")


@pytest.mark.parametrize("message", [b"bad\r\nX-Injected: 1", b"nul\x00"])
def test_setResponseCodeRejectsBadMessage(message: bytes) -> None:
    """
    A reason phrase that could break the status line raises C{ValueError}.
    """

    def inspect(request: http.Request) -> None:
        with pytest.raises(ValueError):
            request.setResponseCode(200, message)

    server, _, _ = serve(GET_10, inspect)
    assert b"X-Injected" not in server.value()


@pytest.mark.parametrize("code", ["200", 200.0, None])
def test_setResponseCodeRejectsNonInt(code: Any) -> None:
    """
    A status code that is not an int raises C{TypeError}.
    """

    def inspect(request: http.Request) -> None:
        with pytest.raises(TypeError):
            request.setResponseCode(code)

    serve(GET_10, inspect)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (b"X-Ok", b"line\r\nX-Injected: 1"),
        (b"X-Ok", b"line\nX-Injected: 1"),
        (b"X-Ok", b"carriage\rreturn"),
        (b"X-Ok", b"nul\x00"),
        ("X-Ok", "line\r\nX-Injected: 1"),
        (b"X-Injected: 1\r\nX", b"v"),
        (b"Bad Name", b"v"),
        (b"Bad:Name", b"v"),
        (b"", b"v"),
        ("Na\u00efve", "v"),
    ],
)
def test_setHeaderRejectsInjection(name: Any, value: Any) -> None:
    """
    A header name that is not a token, or a value holding CR, LF or NUL,
    raises C{ValueError} and never reaches the wire.
    """

    def inspect(request: http.Request) -> None:
        with pytest.raises(ValueError):
            request.setHeader(name, value)

    server, _, _ = serve(GET_10, inspect)
    assert b"X-Injected" not in server.value()
    assert only(server).status == 200


def test_setHeaderStrAndBytes() -> None:
    """
    C{setHeader} takes str or bytes names and values, replaces earlier values,
    and sends the name in its conventional spelling.
    """

    def inspect(request: http.Request) -> None:
        request.setHeader(b"x-first", b"replaced")
        request.setHeader("X-FIRST", "kept")
        request.setHeader("content-type", "text/plain; charset=utf-8")

    server, _, _ = serve(GET_10, inspect)
    response = only(server)
    assert response.values(b"x-first") == [b"kept"]
    assert (b"Content-Type", b"text/plain; charset=utf-8") in response.headers


def test_redirect() -> None:
    """
    C{redirect} answers 302 with the URL in C{Location}.
    """

    def inspect(request: http.Request) -> None:
        request.redirect(b"https://example.com/new")

    server, request, _ = serve(GET_10, inspect)
    response = only(server)
    assert response.status == 302
    assert response.header(b"location") == b"https://example.com/new"
    assert request.code == 302


def test_loseConnection() -> None:
    """
    C{loseConnection} closes the connection.
    """
    server = Server()
    server.handler = server.later
    server.feed(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    server.pending[0].loseConnection()
    assert server.closed


def test_writeRejectsText() -> None:
    """
    C{write} takes bytes only: a str raises C{TypeError}.
    """

    def inspect(request: http.Request) -> None:
        with pytest.raises(TypeError):
            request.write("text")  # type: ignore[arg-type]

    serve(GET_10, inspect)


def test_writeAfterFinishRaises() -> None:
    """
    Writing after C{finish} raises C{RuntimeError}.
    """

    def inspect(request: http.Request) -> None:
        request.finish()
        with pytest.raises(RuntimeError):
            request.write(b"late")

    server, _, _ = serve(GET_10, inspect)
    assert b"late" not in server.value()


def test_finishTwiceIsHarmless() -> None:
    """
    A second C{finish} does not send another response or raise.
    """

    def inspect(request: http.Request) -> None:
        request.write(b"once")
        request.finish()
        request.finish()

    server, _, _ = serve(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n", inspect)
    assert only(server).body == b"once"


def test_finishAfterConnectionLostRaises() -> None:
    """
    C{finish} after the connection was lost raises C{RuntimeError}, and
    C{notifyFinish} then gives a failed Deferred.
    """
    server = Server()
    server.handler = server.later
    server.feed(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    [request] = server.pending
    server.channel.connectionLost(Failure(ConnectionDone()))
    with pytest.raises(RuntimeError):
        request.finish()
    failures: list[Failure] = []
    request.notifyFinish().addErrback(failures.append)
    assert len(failures) == 1


def test_defaultProcessAnswers404() -> None:
    """
    A bare L{http.Request}, which publishes nothing, answers 404.
    """
    from twisted.internet.testing import MemoryReactorClock, StringTransport

    factory = http.HTTPFactory(reactor=MemoryReactorClock())
    channel = factory.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b"GET / HTTP/1.1\r\n" + HOST + b"\r\n")
    assert transport.value().startswith(b"HTTP/1.1 404 ")


# -- conditional requests ----------------------------------------------------------


def _lastModified(request: http.Request) -> Any:
    """Call C{setLastModified(MODIFIED)}; finish at once if cached."""
    result = request.setLastModified(MODIFIED)
    if result is http.CACHED:
        request.finish()
    return result


@pytest.mark.parametrize("since", [MODIFIED_DATE, AFTER_DATE], ids=["equal", "later"])
def test_setLastModifiedCached(since: bytes) -> None:
    """
    When C{If-Modified-Since} is not older than the resource, C{setLastModified}
    returns L{http.CACHED} and the response is 304 with no body.
    """
    server, _, result = serve(
        conditional(b"GET", b"If-Modified-Since: " + since), _lastModified
    )
    assert result is http.CACHED
    response = only(server)
    assert response.status == 304
    assert response.body == b""
    assert response.header(b"last-modified") == MODIFIED_DATE


@pytest.mark.parametrize(
    "fields",
    [
        [b"If-Modified-Since: " + BEFORE_DATE],
        [b"If-Modified-Since: not a date"],
        [],
    ],
    ids=["older", "malformed", "absent"],
)
def test_setLastModifiedNotCached(fields: list[bytes]) -> None:
    """
    When the resource changed since C{If-Modified-Since} (or the field is
    absent or malformed), C{setLastModified} returns C{None}, sets
    C{Last-Modified} and the full response is sent.
    """
    server, _, result = serve(conditional(b"GET", *fields), _lastModified)
    assert result is None
    response = only(server)
    assert response.status == 200
    assert response.body == b"ok"
    assert response.header(b"last-modified") == MODIFIED_DATE


def test_setLastModifiedIgnoredForPost() -> None:
    """
    C{If-Modified-Since} applies only to GET and HEAD.
    """
    server, _, result = serve(
        conditional(b"POST", b"If-Modified-Since: " + AFTER_DATE), _lastModified
    )
    assert result is None
    assert only(server).status == 200


def _etag(request: http.Request) -> Any:
    """Call C{setETag(b'"v1"')}; finish at once if cached."""
    result = request.setETag(b'"v1"')
    if result is http.CACHED:
        request.finish()
    return result


@pytest.mark.parametrize(
    "value",
    [b'"v1"', b'"v0", "v1"', b'W/"v1"', b"*"],
    ids=["same", "list", "weak", "*"],
)
def test_setETagCached(value: bytes) -> None:
    """
    A GET whose C{If-None-Match} matches the entity tag (weak comparison, or
    C{*}) gets 304 with no body, and C{setETag} returns L{http.CACHED}.
    """
    server, _, result = serve(conditional(b"GET", b"If-None-Match: " + value), _etag)
    assert result is http.CACHED
    response = only(server)
    assert response.status == 304
    assert response.body == b""
    assert response.header(b"etag") == b'"v1"'


def test_setETagHeadCached() -> None:
    """
    A matching HEAD gets 304 as well.
    """
    server, _, result = serve(conditional(b"HEAD", b'If-None-Match: "v1"'), _etag)
    assert result is http.CACHED
    assert only(server, b"HEAD").status == 304


def test_setETagNotMatching() -> None:
    """
    A non-matching C{If-None-Match} gives the full response with the C{ETag}.
    """
    server, _, result = serve(conditional(b"GET", b'If-None-Match: "v2"'), _etag)
    assert result is None
    response = only(server)
    assert response.status == 200
    assert response.header(b"etag") == b'"v1"'


def test_setETagPostPreconditionFailed() -> None:
    """
    A POST whose C{If-None-Match} matches gets 412 Precondition Failed.
    """
    server, _, result = serve(conditional(b"POST", b'If-None-Match: "v1"'), _etag)
    assert result is http.CACHED
    assert only(server, b"POST").status == 412


def test_ifNoneMatchTakesPrecedence() -> None:
    """
    When both C{If-None-Match} and C{If-Modified-Since} are sent, only
    C{If-None-Match} is evaluated (RFC 9110 section 13.2.2): a non-matching tag
    gives the full response even though the date would say "not modified".
    """

    def inspect(request: http.Request) -> Any:
        return (request.setLastModified(MODIFIED), request.setETag(b'"v1"'))

    server, _, results = serve(
        conditional(
            b"GET", b'If-None-Match: "other"', b"If-Modified-Since: " + AFTER_DATE
        ),
        inspect,
    )
    assert results == (None, None)
    assert only(server).status == 200


def test_ifNoneMatchMatchingWithOldDate() -> None:
    """
    A matching C{If-None-Match} gives 304 even when C{If-Modified-Since} is
    older than the resource.
    """

    def inspect(request: http.Request) -> Any:
        results = (request.setLastModified(MODIFIED), request.setETag(b'"v1"'))
        request.finish()
        return results

    server, _, results = serve(
        conditional(
            b"GET", b'If-None-Match: "v1"', b"If-Modified-Since: " + BEFORE_DATE
        ),
        inspect,
    )
    assert results[1] is http.CACHED
    assert only(server).status == 304


# -- date helpers --------------------------------------------------------------------


def test_datetimeRoundTrip() -> None:
    """
    C{datetimeToString} formats an IMF-fixdate that C{stringToDatetime} reads
    back, and the obsolete forms are read too.
    """
    assert http.datetimeToString(784111777) == b"Sun, 06 Nov 1994 08:49:37 GMT"
    assert http.stringToDatetime(b"Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    assert http.stringToDatetime(b"Sunday, 06-Nov-94 08:49:37 GMT") == 784111777
    assert http.stringToDatetime(b"Sun Nov  6 08:49:37 1994") == 784111777
    with pytest.raises(ValueError):
        http.stringToDatetime(b"yesterday")


def test_chunkHelpers() -> None:
    """
    C{toChunk} frames data as a chunk (empty data as the last chunk) and
    C{fromChunk} splits the first chunk off.
    """
    assert b"".join(http.toChunk(b"hello")) == b"5\r\nhello\r\n"
    assert b"".join(http.toChunk(b"")) == b"0\r\n\r\n"
    assert http.fromChunk(b"5\r\nhello\r\nrest") == (b"hello", b"rest")
    with pytest.raises(ValueError):
        http.fromChunk(b"5\r\nhelloXXrest")
    with pytest.raises(ValueError):
        http.fromChunk(b"zz\r\n")


def test_getClientIP() -> None:
    """
    getClientIP gives the peer's IP address as text, as older twisted.web code
    expects, and None for a peer that has no IP address.
    """
    from twisted.internet.address import UNIXAddress

    server = Server()
    server.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    request = server.processed[0]
    assert request.getClientIP() == request.getClientAddress().host
    request.channel._peer = UNIXAddress(b"/tmp/sock")
    assert request.getClientIP() is None


def test_chunkedFlag() -> None:
    """
    The chunked flag says whether the response went out with chunked coding.
    """
    server = Server()
    server.handler = lambda request: request.write(b"part")
    server.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    request = server.processed[0]
    assert request.chunked
    request.finish()
