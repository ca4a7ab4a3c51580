"""
End-to-end tests of the protocol level: a real C{twisted_web_re} server (the
echo server of C{tests/e2e/_servers.py}, in its own process) spoken to over
loopback sockets by real clients: C{http.client}, raw sockets and C{curl}.

Only 127.0.0.1 is ever a target; every socket has a timeout, every loop a
bound, and the server is killed when the module's tests end.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _servers
import pytest

#: Seconds one exchange may take.
TIMEOUT = 5.0
#: The body limit the server is started with: large enough for the 1 MiB
#: upload, small enough to be exceeded cheaply.
MAX_BODY = 2 * 1024 * 1024
#: The server's idle (keep-alive) timeout and request-head timeout, in seconds:
#: longer than any pause between two requests of one test, short enough to wait
#: out.
IDLE_TIMEOUT = 2.0
HEAD_TIMEOUT = 1.0
#: Request bodies sent under this path are refused (403) by the factory's
#: refuseBody hook.
REFUSED = "/private/"
CURL = "/usr/bin/curl" if Path("/usr/bin/curl").exists() else shutil.which("curl")

needsCurl = pytest.mark.skipif(CURL is None, reason="curl is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_servers.Server]:
    """An echo server built with twisted_web_re, with small limits."""
    server = _servers.startServer(
        tmp_path_factory.mktemp("e2e"),
        "--impl",
        "twisted_web_re",
        "--max-body-size",
        str(MAX_BODY),
        "--refuse-prefix",
        REFUSED,
        "--timeout",
        str(IDLE_TIMEOUT),
        "--head-timeout",
        str(HEAD_TIMEOUT),
    )
    try:
        yield server
    finally:
        _servers.stopServer(server)


@pytest.fixture
def port(server: _servers.Server) -> int:
    """The echo server's port on 127.0.0.1."""
    assert server.process.poll() is None, server.log()
    return server.port


@pytest.fixture
def connection(port: int) -> Iterator[http.client.HTTPConnection]:
    """An C{http.client} connection to the echo server."""
    conn = http.client.HTTPConnection(_servers.LOOPBACK, port, timeout=TIMEOUT)
    try:
        yield conn
    finally:
        conn.close()


def _echo(response: http.client.HTTPResponse) -> dict[str, Any]:
    """Read an echo response and return what the server saw."""
    assert response.status == 200
    assert response.getheader("Content-Type") == "application/json"
    result: dict[str, Any] = json.loads(response.read())
    return result


def _header(echo: dict[str, Any], name: str) -> list[str]:
    """The values of request header C{name} the server saw."""
    return [value for key, value in echo["headers"] if key == name]


def _exchange(
    port: int,
    data: bytes,
    count: int | None = None,
    idle: float = 0.5,
    methods: list[bytes] | None = None,
) -> _servers.Exchange:
    """
    Send C{data} on a fresh raw socket and read the answers.

    @param methods: the methods of the requests in C{data}, when the request
        lines cannot be found by looking at the start of lines.
    """
    if methods is None:
        methods = _servers.requestMethods(data)
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
        s.sendall(data)
        return _servers.readResponses(
            s, methods, deadline=TIMEOUT, idle=idle, count=count
        )


def _assertErrorThenClose(exchange: _servers.Exchange, status: int) -> None:
    """
    The server answered with one well-formed error response of C{status}, then
    closed the connection.
    """
    assert [r.status for r in exchange.responses] == [status], exchange.raw[:300]
    response = exchange.responses[0]
    assert response.header(b"connection") == b"close"
    assert response.header(b"content-length") == b"%d" % len(response.body)
    assert response.body.startswith(b"%d " % status)
    assert exchange.end == "closed"


# -- http.client -----------------------------------------------------------------


def test_keepAliveAcrossRequests(connection: http.client.HTTPConnection) -> None:
    """
    Several requests made one after another by http.client travel on one
    connection, each answered in full.
    """
    sockets = set()
    for i in range(5):
        connection.request("GET", f"/k/{i}?n={i}")
        echo = _echo(connection.getresponse())
        assert (echo["path"], echo["uri"]) == (f"/k/{i}", f"/k/{i}?n={i}")
        assert echo["version"] == "HTTP/1.1"
        sockets.add(id(connection.sock))
    assert len(sockets) == 1


