"""
End-to-end tests of object publishing: a real L{twisted_web_re.server.Site}
(the one of C{tests/e2e/_siteserver.py}, in its own process) spoken to over
loopback by C{http.client} and raw sockets.

Only 127.0.0.1 is ever a target; every socket has a timeout, every wait a
deadline, and the server is killed when the module's tests end.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import _servers
import _siteserver
import pytest

#: Seconds one exchange may take.
TIMEOUT = 5.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_servers.Server]:
    """The site server, shared by the module's tests."""
    server = _siteserver.startSiteServer(tmp_path_factory.mktemp("site"))
    try:
        yield server
    finally:
        _servers.stopServer(server)


@pytest.fixture
def port(server: _servers.Server) -> int:
    """The site server's port on 127.0.0.1, checked alive."""
    assert server.process.poll() is None, server.log()
    return server.port


@pytest.fixture
def connection(port: int) -> Iterator[http.client.HTTPConnection]:
    """An C{http.client} connection to the site server."""
    conn = http.client.HTTPConnection(_servers.LOOPBACK, port, timeout=TIMEOUT)
    try:
        yield conn
    finally:
        conn.close()


def fetch(
    connection: http.client.HTTPConnection,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    """Make one request on C{connection}; return the response and its body."""
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


def fetchNew(port: int, path: str, **kwargs: Any) -> tuple[Any, bytes]:
    """Make one request on a fresh connection."""
    connection = http.client.HTTPConnection(_servers.LOOPBACK, port, timeout=TIMEOUT)
    try:
        return fetch(connection, path, **kwargs)
    finally:
        connection.close()


def stats(port: int) -> dict[str, int]:
    """The server's counters."""
    response, body = fetchNew(port, "/stats")
    assert response.status == 200
    result: dict[str, int] = json.loads(body)
    return result


def waitFor(port: int, condition: Any, deadline: float = TIMEOUT) -> dict[str, int]:
    """Poll the counters until C{condition(counters)} holds, or fail."""
    end = time.monotonic() + deadline
    while True:
        counters = stats(port)
        if condition(counters):
            return counters
        if time.monotonic() > end:
            pytest.fail(f"condition never held; counters: {counters}")
        time.sleep(0.05)


# -- the tree --------------------------------------------------------------------------


def test_resourceTree(connection: http.client.HTTPConnection) -> None:
    """
    The resource tree answers every URL as the resources say, on one
    keep-alive connection: the root, a directory redirecting to its slash,
    children put with C{putChild}, the empty segment after a slash, and 404
    for the rest.
    """
    expected = [
        ("/", 200, b"root"),
        ("/tree/", 200, b"tree"),
        ("/tree/fred", 200, b"Hello, world! I am located at [b'tree', b'fred']."),
        ("/tree/bob/", 200, b"Hello, world! I am located at [b'tree', b'bob', b'']."),
        ("/tree/alice", 404, None),
        ("/nothing/here", 404, None),
    ]
    sockets = set()
    for path, status, body in expected:
        response, received = fetch(connection, path)
        sockets.add(id(connection.sock))
        assert response.status == status, path
        if body is not None:
            assert received == body, path
        assert response.getheader("Content-Length") == str(len(received))
    assert len(sockets) == 1


def test_directoryRedirect(connection: http.client.HTTPConnection) -> None:
    """
    A directory asked for without its slash is redirected (301) to the URL
    with it, query kept.
    """
    response, _ = fetch(connection, "/tree?x=1")
    assert response.status == 301
    assert response.getheader("Location") == "/tree/?x=1"


def test_processingFailedPage(connection: http.client.HTTPConnection) -> None:
    """
    A render that raises gives a 500 page that hides the error, and the
    connection goes on serving.
    """
    response, body = fetch(connection, "/boom")
    assert response.status == 500
    assert b"secret" not in body
    assert b"Traceback" not in body
    response, body = fetch(connection, "/")
    assert (response.status, body) == (200, b"root")


def test_methodNotAllowed(connection: http.client.HTTPConnection) -> None:
    """
    A method the resource lacks is answered 405 with C{Allow}.
    """
    response, _ = fetch(connection, "/tree/fred", method="DELETE")
    assert response.status == 405
    assert response.getheader("Allow") == "GET, HEAD"


# -- forms -----------------------------------------------------------------------------


def test_postUrlencodedForm(connection: http.client.HTTPConnection) -> None:
    """
    A POSTed urlencoded form's fields are in C{request.args}; the page echoes
    the field escaped.
    """
    response, body = fetch(
        connection,
        "/form",
        method="POST",
        body=b"field=%3Cscript%3Ex%3C%2Fscript%3E+%26+more&other=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 200
    assert body == b"You submitted: &lt;script&gt;x&lt;/script&gt; &amp; more"


def test_postMultipartForm(connection: http.client.HTTPConnection) -> None:
    """
    A POSTed multipart form's fields are in C{request.args} too.
    """
    boundary = "XyZ123"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="field"\r\n\r\n'
        "first\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="field"\r\n\r\n'
        "<second>\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response, received = fetch(
        connection,
        "/form",
        method="POST",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status == 200
    assert received == b"You submitted: first, &lt;second&gt;"


@pytest.mark.parametrize(
    ("contentType", "body"),
    [
        ("application/x-www-form-urlencoded", b"field=one&field=two"),
        (
            "multipart/form-data; boundary=B",
            b"--B\r\nContent-Disposition: form-data; name=field\r\n\r\none\r\n"
            b"--B\r\nContent-Disposition: form-data; name=field\r\n\r\ntwo\r\n"
            b"--B--\r\n",
        ),
    ],
)
def test_formFieldsAfterReadingBody(
    connection: http.client.HTTPConnection, contentType: str, body: bytes
) -> None:
    """
    A resource that reads the whole body from C{request.content} before it
    looks at C{request.args} still finds the form's fields there.
    """
    response, received = fetch(
        connection,
        "/form-after-body",
        method="POST",
        body=body,
        headers={"Content-Type": contentType},
    )
    assert response.status == 200
    assert received == b"%d one,two" % len(body)


def test_absoluteFormTarget(port: int) -> None:
    """
    For a request-target in absolute form, the host name and the URLs the
    resource sees are the target's, not the C{Host} field's (RFC 9112
    section 3.2.2).
    """
    connection = http.client.HTTPConnection(_servers.LOOPBACK, port, timeout=TIMEOUT)
    try:
        connection.putrequest(
            "GET", "http://a.example:8080/whereami?x=1", skip_host=True
        )
        connection.putheader("Host", "b.example")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 200
        assert response.read() == b"a.example\nhttp://a.example:8080/whereami"
        connection.putrequest("GET", "/whereami", skip_host=True)
        connection.putheader("Host", "b.example")
        connection.endheaders()
        response = connection.getresponse()
        assert response.read() == b"b.example\nhttp://b.example:%d/whereami" % port
    finally:
        connection.close()


def test_queryArgsOnGetForm(connection: http.client.HTTPConnection) -> None:
    """
    A GET of the form is answered whatever the query string holds.
    """
    response, body = fetch(connection, "/form?field=ignored")
    assert response.status == 200
    assert body.startswith(b"<form")


# -- gzip ------------------------------------------------------------------------------


def test_gzip(connection: http.client.HTTPConnection) -> None:
    """
    The gzip-wrapped page arrives compressed for a client that accepts gzip,
    and plain for one that does not; both say C{Vary: Accept-Encoding}.
    """
    response, body = fetch(connection, "/gzip", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Vary") == "Accept-Encoding"
    assert len(body) < len(_siteserver.GZIP_PAGE) // 10
    assert gzip.decompress(body) == _siteserver.GZIP_PAGE
    response, body = fetch(connection, "/gzip")
    assert response.getheader("Content-Encoding") is None
    assert response.getheader("Vary") == "Accept-Encoding"
    assert body == _siteserver.GZIP_PAGE


# -- sessions --------------------------------------------------------------------------


def test_sessionCookieRoundTrip(port: int) -> None:
    """
    The session cookie set by the first visit brings the same session back
    on later visits, on other connections too; a visitor without it gets a
    session of its own.
    """
    response, body = fetchNew(port, "/counter")
    assert body == b"1"
    cookie = response.getheader("Set-Cookie")
    match = re.fullmatch(
        r"(TWISTED_SESSION=[0-9a-f]{32}); Path=/; HttpOnly; SameSite=Lax", cookie or ""
    )
    assert match is not None, cookie
    for expected in (b"2", b"3"):
        response, body = fetchNew(port, "/counter", headers={"Cookie": match.group(1)})
        assert body == expected
        assert response.getheader("Set-Cookie") is None
    response, body = fetchNew(port, "/counter")
    assert body == b"1"
    assert response.getheader("Set-Cookie") != cookie


# -- concurrency and clients going away ------------------------------------------------


def test_deferredRendersConcurrent(port: int) -> None:
    """
    Five requests for a render that waits 500 ms (returning a Deferred) are
    all answered after about one wait, not five: the server keeps serving
    while a render waits.
    """
    results: list[Any] = [None] * 5

    def one(index: int) -> None:
        try:
            response, body = fetchNew(port, "/slow?ms=500")
            results[index] = (response.status, body)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(5)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2)
    elapsed = time.monotonic() - started
    assert results == [(200, b"slow 500")] * 5
    assert 0.5 <= elapsed < 1.5, elapsed


def test_clientGoneDuringDeferredRender(server: _servers.Server, port: int) -> None:
    """
    A client that disconnects while its render waits on a Deferred: the
    render learns of it (C{notifyFinish} fails), the Deferred is cancelled,
    nothing is logged as an unhandled error, and the server goes on serving.
    """
    before = stats(port)
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /slow?ms=5000 HTTP/1.1\r\nHost: localhost\r\n\r\n")
        waitFor(port, lambda c: c["slowStarted"] > before["slowStarted"])
    after = waitFor(port, lambda c: c["cancelled"] > before["cancelled"])
    assert after["slowLost"] == before["slowLost"] + 1
    response, body = fetchNew(port, "/")
    assert (response.status, body) == (200, b"root")
    log = server.log()
    assert "Unhandled error" not in log, log


def test_clientGoneDuringNotDoneYetRender(server: _servers.Server, port: int) -> None:
    """
    A client that disconnects in the middle of a C{NOT_DONE_YET} response
    (part of it already sent): the render's C{notifyFinish} fails, and the
    server goes on serving other clients.
    """
    before = stats(port)
    with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /hang HTTP/1.1\r\nHost: localhost\r\n\r\n")
        received = b""
        deadline = time.monotonic() + TIMEOUT
        while b"waiting" not in received and time.monotonic() < deadline:
            received += s.recv(4096)
        assert b"waiting" in received
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    waitFor(port, lambda c: c["hangLost"] > before["hangLost"])
    response, _ = fetchNew(port, "/tree/fred")
    assert response.status == 200
    assert server.process.poll() is None


def test_manyClientsGoneServerHealthy(server: _servers.Server, port: int) -> None:
    """
    Twenty clients that connect, ask for a slow page and vanish leave the
    server healthy: a new client is served at once, and again once the
    abandoned renders have fired, with nothing logged as unhandled.
    """
    before = stats(port)
    for _ in range(20):
        with socket.create_connection((_servers.LOOPBACK, port), timeout=TIMEOUT) as s:
            s.sendall(b"GET /slow?ms=300 HTTP/1.1\r\nHost: localhost\r\n\r\n")
    waitFor(port, lambda c: c["slowStarted"] >= before["slowStarted"] + 20)
    started = time.monotonic()
    response, body = fetchNew(port, "/")
    assert (response.status, body) == (200, b"root")
    assert time.monotonic() - started < 1.0
    time.sleep(0.6)
    response, body = fetchNew(port, "/tree/bob")
    assert response.status == 200
    assert server.process.poll() is None
    assert "Unhandled error" not in server.log()


def test_serverLogClean(server: _servers.Server) -> None:
    """
    After the tests above, the server's log holds no unhandled error in a
    Deferred (a cancelled render, a client gone, must not leave one).
    """
    log = server.log()
    assert "Unhandled error in Deferred" not in log, log
    assert server.process.poll() is None
