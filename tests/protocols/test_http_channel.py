"""
Tests for L{twisted_web_re.http.HTTPChannel}: one connection's life, from the
bytes a client sends to the bytes and the close it gets back.

Every test drives a real channel over a L{StringTransport} with a
L{MemoryReactorClock} (see L{_httpparse.Server}) and asserts on the parsed
output, on whether the connection is closing, and on what the application saw.
"""

from __future__ import annotations

import io
import tempfile
from typing import Any

import pytest
from _httpparse import PEER, Server, parseResponses
from twisted.internet import _producer_helpers
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IPullProducer, IPushProducer
from twisted.internet.task import Cooperator
from twisted.internet.testing import StringTransport
from twisted.logger import globalLogPublisher
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re import http

# -- raw requests -----------------------------------------------------------------

HOST = b"Host: example.com\r\n"

GET = b"GET / HTTP/1.1\r\n" + HOST + b"\r\n"
GET_A = b"GET /a HTTP/1.1\r\n" + HOST + b"\r\n"
GET_B = b"GET /b HTTP/1.1\r\n" + HOST + b"\r\n"
GET_C = b"GET /c HTTP/1.1\r\n" + HOST + b"\r\n"
GET_LATER = b"GET /later HTTP/1.1\r\n" + HOST + b"\r\n"
GET_CLOSE = b"GET /close HTTP/1.1\r\n" + HOST + b"Connection: close\r\n\r\n"
GET_10 = b"GET /old HTTP/1.0\r\n\r\n"
GET_10_KEEPALIVE = b"GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
HEAD = b"HEAD /fixed HTTP/1.1\r\n" + HOST + b"\r\n"
GET_FIXED = b"GET /fixed HTTP/1.1\r\n" + HOST + b"\r\n"

POST_LENGTH = (
    b"POST /upload HTTP/1.1\r\n" + HOST + b"Content-Length: 11\r\n\r\nhello world"
)
POST_CHUNKED = (
    b"POST /upload HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
    b"5;name=value\r\nhello\r\n"
    b'6 ; quoted="a; b" ; bare\r\n world\r\n'
    b"0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
)
POST_EXPECT_HEAD = (
    b"POST /upload HTTP/1.1\r\n"
    + HOST
    + b"Content-Length: 11\r\nExpect: 100-continue\r\n\r\n"
)
POST_EXPECT_CHUNKED_HEAD = (
    b"POST /upload HTTP/1.1\r\n"
    + HOST
    + b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
)
GET_EXPECT = b"GET / HTTP/1.1\r\n" + HOST + b"Expect: 100-continue\r\n\r\n"
POST_10_EXPECT = (
    b"POST /upload HTTP/1.0\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"
    b"hello world"
)

BARE_LF_GET = b"GET /lf HTTP/1.1\nHost: example.com\nX-A: 1\n\n"
BARE_LF_POST = b"POST /lf HTTP/1.1\nHost: example.com\nContent-Length: 3\n\nabc"
MIXED_LF_GET = b"GET /mixed HTTP/1.1\r\nHost: example.com\nX-A: 1\r\n\n"

# Requests whose framing could be read two ways, or not at all: each earns the
# status beside it and a close, and the request must never reach the
# application.  The trailing "GET /smuggled" must never be answered either.
SMUGGLED = b"GET /smuggled HTTP/1.1\r\n" + HOST + b"\r\n"
BAD_FRAMING = [
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        id="content-length-and-transfer-encoding",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n"
        b"Content-Length: 5\r\n\r\n0\r\n\r\n",
        400,
        id="transfer-encoding-and-content-length",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n"
        b"Content-Length: 5\r\n\r\nhello",
        400,
        id="duplicate-content-length",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 5, 5\r\n\r\nhello",
        400,
        id="content-length-list",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 5\r\n"
        b"Content-Length: 6\r\n\r\nhello!",
        400,
        id="conflicting-content-length",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 5a\r\n\r\nhello",
        400,
        id="content-length-not-a-number",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: -1\r\n\r\n",
        400,
        id="content-length-negative",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: +5\r\n\r\nhello",
        400,
        id="content-length-signed",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 0x5\r\n\r\nhello",
        400,
        id="content-length-hex",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: \r\n\r\n",
        400,
        id="content-length-empty",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length : 5\r\n\r\nhello",
        400,
        id="space-before-colon",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"X-A: 1\r\n Content-Length: 5\r\n\r\nhello",
        400,
        id="obs-fold",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip, chunked\r\n\r\n"
        b"0\r\n\r\n",
        501,
        id="unknown-coding-before-chunked",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked, gzip\r\n\r\n"
        b"0\r\n\r\n",
        400,
        id="chunked-not-last",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: gzip\r\n\r\nhello",
        400,
        id="no-chunked",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked, chunked\r\n\r\n"
        b"0\r\n\r\n",
        400,
        id="chunked-twice",
    ),
    pytest.param(
        b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
        id="transfer-encoding-in-http-1.0",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"zz\r\nhello\r\n0\r\n\r\n",
        400,
        id="chunk-size-not-hex",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"-5\r\nhello\r\n0\r\n\r\n",
        400,
        id="chunk-size-negative",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"0x5\r\nhello\r\n0\r\n\r\n",
        400,
        id="chunk-size-0x",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"\r\nhello\r\n0\r\n\r\n",
        400,
        id="chunk-size-empty",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"3\r\nhelXX\r\n0\r\n\r\n",
        400,
        id="chunk-data-without-crlf",
    ),
    pytest.param(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello0\r\n\r\n",
        400,
        id="chunk-data-run-into-next-size",
    ),
]

# Heads that must be refused for their Host field.
BAD_HOST = [
    pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="missing"),
    pytest.param(
        b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", id="twice"
    ),
    pytest.param(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", id="space"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: user@example.com\r\n\r\n", id="userinfo"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: example.com/path\r\n\r\n", id="path"),
]


# -- handlers and helpers -----------------------------------------------------------


def respondLater(server: Server) -> None:
    """
    Make C{server} leave requests to C{/later} (or whose path starts with it)
    unfinished in C{server.pending}, and echo all others.
    """

    def handler(request: http.Request) -> None:
        if request.path.startswith(b"/later"):
            server.pending.append(request)
        elif request.path == b"/fixed":
            request.write(b"hello world")
            request.finish()
        else:
            _echo(request)

    server.handler = handler


def _echo(request: http.Request) -> None:
    assert request.content is not None
    request.setHeader(b"content-type", b"text/plain")
    request.write(request.method + b" " + request.uri + b"\n" + request.content.read())
    request.finish()


def fixed(request: http.Request) -> None:
    """Answer every request with the same 11-byte body."""
    request.write(b"hello world")
    request.finish()