def test_postWithContentLength(connection: http.client.HTTPConnection) -> None:
    """
    A POST body framed by Content-Length reaches the request's content whole.
    """
    body = b"name=value&other=\x00\xff" * 100
    connection.request("POST", "/form", body=body)
    echo = _echo(connection.getresponse())
    assert echo["method"] == "POST"
    assert echo["body"].encode("latin-1") == body
    assert _header(echo, "content-length") == [str(len(body))]


def test_postChunked(connection: http.client.HTTPConnection) -> None:
    """
    A chunked POST body (http.client's encode_chunked) is reassembled.
    """
    pieces = [b"first ", b"second ", b"", b"third" * 1000]
    connection.request(
        "POST",
        "/chunked",
        body=iter(pieces),
        headers={"Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    echo = _echo(connection.getresponse())
    assert echo["body"].encode("latin-1") == b"".join(pieces)
    assert _header(echo, "transfer-encoding") == ["chunked"]
    # The connection is still good for another request.
    connection.request("GET", "/after")
    assert _echo(connection.getresponse())["path"] == "/after"


def test_head(connection: http.client.HTTPConnection) -> None:
    """
    HEAD gets GET's headers, Content-Length included, and no body; the
    connection stays usable.
    """
    connection.request("GET", "/same")
    get = connection.getresponse()
    getLength = len(get.read())
    connection.request("HEAD", "/same")
    head = connection.getresponse()
    assert head.status == 200
    assert head.read() == b""
    # The echo names the method, which makes the HEAD body one byte longer.
    assert head.getheader("Content-Length") == str(getLength + 1)
    connection.request("GET", "/next")
    assert _echo(connection.getresponse())["path"] == "/next"


def test_streamingChunked(connection: http.client.HTTPConnection) -> None:
    """
    A response written in pieces without a Content-Length is sent chunked to
    an HTTP/1.1 client, and the connection stays open after it.
    """
    connection.request("GET", "/stream?n=5&delay=5")
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.read() == b"".join(b"piece %d\n" % i for i in range(5))
    connection.request("GET", "/again")
    assert _echo(connection.getresponse())["path"] == "/again"


def test_slowResponse(connection: http.client.HTTPConnection) -> None:
    """
    A response finished later from a reactor.callLater arrives when finished.
    """
    started = time.monotonic()
    connection.request("GET", "/slow?ms=300")
    echo = _echo(connection.getresponse())
    assert time.monotonic() - started >= 0.25
    assert echo["path"] == "/slow"


# -- raw sockets -------------------------------------------------------------------


def test_http10(port: int) -> None:
    """
    An HTTP/1.0 request without keep-alive is answered (status line HTTP/1.1,
    Connection: close) and the connection closed.
    """
    exchange = _exchange(port, b"GET /old HTTP/1.0\r\n\r\n")
    assert exchange.end == "closed"
    (response,) = exchange.responses
    assert response.statusLine == b"HTTP/1.1 200 OK"
    assert response.header(b"connection") == b"close"
    assert json.loads(response.body)["version"] == "HTTP/1.0"


def test_http10KeepAlive(port: int) -> None:
    """
    HTTP/1.0 requests with Connection: keep-alive share one connection.
    """
    request = b"GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    exchange = _exchange(port, request * 3)
    assert [r.status for r in exchange.responses] == [200, 200, 200]
    assert all(r.header(b"connection") == b"keep-alive" for r in exchange.responses)
    assert exchange.end == "open"


@pytest.mark.parametrize("keepAlive", [False, True], ids=["close", "keep-alive"])
def test_http10Streaming(port: int, keepAlive: bool) -> None:
    """
    A streamed response to HTTP/1.0 is delimited by closing the connection,
    even when the client asked for keep-alive.
    """
    fields = b"Connection: keep-alive\r\n" if keepAlive else b""
    exchange = _exchange(port, b"GET /stream?n=3 HTTP/1.0\r\n%s\r\n" % fields)
    (response,) = exchange.responses
    assert response.header(b"transfer-encoding") is None
    assert response.header(b"connection") == b"close"
    assert response.body == b"piece 0\npiece 1\npiece 2\n"
    assert exchange.end == "closed"


def test_pipelining(port: int) -> None:
    """
    Ten requests sent in one write are answered in order, each in full,
    whatever their methods and bodies.
    """
    requests = []
    for i in range(10):
        if i % 3 == 1:
            body = b"body %d" % i
            requests.append(
                b"POST /%d HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s"
                % (i, len(body), body)
            )
        elif i % 3 == 2:
            requests.append(b"HEAD /%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
        elif i == 3:
            requests.append(b"GET /slow?ms=100&i=3 HTTP/1.1\r\nHost: t\r\n\r\n")
        else:
            requests.append(b"GET /%d HTTP/1.1\r\nHost: t\r\n\r\n" % i)
    methods = [request.split(b" ", 1)[0] for request in requests]
    exchange = _exchange(port, b"".join(requests), count=10, methods=methods)
    assert len(exchange.responses) == 10, exchange.end
    for i, response in enumerate(exchange.responses):
        assert response.status == 200
        if i % 3 == 2:
            assert response.body == b""
            continue
        echo = json.loads(response.body)
        assert echo["uri"] == ("/slow?ms=100&i=3" if i == 3 else f"/{i}")
        if i % 3 == 1:
            assert echo["body"] == f"body {i}"


def test_pipeliningBurst(port: int) -> None:
    """
    A thousand pipelined requests, more than the channel buffers before it
    stops reading, are all answered in order while the client is still
    sending (back-pressure, not a deadlock or a dropped request).
    """
    count = 1000
    requests = [b"GET /burst/%d HTTP/1.1\r\nHost: t\r\n\r\n" % i for i in range(count)]
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
        sender = threading.Thread(target=s.sendall, args=(b"".join(requests),))
        sender.start()
        try:
            exchange = _servers.readResponses(s, deadline=TIMEOUT * 2, count=count)
        finally:
            sender.join(TIMEOUT * 2)
    assert len(exchange.responses) == count, exchange.end
    paths = [json.loads(r.body)["path"] for r in exchange.responses]
    assert paths == [f"/burst/{i}" for i in range(count)]


def test_halfCloseIsLeaving(port: int) -> None:
    """
    A client that shuts down its sending half is taken to have left, as
    twisted.web takes it: a slow response still pending is abandoned and the
    connection closed, and the server goes on serving.
    """
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /slow?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n")
        s.shutdown(socket.SHUT_WR)
        exchange = _servers.readResponses(s, deadline=TIMEOUT)
    assert exchange.responses == []
    assert exchange.end == "closed"
    after = _exchange(port, b"GET /alive HTTP/1.1\r\nHost: t\r\n\r\n", count=1)
    assert [r.status for r in after.responses] == [200]


def test_clientGoesAway(port: int) -> None:
    """
    A client that closes while its slow or streamed response is pending does
    not disturb the server (see also L{test_noTracebacks}).
    """
    for target in (b"/slow?ms=200", b"/stream?n=20&delay=20"):
        with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
            s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % target)
            if target.startswith(b"/stream"):
                s.recv(10)
    time.sleep(0.5)
    exchange = _exchange(port, b"GET /after HTTP/1.1\r\nHost: t\r\n\r\n", count=1)
    assert [r.status for r in exchange.responses] == [200]


def test_idleTimeout(port: int) -> None:
    """
    A keep-alive connection left idle after a response is closed by the
    server once its idle timeout has passed, without a response.
    """
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /idle HTTP/1.1\r\nHost: t\r\n\r\n")
        assert len(_servers.readResponses(s, deadline=TIMEOUT, count=1).responses) == 1
        started = time.monotonic()
        exchange = _servers.readResponses(s, deadline=IDLE_TIMEOUT + TIMEOUT)
        elapsed = time.monotonic() - started
    assert (exchange.responses, exchange.end) == ([], "closed")
    assert IDLE_TIMEOUT - 0.5 <= elapsed <= IDLE_TIMEOUT + 2.0


def test_headTimeout(port: int) -> None:
    """
    A request head that stops arriving earns 408 Request Timeout once the
    head timeout has passed.
    """
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /slowloris HTTP/1.1\r\nHost: t\r\nX-Partial: ")
        started = time.monotonic()
        exchange = _servers.readResponses(s, deadline=HEAD_TIMEOUT + TIMEOUT)
        elapsed = time.monotonic() - started
    _assertErrorThenClose(exchange, 408)
    assert HEAD_TIMEOUT - 0.5 <= elapsed <= HEAD_TIMEOUT + 2.0


_SMUGGLING = {
    "cl-te": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te-cl": b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Length: 5\r\n\r\n0\r\n\r\n",
    "duplicate-cl": b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
    b"Content-Length: 5\r\n\r\nabcde",
    "bad-chunk": b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhelloXX\r\n0\r\n\r\n",
    "bad-chunk-size": b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked"
    b"\r\n\r\n-1\r\nhello\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(_SMUGGLING))
def test_smugglingRejected(port: int, case: str) -> None:
    """
    A request whose body two parties could frame two ways gets a complete 400
    response, and the connection is closed after it (nothing smuggled in the
    body is answered).
    """
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
    _assertErrorThenClose(_exchange(port, _SMUGGLING[case] + smuggled), 400)


def test_bareLineFeeds(port: int) -> None:
    """
    A head whose lines end in bare LF is answered promptly, not left waiting
    for a CRLF.
    """
    started = time.monotonic()
    exchange = _exchange(port, b"GET /lf HTTP/1.1\nHost: t\n\n", count=1)
    assert time.monotonic() - started < 2.0
    assert [r.status for r in exchange.responses] == [200]
    assert json.loads(exchange.responses[0].body)["path"] == "/lf"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", id="tls"),
        pytest.param(b"GET /\r\n", id="http09"),
    ],
)
def test_notHTTPAnsweredAtOnce(port: int, data: bytes) -> None:
    """
    Bytes that can no longer become an HTTP/1.x request (a TLS handshake on
    the plain port, an HTTP/0.9 request, which is one line long) earn 400 at
    once, not a wait for the rest of a head that will never come.
    """
    started = time.monotonic()
    _assertErrorThenClose(_exchange(port, data), 400)
    assert time.monotonic() - started < HEAD_TIMEOUT


@pytest.mark.parametrize("length", [9000, 16000, 20000])
def test_longRequestLine(port: int, length: int) -> None:
    """
    A request line over the 8 KiB limit earns 414 URI Too Long, however long
    it is, with the rest of the head in the same write.
    """
    request = b"GET /" + b"a" * length + b" HTTP/1.1\r\nHost: t\r\n\r\n"
    _assertErrorThenClose(_exchange(port, request), 414)


def test_longRequestLineInPieces(port: int) -> None:
    """
    A request line over the limit earns 414 also when it arrives before the
    rest of its head.
    """
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /" + b"a" * 20000)
        exchange = _servers.readResponses(s, deadline=TIMEOUT)
    _assertErrorThenClose(exchange, 414)


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param([b"X-H%d: %s" % (i, b"v" * 1000) for i in range(20)], id="size"),
        pytest.param([b"X-H%d: v" % i for i in range(150)], id="count"),
    ],
)
def test_hugeHeaderBlock(port: int, fields: list[bytes]) -> None:
    """
    A head over 16 KiB, or with over 100 fields, earns 431.
    """
    request = b"GET / HTTP/1.1\r\nHost: t\r\n" + b"\r\n".join(fields) + b"\r\n\r\n"
    _assertErrorThenClose(_exchange(port, request), 431)


