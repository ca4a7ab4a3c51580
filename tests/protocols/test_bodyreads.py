"""
Tests for the wider reads an HTTP/1.1 connection makes while a large request
body arrives (L{twisted_web_re._protocols.bodyreads}): over a real loopback
TCP connection whose reads are driven by hand, so that each C{recv} the
transport makes is seen, and its size.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from io import BytesIO
from typing import Any

import pytest
from _httpparse import Response, Server, parseResponses
from twisted.internet import tcp
from twisted.internet.protocol import Protocol
from twisted.internet.testing import StringTransport

from twisted_web_re._protocols.bodyreads import (
    WIDE_BODY,
    WIDE_READ,
    widenReads,
)

#: The transport's own read size (Twisted's default).
NARROW_READ = 64 * 1024

#: Rounds of send-then-read a test may take before it is called stuck.
MAX_ROUNDS = 10_000


def pattern(size: int) -> bytes:
    """A body of C{size} bytes in which every offset is told apart."""
    block = bytes(range(251)) * (size // 251 + 1)
    return block[:size]


def post(body: bytes) -> bytes:
    """A POST of C{body}, framed by its Content-Length."""
    return b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


class Loopback:
    """
    A server connection over real loopback TCP: the client's socket, and the
    channel's Twisted TCP transport, whose reads the test drives with
    L{pump}.

    @ivar reads: the size of every read the transport handed to the channel.
    """

    def __init__(self, **factoryArgs: Any) -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        self.client = socket.create_connection(listener.getsockname(), timeout=5)
        accepted, peer = listener.accept()
        listener.close()
        accepted.setblocking(False)
        # A fixed size (the kernel doubles it), so that autotuning cannot
        # change it while a test runs.
        accepted.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 100_000)
        self.client.setblocking(False)
        self.server = Server(**factoryArgs)
        self.transport = tcp.Server(
            accepted,
            Protocol(),
            peer,
            None,  # type: ignore[arg-type]
            0,
            self.server.clock,
        )
        channel = self.server.channel
        self.transport.protocol = channel
        self.reads: list[int] = []
        received = channel.dataReceived

        def dataReceived(data: bytes) -> None:
            self.reads.append(len(data))
            received(data)

        channel.dataReceived = dataReceived  # type: ignore[method-assign]
        channel.makeConnection(self.transport)
        self.rcvbuf = self.socketRcvbuf()

    def socketRcvbuf(self) -> int:
        """The receive buffer the kernel now gives the server's socket."""
        return self.transport.getHandle().getsockopt(
            socket.SOL_SOCKET, socket.SO_RCVBUF
        )

    def pump(self, data: bytes, *, sendAtOnce: int = WIDE_READ) -> None:
        """
        Send C{data} from the client, up to C{sendAtOnce} bytes before each
        round of reads, and read on the server until nothing is left.
        """
        view = memoryview(data)
        sent = 0
        for _ in range(MAX_ROUNDS):
            if sent < len(view):
                try:
                    sent += self.client.send(view[sent : sent + sendAtOnce])
                except BlockingIOError:
                    pass
            before = len(self.reads)
            self.transport.doRead()
            while len(self.reads) > before:
                before = len(self.reads)
                self.transport.doRead()
            if sent == len(view) and not self._pending():
                return
        raise AssertionError(f"stuck after sending {sent} of {len(view)} bytes")

    def _pending(self) -> bool:
        """Whether the server's socket has bytes still to read."""
        try:
            return bool(
                self.transport.getHandle().recv(
                    1, socket.MSG_PEEK | socket.MSG_DONTWAIT
                )
            )
        except BlockingIOError:
            return False

    def responses(self) -> list[Response]:
        """Send what the server wrote, and parse all the client received."""
        received = b""
        for _ in range(MAX_ROUNDS):
            if self.transport.dataBuffer or self.transport._tempDataBuffer:
                self.transport.doWrite()
            try:
                data = self.client.recv(1 << 20)
            except BlockingIOError:
                if not (self.transport.dataBuffer or self.transport._tempDataBuffer):
                    return parseResponses(received)
                continue
            if not data:
                return parseResponses(received)
            received += data
        raise AssertionError("responses still arriving")

    def close(self) -> None:
        """Close both ends."""
        self.client.close()
        self.transport.socket.close()


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    """A loopback connection to a server that echoes each request's body."""
    connection = Loopback(maxBodySize=None)
    yield connection
    connection.close()