def captureLog() -> tuple[list[dict[str, Any]], Any]:
    """Start collecting every Twisted log event; return the list and observer."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    return events, events.append


def assertRejected(server: Server, status: int) -> None:
    """
    Assert that the only output is one error response with C{status}, that it
    says the connection closes, that the connection is closing, and that no
    request reached the application.
    """
    [response] = server.responses()
    assert response.status == status
    assert b"close" in response.connectionTokens()
    assert server.closed
    assert server.processed == []


# -- persistent connections ----------------------------------------------------------


def test_http11KeepsConnectionOpenByDefault() -> None:
    """
    An HTTP/1.1 connection persists: two requests sent one after the other are
    both answered, and the connection is not closed or marked for closing.
    """
    server = Server()
    server.feed(GET_A)
    server.feed(GET_B)
    first, second = server.responses()
    assert first.body == b"GET /a\n"
    assert second.body == b"GET /b\n"
    assert b"close" not in first.connectionTokens()
    assert b"close" not in second.connectionTokens()
    assert not server.closed


def test_http10ClosesByDefault() -> None:
    """
    An HTTP/1.0 request without C{Connection: keep-alive} is answered and the
    connection is then closed; a second request is not answered.
    """
    server = Server()
    server.feed(GET_10 + GET_A)
    [response] = server.responses()
    assert response.status == 200
    assert response.body == b"GET /old\n"
    assert b"keep-alive" not in response.connectionTokens()
    assert server.closed
    assert len(server.processed) == 1


def test_http10KeepAlive() -> None:
    """
    An HTTP/1.0 request with C{Connection: keep-alive} gets a response that
    says C{Connection: keep-alive} and has a Content-Length, and the
    connection stays open for the next request.
    """
    server = Server()
    server.feed(GET_10_KEEPALIVE)
    [response] = server.responses()
    assert response.version == b"HTTP/1.1"
    assert response.connectionTokens() == {b"keep-alive"}
    assert response.header(b"content-length") == b"9"
    assert response.body == b"GET /old\n"
    assert not server.closed
    server.feed(GET_10_KEEPALIVE)
    assert len(server.responses()) == 2
    assert not server.closed


def test_http10KeepAliveStreamedResponseCloses() -> None:
    """
    An HTTP/1.0 keep-alive request whose response length is not known (written
    after C{process()} returned) cannot be chunked, so it is delimited by
    closing the connection and does not claim to keep the connection alive.
    """
    server = Server()
    respondLater(server)
    server.feed(b"GET /later HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    [request] = server.pending
    request.write(b"part one, ")
    request.write(b"part two")
    assert not server.closed
    request.finish()
    [response] = server.responses()
    assert response.framing == "close"
    assert response.body == b"part one, part two"
    assert b"keep-alive" not in response.connectionTokens()
    assert server.closed


@pytest.mark.parametrize(
    "connection",
    [b"close", b"Close", b"keep-alive,close", b"keep-alive, close", b"CLOSE , foo"],
)
def test_clientConnectionCloseClosesAfterResponse(connection: bytes) -> None:
    """
    A request whose C{Connection} list holds C{close} (in any case, anywhere in
    the comma-separated list) is answered with C{Connection: close}, and the
    connection is then closed.
    """
    server = Server()
    server.feed(
        b"GET / HTTP/1.1\r\n" + HOST + b"Connection: " + connection + b"\r\n\r\n"
    )
    [response] = server.responses()
    assert response.status == 200
    assert b"close" in response.connectionTokens()
    assert server.closed


def test_http10KeepAliveAndCloseCloses() -> None:
    """
    An HTTP/1.0 request saying both C{keep-alive} and C{close} is answered and
    the connection closed.
    """
    server = Server()
    server.feed(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")
    [response] = server.responses()
    assert b"keep-alive" not in response.connectionTokens()
    assert server.closed


def test_requestAfterConnectionCloseIsIgnored() -> None:
    """
    A request pipelined after one that said C{Connection: close} is never
    processed: the output holds exactly one response.
    """
    server = Server()
    server.feed(GET_CLOSE + GET_A)
    [response] = server.responses()
    assert response.body == b"GET /close\n"
    assert [r.path for r in server.processed] == [b"/close"]
    assert server.closed
    server.feed(GET_B)
    assert len(server.responses()) == 1
    assert len(server.processed) == 1


def test_applicationConnectionCloseClosesAfterResponse() -> None:
    """
    When the application sets C{Connection: close} on its response, the
    response is sent in full with that header, the connection is then closed,
    and a request pipelined behind it is not processed.
    """

    def handler(request: http.Request) -> None:
        request.setHeader(b"connection", b"close")
        request.write(b"bye")
        request.finish()

    server = Server(handler)
    server.feed(GET_A + GET_B)
    [response] = server.responses()
    assert response.body == b"bye"
    assert b"close" in response.connectionTokens()
    assert server.closed
    assert len(server.processed) == 1


def test_applicationConnectionCloseOnStreamedResponse() -> None:
    """
    C{Connection: close} set by the application on a response it streams after
    C{process()} returned is honoured: the connection closes after the end.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER + GET_B)
    [request] = server.pending
    request.setHeader(b"connection", b"close")
    request.write(b"a")
    request.write(b"b")
    assert not server.closed
    request.finish()
    [response] = server.responses()
    assert response.body == b"ab"
    assert b"close" in response.connectionTokens()
    assert server.closed
    assert len(server.processed) == 1


@pytest.mark.parametrize("raw", BAD_HOST)
def test_http11WithoutExactlyOneValidHostIsRejected(raw: bytes) -> None:
    """
    An HTTP/1.1 request without exactly one valid C{Host} field is answered 400
    and the connection closed, without reaching the application.
    """
    server = Server()
    server.feed(raw + GET)
    assertRejected(server, 400)


def test_http10WithoutHostIsServed() -> None:
    """
    HTTP/1.0 does not require C{Host}: such a request is served normally.
    """
    server = Server()
    server.feed(GET_10)
    [response] = server.responses()
    assert response.status == 200


# -- pipelining -------------------------------------------------------------------


def test_pipelinedRequestsAnsweredInOrder() -> None:
    """
    Several requests sent in one piece are all answered, in the order they
    were sent, on the same open connection.
    """
    server = Server()
    server.feed(GET_A + POST_LENGTH + GET_B + POST_CHUNKED + GET_C)
    bodies = [r.body for r in server.responses()]
    assert bodies == [
        b"GET /a\n",
        b"POST /upload\nhello world",
        b"GET /b\n",
        b"POST /upload\nhello world",
        b"GET /c\n",
    ]
    assert not server.closed


