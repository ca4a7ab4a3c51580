"""
Tests for L{twisted_web_re.wsgi}: the PEP 3333 environ, C{start_response}
and the C{write} callable, closing, validation, errors, batching and
back-pressure of the response, C{wsgi.file_wrapper}, and C{wsgi.input}, both
over a spooled body and streamed on a site that locates resources before the
body.

Each test runs a real channel from C{site.buildProtocol} over a
L{StringTransport} and a real L{ThreadPool}: the application runs in a worker
thread, while the test's own thread plays the reactor thread, running what
the workers hand it with C{callFromThread} (L{ThreadedReactor.runUntil},
which always has a deadline).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import itertools
import os
import queue
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.validate import validator

import pytest
from _httpparse import HOST, PEER, Response, parseResponses
from twisted.internet.address import UNIXAddress
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.logger import LogEvent, formatEvent
from twisted.python.threadpool import ThreadPool
from zope.interface import directlyProvides
from zope.interface.verify import verifyObject

from twisted_web_re import resource, server, wsgi
from twisted_web_re._gateways.wsgiexchange import Exchange, ExchangeState
from twisted_web_re._gateways.wsgiinput import (
    INPUT_HIGH_WATER,
    INPUT_LOW_WATER,
    ClientDisconnected,
    ErrorStream,
    SpooledInput,
    StreamingInput,
)

#: Seconds any wait in these tests may take.
DEADLINE = 5.0

WSGIApp = Callable[[dict[str, Any], Any], Any]


# -- the harness ---------------------------------------------------------------------


class ThreadedReactor:
    """
    A reactor for the tests, whose thread is the test's: C{callFromThread}
    queues calls from the workers, and L{runUntil} runs them.  Timers run on a
    L{Clock}; C{callLater(0, ...)} calls run as the queue is drained.

    @ivar handoffs: how many calls the workers have queued.
    @ivar triggers: the system event triggers added.
    """

    def __init__(self) -> None:
        self.clock = Clock()
        self.calls: queue.SimpleQueue[tuple[Any, tuple[Any, ...]]] = queue.SimpleQueue()
        self._counter = itertools.count(1)
        self.handoffs = 0
        self.triggers: list[tuple[str, str, Any]] = []

    def callFromThread(self, f: Any, *args: Any) -> None:
        self.handoffs = next(self._counter)
        self.calls.put((f, args))

    def callLater(self, delay: float, f: Any, *args: Any) -> Any:
        return self.clock.callLater(delay, f, *args)

    def seconds(self) -> float:
        return self.clock.seconds()

    def addSystemEventTrigger(self, phase: str, event: str, f: Any) -> None:
        self.triggers.append((phase, event, f))

    def shutdown(self) -> list[Any]:
        """Run the triggers added for shutdown; return what they returned."""
        return [f() for _phase, event, f in self.triggers if event == "shutdown"]

    def runUntil(self, done: Callable[[], object], timeout: float = DEADLINE) -> None:
        """
        Run queued calls until C{done()} is true.

        @raise AssertionError: it is still false after C{timeout} seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.clock.advance(0)
            if done():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for the server")
            try:
                f, args = self.calls.get(timeout=min(left, 0.02))
            except queue.Empty:
                continue
            f(*args)

    def runFor(self, seconds: float) -> None:
        """Run queued calls for C{seconds}."""
        deadline = time.monotonic() + seconds
        self.runUntil(lambda: time.monotonic() >= deadline, seconds + 1)


@pytest.fixture
def reactor() -> ThreadedReactor:
    """The reactor, played by the test's thread."""
    return ThreadedReactor()


@pytest.fixture
def pool(reactor: ThreadedReactor) -> Iterator[ThreadPool]:
    """
    A started thread pool, stopped (every thread joined, within the deadline)
    when the test ends; running exchanges are released first, as at reactor
    shutdown.
    """
    threadpool = ThreadPool(0, 4, name="wsgi-test")
    threadpool.start()
    try:
        yield threadpool
    finally:
        reactor.shutdown()
        reactor.clock.advance(wsgi.SHUTDOWN_GRACE)
        stopper = threading.Thread(target=threadpool.stop)
        stopper.start()
        stopper.join(DEADLINE)
        assert not stopper.is_alive(), "the thread pool did not stop"
        assert not [t for t in threading.enumerate() if "wsgi-test" in t.name]


def logText(events: list[LogEvent]) -> str:
    """The log events, formatted, with the tracebacks of failures."""
    lines = []
    for event in events:
        lines.append(formatEvent(event))
        failure = event.get("log_failure")
        if failure is not None:
            lines.append(failure.getTraceback())
    return "\n".join(lines)


class Connection:
    """
    One client connection to a L{server.Site} on a L{StringTransport}.
    """

    def __init__(
        self,
        reactor: ThreadedReactor,
        root: Any,
        locateBeforeBody: bool = False,
        secure: bool = False,
        **siteArgs: Any,
    ) -> None:
        self.reactor = reactor
        self.site = server.Site(root, reactor=reactor, **siteArgs)
        self.site.locateBeforeBody = locateBeforeBody
        self.transport = StringTransport(hostAddress=HOST, peerAddress=PEER)
        if secure:
            directlyProvides(self.transport, ISSLTransport)
        self.channel = self.site.buildProtocol(PEER)
        self.channel.makeConnection(self.transport)

    def send(self, data: bytes) -> None:
        """Deliver C{data} from the client."""
        self.channel.dataReceived(data)

    def answered(self, count: int = 1, methods: list[bytes] | None = None) -> bool:
        """Whether C{count} complete responses were written (or it closed)."""
        if self.transport.disconnecting:
            return True
        try:
            return len(parseResponses(self.transport.value(), methods)) >= count
        except ValueError:
            return False

    def responses(self, methods: list[bytes] | None = None) -> list[Response]:
        """Wait for the responses to what was sent, and return them all."""
        count = len(methods) if methods else 1
        self.reactor.runUntil(lambda: self.answered(count, methods))
        return parseResponses(self.transport.value(), methods)

    def response(self, method: bytes = b"GET") -> Response:
        """Wait for the one response, and return it."""
        [response] = self.responses([method])
        return response

    def disconnect(self) -> None:
        """The client goes away."""
        self.channel.connectionLost(None)


def request(
    method: bytes = b"GET",
    path: bytes = b"/",
    headers: tuple[tuple[bytes, bytes], ...] = (),
    body: bytes | None = None,
) -> bytes:
    """The bytes of one HTTP/1.1 request to C{example.com}."""
    lines = [method + b" " + path + b" HTTP/1.1", b"Host: example.com"]
    lines.extend(name + b": " + value for name, value in headers)
    if body is not None:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def serve(
    reactor: ThreadedReactor, pool: ThreadPool, app: WSGIApp, **kwargs: Any
) -> Connection:
    """A connection to a site whose root is C{app}."""
    return Connection(reactor, wsgi.WSGIResource(reactor, pool, app), **kwargs)


def mounted(
    reactor: ThreadedReactor, pool: ThreadPool, app: WSGIApp, *path: bytes
) -> Connection:
    """A connection to a site with C{app} at C{path} (segments)."""
    root = parent = resource.Resource()
    for segment in path[:-1]:
        child = resource.Resource()
        parent.putChild(segment, child)
        parent = child
    parent.putChild(path[-1], wsgi.WSGIResource(reactor, pool, app))
    return Connection(reactor, root)


