"""
Tests for request bodies that cannot be stored: a full disk (or a quota, or a
file size limit) met while spooling a body is answered 507 at once (500 for
any other storage failure), the connection is closed without reading the rest
of the body as requests, every temporary file is released at once, and one
line is logged.

The disk is faked: C{tempfile.TemporaryFile}, which the body spool, the
chunked body's spool on rollover and the form parser's file parts all use, is
replaced by L{FullDisk}, whose files take a few bytes and then fail.
"""

from __future__ import annotations

import errno
import gc
import os
import tempfile
import weakref
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogEvent, LogLevel

from twisted_web_re import http, resource, server, twcgi, wsgi
from twisted_web_re._publish.forms import FormLimits
from twisted_web_re._publish.spool import BodyStorageError, closeQuietly, storageError

SCRIPTS = Path(__file__).resolve().parent.parent / "cgi-scripts"

#: A body larger than the default bodyMemoryLimit (256 KiB), so it is spooled.
BIG = 300 * 1024


class FullFile(BytesIO):
    """
    A temporary file on a disk with room for C{room} bytes: a write past them
    fails with C{errnum}, as the kernel's C{write(2)} does.
    """

    def __init__(self, room: int, errnum: int) -> None:
        super().__init__()
        self.room = room
        self.errnum = errnum

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.room:
            raise OSError(self.errnum, os.strerror(self.errnum))
        return super().write(data)


class FullDisk:
    """
    Replaces C{tempfile.TemporaryFile}: each file made has room for C{room}
    bytes; with C{failCreate}, making one fails instead.  Only weak references
    to the files are kept, so a test can tell whether anything else holds them.
    """

    def __init__(self, room: int, errnum: int = errno.ENOSPC) -> None:
        self.room = room
        self.errnum = errnum
        self.failCreate = False
        self.files: list[weakref.ref[FullFile]] = []

    def __call__(self, *args: object, **kwargs: object) -> FullFile:
        if self.failCreate:
            raise OSError(self.errnum, os.strerror(self.errnum))
        file = FullFile(self.room, self.errnum)
        self.files.append(weakref.ref(file))
        return file

    def allReleased(self) -> bool:
        """Whether every file made is closed or gone."""
        return all(ref() is None or ref().closed for ref in self.files)  # type: ignore[union-attr]


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> FullDisk:
    """A full disk for temporary files, with room for 64 KiB per file."""
    fake = FullDisk(64 * 1024)
    monkeypatch.setattr(tempfile, "TemporaryFile", fake)
    return fake


def errorsLogged(events: list[LogEvent]) -> list[LogEvent]:
    """The events of level warning and above, and any carrying a failure."""
    return [
        event
        for event in events
        if event.get("log_failure") is not None
        or event["log_level"] in (LogLevel.warn, LogLevel.error, LogLevel.critical)
    ]


class Recording(http.Request):
    """A protocol-level request that records whether it was processed."""

    processed: list[bytes] = []

    def process(self) -> None:
        Recording.processed.append(self.uri)
        self.setHeader(b"content-type", b"text/plain")
        self.write(b"stored %d bytes" % len(self.content.read()))  # type: ignore[union-attr]
        self.finish()


def protocolConnection() -> tuple[http.HTTPChannel, StringTransport]:
    """A bare HTTP channel, answering with L{Recording}, on a fake connection."""
    Recording.processed = []
    factory = http.HTTPFactory(reactor=MemoryReactorClock())
    channel = factory.buildProtocol(None)
    channel.requestFactory = Recording
    transport = StringTransport()
    channel.makeConnection(transport)
    return channel, transport


def siteConnection(
    root: resource.Resource, locateBeforeBody: bool = False
) -> tuple[Any, StringTransport]:
    """A L{server.Site} serving C{root} on a fake connection."""
    site = server.Site(root, reactor=Clock())
    site.locateBeforeBody = locateBeforeBody
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    return channel, transport


def post(path: bytes, length: int, extra: bytes = b"") -> bytes:
    """The head of a POST of C{length} bytes to C{path}."""
    return b"POST %s HTTP/1.1\r\nHost: example.com\r\nContent-Length: %d\r\n%s\r\n" % (
        path,
        length,
        extra,
    )


def assertAnswered(transport: StringTransport, status: bytes) -> bytes:
    """
    Check that the only response is a C{status} error page, with the
    connection closing; return the page.
    """
    value = transport.value()
    assert value.startswith(b"HTTP/1.1 " + status + b" "), value[:200]
    assert value.count(b"HTTP/1.1 ") == 1, value
    assert b"\r\nConnection: close\r\n" in value
    assert transport.disconnecting
    return value.split(b"\r\n\r\n", 1)[1]


