"""
The Twisted internals the channel relies on (L{_protocols.internals}): a test
that fails loudly when Twisted no longer has them, and the fallbacks, run.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from twisted.internet.interfaces import IPullProducer
from twisted.internet.task import Cooperator
from twisted.internet.testing import StringTransport
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
