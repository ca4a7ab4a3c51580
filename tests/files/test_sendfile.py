"""
Tests for sending large static files with C{os.sendfile}: over plain TCP the
body goes from the file to the socket without passing through Python, still
driven by the connection's back-pressure; everywhere else (TLS, a content
coding, multipart ranges, a File subclass's own way of opening) it is read
and written as before.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_static import Client, pattern, write
from twisted.internet.testing import MemoryReactorClock

from twisted_web_re import static
from twisted_web_re._files.producer import BLOCK_SIZE, FileProducer
from twisted_web_re._protocols.sendfile import WAITING
from twisted_web_re._wire.writer import ResponseWriter

BIG = 10 * 1024 * 1024

_SERVER = """
import sys
from twisted.internet import reactor
from twisted_web_re import server, static
static.File.useSendfile = True
site = server.Site(static.File(sys.argv[1]))
port = reactor.listenTCP(0, site, interface="127.0.0.1")
print("PORT", port.getHost().port, flush=True)
reactor.run()
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, int, bytes]]:
    """A server process publishing a 10 MiB file: its port, pid and content."""
    root = tmp_path_factory.mktemp("sendfile")
    content = pattern(BIG)
    write(root / "big.bin", content)
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(b"PORT "), line
        yield int(line.split()[1]), process.pid, content
    finally:
        process.kill()
        process.wait(timeout=10)


def openFiles(pid: int) -> int:
    """The descriptors process C{pid} has open."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def residentKiB(pid: int) -> int:
    """The resident memory of process C{pid}, in KiB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def connect(port: int) -> socket.socket:
    """A client socket with a small receive buffer, asking for big.bin."""
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    client.settimeout(20)
    client.connect(("127.0.0.1", port))
    client.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    return client


pytestmark = pytest.mark.skipif(
    not hasattr(os, "sendfile") or not os.path.isdir("/proc/self/fd"),
    reason="needs os.sendfile and /proc",
)


def test_slowReaderGetsEveryByte(live: tuple[int, int, bytes]) -> None:
    """
    A client that reads slowly, and stops reading for a while, gets the
    whole 10 MiB file byte for byte; meanwhile the server holds no more
    than a few blocks of it in memory.
    """
    port, pid, content = live
    before = residentKiB(pid)
    client = connect(port)
    try:
        received = bytearray()
        deadline = time.monotonic() + 60
        # Stalled: the server must wait, not buffer the file.
        time.sleep(0.5)
        grown = residentKiB(pid) - before
        while b"\r\n\r\n" not in received or len(received) < received.index(
            b"\r\n\r\n"
        ) + 4 + len(content):
            assert time.monotonic() < deadline, len(received)
            data = client.recv(64 * 1024)
            assert data, len(received)
            received += data
            if len(received) < 2 * 1024 * 1024:
                time.sleep(0.001)
    finally:
        client.close()
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert hashlib.sha256(body).digest() == hashlib.sha256(content).digest()
    assert grown < 4 * 1024, f"the server grew {grown} KiB for a stalled client"


def test_disconnectMidFileLeaksNothing(live: tuple[int, int, bytes]) -> None:
    """
    Clients that go away in the middle of the file leave no descriptor
    open in the server.
    """
    port, pid, _ = live
    baseline = openFiles(pid)
    for _ in range(5):
        client = connect(port)
        assert client.recv(256 * 1024)
        client.close()
    deadline = time.monotonic() + 20
    while openFiles(pid) > baseline:
        assert time.monotonic() < deadline, (openFiles(pid), baseline)
        time.sleep(0.05)


class Sender:
    """
    A stand-in for C{HTTPChannel.sendFileRegion}: sends to C{wire} what
    each entry of C{plan} says (0: cannot now), recording what was asked.
    """

    def __init__(self, plan: list[int], body: bytes, wire: bytearray) -> None:
        self.plan = plan
        self.body = body
        self.sent = wire
        self.asked: list[tuple[int, int]] = []
        self.onWait: Callable[[], None] | None = None

    def __call__(self, fd: int, offset: int, count: int) -> int:
        self.asked.append((offset, count))
        n = min(self.plan.pop(0), count) if self.plan else 0
        if n == WAITING:
            assert self.onWait is not None
            self.onWait()
            return WAITING
        self.sent += self.body[offset : offset + n]
        return n