def test_fullDiskWhileSpoolingAnswers507(
    disk: FullDisk, logged: list[LogEvent]
) -> None:
    """
    When the disk fills while a large body is being spooled, the client gets
    507 Insufficient Storage with a page saying why, at once and while it is
    still sending; the connection closes, and what the client sends next
    (here the rest of the body, shaped like a request) is never taken for a
    request.  The spool file is closed at once, and one line is logged, with
    no traceback.
    """
    channel, transport = protocolConnection()
    channel.dataReceived(post(b"/big", BIG, b"Expect: 100-continue\r\n"))
    assert transport.value() == b"HTTP/1.1 100 Continue\r\n\r\n"
    transport.clear()
    channel.dataReceived(b"x" * (64 * 1024))
    assert transport.value() == b""
    channel.dataReceived(b"x" * 1024)
    body = assertAnswered(transport, b"507")
    assert body == (
        b"507 Insufficient Storage: the server has no room to store the request body\n"
    )
    assert disk.allReleased()
    transport.clear()
    channel.dataReceived(b"GET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert transport.value() == b""
    assert Recording.processed == []
    errors = errorsLogged(logged)
    assert len(errors) == 1, errors
    assert errors[0].get("log_failure") is None
    assert "[Errno 28]" in errors[0]["problem"]
    assert errors[0]["status"] == 507


def test_spoolFileReleasedWithoutGarbageCollection(disk: FullDisk) -> None:
    """
    Nothing keeps the failed spool file (or its request) alive: it is freed
    the moment the error is answered, not when the garbage collector next
    runs, so a later upload finds the space free.
    """
    gc.collect()
    gc.disable()
    try:
        channel, transport = protocolConnection()
        channel.dataReceived(post(b"/big", BIG))
        request = weakref.ref(channel._request)
        channel.dataReceived(b"x" * (65 * 1024))
        assertAnswered(transport, b"507")
        channel.connectionLost(None)
        assert [ref() for ref in disk.files] == [None]
        assert request() is None
    finally:
        gc.enable()


def test_laterUploadSucceeds(disk: FullDisk) -> None:
    """
    Once there is room again, the next upload (on a new connection) is
    stored and answered as usual.
    """
    channel, transport = protocolConnection()
    channel.dataReceived(post(b"/big", BIG) + b"x" * BIG)
    assertAnswered(transport, b"507")
    disk.room = BIG
    channel, transport = protocolConnection()
    channel.dataReceived(post(b"/next", BIG) + b"y" * BIG)
    assert transport.value().startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.value().endswith(b"stored %d bytes" % BIG)
    assert Recording.processed == [b"/next"]


@pytest.mark.parametrize(
    ("errnum", "status"),
    [
        (errno.ENOSPC, b"507"),
        (errno.EDQUOT, b"507"),
        (errno.EFBIG, b"507"),
        (errno.EIO, b"500"),
    ],
)
def test_statusByCause(disk: FullDisk, errnum: int, status: bytes) -> None:
    """
    A full disk, an exhausted quota and a file size limit are answered 507;
    any other failure to store the body (an I/O error, say) 500.
    """
    disk.errnum = errnum
    channel, transport = protocolConnection()
    channel.dataReceived(post(b"/big", BIG) + b"x" * BIG)
    assertAnswered(transport, status)
    assert disk.allReleased()


class EarlyAnswer(http.Request):
    """Starts streaming its answer before its body has all arrived."""

    def handleContentChunk(self, data: bytes) -> None:
        if not self.startedWriting:
            self.write(b"early")
        super().handleContentChunk(data)


def test_answerAlreadyStartedIsNotFollowedByErrorPage(disk: FullDisk) -> None:
    """
    When part of an answer has already gone out as the body fails to be
    stored, no error page is appended to it: the connection is just closed,
    and the spool file released.
    """
    channel, transport = protocolConnection()
    channel.requestFactory = EarlyAnswer
    channel.dataReceived(post(b"/big", BIG) + b"x" * BIG)
    value = transport.value()
    assert value.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"507" not in value
    assert transport.disconnecting
    assert disk.allReleased()


def test_temporaryFileCannotBeMade(disk: FullDisk) -> None:
    """
    When not even the temporary file can be made, the client is answered
    507 instead of C{100 Continue}, before it sends its body.
    """
    disk.failCreate = True
    channel, transport = protocolConnection()
    channel.dataReceived(post(b"/big", BIG, b"Expect: 100-continue\r\n"))
    assertAnswered(transport, b"507")
    assert b"100 Continue" not in transport.value()


def test_chunkedBodyRollover(disk: FullDisk) -> None:
    """
    A chunked body, held in memory until it grows past the memory limit,
    fails as cleanly when moving it to disk finds the disk full.
    """
    channel, transport = protocolConnection()
    channel.dataReceived(
        b"POST /big HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"x" * 4096
    for _ in range(80):
        channel.dataReceived(b"%x\r\n%s\r\n" % (len(piece), piece))
        if transport.value():
            break
    assertAnswered(transport, b"507")
    assert len(disk.files) == 1
    assert disk.allReleased()


class FormReader(resource.Resource):
    """Answers with the names of the form's files."""

    isLeaf = True

    def render_POST(self, request: Any) -> bytes:
        return b",".join(sorted(request.files))


def test_multipartFormPart(disk: FullDisk) -> None:
    """
    A multipart form whose file part is spooled to a full disk is answered
    507, and both the body's file and the part's are released; the resource
    is never rendered.
    """
    root = resource.Resource()
    root.putChild(b"form", FormReader())
    channel, transport = siteConnection(root)
    channel.site.formLimits = FormLimits(spoolSize=1024)
    disk.room = 16 * 1024
    head = (
        b"--XX\r\nContent-Disposition: form-data; name=f; filename=a.bin\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    length = len(head) + 100 * 1024 + len(b"\r\n--XX--\r\n")
    channel.dataReceived(
        post(b"/form", length, b"Content-Type: multipart/form-data; boundary=XX\r\n")
        + head
    )
    for _ in range(25):
        channel.dataReceived(b"x" * 4096)
    assertAnswered(transport, b"507")
    assert len(disk.files) == 1
    assert disk.allReleased()
    assert channel._request is None


def test_multipartBodySpool(disk: FullDisk) -> None:
    """
    A large multipart form whose whole body cannot be spooled is answered
    507 too, and the part file the parser had opened is closed.
    """
    root = resource.Resource()
    root.putChild(b"form", FormReader())
    channel, transport = siteConnection(root)
    head = b"--XX\r\nContent-Disposition: form-data; name=f; filename=a.bin\r\n\r\n"
    channel.dataReceived(
        post(b"/form", BIG, b"Content-Type: multipart/form-data; boundary=XX\r\n")
        + head
        + b"x" * (BIG - len(head))
    )
    assertAnswered(transport, b"507")
    assert disk.allReleased()


class NeverPool:
    """A thread pool that records, and never runs, what it is given."""

    def __init__(self) -> None:
        self.calls: list[object] = []

    def callInThread(self, f: Callable[..., object], *args: object) -> None:
        self.calls.append(f)


def test_wsgiBody(disk: FullDisk) -> None:
    """
    The body of a request to a WSGI application, spooled before the
    application runs, is answered 507 when the disk is full; the application
    is never started.
    """
    pool = NeverPool()
    called: list[object] = []

    def app(environ: Any, startResponse: Any) -> list[bytes]:
        called.append(environ)
        startResponse("200 OK", [])
        return [b""]

    root = resource.Resource()
    root.putChild(b"app", wsgi.WSGIResource(MemoryReactorClock(), pool, app))
    channel, transport = siteConnection(root)
    channel.dataReceived(post(b"/app", BIG) + b"x" * BIG)
    assertAnswered(transport, b"507")
    assert pool.calls == [] and called == []
    assert disk.allReleased()


class SpawnRecorder(MemoryReactorClock):
    """A reactor that records, and never runs, the programs it is asked to."""

    def __init__(self) -> None:
        super().__init__()
        self.spawned: list[tuple[object, ...]] = []

    def spawnProcess(self, *args: object, **kwargs: object) -> None:
        self.spawned.append(args)


@pytest.mark.parametrize("streaming", [False, True])
def test_cgiBody(disk: FullDisk, streaming: bool) -> None:
    """
    The body of a request to a CGI program, spooled before the program runs
    (a body of known length by default; a chunked one when bodies stream to
    programs, so that CONTENT_LENGTH can be given), is answered 507 when the
    disk is full; the program is never started.
    """
    reactor = SpawnRecorder()
    root = resource.Resource()
    root.putChild(
        b"echo.py", twcgi.CGIScript(str(SCRIPTS / "echo.py"), reactor=reactor)
    )
    channel, transport = siteConnection(root, locateBeforeBody=streaming)
    if streaming:
        channel.dataReceived(
            b"POST /echo.py HTTP/1.1\r\nHost: example.com\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        piece = b"x" * 4096
        for _ in range(80):
            channel.dataReceived(b"%x\r\n%s\r\n" % (len(piece), piece))
    else:
        channel.dataReceived(post(b"/echo.py", BIG) + b"x" * BIG)
    assertAnswered(transport, b"507")
    assert reactor.spawned == []
    assert disk.allReleased()


def test_storageErrorNamesNoPath() -> None:
    """
    What the client is told names no file and no system detail; the
    system's explanation is kept for the log.
    """
    error = storageError(OSError(errno.ENOSPC, "No space left", "/tmp/secret"))
    assert isinstance(error, BodyStorageError)
    assert (error.status, error.reason) == (
        507,
        "the server has no room to store the request body",
    )
    assert "secret" not in error.reason
    assert error.problem == "[Errno 28] No space left"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_closeQuietlyReleasesDescriptor() -> None:
    """
    A buffered file whose pending data cannot be written when it is closed
    (C{/dev/full} is always full) still has its descriptor closed, and the
    failure is not raised to the caller.
    """
    file = open("/dev/full", "wb")
    fd = file.fileno()
    file.write(b"pending")
    closeQuietly(file)
    assert file.closed
    with pytest.raises(OSError):
        os.fstat(fd)