def test_pipelinedResponsesStayInOrderWhenFirstIsSlow() -> None:
    """
    When the first of two pipelined requests is answered later, the second is
    not processed until the first is finished, and the responses come out in
    request order.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER + GET_B + GET_C)
    assert [r.path for r in server.processed] == [b"/later"]
    assert server.value() == b""
    [slow] = server.pending
    slow.write(b"slow ")
    slow.write(b"answer")
    assert [r.path for r in server.processed] == [b"/later"]
    slow.finish()
    assert [r.path for r in server.processed] == [b"/later", b"/b", b"/c"]
    bodies = [r.body for r in server.responses()]
    assert bodies == [b"slow answer", b"GET /b\n", b"GET /c\n"]


def test_requestArrivingWhileAnotherIsAnsweredWaits() -> None:
    """
    A request that arrives in a later read while the previous one is still
    being answered is processed only once that one finishes.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    server.feed(GET_A[:10])
    server.feed(GET_A[10:])
    assert len(server.processed) == 1
    server.pending[0].finish()
    assert [r.path for r in server.processed] == [b"/later", b"/a"]
    assert [r.status for r in server.responses()] == [200, 200]


def test_manyPipelinedRequestsPauseReading() -> None:
    """
    While a request is being answered, a client that pipelines a lot of
    further input has reading paused (so the server does not buffer without
    bound) and resumed once the answer is done; every request is answered.
    """
    server = Server()
    respondLater(server)
    padded = b"GET /p HTTP/1.1\r\n" + HOST + b"X-Pad: " + b"p" * 1000 + b"\r\n\r\n"
    server.feed(GET_LATER)
    for _ in range(100):
        server.feed(padded)
    assert server.transport.producerState == "paused"
    assert len(server.processed) == 1
    server.pending[0].finish()
    assert server.transport.producerState == "producing"
    assert len(server.responses()) == 101
    assert not server.closed


# -- request bodies ---------------------------------------------------------------


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize(
    "raw", [POST_LENGTH, POST_CHUNKED], ids=["content-length", "chunked"]
)
def test_requestBodyInContent(raw: bytes, bytewise: bool) -> None:
    """
    A request body, framed by Content-Length or chunked (with chunk
    extensions and trailer fields), is in C{request.content}, positioned at
    its start, when C{process()} runs; also when it arrives a byte at a time.
    """
    server = Server()
    server.feed(raw, bytewise=bytewise)
    assert server.contentAtProcess == [(0, b"hello world")]
    [response] = server.responses()
    assert response.body == b"POST /upload\nhello world"
    assert not server.closed


def test_emptyChunkedBody() -> None:
    """
    A chunked body made only of the last chunk is an empty body.
    """
    server = Server()
    server.feed(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    assert server.contentAtProcess == [(0, b"")]
    assert len(server.responses()) == 1


def _onDisk(content: Any) -> bool:
    """Return whether C{content} is backed by a real file rather than memory."""
    if isinstance(content, io.BytesIO):
        return False
    if isinstance(content, tempfile.SpooledTemporaryFile):
        return bool(content._rolled)
    content.fileno()
    return True


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_largeBodySpooledToFile(chunked: bool) -> None:
    """
    A request body larger than C{bodyMemoryLimit} is stored in a temporary
    file, not in memory, and holds exactly the bytes sent.
    """
    body = bytes(range(256)) * 20
    if chunked:
        framed = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 1000]), body[i : i + 1000])
            for i in range(0, len(body), 1000)
        )
        raw = (
            b"POST /big HTTP/1.1\r\n"
            + HOST
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + framed
            + b"0\r\n\r\n"
        )
    else:
        raw = (
            b"POST /big HTTP/1.1\r\n"
            + HOST
            + b"Content-Length: %d\r\n\r\n" % len(body)
            + body
        )
    server = Server(fixed, bodyMemoryLimit=1024)
    server.feedPieces(raw[i : i + 700] for i in range(0, len(raw), 700))
    [request] = server.processed
    assert _onDisk(request.content)
    assert server.contentAtProcess == [(0, body)]


def test_smallBodyNeedNotBeOnDisk() -> None:
    """
    A body within C{bodyMemoryLimit} is delivered correctly too.
    """
    server = Server(fixed, bodyMemoryLimit=1024)
    server.feed(POST_LENGTH)
    assert server.contentAtProcess == [(0, b"hello world")]


def test_bodyDoesNotLeakIntoNextRequest() -> None:
    """
    Bytes after the declared end of a body are the next request, not part of
    the body.
    """
    server = Server()
    server.feed(POST_LENGTH + GET_A)
    assert server.contentAtProcess == [(0, b"hello world"), (0, b"")]
    assert [r.body for r in server.responses()] == [
        b"POST /upload\nhello world",
        b"GET /a\n",
    ]


# -- smuggling and framing errors ----------------------------------------------------


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize(("raw", "status"), BAD_FRAMING)
def test_badFramingRejected(raw: bytes, status: int, bytewise: bool) -> None:
    """
    A request whose body framing is ambiguous or malformed is answered with
    the right status and C{Connection: close}, the connection is closed, and
    neither it nor anything after it is processed.
    """
    server = Server()
    server.feed(raw + SMUGGLED, bytewise=bytewise)
    assertRejected(server, status)


def test_errorAfterGoodRequestsAnswersThemFirst() -> None:
    """
    A malformed request pipelined after good ones is rejected only after the
    good ones have been answered.
    """
    server = Server()
    server.feed(GET_A + BAD_FRAMING[0].values[0])
    first, second = server.responses()
    assert first.status == 200
    assert second.status == 400
    assert b"close" in second.connectionTokens()
    assert server.closed
    assert [r.path for r in server.processed] == [b"/a"]


def test_errorResponseHasNoPeerBytes() -> None:
    """
    An error response never echoes what the client sent.
    """
    server = Server()
    server.feed(b"GET / HTTP/1.1\r\nHost: <script>\r\n\r\n")
    [response] = server.responses()
    assert response.status == 400
    assert b"<script>" not in response.raw


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", id="tls"),
        pytest.param(b"GET / FOO/1.1\r\n\r\n", id="bad-version"),
        pytest.param(b"GET  / HTTP/1.1\r\n\r\n", id="double-space"),
        pytest.param(b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n", id="bad-method"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nBad\x00: 1\r\n\r\n", id="nul"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", id="no-colon"),
        pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", id="bare-cr"),
        pytest.param(b"GET example.com HTTP/1.1\r\nHost: x\r\n\r\n", id="target"),
    ],
)
def test_malformedHeadRejected(raw: bytes) -> None:
    """
    A request head that is not HTTP/1.1 syntax is answered 400 and closed.
    """
    server = Server()
    server.feed(raw)
    assertRejected(server, 400)


class _LingeringTransport(StringTransport):
    """
    A transport that, like TCP, can close its write side alone and does not
    mind a producer being unregistered twice.
    """

    writeClosed = False

    def loseWriteConnection(self) -> None:
        self.writeClosed = True

    def unregisterProducer(self) -> None:
        self.producer = None
        self.streaming = None