class Written:
    """A request that records its body and end."""

    def __init__(self) -> None:
        self.body = bytearray()
        self.finished = False
        self.cut = False

    def registerProducer(self, producer: object, streaming: bool) -> None:
        pass

    def unregisterProducer(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        self.body += data

    def finish(self) -> None:
        self.finished = True

    def abortConnection(self) -> None:
        self.cut = True


def test_producerMixesSentAndWritten(tmp_path: Path) -> None:
    """
    The producer sends what the channel takes straight from the file and
    reads and writes the rest from the right offset, so the body is whole
    and in order, whatever mix of the two the connection allows.
    """
    content = pattern(5 * BLOCK_SIZE + 123)
    path = write(tmp_path / "f.bin", content)
    request = Written()
    sender = Sender([1000, 0, 0, 70000, 5, 0], content, request.body)
    clock = MemoryReactorClock()
    with open(path, "rb", buffering=0) as opened:
        producer = FileProducer(
            request,  # type: ignore[arg-type]
            opened,
            ((100, len(content) - 1),),
            clock,
            sender,
        )
        producer.start()
        for _ in range(100):
            if request.finished:
                break
            clock.advance(0)
        assert request.finished and not request.cut
    # The channel's sends and the request's writes share the one wire.
    assert bytes(request.body) == content[100:]
    assert sender.asked[0] == (100, len(content) - 100)
    assert len(sender.asked) > 6


def test_producerSendsAShrunkFileCut(tmp_path: Path) -> None:
    """
    A file that shrank is cut, not padded, when the channel sends it: the
    send stops at its end, and the read that follows finds it.
    """
    content = pattern(3 * BLOCK_SIZE)
    path = write(tmp_path / "f.bin", content)
    request = Written()
    clock = MemoryReactorClock()
    with open(path, "rb", buffering=0) as opened:
        os.truncate(path, BLOCK_SIZE)
        sender = Sender([BLOCK_SIZE, 0, 0, 0], content, request.body)
        FileProducer(
            request,  # type: ignore[arg-type]
            opened,
            ((0, len(content) - 1),),
            clock,
            sender,
        ).start()
        for _ in range(10):
            clock.advance(0)
    assert request.body == content[:BLOCK_SIZE]
    assert request.cut and not request.finished


def test_producerWaitsForRoom(tmp_path: Path) -> None:
    """
    When the socket is full the channel pauses the producer and says so:
    the producer then neither reads nor writes the file (no copy of it
    through Python) until the channel resumes it, and carries on from where
    the last send ended.
    """
    content = pattern(4 * BLOCK_SIZE)
    path = write(tmp_path / "f.bin", content)
    request = Written()
    clock = MemoryReactorClock()
    sender = Sender([BLOCK_SIZE, WAITING], content, request.body)
    with open(path, "rb", buffering=0) as opened:
        producer = FileProducer(
            request,  # type: ignore[arg-type]
            opened,
            ((0, len(content) - 1),),
            clock,
            sender,
        )
        sender.onWait = producer.pauseProducing
        producer.start()
        for _ in range(10):
            clock.advance(0)
        # Sent the first block, then waited: nothing read meanwhile.
        assert bytes(request.body) == content[:BLOCK_SIZE]
        assert sender.asked[-1] == (BLOCK_SIZE, 3 * BLOCK_SIZE)
        assert opened.tell() == 0 and not request.finished
        producer.resumeProducing()
        for _ in range(10):
            clock.advance(0)
        assert request.finished and not request.cut
    assert bytes(request.body) == content


def test_writerAllowance() -> None:
    """
    Raw body bytes are allowed only once the head is out, for a body framed
    by its length, and no more than that length; they count as sent.
    """
    writer = ResponseWriter(b"test")
    writer.reset(b"HTTP/1.1", b"GET", True)
    writer.commit(200, b"OK", {b"content-length": [b"10"]}, [])
    assert writer.rawAllowance(100) == 0
    writer.head(None)
    assert writer.rawAllowance(100) == 10
    writer.sentRaw(4)
    assert (writer.rawAllowance(100), writer.sent) == (6, 4)
    chunked = ResponseWriter(b"test")
    chunked.reset(b"HTTP/1.1", b"GET", True)
    chunked.commit(200, b"OK", {}, [])
    chunked.head(None)
    assert chunked.chunked and chunked.rawAllowance(100) == 0
    head = ResponseWriter(b"test")
    head.reset(b"HTTP/1.1", b"HEAD", True)
    head.commit(200, b"OK", {b"content-length": [b"10"]}, [])
    head.head(None)
    assert head.rawAllowance(100) == 0


def test_notOverAStringTransport(tmp_path: Path) -> None:
    """
    A channel whose transport is not a plain TCP connection (TLS, a test
    transport) sends nothing straight: the file is read and written.
    """
    content = pattern(static.SMALL_FILE * 3)
    write(tmp_path / "big.bin", content)
    response = Client(static.File(str(tmp_path))).request(b"/big.bin")
    assert response.body == content


def test_senderOnlyForPlainBodies(tmp_path: Path) -> None:
    """
    The straight send is offered only when C{useSendfile} is set, and then
    for one span of a File's own file, never
    with a content coding, for a multipart body, or for a subclass that
    opens files its own way.
    """

    class Channel:
        def sendFileRegion(self, fd: int, offset: int, count: int) -> int:
            return 0

    class Request:
        channel = Channel()

    class Own(static.File):
        def openForReading(self) -> io.BufferedReader:
            return open(self.path, "rb")

    plain = static.File(str(tmp_path))
    request = Request()
    one = ((0, 9),)
    assert plain._sender(request, None, one) is None  # type: ignore[arg-type]
    plain.useSendfile = True
    assert plain._sender(request, None, one) is not None  # type: ignore[arg-type]
    assert plain._sender(request, b"gzip", one) is None  # type: ignore[arg-type]
    assert plain._sender(request, None, (b"--x", (0, 9))) is None  # type: ignore[arg-type]
    own = Own(str(tmp_path))
    own.useSendfile = True
    assert own._sender(request, None, one) is None  # type: ignore[arg-type]


class _Transport:
    """The parts of a TCP transport C{sendFileRegion} looks at."""

    _tempDataLen = 0
    dataBuffer = b""
    connected = True
    disconnecting = False
    _writeDisconnected = False
    producerPaused = False
    writing = False

    def fileno(self) -> int:
        return 99

    def startWriting(self) -> None:
        self.writing = True


class _Output:
    _direct = True
    _held = None

    def __init__(self) -> None:
        self._transport = _Transport()


class _Channel:
    """The parts of an C{HTTPChannel} C{sendFileRegion} uses."""

    _request = None

    def __init__(self, length: int) -> None:
        self._out = _Output()
        self._writer = ResponseWriter(b"test")
        self._writer.reset(b"HTTP/1.1", b"GET", True)
        self._writer.commit(200, b"OK", {b"content-length": [b"%d" % length]}, [])
        self._writer.head(None)
        self.paused = False

    def pauseProducing(self) -> None:
        self.paused = True


def test_sendFileRegionBoundedAndWaits(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    One C{sendfile} call is asked for no more than
    L{sendfile.MAX_CHUNK} bytes (so that one connection cannot hold the
    reactor for a whole file); a full socket pauses the channel's producer
    and has the transport watch for room, and says L{WAITING}.
    """
    from twisted_web_re._protocols import sendfile

    asked: list[int] = []
    full = False

    def fakeSendfile(out: int, fd: int, offset: int, count: int) -> int:
        asked.append(count)
        if full:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        return count

    monkeypatch.setattr(sendfile.os, "sendfile", fakeSendfile)
    channel = _Channel(BIG)
    assert sendfile.sendFileRegion(channel, 5, 0, BIG) == sendfile.MAX_CHUNK
    assert asked == [sendfile.MAX_CHUNK]
    full = True
    assert sendfile.sendFileRegion(channel, 5, 0, BIG) == WAITING
    transport = channel._out._transport
    assert channel.paused and transport.producerPaused and transport.writing
