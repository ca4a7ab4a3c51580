"""
End-to-end tests of L{twisted_web_re.wsgi}: the applications of
C{tests/e2e/_wsgiserver.py}, a Flask application among them, served in their
own process with a real reactor and thread pool, spoken to over loopback by
C{http.client} and raw sockets.

Only 127.0.0.1 is ever a target; every socket has a timeout, every wait a
deadline, and the servers are stopped when the tests end.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import _servers
import _wsgiserver
import pytest

pytest.importorskip("flask")

#: Seconds one exchange may take.
TIMEOUT = 5.0


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[_wsgiserver.WSGIServer]:
    """The WSGI server, shared by the module's tests."""
    server = _wsgiserver.startWSGIServer(tmp_path_factory.mktemp("wsgi"))
    try:
        yield server
    finally:
        _servers.stopServer(server)


@pytest.fixture(params=["plain", "streaming"])
def port(request: pytest.FixtureRequest, server: _wsgiserver.WSGIServer) -> int:
    """
    The port of the default site, then of the site that locates resources
    before the body: tests taking it run against both.
    """
    assert server.process.poll() is None, server.log()
    return server.port if request.param == "plain" else server.streamingPort


def fetch(
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    """Make one request on a fresh connection; return the response and body."""
    connection = http.client.HTTPConnection(_servers.LOOPBACK, port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def stats(port: int) -> dict[str, int]:
    """The server's counters."""
    result: dict[str, int] = json.loads(fetch(port, "/stats")[1])
    return result


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes]]
) -> tuple[str, bytes]:
    """A multipart/form-data body, and its Content-Type."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, data) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n'
            f"\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def connect(port: int) -> socket.socket:
    """A raw socket connected to the server."""
    return socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT)


def receiveUntil(sock: socket.socket, marker: bytes, received: bytes = b"") -> bytes:
    """Read from C{sock} until C{marker} arrives; return everything read."""
    deadline = time.monotonic() + TIMEOUT
    while marker not in received:
        left = deadline - time.monotonic()
        assert left > 0, f"{marker!r} never came; got {received!r}"
        sock.settimeout(left)
        piece = sock.recv(65536)
        assert piece, f"connection closed before {marker!r}; got {received!r}"
        received += piece
    return received


# -- environ and errors ------------------------------------------------------------


def test_environ(port: int) -> None:
    """
    Over a real connection the environ names the client, the server's port,
    the mount point and the rest of the path, and carries the body.
    """
    response, body = fetch(
        port,
        "/environ/x/y%20z?q=1",
        "POST",
        b"payload",
        {"Content-Type": "text/plain", "X-Test": "yes"},
    )
    assert response.status == 200
    environ = json.loads(body)
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["SERVER_PORT"] == str(port)
    assert environ["SCRIPT_NAME"] == "/environ"
    assert environ["PATH_INFO"] == "/x/y z"
    assert environ["QUERY_STRING"] == "q=1"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "7"
    assert environ["HTTP_X_TEST"] == "yes"
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["body"] == "payload"


def test_applicationError(port: int) -> None:
    """An application that raises gets a 500 page without the traceback."""
    response, body = fetch(port, "/boom")
    assert response.status == 500
    assert b"boom in the application" not in body


def test_applicationErrorMidBody(port: int) -> None:
    """
    An application whose iterable raises after part of the body was sent
    has its response cut: the client's HTTP library sees an incomplete body
    or a reset, never a complete one.
    """
    connection = http.client.HTTPConnection(_servers.LOOPBACK, port, timeout=TIMEOUT)
    try:
        connection.request("GET", "/midway")
        response = connection.getresponse()
        assert response.status == 200
        with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
            response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("chunked", [False, True])
def test_validator(port: int, chunked: bool) -> None:
    """
    wsgiref's validator, with its warnings made errors, passes requests with
    a body (by Content-Length or chunked) and without.
    """
    payload = b"line one\nline two\n\nlast"
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as sock:
        if chunked:
            body = b"".join(
                b"%x\r\n%s\r\n" % (len(payload[i : i + 4]), payload[i : i + 4])
                for i in range(0, len(payload), 4)
            )
            sock.sendall(
                b"POST /validated HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
                b"\r\n\r\n" + body + b"0\r\n\r\n"
            )
        else:
            sock.sendall(
                b"POST /validated HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                % len(payload)
                + payload
            )
        sock.sendall(b"GET /validated HTTP/1.1\r\nHost: x\r\n\r\n")
        exchange = _servers.readResponses(sock, [b"POST", b"GET"], count=2)
    post, get = exchange.responses
    assert post.status == 200
    assert post.body == b"line one\nline two\n|\n|last"
    assert get.status == 200


# -- streaming the request body ------------------------------------------------------


def test_bodyReadAsItArrives(server: _wsgiserver.WSGIServer) -> None:
    """
    On the site that locates resources before the body, the application
    reads the first part of the body, and answers with it, before the client
    has sent the rest.
    """
    with connect(server.streamingPort) as sock:
        sock.sendall(
            b"POST /progress HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"
        )
        received = receiveUntil(sock, b"[hello]")
        assert b"[world]" not in received
        sock.sendall(b"world")
        received = receiveUntil(sock, b"0\r\n\r\n", received)
    assert re.search(rb"\[hello\].*\[world\]", received, re.DOTALL)


def test_chunkedBodyReadAsItArrives(server: _wsgiserver.WSGIServer) -> None:
    """The same holds for a chunked body, sent in two pieces."""
    with connect(server.streamingPort) as sock:
        sock.sendall(
            b"POST /progress HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"\r\n5\r\nfirst\r\n"
        )
        received = receiveUntil(sock, b"[first]")
        sock.sendall(b"6\r\nsecond\r\n0\r\n\r\n")
        received = receiveUntil(sock, b"0\r\n\r\n", received)
    assert b"[secon]" in received and b"[d]" in received


def test_bodyWaitsOnDefaultSite(server: _wsgiserver.WSGIServer) -> None:
    """
    On the default site, the application starts only once the whole body has
    arrived, and reads it complete.
    """
    with connect(server.port) as sock:
        sock.sendall(
            b"POST /progress HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello"
        )
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(100)
        sock.sendall(b"world")
        received = receiveUntil(sock, b"[world]")
    assert b"[hello]" in received


# -- responses ---------------------------------------------------------------------


def test_smallWritesThroughput(server: _wsgiserver.WSGIServer) -> None:
    """
    A 1 MiB response written in 4 KiB pieces is not much slower than one
    written in a single piece: the pieces are batched on their way to the
    reactor thread.
    """
    connection = http.client.HTTPConnection(
        _servers.LOOPBACK, server.port, timeout=TIMEOUT
    )

    def timed(piece: int) -> float:
        start = time.perf_counter()
        for _ in range(10):
            connection.request("GET", f"/big?size=1048576&piece={piece}")
            response = connection.getresponse()
            assert len(response.read()) == 1048576
        return time.perf_counter() - start

    try:
        timed(4096)
        small = min(timed(4096) for _ in range(3))
        whole = min(timed(1048576) for _ in range(3))
    finally:
        connection.close()
    print(f"1 MiB x10: 4 KiB pieces {small:.3f}s, one piece {whole:.3f}s")
    assert small < 3 * whole + 0.3


def test_fileWrapper(port: int) -> None:
    """A wsgi.file_wrapper response sends the whole file, with its length."""
    response, body = fetch(port, "/file")
    assert response.status == 200
    assert response.getheader("Content-Length") == str(_wsgiserver.FILE_SIZE)
    assert body == _wsgiserver.fileContent()


def test_backPressureAndDisconnect(server: _wsgiserver.WSGIServer) -> None:
    """
    A client that stops reading an endless response stops the application
    (it is not run ahead into memory); when the client goes away, the
    iterable is closed.
    """
    before = stats(server.port)
    sock = connect(server.port)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(b"GET /infinite HTTP/1.1\r\nHost: x\r\n\r\n")
        receiveUntil(sock, b"iiii")
        time.sleep(0.5)
        first = stats(server.port)["infiniteBytes"]
        time.sleep(0.5)
        second = stats(server.port)["infiniteBytes"]
        assert second == first
        # What the sockets' buffers and the server's high-water mark hold.
        assert first - before["infiniteBytes"] < 64 * 1024 * 1024
    finally:
        sock.close()
    deadline = time.monotonic() + TIMEOUT
    while stats(server.port)["infiniteClosed"] == before["infiniteClosed"]:
        assert time.monotonic() < deadline, "the iterable was not closed"
        time.sleep(0.05)


# -- Flask ----------------------------------------------------------------------


def test_flaskRouting(port: int) -> None:
    """
    A Flask application mounted at /flask routes by PATH_INFO, builds URLs
    with SCRIPT_NAME, and answers 404 for what it does not know.
    """
    response, body = fetch(port, "/flask/")
    assert (response.status, body) == (200, b"flask index")
    response, body = fetch(port, "/flask/hello/ada")
    assert (response.status, body) == (200, b"hello ada at /flask/hello/ada")
    response, _ = fetch(port, "/flask/nowhere")
    assert response.status == 404


def test_flaskForm(port: int) -> None:
    """A Flask form POST (urlencoded) reaches request.form."""
    response, body = fetch(
        port,
        "/flask/form",
        "POST",
        b"field=caf%C3%A9&multi=1&multi=2",
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200
    assert body.decode() == "field=café multi=1,2"


def test_flaskUpload(port: int) -> None:
    """A multipart file upload (2 MiB) reaches Flask's request.files whole."""
    data = os.urandom(2 * 1024 * 1024)
    contentType, body = multipart({"note": "hi"}, {"file": ("data.bin", data)})
    response, answer = fetch(
        port, "/flask/upload", "POST", body, {"Content-Type": contentType}
    )
    assert response.status == 200, answer
    assert json.loads(answer) == {
        "name": "data.bin",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "note": "hi",
    }