def test_errorLingersThenAborts() -> None:
    """
    On a transport that can half-close, an error response is followed by
    closing only the write side: the client's further input is read and
    ignored (so the response is not destroyed by a reset), and after a short
    linger the connection is dropped.
    """
    transport = _LingeringTransport(hostAddress=PEER, peerAddress=PEER)
    server = Server(transport=transport)
    server.feed(BAD_FRAMING[0].values[0])
    [response] = server.responses()
    assert response.status == 400
    assert b"close" in response.connectionTokens()
    assert transport.writeClosed
    sent = server.value()
    server.feed(SMUGGLED + b"more junk \x00\xff")
    assert server.value() == sent
    assert server.processed == []
    server.clock.advance(10)
    assert transport.disconnecting
    assert server.value() == sent


def test_errorLingerEndsWhenClientCloses() -> None:
    """
    When the client closes while the server lingers after an error response,
    the linger timer is cancelled with the connection.
    """
    transport = _LingeringTransport(hostAddress=PEER, peerAddress=PEER)
    server = Server(transport=transport)
    server.feed(b"GET / HTTP/1.1\r\n\r\n")
    assert transport.writeClosed
    server.channel.connectionLost(Failure(ConnectionDone()))
    assert server.clock.getDelayedCalls() == []


def test_http2VersionRejected() -> None:
    """
    A request line naming HTTP/2.0 gets 505 HTTP Version Not Supported.
    """
    server = Server()
    server.feed(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")
    assertRejected(server, 505)


# -- Expect: 100-continue --------------------------------------------------------------


def test_expectContinueSent() -> None:
    """
    A client that sends C{Expect: 100-continue} with a body gets
    C{HTTP/1.1 100 Continue} as soon as the head is read, before any body,
    and then the final response once the body has arrived.
    """
    server = Server()
    server.feed(POST_EXPECT_HEAD)
    assert server.value() == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert server.processed == []
    server.feed(b"hello world")
    interim, final = server.responses()
    assert interim.status == 100
    assert final.status == 200
    assert final.body == b"POST /upload\nhello world"


def test_expectContinueChunked() -> None:
    """
    C{Expect: 100-continue} on a chunked request gets its 100 Continue too.
    """
    server = Server()
    server.feed(POST_EXPECT_CHUNKED_HEAD)
    assert server.value() == b"HTTP/1.1 100 Continue\r\n\r\n"
    server.feed(b"3\r\nabc\r\n0\r\n\r\n")
    assert server.contentAtProcess == [(0, b"abc")]


def test_expectContinueWithoutBodyNotSent() -> None:
    """
    A request without a body gets no 100 Continue, only its final response.
    """
    server = Server()
    server.feed(GET_EXPECT)
    [response] = server.responses()
    assert response.status == 200


def test_expectContinueOverMaxBodySize() -> None:
    """
    A request declaring a body larger than C{maxBodySize} with
    C{Expect: 100-continue} gets 413 at once, never a 100 Continue, and the
    connection is closed.
    """
    server = Server(maxBodySize=10)
    server.feed(POST_EXPECT_HEAD)
    assert b"100 Continue" not in server.value()
    assertRejected(server, 413)


class _Refusing(http.HTTPFactory):
    """A factory that refuses every body with 401, recording each decision."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: list[tuple[bytes, int | None]] = []

    def refuseBody(self, request: http.Request, length: int | None) -> int | None:
        self.asked.append((request.uri, length))
        return 401


@pytest.mark.parametrize(
    ("head", "length"),
    [(POST_EXPECT_HEAD, 11), (POST_EXPECT_CHUNKED_HEAD, None)],
    ids=["content-length", "chunked"],
)
def test_refuseBodyAnswersWithoutContinue(head: bytes, length: int | None) -> None:
    """
    When the factory's C{refuseBody} returns a status, that status is sent
    without a 100 Continue, the body is never read or processed, and the
    connection is closed; C{refuseBody} sees the declared length (C{None} for
    chunked).
    """
    server = Server(factoryClass=_Refusing)
    server.feed(head)
    assert b"100 Continue" not in server.value()
    assertRejected(server, 401)
    assert server.factory.asked == [(b"/upload", length)]  # type: ignore[attr-defined]
    server.feed(b"hello world")
    assert len(server.responses()) == 1


def test_refuseBodyNotAskedWithoutBody() -> None:
    """
    C{refuseBody} is consulted only for requests that have a body.
    """
    server = Server(factoryClass=_Refusing)
    server.feed(GET)
    assert server.responses()[0].status == 200
    assert server.factory.asked == []  # type: ignore[attr-defined]


def test_refuseBodyWithoutExpect() -> None:
    """
    A refused body is refused also when the client did not ask for 100
    Continue: the status is sent and the body is not processed.
    """
    server = Server(factoryClass=_Refusing)
    server.feed(POST_LENGTH)
    assertRejected(server, 401)


def test_http10ExpectGetsNoContinue() -> None:
    """
    An HTTP/1.0 client never gets a 100 Continue, even if it sends C{Expect}.
    """
    server = Server()
    server.feed(POST_10_EXPECT)
    [response] = server.responses()
    assert response.status == 200
    assert b"100 Continue" not in server.value()


def test_unknownExpectationFails() -> None:
    """
    An expectation other than 100-continue gets 417 Expectation Failed.
    """
    server = Server()
    server.feed(b"GET / HTTP/1.1\r\n" + HOST + b"Expect: teapot\r\n\r\n")
    assertRejected(server, 417)


# -- bare LF ---------------------------------------------------------------------


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_bareLineFeedsAccepted(bytewise: bool) -> None:
    """
    Heads whose lines end in a bare LF (RFC 9112 section 2.2) are parsed and
    answered, whole or a byte at a time, and never leave the client hanging.
    """
    server = Server()
    server.feed(BARE_LF_GET + BARE_LF_POST + MIXED_LF_GET, bytewise=bytewise)
    assert [r.body for r in server.responses()] == [
        b"GET /lf\n",
        b"POST /lf\nabc",
        b"GET /mixed\n",
    ]


def test_leadingEmptyLinesIgnored() -> None:
    """
    Empty lines before a request line (RFC 9112 section 2.2) are skipped.
    """
    server = Server()
    server.feed(b"\r\n\r\n\n" + GET_A)
    [response] = server.responses()
    assert response.body == b"GET /a\n"


@pytest.mark.parametrize(
    "pieces",
    [
        pytest.param([b"\r", b"\n" + GET_A], id="before-first-request"),
        pytest.param([GET + b"\r", b"\n" + GET_A], id="between-requests"),
        pytest.param([POST_LENGTH + b"\r", b"\n" + GET_A], id="after-a-body"),
    ],
)
def test_emptyLineSplitBetweenCRAndLF(pieces: list[bytes]) -> None:
    """
    An empty line before a request line (which old clients send after a POST
    body; RFC 9112 section 2.2 says to ignore it) is ignored also when its CR
    and LF arrive in different reads.
    """
    server = Server()
    server.feedPieces(pieces)
    responses = server.responses()
    assert [r.status for r in responses] == [200] * len(responses)
    assert responses[-1].body == b"GET /a\n"
    assert not server.closed


# -- response framing --------------------------------------------------------------


def test_wholeResponseGetsContentLength() -> None:
    """
    A response written and finished inside C{process()} is sent with a
    Content-Length, not chunked.
    """

    def handler(request: http.Request) -> None:
        request.write(b"hello ")
        request.write(b"world")
        request.finish()

    server = Server(handler)
    server.feed(GET)
    [response] = server.responses()
    assert response.framing == "length"
    assert response.header(b"content-length") == b"11"
    assert response.header(b"transfer-encoding") is None
    assert response.body == b"hello world"


def test_emptyResponseHasZeroLength() -> None:
    """
    A response finished without any body gets C{Content-Length: 0}.
    """

    def handler(request: http.Request) -> None:
        request.finish()

    server = Server(handler)
    server.feed(GET + GET_A)
    first, second = server.responses()
    assert first.header(b"content-length") == b"0"
    assert first.body == b""
    assert second.status == 200


def test_laterResponseIsChunked() -> None:
    """
    An HTTP/1.1 response written after C{process()} returned, in several
    writes, is sent chunked, and the connection stays usable afterwards.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    request.write(b"one ")
    request.write(b"")
    request.write(b"two ")
    request.write(b"three")
    request.finish()
    server.feed(GET_A)
    first, second = server.responses()
    assert first.framing == "chunked"
    assert first.header(b"content-length") is None
    assert first.body == b"one two three"
    assert second.body == b"GET /a\n"
    assert not server.closed


def test_writesDuringProcessAreSentWhenProcessReturns() -> None:
    """
    Body written inside C{process()} without finishing is sent once
    C{process()} returns, before the rest that is written later.
    """

    def handler(request: http.Request) -> None:
        request.write(b"early ")
        server.pending.append(request)

    server = Server(handler)
    server.feed(GET)
    assert b"early " in server.value()
    server.pending[0].write(b"late")
    server.pending[0].finish()
    [response] = server.responses()
    assert response.framing == "chunked"
    assert response.body == b"early late"


def test_applicationContentLengthUsed() -> None:
    """
    A Content-Length the application sets is sent (once) and the streamed body
    is not chunked.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    request.setHeader(b"content-length", b"6")
    request.write(b"abc")
    request.write(b"def")
    request.finish()
    [response] = server.responses()
    assert response.framing == "length"
    assert response.body == b"abcdef"
    assert not server.closed


def test_http10ResponseCloseDelimited() -> None:
    """
    A streamed response to an HTTP/1.0 request has neither Content-Length nor
    chunked encoding: its end is marked by closing the connection, which
    happens only once it is finished.
    """
    server = Server()
    respondLater(server)
    server.feed(b"GET /later HTTP/1.0\r\n\r\n")
    [request] = server.pending
    request.write(b"abc")
    request.write(b"def")
    assert not server.closed
    request.finish()
    [response] = server.responses()
    assert response.framing == "close"
    assert response.header(b"content-length") is None
    assert response.header(b"transfer-encoding") is None
    assert response.body == b"abcdef"
    assert server.closed


def test_headHasLengthButNoBody() -> None:
    """
    The answer to HEAD carries the Content-Length that GET would have, but no
    body; the next pipelined request is still answered correctly.
    """
    server = Server(fixed)
    server.feed(HEAD + GET_FIXED)
    head, get = server.responses([b"HEAD", b"GET"])
    assert head.header(b"content-length") == b"11"
    assert head.body == b""
    assert get.body == b"hello world"
    assert get.header(b"content-length") == b"11"


def test_headStreamedHasNoBody() -> None:
    """
    A HEAD response the application streams after C{process()} still carries
    no body bytes at all.
    """
    server = Server()
    respondLater(server)
    server.feed(b"HEAD /later HTTP/1.1\r\n" + HOST + b"\r\n")
    [request] = server.pending
    request.write(b"ignored")
    request.finish()
    server.feed(GET_A)
    head, get = server.responses([b"HEAD", b"GET"])
    assert head.status == 200
    assert b"ignored" not in server.value()
    assert get.body == b"GET /a\n"


@pytest.mark.parametrize("code", [204, 304])
def test_noBodyStatuses(code: int) -> None:
    """
    A 204 or 304 response carries no body, even if the application writes one,
    and a 204 has no Content-Length; the connection stays usable.
    """

    def handler(request: http.Request) -> None:
        if request.path == b"/a":
            _echo(request)
            return
        request.setResponseCode(code)
        request.write(b"should not be sent")
        request.finish()

    server = Server(handler)
    server.feed(GET + GET_A)
    first, second = server.responses()
    assert first.status == code
    assert first.body == b""
    assert first.header(b"transfer-encoding") is None
    if code == 204:
        assert first.header(b"content-length") is None
    assert b"should not be sent" not in server.value()
    assert second.body == b"GET /a\n"


def test_informationalStatusHasNoBody() -> None:
    """
    A 1xx status set as the final response is not followed by a body either.
    """

    def handler(request: http.Request) -> None:
        request.setResponseCode(102)
        request.write(b"nope")
        request.finish()

    server = Server(handler)
    server.feed(GET)
    assert b"nope" not in server.value()


def test_dateAndServerByDefault() -> None:
    """
    Every response carries one C{Date} and one C{Server} header by default.
    """
    server = Server()
    server.feed(GET)
    [response] = server.responses()
    date = response.header(b"date")
    assert date is not None
    assert date.endswith(b" GMT")
    assert http.stringToDatetime(date) > 0
    assert response.header(b"server")


def test_dateAndServerNotDuplicated() -> None:
    """
    When the application sets C{Date} or C{Server}, its value is sent and the
    default is not added as a second copy.
    """

    def handler(request: http.Request) -> None:
        request.setHeader(b"Date", b"Sat, 21 Nov 2026 10:17:00 GMT")
        request.setHeader(b"server", b"Custom/1.0")
        request.write(b"x")
        request.finish()

    server = Server(handler)
    server.feed(GET)
    [response] = server.responses()
    assert response.values(b"date") == [b"Sat, 21 Nov 2026 10:17:00 GMT"]
    assert response.values(b"server") == [b"Custom/1.0"]


def test_customReasonPhrase() -> None:
    """
    C{setResponseCode(code, message)} sends that reason phrase.
    """

    def handler(request: http.Request) -> None:
        request.setResponseCode(202, b"Sure Thing")
        request.finish()

    server = Server(handler)
    server.feed(GET)
    assert server.value().startswith(b"HTTP/1.1 202 Sure Thing\r\n")


def test_unknownCodeReason() -> None:
    """
    A status code without a standard phrase is still sent with a reason.
    """

    def handler(request: http.Request) -> None:
        request.setResponseCode(299)
        request.finish()

    server = Server(handler)
    server.feed(GET)
    [response] = server.responses()
    assert response.status == 299


def test_setCookieHeaders() -> None:
    """
    Each cookie added with C{addCookie} is sent as its own C{Set-Cookie}.
    """

    def handler(request: http.Request) -> None:
        request.addCookie(b"session", b"abc123", path=b"/", httpOnly=True)
        request.addCookie("theme", "dark", max_age=60, secure=True, sameSite="lax")
        request.finish()

    server = Server(handler)
    server.feed(GET)
    [response] = server.responses()
    assert response.values(b"set-cookie") == [
        b"session=abc123; Path=/; HttpOnly",
        b"theme=dark; Max-Age=60; Secure; SameSite=Lax",
    ]


def test_responseHeadersSentAsSet() -> None:
    """
    Headers set by the application are sent with their values, repeated
    headers as separate lines.
    """

    def handler(request: http.Request) -> None:
        request.setHeader(b"x-one", b"1")
        request.responseHeaders.addRawHeader(b"X-Many", b"a")
        request.responseHeaders.addRawHeader(b"x-many", b"b")
        request.finish()

    server = Server(handler)
    server.feed(GET)
    [response] = server.responses()
    assert response.values(b"x-one") == [b"1"]
    assert response.values(b"x-many") == [b"a", b"b"]


def test_writeMoreThanContentLengthCloses() -> None:
    """
    Bytes written beyond the Content-Length the application declared are not
    sent (they would be read as another response) and the connection closes.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER + GET_A)
    [request] = server.pending
    request.setHeader(b"content-length", b"3")
    request.write(b"abc")
    request.write(b"EXTRA")
    request.finish()
    [response] = server.responses()
    assert response.body == b"abc"
    assert b"EXTRA" not in server.value()
    assert server.closed