def test_largeBodyReadWideThenNarrow(loopback: Loopback) -> None:
    """
    A body of a known, large length is read in reads wider than the
    transport's own, none wider than L{WIDE_READ}, and arrives whole; once it
    has, the transport reads with its own size again, and the socket has its
    own receive buffer back.
    """
    body = pattern(2 * WIDE_BODY + 12345)
    loopback.pump(post(body))
    assert max(loopback.reads) > NARROW_READ
    assert max(loopback.reads) <= WIDE_READ
    assert loopback.server.contentAtProcess == [(0, body)]
    # Over the body memory limit: spooled to a temporary file, as ever.
    assert not isinstance(loopback.server.requests[0].content, BytesIO)
    assert loopback.transport.bufferSize == NARROW_READ
    assert loopback.socketRcvbuf() == loopback.rcvbuf
    [response] = loopback.responses()
    assert response.status == 200
    assert response.body == b"POST /up\n" + body


def test_bodyWidenedOnlyWhileItArrives(loopback: Loopback) -> None:
    """
    While the body arrives the reads are wide, and the socket's receive
    buffer is larger; before the last L{WIDE_READ} bytes of the body, they
    are narrowed.
    """
    body = pattern(WIDE_BODY + 3 * WIDE_READ)
    head = post(body)[: -len(body)]
    loopback.pump(head + body[:WIDE_READ])
    assert loopback.transport.bufferSize == WIDE_READ
    assert loopback.socketRcvbuf() > loopback.rcvbuf
    loopback.pump(body[WIDE_READ : -WIDE_READ + 1])
    assert loopback.transport.bufferSize == NARROW_READ
    assert loopback.socketRcvbuf() == loopback.rcvbuf
    loopback.pump(body[-WIDE_READ + 1 :])
    assert loopback.server.contentAtProcess == [(0, body)]


def test_noReadTakesMorePastTheBody(loopback: Loopback) -> None:
    """
    A request pipelined right behind a large body is never read with more
    than an ordinary read's worth of it in the read that ends the body, and
    is answered in its turn.
    """
    body = pattern(WIDE_BODY + 100_000)
    second = b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"
    first = post(body)
    loopback.pump(first + second * 8000, sendAtOnce=4 * WIDE_READ)
    offset = 0
    for size in loopback.reads:
        if offset < len(first) <= offset + size:
            assert offset + size - len(first) <= NARROW_READ
        offset += size
    responses = loopback.responses()
    assert len(responses) == 8001
    assert responses[0].body == b"POST /up\n" + body
    assert {r.body for r in responses[1:]} == {b"GET /next\n"}


@pytest.mark.parametrize(
    "request_",
    [
        post(pattern(WIDE_BODY - 1)),
        b"POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"%x\r\n%s\r\n0\r\n\r\n" % (2 * WIDE_BODY, pattern(2 * WIDE_BODY)),
    ],
    ids=["small", "chunked"],
)
def test_otherBodiesLeftAlone(loopback: Loopback, request_: bytes) -> None:
    """
    A body smaller than L{WIDE_BODY}, or of a length not known in advance
    (chunked), is read with the transport's own read size and receive buffer.
    """
    loopback.pump(request_[: WIDE_BODY // 2], sendAtOnce=NARROW_READ)
    assert loopback.transport.bufferSize == NARROW_READ
    assert loopback.socketRcvbuf() == loopback.rcvbuf
    loopback.pump(request_[WIDE_BODY // 2 :], sendAtOnce=NARROW_READ)
    assert max(loopback.reads) <= NARROW_READ
    assert loopback.responses()[0].status == 200


def test_narrowedWhenTheBodyIsCutShort(loopback: Loopback) -> None:
    """
    A large body that does not arrive in time is answered 408, and the
    connection, draining the client's input for a while, reads it with the
    transport's own read size and receive buffer.
    """
    body = pattern(2 * WIDE_BODY)
    loopback.pump(post(body)[: -len(body)] + body[:WIDE_READ])
    assert loopback.transport.bufferSize == WIDE_READ
    loopback.server.clock.advance(3600)
    [response] = loopback.responses()
    assert response.status == 408
    assert loopback.transport.bufferSize == NARROW_READ
    assert loopback.socketRcvbuf() == loopback.rcvbuf


def test_notATCPTransport() -> None:
    """
    A transport other than a TCP (or UNIX) connection, here an in-memory one,
    is left alone, whatever the body's length.
    """
    assert widenReads(StringTransport(), 100 * WIDE_BODY) is None