class Recorder:
    """
    A WSGI application that records its environ (and the thread it ran in)
    and answers C{200 OK} with C{body}.
    """

    def __init__(self, body: bytes = b"ok", readBody: bool = False) -> None:
        self.body = body
        self.readBody = readBody
        self.environ: dict[str, Any] = {}
        self.received = b""
        self.thread: int | None = None

    def __call__(self, environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        self.environ = environ
        self.thread = threading.get_ident()
        if self.readBody:
            self.received = environ["wsgi.input"].read()
        startResponse("200 OK", [("Content-Type", "text/plain")])
        return [self.body]


class Closing:
    """
    A response iterable recording when, and in which thread, it is closed.
    """

    def __init__(self, pieces: Any) -> None:
        self.pieces = pieces
        self.closed = threading.Event()
        self.closedIn: int | None = None

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.pieces)

    def close(self) -> None:
        self.closedIn = threading.get_ident()
        self.closed.set()


# -- the resource --------------------------------------------------------------------


def test_leafResource(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A WSGIResource is a leaf providing IResource and IStreamingUpload, with no
    children to get or put: the application answers for every path below.
    """
    wsgiResource = wsgi.WSGIResource(reactor, pool, Recorder())
    assert wsgiResource.isLeaf
    verifyObject(resource.IResource, wsgiResource)
    verifyObject(resource.IStreamingUpload, wsgiResource)
    with pytest.raises(RuntimeError):
        wsgiResource.getChildWithDefault(b"x", None)
    with pytest.raises(RuntimeError):
        wsgiResource.putChild(b"x", resource.Resource())


def test_applicationRunsInWorkerThread(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """
    The application and its iterable's close() run in a pool thread, never
    in the reactor thread.
    """
    result = Closing([b"hello"])
    threads: list[int] = []

    def app(environ: dict[str, Any], startResponse: Any) -> Closing:
        threads.append(threading.get_ident())
        startResponse("200 OK", [])
        return result

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().body == b"hello"
    assert threads and threads[0] != threading.get_ident()
    assert result.closedIn is not None and result.closedIn != threading.get_ident()


# -- the environ ---------------------------------------------------------------------


def test_environ(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    The environ has every key PEP 3333 requires, with str values, taken from
    the request, the connection's addresses and the site's root.
    """
    app = Recorder()
    connection = serve(reactor, pool, app)
    connection.send(
        request(
            b"GET",
            b"/a%20b/c?x=1&y=%20",
            (
                (b"Accept", b"text/html"),
                (b"X-Multi", b"one"),
                (b"X-Multi", b"two"),
                (b"Cookie", b"a=1"),
                (b"Cookie", b"b=2"),
            ),
        )
    )
    assert connection.response().status == 200
    environ = app.environ
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/a b/c"
    assert environ["QUERY_STRING"] == "x=1&y=%20"
    assert environ["REQUEST_URI"] == "/a%20b/c?x=1&y=%20"
    assert environ["SERVER_NAME"] == "example.com"
    assert environ["SERVER_PORT"] == str(HOST.port)
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["REMOTE_ADDR"] == PEER.host
    assert environ["REMOTE_PORT"] == str(PEER.port)
    assert environ["HTTP_HOST"] == "example.com"
    assert environ["HTTP_ACCEPT"] == "text/html"
    assert environ["HTTP_X_MULTI"] == "one, two"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert "CONTENT_TYPE" not in environ
    assert "CONTENT_LENGTH" not in environ
    assert environ["wsgi.version"] == (1, 0)
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["wsgi.multithread"] is True
    assert environ["wsgi.multiprocess"] is False
    assert environ["wsgi.run_once"] is False
    assert environ["wsgi.input_terminated"] is True
    assert environ["wsgi.file_wrapper"] is wsgi.FileWrapper
    assert isinstance(environ["wsgi.errors"], ErrorStream)
    assert isinstance(environ["wsgi.input"], SpooledInput)
    for key, value in environ.items():
        if "." not in key:
            assert type(value) is str, key


def test_environContent(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    CONTENT_TYPE and CONTENT_LENGTH come from the request's fields, without
    HTTP_ twins.
    """
    app = Recorder(readBody=True)
    connection = serve(reactor, pool, app)
    connection.send(
        request(b"POST", b"/", ((b"Content-Type", b"text/plain"),), b"hello")
    )
    assert connection.response().status == 200
    assert app.environ["CONTENT_TYPE"] == "text/plain"
    assert app.environ["CONTENT_LENGTH"] == "5"
    assert "HTTP_CONTENT_TYPE" not in app.environ
    assert "HTTP_CONTENT_LENGTH" not in app.environ
    assert app.received == b"hello"


def test_environChunkedBodyLength(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A chunked body, received whole before the application starts, is given
    with the CONTENT_LENGTH it turned out to have (as RFC 3875 asks), for
    applications that ignore wsgi.input_terminated.
    """
    app = Recorder(readBody=True)
    connection = serve(reactor, pool, app)
    connection.send(
        b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
    )
    assert connection.response().status == 200
    assert app.environ["CONTENT_LENGTH"] == "7"
    assert app.received == b"abcdefg"


@pytest.mark.parametrize(
    ("mount", "path", "scriptName", "pathInfo"),
    [
        ((b"app",), b"/app", "/app", ""),
        ((b"app",), b"/app/", "/app", "/"),
        ((b"app",), b"/app/x/y", "/app", "/x/y"),
        ((b"app",), b"/app/x/y/?q", "/app", "/x/y/"),
        ((b"a", b"b"), b"/a/b/c", "/a/b", "/c"),
        ((b"app",), b"/app/%C3%A9%2Fz", "/app", "/\xc3\xa9/z"),
        ((b"caf\xc3\xa9",), b"/caf%C3%A9/x", "/caf\xc3\xa9", "/x"),
    ],
)
def test_scriptNameAndPathInfo(
    reactor: ThreadedReactor,
    pool: ThreadPool,
    mount: tuple[bytes, ...],
    path: bytes,
    scriptName: str,
    pathInfo: str,
) -> None:
    """
    SCRIPT_NAME is the path to the resource and PATH_INFO the rest, both
    percent-decoded bytes as Latin-1 strings (PEP 3333's "bytes as latin-1").
    """
    app = Recorder()
    connection = mounted(reactor, pool, app, *mount)
    connection.send(request(path=path))
    assert connection.response().status == 200
    assert (app.environ["SCRIPT_NAME"], app.environ["PATH_INFO"]) == (
        scriptName,
        pathInfo,
    )


@pytest.mark.parametrize(
    ("path", "pathInfo"), [(b"/", "/"), (b"/x", "/x"), (b"/x/", "/x/")]
)
def test_rootPaths(
    reactor: ThreadedReactor, pool: ThreadPool, path: bytes, pathInfo: str
) -> None:
    """
    An application at the site's root has an empty SCRIPT_NAME and the whole
    path as PATH_INFO.
    """
    app = Recorder()
    connection = serve(reactor, pool, app)
    connection.send(request(path=path))
    assert connection.response().status == 200
    assert (app.environ["SCRIPT_NAME"], app.environ["PATH_INFO"]) == ("", pathInfo)


def test_underscoreFieldsDropped(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A field whose name has an underscore is left out: it would share its
    environ key with the hyphenated name a proxy vouches for.
    """
    app = Recorder()
    connection = serve(reactor, pool, app)
    connection.send(
        request(
            headers=(
                (b"X_Forwarded_For", b"6.6.6.6"),
                (b"Content_Type", b"evil"),
                (b"X-Forwarded-For", b"1.2.3.4"),
            )
        )
    )
    assert connection.response().status == 200
    assert app.environ["HTTP_X_FORWARDED_FOR"] == "1.2.3.4"
    assert "HTTP_CONTENT_TYPE" not in app.environ
    assert "CONTENT_TYPE" not in app.environ


def test_httpsScheme(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """Over TLS, wsgi.url_scheme is https."""
    app = Recorder()
    connection = serve(reactor, pool, app, secure=True)
    connection.send(request())
    assert connection.response().status == 200
    assert app.environ["wsgi.url_scheme"] == "https"


def test_unixSocketClient(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A client on a UNIX socket has no REMOTE_ADDR or REMOTE_PORT, and
    SERVER_PORT is the scheme's default.
    """
    app = Recorder()
    connection = serve(reactor, pool, app)
    address = UNIXAddress(b"/run/web.sock")
    connection.transport = StringTransport(hostAddress=address, peerAddress=address)
    connection.channel = connection.site.buildProtocol(address)
    connection.channel.makeConnection(connection.transport)
    connection.send(request())
    assert connection.response().status == 200
    assert "REMOTE_ADDR" not in app.environ
    assert "REMOTE_PORT" not in app.environ
    assert app.environ["SERVER_PORT"] == "80"


def test_trustedProxyClient(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    REMOTE_ADDR is the client a trusted proxy forwarded for, as
    request.getClientAddress() says.
    """
    app = Recorder()
    connection = serve(reactor, pool, app, trustedProxies=[PEER.host])
    connection.send(request(headers=((b"X-Forwarded-For", b"203.0.113.9"),)))
    assert connection.response().status == 200
    assert app.environ["REMOTE_ADDR"] == "203.0.113.9"


def test_errorsStreamLogs(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """
    Lines written to wsgi.errors go to the log, once complete or flushed;
    bytes are refused (it is a text stream).
    """
    refused: list[Exception] = []

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        errors = environ["wsgi.errors"]
        errors.write("first line\nsecond ")
        errors.writelines(["line\n", "partial"])
        errors.flush()
        try:
            errors.write(b"bytes")
        except TypeError as error:
            refused.append(error)
        startResponse("200 OK", [])
        return []

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().status == 200
    lines = [
        formatEvent(e)
        for e in logged
        if e.get("log_namespace") == "twisted_web_re.wsgi.errors"
    ]
    assert lines == ["first line", "second line", "partial"]
    assert refused


# -- start_response and the body -----------------------------------------------------


def test_statusAndHeaders(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    The application's status and headers are the response's; repeated fields
    stay separate; the server adds no Content-Type of its own, and a body
    returned as a list gets a Content-Length.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse(
            "201 Made Here",
            [("X-One", "1"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")],
        )
        return [b"abc", b"", b"def"]

    connection = serve(reactor, pool, app)
    connection.send(request())
    response = connection.response()
    assert (response.status, response.reason) == (201, b"Made Here")
    assert response.values(b"x-one") == [b"1"]
    assert response.values(b"set-cookie") == [b"a=1", b"b=2"]
    assert response.values(b"content-type") == []
    assert response.values(b"content-length") == [b"6"]
    assert response.body == b"abcdef"


def test_emptyBody(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    An empty body sends the head at the end, with Content-Length 0; a 204 or
    304 gets none.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse(environ["PATH_INFO"][1:].replace("_", " "), [])
        return []

    connection = serve(reactor, pool, app)
    connection.send(
        request(path=b"/200_OK")
        + request(path=b"/204_No_Content")
        + request(path=b"/304_Not_Modified")
    )
    ok, noContent, notModified = connection.responses([b"GET"] * 3)
    assert ok.values(b"content-length") == [b"0"]
    assert noContent.status == 204 and noContent.values(b"content-length") == []
    assert notModified.status == 304 and notModified.values(b"content-length") == []


def test_headersFromApplicationWin(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """An application's own Server and Date headers are sent, not the server's."""

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [("Server", "mine"), ("Date", "yesterday")])
        return [b"x"]

    connection = serve(reactor, pool, app)
    connection.send(request())
    response = connection.response()
    assert response.values(b"server") == [b"mine"]
    assert response.values(b"date") == [b"yesterday"]


def test_writeCallable(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    What the application writes with the write callable comes before what
    it returns; bytearray and memoryview pieces are taken too.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[Any]:
        write = startResponse("200 OK", [("Content-Type", "text/plain")])
        write(b"one ")
        write(bytearray(b"two "))
        return [memoryview(b"three")]

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().body == b"one two three"


def test_streamsWithoutDelay(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    Each piece a generator yields goes out while the application works on the
    next (PEP 3333: a server must not delay a block): the client has the
    first before the second exists.
    """
    proceed = threading.Event()

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [])
        yield b"first;"
        proceed.wait(DEADLINE)
        yield b"second"

    connection = serve(reactor, pool, app)
    connection.send(request())
    reactor.runUntil(lambda: b"first;" in connection.transport.value())
    assert not connection.answered()
    proceed.set()
    response = connection.response()
    assert response.framing == "chunked"
    assert response.body == b"first;second"


def test_declaredContentLength(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """A streamed response with a declared Content-Length is sent with it."""

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [("Content-Length", "10")])
        for _ in range(5):
            yield b"ab"

    connection = serve(reactor, pool, app)
    connection.send(request() + request())
    first, second = connection.responses([b"GET", b"GET"])
    assert first.framing == "length" and first.body == b"ababababab"
    assert second.body == b"ababababab"


def test_head(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    The answer to HEAD has no body, but the Content-Length of what the
    application produced.
    """
    connection = serve(reactor, pool, Recorder(b"twelve bytes"))
    connection.send(request(b"HEAD") + request(b"GET"))
    head, get = connection.responses([b"HEAD", b"GET"])
    assert head.values(b"content-length") == [b"12"]
    assert head.body == b""
    assert get.body == b"twelve bytes"


def test_startResponseTwice(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    Calling start_response again without exc_info raises; the first status
    stands.
    """
    raised: list[Exception] = []

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [])
        try:
            startResponse("404 Not Found", [])
        except RuntimeError as error:
            raised.append(error)
        return [b"body"]

    connection = serve(reactor, pool, app)
    connection.send(request())
    response = connection.response()
    assert response.status == 200
    assert response.body == b"body"
    assert raised


def test_excInfoBeforeHeadersSent(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    With exc_info, before any body was sent, start_response replaces the
    status and headers (an application's own error page).
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [("X-Stale", "yes")])
        try:
            raise ValueError("oops")
        except ValueError:
            startResponse("500 Oops", [("X-Fresh", "yes")], sys.exc_info())
        return [b"sorry"]

    connection = serve(reactor, pool, app)
    connection.send(request())
    response = connection.response()
    assert (response.status, response.reason) == (500, b"Oops")
    assert response.values(b"x-stale") == []
    assert response.values(b"x-fresh") == [b"yes"]
    assert response.body == b"sorry"


def test_excInfoAfterHeadersSent(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """
    With exc_info, after some body was sent, start_response re-raises that
    exception; the connection is aborted, since the response cannot be
    completed, and the iterable is still closed.
    """
    proceed = threading.Event()
    reraised: list[BaseException] = []

    def generate(startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [])
        yield b"partial"
        proceed.wait(DEADLINE)
        try:
            raise KeyError("original")
        except KeyError:
            try:
                startResponse("500 Error", [], sys.exc_info())
            except KeyError as error:
                reraised.append(error)
                raise

    result = Closing(None)

    def app(environ: dict[str, Any], startResponse: Any) -> Closing:
        result.pieces = generate(startResponse)
        return result

    connection = serve(reactor, pool, app)
    connection.send(request())
    reactor.runUntil(lambda: b"partial" in connection.transport.value())
    proceed.set()
    reactor.runUntil(lambda: connection.transport.disconnecting)
    assert connection.transport.disconnected
    assert reraised and reraised[0].args == ("original",)
    assert result.closed.wait(DEADLINE)
    assert "original" in logText(logged)


@pytest.mark.parametrize(
    ("status", "headers", "problem"),
    [
        (b"200 OK", [], "str such as"),
        ("200", [], "three-digit"),
        ("OK 200", [], "three-digit"),
        ("099 Early", [], "three-digit"),
        ("101 Switching Protocols", [], "three-digit"),
        ("2000 OK", [], "three-digit"),
        ("200 O\r\nX: y", [], "three-digit"),
        ("200 \u20ac", [], "three-digit"),
        ("200 OK", (("X", "y"),), "are a list"),
        ("200 OK", [("X", b"y")], "(str, str) tuple"),
        ("200 OK", [("X", "y", "z")], "(str, str) tuple"),
        ("200 OK", [["X", "y"]], "(str, str) tuple"),
        ("200 OK", [("Bad Name", "y")], "invalid header name"),
        ("200 OK", [("X", "a\r\nInjected: 1")], "CR, LF or NUL"),
        ("200 OK", [("X", "a\x00")], "CR, LF or NUL"),
        ("200 OK", [("X", "\u20ac")], "Latin-1"),
        ("200 OK", [("Connection", "close")], "hop-by-hop"),
        ("200 OK", [("Transfer-Encoding", "chunked")], "hop-by-hop"),
        ("200 OK", [("Keep-Alive", "timeout=5")], "hop-by-hop"),
        ("200 OK", [("Upgrade", "websocket")], "hop-by-hop"),
        ("200 OK", [("Content-Length", "ten")], "invalid Content-Length"),
        (
            "200 OK",
            [("Content-Length", "1"), ("Content-Length", "1")],
            "invalid Content-Length",
        ),
    ],
)
def test_invalidStartResponse(
    reactor: ThreadedReactor,
    pool: ThreadPool,
    logged: list[LogEvent],
    status: Any,
    headers: Any,
    problem: str,
) -> None:
    """
    A status or headers PEP 3333 does not allow make start_response raise;
    the client gets a 500 page and the log says what was wrong.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse(status, headers)
        return [b"never sent"]

    connection = serve(reactor, pool, app)
    connection.send(request())
    response = connection.response()
    assert response.status == 500
    assert b"never sent" not in response.body
    assert problem in logText(logged)


def test_strBodyBeforeAnySent(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """A str in the body, before any bytes went out, gets a 500 page."""

    def app(environ: dict[str, Any], startResponse: Any) -> list[Any]:
        startResponse("200 OK", [])
        return [b"fine", "not bytes"]

    connection = serve(reactor, pool, app)
    connection.send(request())
    response = connection.response()
    assert response.status == 500
    assert b"fine" not in response.body
    assert "made of bytes, not str" in logText(logged)


def test_strBodyAfterSomeSent(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """
    A str in the body after some bytes went out aborts the connection (the
    response cannot be completed) and is logged.
    """
    proceed = threading.Event()

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[Any]:
        startResponse("200 OK", [])
        yield b"fine"
        proceed.wait(DEADLINE)
        yield "not bytes"

    connection = serve(reactor, pool, app)
    connection.send(request())
    reactor.runUntil(lambda: b"fine" in connection.transport.value())
    proceed.set()
    reactor.runUntil(lambda: connection.transport.disconnecting)
    assert connection.transport.disconnected
    assert "made of bytes, not str" in logText(logged)


def test_exceptionBeforeBody(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """
    An exception before any body gives a 500 page without the traceback, and
    a log line with it.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        raise ZeroDivisionError("the secret")

    connection = serve(reactor, pool, app)
    connection.send(request())
    response = connection.response()
    assert response.status == 500
    assert b"the secret" not in response.body
    assert "ZeroDivisionError: the secret" in logText(logged)


def test_exceptionShownWithDisplayTracebacks(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """With the site's displayTracebacks, the 500 page has the traceback."""

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [])
        raise ZeroDivisionError("shown")

    connection = serve(reactor, pool, app)
    connection.site.displayTracebacks = True
    connection.send(request())
    response = connection.response()
    assert response.status == 500
    assert b"ZeroDivisionError: shown" in response.body


def test_exceptionInIterationClosesIterable(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """
    An exception while iterating the response still closes it; the client
    gets a 500 when nothing had gone out yet, even if a piece was produced.
    """

    def pieces() -> Iterator[bytes]:
        yield b"lost"
        raise ValueError("mid-way")

    result = Closing(None)

    def app(environ: dict[str, Any], startResponse: Any) -> Closing:
        startResponse("200 OK", [])
        result.pieces = pieces()
        return result

    connection = serve(reactor, pool, app)
    connection.send(request())
    # The reactor thread runs nothing until the worker is done, so the piece
    # and the error reach it together.
    assert result.closed.wait(DEADLINE)
    response = connection.response()
    assert response.status == 500
    assert b"lost" not in response.body


def test_noStartResponse(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """An application returning without calling start_response gets a 500."""

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        return []

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().status == 500
    assert "without calling start_response" in logText(logged)


def test_bodyBeforeStartResponse(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """Body bytes before start_response was called get a 500."""

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        return [b"early"]

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().status == 500
    assert "before calling start_response" in logText(logged)


def test_closeFailing(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """
    close() raising fails the response: a 500 if nothing went out yet.
    """

    class Failing(list[bytes]):
        def close(self) -> None:
            raise OSError("cannot close")

    def app(environ: dict[str, Any], startResponse: Any) -> Failing:
        startResponse("200 OK", [])
        return Failing([b"body"])

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().status == 500
    assert "cannot close" in logText(logged)


def test_gzipWrapper(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    Behind an EncodingResourceWrapper the application's response is gzipped,
    without the plain body's Content-Length.
    """
    app = Recorder(b"squeeze me " * 100)
    wrapped = resource.EncodingResourceWrapper(
        wsgi.WSGIResource(reactor, pool, app), [server.GzipEncoderFactory()]
    )
    connection = Connection(reactor, wrapped)
    connection.send(request(headers=((b"Accept-Encoding", b"gzip"),)))
    response = connection.response()
    assert response.values(b"content-encoding") == [b"gzip"]
    assert gzip.decompress(response.body) == app.body


class CountingPool:
    """A thread pool counting the work handed to it."""

    def __init__(self, pool: ThreadPool) -> None:
        self.pool = pool
        self.max = pool.max
        self.calls = 0

    def callInThread(self, f: Any, *args: Any) -> None:
        self.calls += 1
        self.pool.callInThread(f, *args)


def test_poolThreadsReused(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A pool thread that has run a request takes the next one, if it comes
    soon, without a new hand-over to the pool.
    """
    counting = CountingPool(pool)
    threads: set[int] = set()

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        threads.add(threading.get_ident())
        startResponse("200 OK", [])
        return [b"ok"]

    connection = Connection(reactor, wsgi.WSGIResource(reactor, counting, app))
    for count in range(1, 6):
        connection.send(request())
        assert len(connection.responses([b"GET"] * count)) == count
    assert counting.calls == 1
    assert len(threads) == 1


def test_concurrentRequestsRunConcurrently(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """
    Requests arriving while others are running get threads of their own, up
    to the pool's size: a request waiting for another does not deadlock.
    """
    barrier = threading.Barrier(3, timeout=DEADLINE)

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        barrier.wait()
        startResponse("200 OK", [])
        return [b"met"]

    wsgiResource = wsgi.WSGIResource(reactor, pool, app)
    connections = [Connection(reactor, wsgiResource) for _ in range(3)]
    for connection in connections:
        connection.send(request())
    for connection in connections:
        assert connection.response().body == b"met"


class RefusingPool:
    """A thread pool that was stopped: it takes no more work."""

    def callInThread(self, f: Any, *args: Any) -> None:
        raise RuntimeError("the pool is stopped")


def test_poolRefuses(reactor: ThreadedReactor, logged: list[LogEvent]) -> None:
    """
    When the pool takes no more work, a request gets a 500, with or without
    locateBeforeBody.
    """
    app = Recorder()
    connection = Connection(reactor, wsgi.WSGIResource(reactor, RefusingPool(), app))
    connection.send(request())
    assert connection.response().status == 500
    connection = Connection(
        reactor, wsgi.WSGIResource(reactor, RefusingPool(), app), locateBeforeBody=True
    )
    connection.send(request(b"POST", body=b"x"))
    assert connection.response(b"POST").status == 500
    assert "the pool is stopped" in logText(logged)
    assert app.environ == {}


def test_writeAfterResponse(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """The write callable may not be used once the application returned."""
    writes: list[Any] = []

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        writes.append(startResponse("200 OK", []))
        return [b"done"]

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().body == b"done"
    with pytest.raises(RuntimeError):
        writes[0](b"late")


def test_closeFailingAfterError(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """
    When both the iteration and close() fail, the first error is the
    response's and the second is logged too.
    """

    class Failing:
        def __iter__(self) -> Iterator[bytes]:
            raise ValueError("iteration failed")

        def close(self) -> None:
            raise OSError("close failed")

    def app(environ: dict[str, Any], startResponse: Any) -> Failing:
        startResponse("200 OK", [])
        return Failing()

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().status == 500
    text = logText(logged)
    assert "iteration failed" in text
    assert "close failed" in text


# -- batching, back-pressure, disconnection ------------------------------------------


def test_smallWritesBatched(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A 1 MiB response yielded in 4 KiB pieces reaches the reactor thread in a
    few batches, not one hand-over per piece.
    """
    piece = bytes(range(256)) * 16

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [])
        for _ in range(256):
            yield piece

    connection = serve(reactor, pool, app)
    connection.send(request())
    response = connection.response()
    assert response.body == piece * 256
    assert reactor.handoffs <= 64


def test_backPressure(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    While the connection is paused, the worker waits at its next piece
    instead of piling the response up in memory; it carries on once resumed.
    """
    produced = itertools.count()
    count = [0]

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [])
        for _ in range(64):
            count[0] = next(produced) + 1
            yield b"x" * 65536

    connection = serve(reactor, pool, app)
    connection.send(request())
    connection.channel.pauseProducing()
    reactor.runFor(0.3)
    paused = count[0]
    reactor.runFor(0.2)
    assert count[0] == paused
    assert paused <= wsgi.OUTPUT_HIGH_WATER // 65536 + 2
    connection.channel.resumeProducing()
    response = connection.response()
    assert count[0] == 64
    assert len(response.body) == 64 * 65536


def test_pendingBytesBounded(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    When the reactor thread falls behind, the worker waits once about
    OUTPUT_HIGH_WATER bytes are pending.
    """
    count = [0]

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [])
        for i in range(256):
            count[0] = i + 1
            yield b"y" * 4096

    connection = serve(reactor, pool, app)
    connection.send(request())
    deadline = time.monotonic() + DEADLINE
    limit = wsgi.OUTPUT_HIGH_WATER // 4096
    while count[0] < limit and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert count[0] == limit
    assert len(connection.response().body) == 256 * 4096


def test_disconnectStopsIteration(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    When the client goes away, the worker waiting on back-pressure is
    released, nothing more is written, iteration stops and close() is called.
    """
    count = [0]

    def pieces() -> Iterator[bytes]:
        for i in range(10_000):
            count[0] = i + 1
            yield b"z" * 65536

    result = Closing(pieces())

    def app(environ: dict[str, Any], startResponse: Any) -> Closing:
        startResponse("200 OK", [])
        return result

    connection = serve(reactor, pool, app)
    connection.send(request())
    connection.channel.pauseProducing()
    reactor.runUntil(lambda: count[0] >= 1)
    written = len(connection.transport.value())
    connection.disconnect()
    assert result.closed.wait(DEADLINE)
    reactor.runFor(0.1)
    assert count[0] <= 3
    assert len(connection.transport.value()) == written


def test_disconnectMakesWritesNoOps(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    After the client went away, the write callable does nothing; the
    application finishes in its thread and its iterable is closed.
    """
    gone = threading.Event()
    finished = threading.Event()
    result = Closing([b"end"])

    def app(environ: dict[str, Any], startResponse: Any) -> Closing:
        write = startResponse("200 OK", [])
        write(b"start")
        gone.wait(DEADLINE)
        write(b"ignored")
        finished.set()
        return result

    connection = serve(reactor, pool, app)
    connection.send(request())
    reactor.runUntil(lambda: b"start" in connection.transport.value())
    # The transport stops its producer, then the connection is lost.
    connection.channel.stopProducing()
    connection.disconnect()
    gone.set()
    assert finished.wait(DEADLINE)
    assert result.closed.wait(DEADLINE)
    reactor.runFor(0.1)
    assert b"ignored" not in connection.transport.value()


def test_shutdownReleasesWorkers(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    At reactor shutdown, a worker waiting for a client that does not read is
    given the grace period, then released (its iterable closed, the
    connection aborted), so stopping the pool does not hang.
    """
    result = Closing(iter([b"a" * 65536] * 1000))

    def app(environ: dict[str, Any], startResponse: Any) -> Closing:
        startResponse("200 OK", [])
        return result

    wsgiResource = wsgi.WSGIResource(reactor, pool, app)
    connection = Connection(reactor, wsgiResource)
    connection.send(request())
    connection.channel.pauseProducing()
    reactor.runUntil(lambda: connection.transport.value())
    [waiting] = reactor.shutdown()
    fired: list[object] = []
    waiting.addCallback(fired.append)
    reactor.runFor(0.1)
    assert not result.closed.is_set() and not fired
    reactor.clock.advance(wsgiResource.shutdownGrace)
    assert fired
    assert result.closed.wait(DEADLINE)
    reactor.runUntil(lambda: connection.transport.disconnected)


def test_shutdownWaitsForResponses(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    At reactor shutdown, the responses being produced are waited for, and
    finish whole; with none, there is nothing to wait for.
    """
    proceed = threading.Event()

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [])
        yield b"before "
        proceed.wait(DEADLINE)
        yield b"after"

    connection = serve(reactor, pool, app)
    connection.send(request())
    reactor.runUntil(lambda: b"before" in connection.transport.value())
    [waiting] = reactor.shutdown()
    fired: list[object] = []
    waiting.addCallback(fired.append)
    proceed.set()
    assert connection.response().body == b"before after"
    assert fired
    assert reactor.shutdown() == [None]


# -- wsgi.file_wrapper ---------------------------------------------------------------


@pytest.fixture
def bigFile(tmp_path: Path) -> Path:
    """A 3 MiB file of varied bytes."""
    path = tmp_path / "big.bin"
    path.write_bytes(hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32))
    return path


def test_fileWrapperSentFromReactor(
    reactor: ThreadedReactor,
    pool: ThreadPool,
    bigFile: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """
    A FileWrapper of a regular file is sent from the reactor thread, without
    being iterated, with the file's length; the file is closed afterwards in
    a worker thread.
    """

    def noIteration(self: Any) -> Iterator[bytes]:
        raise AssertionError("the file was iterated")

    monkeypatch.setattr(wsgi.FileWrapper, "__iter__", noIteration)
    opened: list[Any] = []
    closedIn: list[int] = []

    class Tracked(io.FileIO):
        def close(self) -> None:
            closedIn.append(threading.get_ident())
            super().close()

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [("Content-Type", "application/octet-stream")])
        opened.append(Tracked(bigFile, "r"))
        return environ["wsgi.file_wrapper"](opened[0])

    connection = serve(reactor, pool, app)
    connection.send(request())
    handoffs = reactor.handoffs
    response = connection.response()
    assert response.values(b"content-length") == [b"%d" % bigFile.stat().st_size]
    assert response.body == bigFile.read_bytes()
    reactor.runUntil(lambda: opened[0].closed)
    assert closedIn[0] != threading.get_ident()
    assert reactor.handoffs - handoffs <= 2


def test_fileWrapperBackPressure(
    reactor: ThreadedReactor, pool: ThreadPool, bigFile: Path
) -> None:
    """
    A file body stops being read while the connection is paused, and carries
    on when it resumes.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [])
        return wsgi.FileWrapper(open(bigFile, "rb"))

    connection = serve(reactor, pool, app)
    connection.send(request())
    connection.channel.pauseProducing()
    reactor.runFor(0.2)
    assert len(connection.transport.value()) < 100
    connection.channel.resumeProducing()
    connection.channel.pauseProducing()
    reactor.runFor(0.1)
    paused = len(connection.transport.value())
    assert 0 < paused < bigFile.stat().st_size
    connection.channel.resumeProducing()
    assert connection.response().body == bigFile.read_bytes()


def test_fileWrapperFromPosition(
    reactor: ThreadedReactor, pool: ThreadPool, tmp_path: Path
) -> None:
    """
    A file body starts at the file's position, and stops at the declared
    Content-Length.
    """
    path = tmp_path / "f"
    path.write_bytes(b"0123456789abcdef")

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [("Content-Length", "4")])
        opened = open(path, "rb")
        opened.read(3)
        return wsgi.FileWrapper(opened)

    connection = serve(reactor, pool, app)
    connection.send(request() + request(b"HEAD"))
    get, head = connection.responses([b"GET", b"HEAD"])
    assert get.body == b"3456"
    assert head.values(b"content-length") == [b"4"] and head.body == b""


def test_fileWrapperOfFileLike(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A FileWrapper of something that is not a file is iterated in the worker,
    in blocks of its size, and closed.
    """
    content = io.BytesIO(b"x" * 100)

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [])
        return wsgi.FileWrapper(content, 7)

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().body == b"x" * 100
    reactor.runUntil(lambda: content.closed)
    assert list(wsgi.FileWrapper(io.BytesIO(b"abcde"), 2)) == [b"ab", b"cd", b"e"]


def test_fileWrapperClosedOnDisconnect(
    reactor: ThreadedReactor, pool: ThreadPool, bigFile: Path
) -> None:
    """A file body whose client goes away is closed."""
    opened: list[Any] = []

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [])
        opened.append(open(bigFile, "rb"))
        return wsgi.FileWrapper(opened[0])

    connection = serve(reactor, pool, app)
    connection.send(request())
    connection.channel.pauseProducing()
    reactor.runFor(0.1)
    assert opened and not opened[0].closed
    connection.disconnect()
    reactor.runUntil(lambda: opened[0].closed)


def test_fileWrapperOfPipe(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """A FileWrapper of a pipe (no regular file) is iterated in the worker."""
    readEnd, writeEnd = os.pipe()
    os.write(writeEnd, b"piped")
    os.close(writeEnd)
    piped = os.fdopen(readEnd, "rb")

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [])
        return wsgi.FileWrapper(piped)

    connection = serve(reactor, pool, app)
    connection.send(request())
    assert connection.response().body == b"piped"
    reactor.runUntil(lambda: piped.closed)


def handedOver(reactor: ThreadedReactor) -> None:
    """Wait (without running anything) until a worker handed something over."""
    deadline = time.monotonic() + DEADLINE
    while not reactor.handoffs and time.monotonic() < deadline:
        time.sleep(0.005)
    assert reactor.handoffs


def test_fileShrank(
    reactor: ThreadedReactor, pool: ThreadPool, tmp_path: Path, logged: list[LogEvent]
) -> None:
    """
    A file that shrinks before it is sent ends the response short of its
    Content-Length, which closes the connection, and is logged.
    """
    path = tmp_path / "shrinking"
    path.write_bytes(b"s" * 100_000)

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [])
        return wsgi.FileWrapper(open(path, "rb"))

    connection = serve(reactor, pool, app)
    connection.send(request())
    handedOver(reactor)
    path.write_bytes(b"s" * 10)
    reactor.runUntil(lambda: connection.transport.disconnecting)
    assert "shrank" in logText(logged)


def test_fileReadFails(
    reactor: ThreadedReactor, pool: ThreadPool, tmp_path: Path, logged: list[LogEvent]
) -> None:
    """
    A file that cannot be read when its turn comes gets a 500 (nothing was
    sent yet); closing it again is logged, not raised.
    """
    path = tmp_path / "f"
    path.write_bytes(b"data")
    opened: list[Any] = []

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [])
        opened.append(open(path, "rb"))
        return wsgi.FileWrapper(opened[0])

    connection = serve(reactor, pool, app)
    connection.send(request())
    handedOver(reactor)
    os.close(opened[0].fileno())
    assert connection.response().status == 500
    reactor.runUntil(lambda: "Closing the WSGI file body" in logText(logged))


def test_fileGoneBeforeSent(
    reactor: ThreadedReactor, pool: ThreadPool, bigFile: Path
) -> None:
    """
    A file body whose client went away before its turn is closed unsent; so
    is one whose client goes away between two turns of sending.
    """
    opened: list[Any] = []

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [])
        opened.append(open(bigFile, "rb"))
        return wsgi.FileWrapper(opened[-1])

    connection = serve(reactor, pool, app)
    connection.send(request())
    handedOver(reactor)
    connection.disconnect()
    reactor.runUntil(lambda: opened[0].closed)
    assert connection.transport.value() == b""

    connection = serve(reactor, pool, app)
    connection.send(request())
    connection.channel.pauseProducing()
    reactor.runUntil(lambda: len(opened) == 2)
    reactor.runFor(0.05)
    connection.channel.resumeProducing()
    assert len(connection.transport.value()) > 0
    connection.disconnect()
    reactor.runUntil(lambda: opened[1].closed)
    assert len(connection.transport.value()) < bigFile.stat().st_size


class StoppingPool:
    """A thread pool that can be stopped taking work, as at shutdown."""

    def __init__(self, pool: ThreadPool) -> None:
        self.pool = pool
        self.stopped = False

    def callInThread(self, f: Any, *args: Any) -> None:
        if self.stopped:
            raise RuntimeError("the pool is stopped")
        self.pool.callInThread(f, *args)


def test_fileClosedWhenPoolStopped(
    reactor: ThreadedReactor, pool: ThreadPool, bigFile: Path
) -> None:
    """
    A file body abandoned once the pool has stopped (at shutdown) is closed
    in the reactor thread rather than leaked.
    """
    stopping = StoppingPool(pool)
    opened: list[Any] = []

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [])
        opened.append(open(bigFile, "rb"))
        return wsgi.FileWrapper(opened[0])

    connection = Connection(reactor, wsgi.WSGIResource(reactor, stopping, app))
    connection.send(request())
    connection.channel.pauseProducing()
    reactor.runUntil(lambda: opened)
    reactor.runFor(0.05)
    stopping.stopped = True
    connection.disconnect()
    assert opened[0].closed


def test_fileReleasedAtShutdown(
    reactor: ThreadedReactor, pool: ThreadPool, bigFile: Path
) -> None:
    """
    A file body returned after the exchange was released at shutdown is
    closed, never sent.
    """
    proceed = threading.Event()
    opened: list[Any] = []

    def app(environ: dict[str, Any], startResponse: Any) -> Any:
        proceed.wait(DEADLINE)
        startResponse("200 OK", [])
        opened.append(open(bigFile, "rb"))
        return wsgi.FileWrapper(opened[0])

    connection = serve(reactor, pool, app)
    connection.send(request())
    reactor.shutdown()
    reactor.clock.advance(wsgi.SHUTDOWN_GRACE)
    proceed.set()
    handedOver(reactor)
    assert opened[0].closed


# -- wsgi.input, spooled -------------------------------------------------------------


def inputApp(operations: Callable[[Any], list[Any]]) -> WSGIApp:
    """An application answering with repr(operations(wsgi.input))."""

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [])
        return [repr(operations(environ["wsgi.input"])).encode()]

    return app


BODY = b"line one\nline two\n\nlast"

OPERATIONS: list[tuple[str, Callable[[Any], list[Any]], list[Any]]] = [
    ("read", lambda i: [i.read()], [BODY]),
    ("readNone", lambda i: [i.read(None)], [BODY]),
    ("readlineNone", lambda i: [i.readline(None)], [b"line one\n"]),
    (
        "readSized",
        lambda i: [i.read(4), i.read(0), i.read(100), i.read(5)],
        [b"line", b"", BODY[4:], b""],
    ),
    (
        "readline",
        lambda i: [
            i.readline(),
            i.readline(4),
            i.readline(),
            i.readline(),
            i.readline(),
            i.readline(),
        ],
        [b"line one\n", b"line", b" two\n", b"\n", b"last", b""],
    ),
    (
        "readlines",
        lambda i: [i.readlines()],
        [[b"line one\n", b"line two\n", b"\n", b"last"]],
    ),
    (
        "readlinesHint",
        lambda i: [i.readlines(3), i.read()],
        [[b"line one\n"], BODY[9:]],
    ),
    ("iterate", lambda i: list(i), [b"line one\n", b"line two\n", b"\n", b"last"]),
]


@pytest.mark.parametrize(
    ("operations", "expected"),
    [(ops, expected) for _, ops, expected in OPERATIONS],
    ids=[name for name, _, _ in OPERATIONS],
)
def test_spooledInput(
    reactor: ThreadedReactor,
    pool: ThreadPool,
    operations: Callable[[Any], list[Any]],
    expected: list[Any],
) -> None:
    """
    wsgi.input over a received body supports read(n), read(), readline(n),
    readlines(hint) and iteration, and ends where the body ends.
    """
    connection = serve(reactor, pool, inputApp(operations))
    connection.send(request(b"POST", body=BODY))
    assert connection.response().body == repr(expected).encode()


@pytest.mark.parametrize(
    ("operations", "expected"),
    [(ops, expected) for _, ops, expected in OPERATIONS],
    ids=[name for name, _, _ in OPERATIONS],
)
def test_streamedInput(
    reactor: ThreadedReactor,
    pool: ThreadPool,
    operations: Callable[[Any], list[Any]],
    expected: list[Any],
) -> None:
    """
    On a site that locates resources before the body, wsgi.input gives the
    same answers to the same reads, the body arriving chunked in pieces.
    """
    connection = serve(reactor, pool, inputApp(operations), locateBeforeBody=True)
    connection.send(
        b"POST / HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    for start in range(0, len(BODY), 3):
        piece = BODY[start : start + 3]
        connection.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        reactor.runFor(0.005)
    connection.send(b"0\r\n\r\n")
    assert connection.response().body == repr(expected).encode()


def test_validatorWithoutBody(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    wsgiref's validator, wrapping an application, finds nothing wrong with
    the server for a request without a body.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read(10), b"done"]

    connection = serve(reactor, pool, validator(app))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        connection.send(request())
        response = connection.response()
    assert (response.status, response.body) == (200, b"done")


@pytest.mark.parametrize("locateBeforeBody", [False, True])
def test_validatorWithBody(
    reactor: ThreadedReactor, pool: ThreadPool, locateBeforeBody: bool
) -> None:
    """
    wsgiref's validator finds nothing wrong with the server for requests with
    a body (which twisted.web's container fails), read in every way.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        body = environ["wsgi.input"]
        first = body.readline()
        second = body.read(4)
        lines = body.readlines()
        rest = list(body)
        startResponse("200 OK", [("Content-Type", "text/plain")])
        yield first + second
        yield b"|".join(lines) + b"".join(rest)

    connection = serve(reactor, pool, validator(app), locateBeforeBody=locateBeforeBody)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        connection.send(request(b"POST", body=BODY) + request(b"GET"))
        post, get = connection.responses([b"POST", b"GET"])
    assert post.status == 200
    assert post.body == b"line one\nline two\n|\n|last"
    assert get.status == 200


# -- wsgi.input, streamed ------------------------------------------------------------


HEAD10 = b"PUT /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 10\r\n\r\n"


def test_streamedInputReadBeforeBodyComplete(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """
    With locateBeforeBody, the application starts when the head arrives and
    reads the first part of the body (and answers with it) before the client
    has sent the rest.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        body = environ["wsgi.input"]
        startResponse("200 OK", [])
        yield b"got " + body.read(5) + b";"
        yield b"then " + body.read()

    connection = serve(reactor, pool, app, locateBeforeBody=True)
    connection.send(HEAD10 + b"hello")
    reactor.runUntil(lambda: b"got hello;" in connection.transport.value())
    assert not connection.answered()
    connection.send(b"world")
    assert connection.response().body == b"got hello;then world"


def test_streamedInputNotBuffered(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A streamed body is not stored in request.content, and a slow reader
    pauses the upload past the high-water mark, resuming it as it reads.
    """
    proceed = threading.Event()
    total = [0]

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        proceed.wait(DEADLINE)
        while True:
            data = environ["wsgi.input"].read(65536)
            if not data:
                break
            total[0] += len(data)
        startResponse("200 OK", [])
        return [b"%d" % total[0]]

    size = 3 * INPUT_HIGH_WATER
    connection = serve(reactor, pool, app, locateBeforeBody=True)
    connection.send(
        b"PUT / HTTP/1.1\r\nHost: example.com\r\nContent-Length: %d\r\n\r\n" % size
    )
    piece = b"p" * 65536
    sent = 0
    while connection.transport.producerState == "producing" and sent < size:
        connection.send(piece)
        sent += len(piece)
    assert connection.transport.producerState == "paused"
    assert sent <= INPUT_HIGH_WATER + len(piece)
    proceed.set()
    reactor.runUntil(lambda: connection.transport.producerState == "producing")
    while sent < size:
        reactor.runUntil(lambda: connection.transport.producerState == "producing")
        connection.send(piece)
        sent += len(piece)
    assert connection.response(b"PUT").body == b"%d" % size


def test_streamedAppDoneBeforeBody(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    An application that answers without reading the body has its response
    finished only once the body is complete (the rest being discarded), so
    the next request on the connection is read correctly.
    """
    connection = serve(reactor, pool, Recorder(b"early"), locateBeforeBody=True)
    connection.send(HEAD10 + b"12345")
    # The whole response is on the wire at once (with its Content-Length),
    # but the rest of the body is still read as body, not as a request.
    reactor.runUntil(lambda: b"early" in connection.transport.value())
    reactor.runFor(0.05)
    connection.send(b"67890" + request(b"GET"))
    first, second = connection.responses([b"PUT", b"GET"])
    assert first.body == second.body == b"early"


def test_streamedErrorAfterBody(
    reactor: ThreadedReactor, pool: ThreadPool, logged: list[LogEvent]
) -> None:
    """
    An application failing before the body is complete gets its 500 sent
    once the body is complete.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        raise RuntimeError("failed early")

    connection = serve(reactor, pool, app, locateBeforeBody=True)
    connection.send(HEAD10 + b"12345")
    reactor.runFor(0.1)
    assert connection.transport.value() == b""
    connection.send(b"67890")
    assert connection.response(b"PUT").status == 500
    assert "failed early" in logText(logged)


def test_streamedInputClientGone(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A client going away mid-body makes the blocked read raise
    ClientDisconnected (an OSError); the iterable is closed.
    """
    raised: list[BaseException] = []
    done = threading.Event()

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        try:
            environ["wsgi.input"].read(10)
        except OSError as error:
            raised.append(error)
        done.set()
        startResponse("200 OK", [])
        return []

    connection = serve(reactor, pool, app, locateBeforeBody=True)
    connection.send(HEAD10 + b"12345")
    reactor.runFor(0.05)
    connection.disconnect()
    assert done.wait(DEADLINE)
    assert isinstance(raised[0], ClientDisconnected)


def test_streamedHeadWithoutBody(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    On a site locating resources before the body, requests without a body
    are answered as usual.
    """
    app = Recorder(b"plain", readBody=True)
    connection = serve(reactor, pool, app, locateBeforeBody=True)
    connection.send(request())
    assert connection.response().body == b"plain"
    assert app.received == b""
    assert "CONTENT_LENGTH" not in app.environ


# -- StreamingInput on its own -------------------------------------------------------


class UploadRequest:
    """Records pauseUpload and resumeUpload calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def pauseUpload(self) -> None:
        self.calls.append("pause")

    def resumeUpload(self) -> None:
        self.calls.append("resume")


def test_streamingInputBlocksUntilData() -> None:
    """
    A read waits in its thread until enough of the body has been fed, or the
    body ends.
    """
    uploads = UploadRequest()
    body = StreamingInput(uploads, lambda f: f())
    results: list[bytes] = []
    reader = threading.Thread(
        target=lambda: results.extend([body.read(6), body.read()])
    )
    reader.start()
    body.feed(b"abc")
    time.sleep(0.05)
    assert results == []
    body.feed(b"defgh")
    body.end()
    reader.join(DEADLINE)
    assert results == [b"abcdef", b"gh"]


def test_streamingInputAbort() -> None:
    """
    After abort, what was fed can still be read whole, and a read wanting
    more raises ClientDisconnected.
    """
    body = StreamingInput(UploadRequest(), lambda f: f())
    body.feed(b"line\npart")
    body.abort()
    assert body.readline() == b"line\n"
    with pytest.raises(ClientDisconnected):
        body.readline()
    with pytest.raises(ClientDisconnected):
        body.read()


def test_streamingInputPauseAndResume() -> None:
    """
    Past the high-water mark the upload is paused; reading it down resumes it
    (from the reactor thread); discarding resumes it too.
    """
    uploads = UploadRequest()
    calls: list[Any] = []
    body = StreamingInput(uploads, calls.append)
    immediate = StreamingInput(uploads, lambda f: f())
    piece = b"q" * 65536
    for _ in range(INPUT_HIGH_WATER // len(piece) + 1):
        body.feed(piece)
    assert uploads.calls == ["pause"]
    body.read(len(piece))
    assert calls == []
    body.read(INPUT_HIGH_WATER - INPUT_LOW_WATER + 1)
    assert len(calls) == 1
    calls[0]()
    assert uploads.calls == ["pause", "resume"]
    for _ in range(INPUT_HIGH_WATER // len(piece) + 1):
        body.feed(piece)
    assert uploads.calls == ["pause", "resume", "pause"]
    body.discard()
    assert uploads.calls == ["pause", "resume", "pause", "resume"]
    body.feed(b"dropped")
    assert body.read() == b""
    uploads.calls.clear()
    for _ in range(INPUT_HIGH_WATER // len(piece) + 1):
        immediate.feed(piece)
    immediate.read(INPUT_HIGH_WATER)
    assert uploads.calls == ["pause", "resume"]


def test_streamingInputReadlineLimit() -> None:
    """readline(n) stops at n bytes even without a newline in sight."""
    body = StreamingInput(UploadRequest(), lambda f: f())
    body.feed(b"abc")
    body.feed(b"defgh")
    assert body.readline(0) == b""
    assert body.readline(5) == b"abcde"
    body.feed(b"\nxy")
    assert body.readline() == b"fgh\n"
    body.end()
    assert body.readlines() == [b"xy"]


def test_exchangeRefusesIllegalTransition() -> None:
    """
    A move that the WSGI exchange's state diagram does not have (a finished
    response running again, a gone client's response finishing) is refused
    loudly rather than carried out.
    """
    for final in (ExchangeState.DONE, ExchangeState.GONE):
        exchange = Exchange.__new__(Exchange)
        exchange.state = final
        for target in ExchangeState:
            with pytest.raises(RuntimeError, match="bad WSGI exchange transition"):
                exchange._moveTo(target)
            assert exchange.state is final


def test_exchangeFinishedThenClientGone(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """
    A client that goes away after its response was finished changes nothing:
    the exchange stays done.
    """
    seen: list[Exchange] = []

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [])
        return [b"x"]

    wsgiResource = wsgi.WSGIResource(reactor, pool, app)
    makeExchange = wsgiResource._exchange

    def recording(request: Any, streaming: bool) -> Exchange:
        seen.append(makeExchange(request, streaming))
        return seen[-1]

    wsgiResource._exchange = recording  # type: ignore[method-assign]
    connection = Connection(reactor, wsgiResource)
    connection.send(request())
    assert connection.response().body == b"x"
    [exchange] = seen
    assert exchange.state is ExchangeState.DONE
    exchange.stopProducing()
    assert exchange.state is ExchangeState.DONE
    assert wsgiResource._active == set()
