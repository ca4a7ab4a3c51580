"""
Tests for how L{twisted_web_re.http.HTTPChannel} bounds what it holds for a
client that pipelines requests faster than it reads the responses.

The channel sends the responses to one read's pipelined requests together, but
hands them to the transport whenever they reach C{maxUnsentOutput}, so that the
transport's back-pressure (pausing the channel, its producer) stops it
answering further requests until the client has read what was sent.
"""

from __future__ import annotations

from typing import Any

import pytest
from _httpparse import HOST, PEER, Server
from twisted.internet.testing import StringTransport

from twisted_web_re import http
from twisted_web_re._wire.limits import MAX_UNSENT_OUTPUT

#: Body bytes of every page the test handler answers with.
PAGE = 10 * 1024


class _SendBufferTransport(StringTransport):
    """
    A transport with a send buffer, like Twisted's TCP transport with a client
    that does not read: every write stays unsent until L{drain}, and once more
    than C{bufferSize} bytes are unsent the streaming producer is paused; it is
    resumed by L{drain}, when the buffer has emptied.

    @ivar writes: the size of every write, in order.
    @ivar unsent: bytes written since the last L{drain}.
    @ivar mostUnsent: the largest C{unsent} ever was.
    """

    bufferSize = 64 * 1024

    def __init__(self) -> None:
        super().__init__(hostAddress=HOST, peerAddress=PEER)
        self.writes: list[int] = []
        self.unsent = 0
        self.mostUnsent = 0
        self.producerPaused = False

    def write(self, data: bytes) -> None:
        super().write(data)
        self.writes.append(len(data))
        self.unsent += len(data)
        self.mostUnsent = max(self.mostUnsent, self.unsent)
        if self.unsent > self.bufferSize and not self.producerPaused:
            self.producerPaused = True
            self.producer.pauseProducing()

    def drain(self) -> None:
        """The client read everything written so far."""
        self.unsent = 0
        if self.producerPaused:
            self.producerPaused = False
            self.producer.resumeProducing()


def _page(request: http.Request) -> None:
    """Answer with a L{PAGE}-byte body starting with the request's path."""
    tag = request.path + b":"
    request.write(tag + b"x" * (PAGE - len(tag)))
    request.finish()


def _get(i: int) -> bytes:
    return b"GET /%d HTTP/1.1\r\nHost: example.com\r\n\r\n" % i


def _bodies(server: Server) -> list[bytes]:
    return [r.body.split(b":", 1)[0] for r in server.responses()]


def test_unreadPipelinedResponsesStopParsing() -> None:
    """
    A client that pipelines many requests for a large page in one write and
    reads nothing gets only a bounded amount of responses queued: once the
    transport's send buffer is full, the channel stops turning the rest of its
    input into requests and stops reading, and the output held for the client
    stays within C{maxUnsentOutput} plus the transport's buffer and one
    response.  When the client reads, the channel goes on, and eventually every
    request is answered, in order.
    """
    transport = _SendBufferTransport()
    server = Server(_page, transport=transport)
    count = 200
    server.feed(b"".join(_get(i) for i in range(count)))

    size = len(server.value()) // len(server.requests)
    assert size > PAGE
    assert len(server.requests) <= MAX_UNSENT_OUTPUT // size + 1
    assert transport.producerState == "paused"
    assert transport.mostUnsent <= MAX_UNSENT_OUTPUT + size
    assert not server.closed

    for _ in range(count):
        if transport.producerState != "paused":
            break
        transport.drain()
        assert transport.mostUnsent <= MAX_UNSENT_OUTPUT + size
    assert transport.producerState == "producing"
    assert _bodies(server) == [b"/%d" % i for i in range(count)]
    assert not server.closed


def test_pausedChannelParsesNoFurtherRequest() -> None:
    """
    While the transport has the channel paused, input that arrives is kept
    unparsed, and no request is made from it, until the transport resumes.
    """
    transport = _SendBufferTransport()
    server = Server(_page, transport=transport)
    server.feed(b"".join(_get(i) for i in range(100)))
    made = len(server.requests)
    assert made < 100
    server.feed(_get(100))
    assert len(server.requests) == made
    for _ in range(100):
        if transport.producerState != "paused":
            break
        transport.drain()
    assert _bodies(server) == [b"/%d" % i for i in range(101)]


def test_heldOutputSentInPiecesOfTheLimit() -> None:
    """
    Over a transport that never pushes back, what the channel holds back for
    one read's pipelined requests is still written whenever it reaches
    C{maxUnsentOutput}, never accumulated whole.
    """
    transport = _SendBufferTransport()
    transport.bufferSize = 1 << 40
    limit = 32 * 1024
    server = Server(_page, transport=transport, maxUnsentOutput=limit)
    server.feed(b"".join(_get(i) for i in range(50)))
    size = len(server.value()) // 50
    assert _bodies(server) == [b"/%d" % i for i in range(50)]
    assert len(transport.writes) > 1
    assert max(transport.writes) < limit + size


def test_smallPipelinedResponsesStillSentTogether() -> None:
    """
    The responses to small pipelined requests that arrive in one read still
    go out in a single write.
    """
    transport = _SendBufferTransport()
    server = Server(transport=transport)
    server.feed(b"".join(_get(i) for i in range(20)))
    assert len(server.responses()) == 20
    assert len(transport.writes) == 1


def test_maxUnsentOutputIsAFactoryLimit() -> None:
    """
    C{maxUnsentOutput} is a keyword argument of C{HTTPFactory} (and so of
    C{Site}), 256 KiB by default, and must be a positive number of bytes.
    """
    assert http.HTTPFactory().limits.maxUnsentOutput == 256 * 1024
    assert http.HTTPFactory(maxUnsentOutput=4096).limits.maxUnsentOutput == 4096
    bad: Any
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError):
            http.HTTPFactory(maxUnsentOutput=bad)