def test_writeLessThanContentLengthCloses() -> None:
    """
    A response finished short of its declared Content-Length leaves the
    client waiting for bytes that never come, so the connection is closed.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    request.setHeader(b"content-length", b"10")
    request.write(b"abc")
    request.finish()
    assert server.closed


# -- limits ---------------------------------------------------------------------


@pytest.mark.parametrize("complete", [True, False], ids=["complete", "incomplete"])
def test_requestLineTooLong(complete: bool) -> None:
    """
    A request line longer than C{maxRequestLine} gets 414 and a close, whether
    or not its end has arrived yet.
    """
    server = Server(maxRequestLine=100)
    raw = (
        b"GET /" + b"a" * 200 + (b" HTTP/1.1\r\n" + HOST + b"\r\n" if complete else b"")
    )
    server.feed(raw)
    assertRejected(server, 414)


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_requestLineAtLimitAccepted(bytewise: bool) -> None:
    """
    A request line (method, target and version, as C{Limits} documents it)
    exactly C{maxRequestLine} bytes long is accepted.
    """
    line = b"GET /" + b"a" * (100 - len(b"GET / HTTP/1.1")) + b" HTTP/1.1"
    assert len(line) == 100
    server = Server(maxRequestLine=100)
    server.feed(line + b"\r\n" + HOST + b"\r\n", bytewise=bytewise)
    assert server.responses()[0].status == 200


@pytest.mark.parametrize("complete", [True, False], ids=["complete", "incomplete"])
def test_headTooLarge(complete: bool) -> None:
    """
    A head larger than C{maxHeadSize} gets 431 and a close, whether or not its
    end has arrived yet.
    """
    server = Server(maxHeadSize=1000, maxRequestLine=100)
    raw = b"GET / HTTP/1.1\r\n" + HOST + b"X-Big: " + b"b" * 1200 + b"\r\n"
    server.feed(raw + (b"\r\n" if complete else b""))
    assertRejected(server, 431)


def test_tooManyHeaders() -> None:
    """
    More than C{maxHeaderCount} header fields get 431 and a close.
    """
    server = Server(maxHeaderCount=10)
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(10))
    server.feed(b"GET / HTTP/1.1\r\n" + HOST + fields + b"\r\n")
    assertRejected(server, 431)


def test_headerCountAtLimitAccepted() -> None:
    """
    Exactly C{maxHeaderCount} header fields are accepted.
    """
    server = Server(maxHeaderCount=10)
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(9))
    server.feed(b"GET / HTTP/1.1\r\n" + HOST + fields + b"\r\n")
    assert server.responses()[0].status == 200


def test_declaredBodyTooLarge() -> None:
    """
    A Content-Length over C{maxBodySize} gets 413 and a close, before any of
    the body is read.
    """
    server = Server(maxBodySize=10)
    server.feed(POST_LENGTH)
    assertRejected(server, 413)


def test_chunkedBodyTooLarge() -> None:
    """
    A chunked body that grows past C{maxBodySize} gets 413 and a close.
    """
    server = Server(maxBodySize=10)
    server.feed(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"6\r\nhello \r\n6\r\nworld!\r\n0\r\n\r\n"
    )
    assertRejected(server, 413)


def test_trailersTooLarge() -> None:
    """
    A chunked body whose trailer section is larger than C{maxHeadSize} gets
    431 and a close.
    """
    server = Server(maxHeadSize=1000, maxRequestLine=100)
    server.feed(
        b"POST / HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
        b"0\r\nX-Trailer: " + b"t" * 1200 + b"\r\n\r\n"
    )
    assertRejected(server, 431)


def test_bodyAtLimitAccepted() -> None:
    """
    A body exactly C{maxBodySize} bytes long is accepted.
    """
    server = Server(maxBodySize=11)
    server.feed(POST_LENGTH)
    assert server.contentAtProcess == [(0, b"hello world")]


# -- timeouts ---------------------------------------------------------------------


def test_idleConnectionTimesOut() -> None:
    """
    A keep-alive connection with no request for C{timeout} seconds after its
    last response is closed, without any response being sent.
    """
    server = Server(timeout=5)
    server.feed(GET)
    sent = server.value()
    server.clock.advance(4.9)
    assert not server.closed
    server.clock.advance(0.2)
    assert server.closed
    assert server.value() == sent


def test_newConnectionWithoutRequestTimesOut() -> None:
    """
    A connection that never sends anything is closed after C{timeout}, silently.
    """
    server = Server()
    server.clock.advance(59)
    assert not server.closed
    server.clock.advance(2)
    assert server.closed
    assert server.value() == b""


def test_idleTimerRestartsAfterEachResponse() -> None:
    """
    The idle time is counted from the end of the last response, not from the
    start of the connection.
    """
    server = Server(timeout=5)
    server.clock.advance(4)
    server.feed(GET)
    server.clock.advance(4)
    assert not server.closed
    server.feed(GET)
    server.clock.advance(4)
    assert not server.closed
    server.clock.advance(1.5)
    assert server.closed


def test_trickledHeadTimesOut() -> None:
    """
    A client sending its head one byte a second is answered 408 and cut off
    once C{headTimeout} (20 s by default) has passed since the head began,
    even though bytes keep arriving.
    """
    server = Server()
    server.clock.advance(5)
    raw = b"GET / HTTP/1.1\r\n" + HOST + b"X-Slow: " + b"s" * 100
    server.feed(raw[:1])
    for i in range(1, 19):
        server.clock.advance(1)
        server.feed(raw[i : i + 1])
    server.clock.advance(1)
    assert server.value() == b""
    assert not server.closed
    for i in range(20, 25):
        server.clock.advance(1)
        if server.closed:
            break
        server.feed(raw[i : i + 1])
    assertRejected(server, 408)


def test_headTimeoutSetting() -> None:
    """
    C{headTimeout} can be changed on the factory.
    """
    server = Server(headTimeout=3)
    server.feed(b"GET / HT")
    server.clock.advance(2.9)
    assert not server.closed
    server.clock.advance(0.2)
    assertRejected(server, 408)


def test_slowBodyTimesOut() -> None:
    """
    A body arriving slower than C{bodyMinRate} once C{bodyTimeout} has passed
    is answered 408 and the connection closed.
    """
    server = Server()
    server.feed(b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: 100000\r\n\r\n")
    for _ in range(19):
        server.clock.advance(1)
        server.feed(b"x" * 10)
    assert server.value() == b""
    for _ in range(5):
        server.clock.advance(1)
        if server.closed:
            break
        server.feed(b"x" * 10)
    assertRejected(server, 408)


def test_steadyBodyNotTimedOut() -> None:
    """
    A long body arriving faster than C{bodyMinRate} is read in full, however
    long it takes in total.
    """
    server = Server(fixed)
    total = 40 * 1000
    server.feed(b"POST / HTTP/1.1\r\n" + HOST + b"Content-Length: %d\r\n\r\n" % total)
    for _ in range(40):
        server.clock.advance(1)
        server.feed(b"y" * 1000)
    [response] = server.responses()
    assert response.status == 200
    assert server.contentAtProcess == [(0, b"y" * total)]


def test_processingRequestNotTimedOut() -> None:
    """
    A request the application is still answering is never timed out; once it
    finishes, the idle timeout applies again.
    """
    server = Server(timeout=5)
    respondLater(server)
    server.feed(GET_LATER)
    server.clock.advance(1000)
    assert not server.closed
    assert server.value() == b""
    server.pending[0].write(b"done")
    server.clock.advance(1000)
    assert not server.closed
    server.pending[0].finish()
    assert server.responses()[0].body == b"done"
    server.clock.advance(4)
    assert not server.closed
    server.clock.advance(2)
    assert server.closed


def test_noTimeout() -> None:
    """
    C{timeout=None} keeps an idle connection open forever.
    """
    server = Server(timeout=None)
    server.feed(GET)
    server.clock.advance(100000)
    assert not server.closed


# -- application errors ------------------------------------------------------------


class _Boom(Exception):
    """A failure the application did not expect."""


def test_processRaisingGets500() -> None:
    """
    An exception raised by C{process()} does not escape C{dataReceived}: the
    client gets a 500 without the traceback or exception text, and the error
    is logged.
    """

    def handler(request: http.Request) -> None:
        raise _Boom("secret internal detail")

    events, observer = captureLog()
    try:
        server = Server(handler)
        server.feed(GET + GET_A)
    finally:
        globalLogPublisher.removeObserver(observer)
    [response] = server.responses()
    assert response.status == 500
    assert b"Traceback" not in server.value()
    assert b"secret internal detail" not in server.value()
    assert b"_Boom" not in server.value()
    failures = [e["log_failure"] for e in events if "log_failure" in e]
    assert any(f.check(_Boom) for f in failures)
    assert len(server.processed) == 1


def test_processRaisingAfterWritingNeverLooksComplete() -> None:
    """
    When C{process()} writes part of a response and then raises, the client
    never receives the partial response as if it were whole: either the
    connection is aborted, or (since nothing had been sent yet) a clean 500
    replaces it.  Nothing escapes C{dataReceived}.
    """

    def handler(request: http.Request) -> None:
        request.setHeader(b"content-type", b"text/html")
        request.write(b"<html>partial")
        raise _Boom("oops")

    events, observer = captureLog()
    try:
        server = Server(handler)
        server.feed(GET + GET_A)
    finally:
        globalLogPublisher.removeObserver(observer)
    assert server.closed
    assert len(server.processed) == 1
    if server.transport.disconnected:
        # Aborted: whatever was sent must not parse as a complete 200.
        try:
            responses = parseResponses(server.value())
        except ValueError:
            responses = []
        assert all(r.status != 200 for r in responses)
    else:
        [response] = server.responses()
        assert response.status == 500
        assert b"partial" not in server.value()
    assert any("log_failure" in e for e in events)


def test_processRaisingAfterFinishKeepsResponse() -> None:
    """
    An exception raised by C{process()} after it finished the response does
    not escape C{dataReceived}, and the finished response is delivered as is.
    """

    def handler(request: http.Request) -> None:
        request.write(b"done")
        request.finish()
        raise _Boom("after the fact")

    events, observer = captureLog()
    try:
        server = Server(handler)
        server.feed(GET)
    finally:
        globalLogPublisher.removeObserver(observer)
    [response] = server.responses()
    assert response.status == 200
    assert response.body == b"done"
    assert any(e["log_failure"].check(_Boom) for e in events if "log_failure" in e)


def test_pipelinedProcessRaisingAfterSlowFirst() -> None:
    """
    When finishing a slow first request makes the channel process a pipelined
    second one that raises, the exception does not escape C{finish()}: the
    second request gets a 500.
    """

    def handler(request: http.Request) -> None:
        if request.path == b"/later":
            server.pending.append(request)
            return
        raise _Boom("second fails")

    events, observer = captureLog()
    try:
        server = Server(handler)
        server.feed(GET_LATER + GET_A)
        server.pending[0].finish()
    finally:
        globalLogPublisher.removeObserver(observer)
    assert [r.status for r in server.responses()] == [200, 500]
    assert any(e["log_failure"].check(_Boom) for e in events if "log_failure" in e)


def test_loseConnectionMidResponse() -> None:
    """
    An application that gives up on a streamed response by calling
    C{loseConnection} has the connection closed without a last chunk, so the
    client can tell the response is incomplete.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    request.write(b"partial")
    request.loseConnection()
    assert server.closed
    assert not server.value().endswith(b"0\r\n\r\n")