def test_expectContinue(port: int) -> None:
    """
    A client that sends Expect: 100-continue gets 100 Continue after its head
    alone, then the final response once it sends the body.
    """
    body = b"x" * 1000
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
        s.sendall(
            b"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
            b"Expect: 100-continue\r\n\r\n" % len(body)
        )
        continued = b""
        deadline = time.monotonic() + TIMEOUT
        while not continued.endswith(b"\r\n\r\n") and len(continued) < 100:
            s.settimeout(max(deadline - time.monotonic(), 0.01))
            piece = s.recv(1)
            assert piece, "closed before 100 Continue"
            continued += piece
        assert continued == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        exchange = _servers.readResponses(s, [b"POST"], deadline=TIMEOUT, count=1)
    (response,) = exchange.responses
    assert response.status == 200
    assert json.loads(response.body)["bodyLength"] == len(body)


@pytest.mark.parametrize("expect", [False, True], ids=["plain", "expect-continue"])
def test_bodyTooLarge(port: int, expect: bool) -> None:
    """
    A declared Content-Length over the server's maxBodySize earns 413 from the
    head alone, before any of the body is sent (and no 100 Continue).
    """
    head = b"POST /big HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n" % (MAX_BODY + 1)
    if expect:
        head += b"Expect: 100-continue\r\n"
    _assertErrorThenClose(_exchange(port, head + b"\r\n"), 413)