def test_flaskChunkedJSON(server: _wsgiserver.WSGIServer) -> None:
    """
    A chunked JSON body reaches Flask on both sites (wsgi.input_terminated,
    or the length of a body received whole).
    """
    for port in (server.port, server.streamingPort):
        with connect(port) as sock:
            sock.sendall(
                b"POST /flask/json HTTP/1.1\r\nHost: x\r\nContent-Type: "
                b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                b'4\r\n{"a"\r\n4\r\n: 1}\r\n0\r\n\r\n'
            )
            exchange = _servers.readResponses(sock, [b"POST"], count=1)
        [response] = exchange.responses
        assert response.status == 200
        assert json.loads(response.body) == {"received": {"a": 1}}


def test_flaskStreaming(port: int) -> None:
    """A Flask response made by a generator is streamed, chunked."""
    response, body = fetch(port, "/flask/stream")
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert body == b"".join(b"part %d\n" % i for i in range(5))


# -- shutdown ----------------------------------------------------------------------


def test_shutdown(tmp_path: Path) -> None:
    """
    On SIGTERM, a response being produced is finished whole, and a worker
    waiting on a client that does not read is released after the grace
    period; the thread pool stops, and no thread is left behind.
    """
    server = _wsgiserver.startWSGIServer(tmp_path)
    stuck = connect(server.port)
    slow = connect(server.port)
    try:
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        stuck.sendall(b"GET /infinite HTTP/1.1\r\nHost: x\r\n\r\n")
        receiveUntil(stuck, b"iiii")
        slow.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        received = receiveUntil(slow, b"slow 0")
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        received = receiveUntil(slow, b"0\r\n\r\n", received)
        assert b"slow 4" in received
        server.process.wait(timeout=10)
        assert time.monotonic() - started >= _wsgiserver.SHUTDOWN_GRACE * 0.9
        assert "THREADS 1" in server.log()
    finally:
        stuck.close()
        slow.close()
        _servers.stopServer(server)
