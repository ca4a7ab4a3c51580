"""
The Twisted internals the channel relies on (L{_protocols.internals}): a test
that fails loudly when Twisted no longer has them, and the fallbacks, run.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.interfaces import IPullProducer
from twisted.internet.protocol import Protocol
from twisted.internet.task import Cooperator
from twisted.internet.testing import MemoryReactor, StringTransport
from zope.interface import implementer

from twisted_web_re._protocols import internals


def test_twistedStillHasTheInternals() -> None:
    """
    Twisted still has C{_PullToPush} and C{tcp.Connection}'s buffers: when
    this fails, the server runs on the fallbacks (slower), and the
    internals module needs a look.
    """
    assert internals.TWISTED_INTERNALS == {"_PullToPush": True, "tcp.Connection": True}


@implementer(IPullProducer)
class Counter:
    """A pull producer writing three pieces to its consumer, then stopping."""

    def __init__(self, consumer: list[bytes]) -> None:
        self.consumer = consumer
        self.calls = 0
        self.stopped = False

    def resumeProducing(self) -> None:
        self.calls += 1
        self.consumer.append(b"%d" % self.calls)

    def stopProducing(self) -> None:
        self.stopped = True


class Consumer:
    def __init__(self) -> None:
        self.unregistered = False

    def unregisterProducer(self) -> None:
        self.unregistered = True


def test_pullAsPushFallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Without Twisted's adapter, a pull producer is still driven as a push
    one: asked on each turn while not paused, not while paused, and stopped
    with the adapter.
    """
    steps: list[Callable[[], None]] = []

    class Turn:
        def cancel(self) -> None:
            pass

    def schedule(step: Callable[[], None]) -> Turn:
        steps.append(step)
        return Turn()

    def turn() -> None:
        if steps:
            steps.pop(0)()

    cooperator = Cooperator(
        scheduler=schedule,  # type: ignore[arg-type]
        terminationPredicateFactory=lambda: lambda: True,
    )
    monkeypatch.setattr(internals, "cooperate", cooperator.cooperate)
    written: list[bytes] = []
    producer = Counter(written)
    push = internals.pullToPush(producer, Consumer(), useTwisted=False)  # type: ignore[arg-type]
    assert internals.isPullAdapter(push)
    turn()
    turn()
    assert written == [b"1", b"2"]
    push.pauseProducing()
    turn()
    assert written == [b"1", b"2"]
    push.resumeProducing()
    turn()
    assert written == [b"1", b"2", b"3"]
    push.stopProducing()
    turn()
    assert producer.stopped
    assert written == [b"1", b"2", b"3"]


def test_noDirectSendWithoutTheInternals(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Where the TCP internals are missing (or the transport is not plain
    TCP), writes go through C{transport.write}: nothing is sent directly.
    """
    assert not internals.canSendDirectly(StringTransport())
    monkeypatch.setattr(internals, "_directSendAvailable", False)

    class FakeTCP(internals._TCPConnection):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            pass

    assert not internals.canSendDirectly(FakeTCP())


def _tcpPair() -> tuple[Any, socket.socket, MemoryReactor]:
    """A plain TCP transport over one end of a connected socket pair, and the
    other end; nothing reads for the transport (a L{MemoryReactor})."""
    from twisted.internet.tcp import Connection

    ours, theirs = socket.socketpair()
    reactor = MemoryReactor()
    transport = Connection(ours, Protocol(), reactor)
    transport.connected = True
    assert internals.canSendDirectly(transport)
    return transport, theirs, reactor


def _readAll(sock: socket.socket, size: int) -> bytes:
    """Read exactly C{size} bytes from C{sock} (bounded by a deadline)."""
    sock.settimeout(10)
    received = b""
    while len(received) < size:
        piece = sock.recv(size - len(received))
        assert piece, "connection closed early"
        received += piece
    return received


def test_sendNowSendsWholeAtOnce() -> None:
    """
    On plain TCP with nothing queued, a response goes straight to the socket:
    the peer can read it before the reactor turns, and nothing is left queued.
    """
    transport, theirs, reactor = _tcpPair()
    try:
        internals.sendNow(transport, b"hello")
        assert _readAll(theirs, 5) == b"hello"
        assert internals.unsentBytes(transport) == 0
        assert transport not in reactor.getWriters()
    finally:
        transport.socket.close()
        theirs.close()


def test_sendNowQueuesWhatTheSocketRefuses() -> None:
    """
    What the socket does not take at once is queued on the transport, in
    order, and the transport waits to write it: no byte is lost or reordered.
    """
    transport, theirs, reactor = _tcpPair()
    transport.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    data = bytes(range(256)) * 8192  # 2 MiB: more than the socket buffers
    try:
        internals.sendNow(transport, data)
        unsent = internals.unsentBytes(transport)
        assert 0 < unsent < len(data)
        assert transport in reactor.getWriters()
        sent = len(data) - unsent
        assert _readAll(theirs, sent) == data[:sent]
        # A later write queues behind what is already queued.
        internals.sendNow(transport, b"tail")
        assert internals.unsentBytes(transport) == unsent + 4
    finally:
        transport.socket.close()
        theirs.close()


def test_sendNowOnABrokenConnectionRaisesNothing() -> None:
    """
    A send the socket fails (the peer is gone) raises nothing: the data is
    queued, and the reactor's write then finds the error as usual.
    """
    transport, theirs, _reactor = _tcpPair()
    theirs.close()
    try:
        for _ in range(3):
            internals.sendNow(transport, b"x" * 1024)
        assert internals.unsentBytes(transport) > 0
    finally:
        transport.socket.close()


def test_lastResponseIsSentWithTheClose() -> None:
    """
    The response a channel sends just before closing goes through the
    transport's own write, to be sent with the close in one reactor turn
    (a direct send would cost an empty send at the close); a response on a
    connection that goes on is sent at once.
    """
    from twisted_web_re._protocols.output import Output

    transport, theirs, reactor = _tcpPair()
    out = Output()
    out.attach(transport, 1 << 20)
    try:
        out.cork()
        out.send(b"going on")
        out.uncork()
        assert internals.unsentBytes(transport) == 0
        assert _readAll(theirs, 8) == b"going on"
        out.cork()
        out.send(b"last ")
        out.send(b"one")
        out.uncorkLast()
        assert not out.corked
        assert internals.unsentBytes(transport) == 8
        assert transport in reactor.getWriters()
        transport.doWrite()
        assert _readAll(theirs, 8) == b"last one"
    finally:
        transport.socket.close()
        theirs.close()