def test_chunkedBodyTooLarge(port: int) -> None:
    """
    A chunked body announcing a chunk that would take it over maxBodySize
    earns 413 before the chunk's data is sent.
    """
    request = (
        b"POST /big HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"%x\r\n" % (MAX_BODY + 1)
    )
    _assertErrorThenClose(_exchange(port, request), 413)


@pytest.mark.parametrize("expect", [False, True], ids=["plain", "expect-continue"])
def test_refuseBody(port: int, expect: bool) -> None:
    """
    The factory's refuseBody hook, deciding by the request's path, refuses a
    body from its head alone: the client gets the hook's status (and no
    100 Continue) before sending any of the body.
    """
    head = b"POST %sfile HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n" % (
        REFUSED.encode("ascii")
    )
    if expect:
        head += b"Expect: 100-continue\r\n"
    _assertErrorThenClose(_exchange(port, head + b"\r\n"), 403)


def test_refuseBodyElsewhere(port: int) -> None:
    """
    Bodies sent to other paths, and body-less requests to the refused path,
    are served.
    """
    exchange = _exchange(
        port,
        b"POST /public/file HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nok"
        + b"GET %sfile HTTP/1.1\r\nHost: t\r\n\r\n" % REFUSED.encode("ascii"),
        count=2,
        methods=[b"POST", b"GET"],
    )
    assert [r.status for r in exchange.responses] == [200, 200]