# -- notifyFinish -----------------------------------------------------------------


def test_notifyFinishFiresOnFinish() -> None:
    """
    The Deferred from C{notifyFinish} fires with C{None} when the response is
    finished.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    results: list[object] = []
    request.notifyFinish().addBoth(results.append)
    assert results == []
    request.finish()
    assert results == [None]


def test_notifyFinishFailsOnConnectionLost() -> None:
    """
    The Deferred from C{notifyFinish} fails when the connection is lost before
    the response is finished.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    results: list[object] = []
    request.notifyFinish().addBoth(results.append)
    server.channel.connectionLost(Failure(ConnectionDone()))
    [failure] = results
    assert isinstance(failure, Failure)


def test_finishAfterConnectionLostRaises() -> None:
    """
    Calling C{finish} on a request whose connection was lost raises
    C{RuntimeError}.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    server.channel.connectionLost(Failure(ConnectionDone()))
    with pytest.raises(RuntimeError):
        request.finish()


def test_writeAfterConnectionLostIgnored() -> None:
    """
    Writing to a request whose connection was lost does not raise and sends
    nothing.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    server.channel.connectionLost(Failure(ConnectionDone()))
    request.write(b"lost")
    assert b"lost" not in server.value()


def test_writeAfterFinishRaises() -> None:
    """
    Writing to a finished request raises C{RuntimeError}.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    request.finish()
    with pytest.raises(RuntimeError):
        request.write(b"too late")


def test_notifyFinishAfterFinish() -> None:
    """
    C{notifyFinish} on an already finished request returns a fired Deferred.
    """
    server = Server()
    server.feed(GET)
    [request] = server.processed
    results: list[object] = []
    request.notifyFinish().addBoth(results.append)
    assert results == [None]


# -- producers ------------------------------------------------------------------


@implementer(IPushProducer)
class _PushProducer:
    """A push producer recording what it was asked to do."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def pauseProducing(self) -> None:
        self.events.append("pause")

    def resumeProducing(self) -> None:
        self.events.append("resume")

    def stopProducing(self) -> None:
        self.events.append("stop")