def test_survivesErrors(port: int) -> None:
    """
    After all the malformed requests above, the server still serves.
    """
    exchange = _exchange(port, b"GET /alive HTTP/1.1\r\nHost: t\r\n\r\n", count=1)
    assert [r.status for r in exchange.responses] == [200]


# -- curl --------------------------------------------------------------------------


def _curl(*arguments: str) -> tuple[bytes, dict[str, Any]]:
    """
    Run curl with C{arguments} (and C{-sS -i}), and return the status line and
    the echo in the body.
    """
    assert CURL is not None
    result = subprocess.run(
        [CURL, "-sS", "-i", "--max-time", "15", *arguments],
        capture_output=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    while head.startswith(b"HTTP/1.1 100"):
        head, _, body = body.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], json.loads(body)


@needsCurl
def test_curlGet(port: int) -> None:
    """
    curl's GET is answered 200 with what curl sent.
    """
    statusLine, echo = _curl(f"http://127.0.0.1:{port}/curl?q=1")
    assert statusLine == b"HTTP/1.1 200 OK"
    assert echo["uri"] == "/curl?q=1"
    assert _header(echo, "user-agent")[0].startswith("curl/")


@needsCurl
def test_curlHTTP10(port: int) -> None:
    """
    curl --http1.0 is answered, with an HTTP/1.1 status line.
    """
    statusLine, echo = _curl("--http1.0", f"http://127.0.0.1:{port}/old")
    assert statusLine == b"HTTP/1.1 200 OK"
    assert echo["version"] == "HTTP/1.0"


@needsCurl
def test_curlUpload(port: int, tmp_path: Path) -> None:
    """
    A 1 MiB upload with curl -d @file arrives whole.
    """
    data = (b"abcdefghijklmnopqrstuvwxyz0123456789" * 30000)[: 1024 * 1024]
    upload = tmp_path / "upload.txt"
    upload.write_bytes(data)
    statusLine, echo = _curl("-d", f"@{upload}", f"http://127.0.0.1:{port}/up")
    assert statusLine == b"HTTP/1.1 200 OK"
    assert echo["method"] == "POST"
    assert echo["bodyLength"] == len(data)
    assert echo["bodySha256"] == hashlib.sha256(data).hexdigest()


def test_noTracebacks(server: _servers.Server) -> None:
    """
    Nothing the tests above did made the server log a traceback (this test
    runs last in the module).
    """
    time.sleep(0.2)
    log = server.log()
    assert "Traceback" not in log, log
    assert "Unhandled" not in log, log