def test_channelIsTransportProducer() -> None:
    """
    The channel registers itself with the transport as a streaming producer,
    so that the transport's back-pressure reaches it.
    """
    server = Server()
    assert server.transport.producer is server.channel
    assert server.transport.streaming


def test_pushProducerPausedAndResumed() -> None:
    """
    A streaming producer registered on a request is paused when the transport
    pauses the channel and resumed when it resumes it.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    producer = _PushProducer()
    request.registerProducer(producer, True)
    server.channel.pauseProducing()
    assert producer.events == ["pause"]
    server.channel.resumeProducing()
    assert producer.events == ["pause", "resume"]
    request.write(b"data")
    request.unregisterProducer()
    request.finish()
    server.channel.pauseProducing()
    assert producer.events == ["pause", "resume"]
    assert server.responses()[0].body == b"data"


def test_unreadResponsesStopReading() -> None:
    """
    A client that pipelines requests but never reads the responses cannot
    make the server queue responses without bound (Twisted ticket 8868): once
    the transport says its send buffer is full (pauses the channel), the
    channel stops reading the client's input, or at least stops answering
    further requests, until the transport resumes it; then every request is
    answered.
    """
    server = Server()
    server.feed(GET_A)
    server.channel.pauseProducing()
    readingPaused = server.transport.producerState == "paused"
    server.feed(GET_B * 50)
    if not readingPaused:
        assert len(server.processed) == 1
    server.channel.resumeProducing()
    assert server.transport.producerState == "producing"
    assert len(server.responses()) == 51


def test_pushProducerRegisteredWhilePausedIsPaused() -> None:
    """
    A streaming producer registered while the transport is full is paused at
    once.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    server.channel.pauseProducing()
    producer = _PushProducer()
    server.pending[0].registerProducer(producer, True)
    assert producer.events == ["pause"]


def test_pushProducerStoppedOnConnectionLost() -> None:
    """
    A streaming producer is stopped when the connection is lost.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    producer = _PushProducer()
    server.pending[0].registerProducer(producer, True)
    server.channel.connectionLost(Failure(ConnectionDone()))
    assert "stop" in producer.events


def test_secondProducerRejected() -> None:
    """
    Registering a second producer before unregistering the first is an error.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER)
    [request] = server.pending
    request.registerProducer(_PushProducer(), True)
    with pytest.raises((RuntimeError, ValueError)):
        request.registerProducer(_PushProducer(), True)


@implementer(IPullProducer)
class _PullProducer:
    """A pull producer writing C{pieces} then finishing the request."""

    def __init__(self, request: http.Request, pieces: list[bytes]) -> None:
        self.request = request
        self.pieces = list(pieces)
        self.calls = 0
        self.stopped = False

    def resumeProducing(self) -> None:
        self.calls += 1
        if self.pieces:
            self.request.write(self.pieces.pop(0))
            return
        self.request.unregisterProducer()
        self.request.finish()

    def stopProducing(self) -> None:
        self.stopped = True


def test_pullProducerDrivenUntilDone(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    A pull producer registered on a request is asked for more until it
    unregisters, and everything it wrote makes up the response.

    Twisted drives pull producers with the global cooperator; here it is
    replaced by one that runs one step per turn of the test clock.
    """
    server = Server()
    respondLater(server)
    cooperator = Cooperator(
        scheduler=lambda step: server.clock.callLater(0, step),
        terminationPredicateFactory=lambda: lambda: True,
    )
    monkeypatch.setattr(_producer_helpers, "cooperate", cooperator.cooperate)
    server.feed(GET_LATER)
    [request] = server.pending
    producer = _PullProducer(request, [b"one ", b"two ", b"three"])
    request.registerProducer(producer, False)
    for _ in range(20):
        server.clock.advance(0)
        if request.finished:
            break
    assert request.finished
    assert producer.calls == 4
    [response] = server.responses()
    assert response.body == b"one two three"
    server.clock.advance(0)
    assert producer.calls == 4


# -- the client leaving -------------------------------------------------------------


def test_clientLeavingAbandonsPendingResponse() -> None:
    """
    When the client's input ends while its response is pending (the client
    closed, or half-closed: the server cannot tell), the request is abandoned
    as in twisted.web: its notifyFinish fails and finishing it raises.
    """
    server = Server()
    respondLater(server)
    server.feed(GET_LATER + GET_A)
    request = server.pending[0]
    failures: list[Failure] = []
    request.notifyFinish().addErrback(failures.append)
    server.channel.connectionLost(Failure(ConnectionDone()))
    assert len(failures) == 1
    with pytest.raises(RuntimeError):
        request.finish()
    assert server.responses() == []
    assert len(server.processed) == 1


def test_clientLeavingIdleConnection() -> None:
    """
    A client that leaves an idle connection leaves no timer behind.
    """
    server = Server()
    server.feed(GET)
    server.channel.connectionLost(Failure(ConnectionDone()))
    assert len(server.responses()) == 1
    assert not any(
        call.func == server.channel._timerFired
        for call in server.clock.getDelayedCalls()
    )
