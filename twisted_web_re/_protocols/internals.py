"""
The one place that uses Twisted's private internals, each with a fallback
that keeps working when Twisted changes them.

 - L{pullToPush}: Twisted's C{_PullToPush} adapter drives a pull producer as a
   streaming one; without it, L{_PullAsPush} does the same with a cooperator.
 - L{canSendDirectly}, L{sendNow} and L{unsentBytes}: a plain TCP transport
   queues every write until the next reactor turn; sending at once when
   nothing is queued saves a system call or two per response.  They read
   C{tcp.Connection}'s C{dataBuffer}, C{offset}, C{_tempDataLen},
   C{_writeDisconnected} and C{socket}; when those are gone, every write goes through
   C{transport.write} and the unsent count is unknown (zero).

L{TWISTED_INTERNALS} says whether Twisted still has them; a test fails loudly
when it does not, so the fallback is never silently all there is.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from twisted.internet.interfaces import (
    IConsumer,
    IPullProducer,
    IPushProducer,
    ITransport,
)
from twisted.internet.task import CooperativeTask, cooperate
from twisted.logger import Logger
from zope.interface import implementer

_log = Logger()

_PullToPush: Any
_TCPConnection: Any
try:
    from twisted.internet._producer_helpers import _PullToPush
except ImportError:  # pragma: no cover - only on a changed Twisted
    _PullToPush = None

try:
    from twisted.internet.tcp import Connection as _TCPConnection
except ImportError:  # pragma: no cover - only on a changed Twisted
    _TCPConnection = None

#: The private attributes of C{tcp.Connection} the direct send reads.
_TCP_ATTRIBUTES = ("dataBuffer", "offset", "_tempDataLen", "_writeDisconnected")


def _tcpHasInternals() -> bool:
    """Whether a C{tcp.Connection} made now would have what we read."""
    if _TCPConnection is None or not hasattr(_TCPConnection, "writeSomeData"):
        return False
    from twisted.internet.abstract import FileDescriptor

    if not issubclass(_TCPConnection, FileDescriptor):
        return False
    probe = _TCPConnection.__new__(_TCPConnection)
    try:
        # FileDescriptor.__init__ sets up the buffers without a socket.
        FileDescriptor.__init__(probe)
    except Exception:
        return False
    # The socket itself is set by Connection.__init__, which needs one.
    code = getattr(_TCPConnection.__init__, "__code__", None)
    if code is None or "socket" not in code.co_names:
        return False
    return all(hasattr(probe, name) for name in _TCP_ATTRIBUTES)


#: Which internals this Twisted still has, by name.
TWISTED_INTERNALS: dict[str, bool] = {
    "_PullToPush": _PullToPush is not None,
    "tcp.Connection": _tcpHasInternals(),
}

_directSendAvailable = TWISTED_INTERNALS["tcp.Connection"]


@implementer(IPushProducer)
class _PullAsPush:
    """
    Drives a pull producer as a streaming one: asks it for more on every
    turn of a cooperator while not paused.
    """

    def __init__(self, producer: IPullProducer, consumer: IConsumer) -> None:
        self._producer = producer
        self._consumer = consumer
        self._task: CooperativeTask | None = None

    def _pull(self) -> Iterator[None]:
        while True:
            try:
                self._producer.resumeProducing()
            except Exception:
                _log.failure(
                    "pull producer {producer!r} failed", producer=self._producer
                )
                self._consumer.unregisterProducer()
                return
            yield None

    def startStreaming(self) -> None:
        """Start asking the producer for data."""
        self._task = cooperate(self._pull())

    def stopStreaming(self) -> None:
        """Stop asking the producer for data."""
        task, self._task = self._task, None
        if task is not None:
            try:
                task.stop()
            except Exception:
                pass  # the task was already done or stopped

    def pauseProducing(self) -> None:
        """Ask for nothing until L{resumeProducing}."""
        if self._task is not None:
            self._task.pause()

    def resumeProducing(self) -> None:
        """Ask for data again."""
        if self._task is not None:
            self._task.resume()

    def stopProducing(self) -> None:
        """Stop asking, and stop the producer."""
        self.stopStreaming()
        self._producer.stopProducing()


def pullToPush(
    producer: IPullProducer, consumer: IConsumer, useTwisted: bool = True
) -> Any:
    """
    Return a streaming producer that drives C{producer} (a pull producer)
    for C{consumer}, streaming already; call its C{stopStreaming} when done.

    @param useTwisted: use Twisted's adapter when it has one (tests force the
        fallback with C{False}).
    """
    if useTwisted and _PullToPush is not None:
        push: Any = _PullToPush(producer, consumer)
    else:
        push = _PullAsPush(producer, consumer)
    push.startStreaming()
    return push


def isPullAdapter(producer: object) -> bool:
    """Whether C{producer} was made by L{pullToPush}."""
    return isinstance(producer, _PullAsPush) or (
        _PullToPush is not None and isinstance(producer, _PullToPush)
    )


def canSendDirectly(transport: ITransport | None) -> bool:
    """
    Whether L{sendNow} may send on C{transport} at once: a plain TCP
    connection (not TLS) of a Twisted that still has the internals it reads.
    """
    return (
        _directSendAvailable
        and isinstance(transport, _TCPConnection)
        and not getattr(transport, "TLS", False)
    )


def sendNow(transport: Any, data: bytes) -> None:
    """
    Write C{data} to C{transport}, one that L{canSendDirectly} accepted:
    straight to the socket when nothing is queued before it, the rest (if
    the socket took only part) queued as usual.
    """
    if (
        not transport._tempDataLen
        and not transport.dataBuffer
        and transport.connected
        and not transport.disconnecting
        and not transport._writeDisconnected
    ):
        # What tcp.Connection.writeSomeData does, without its two calls and
        # its memoryview: a refused or failed send leaves the data to
        # transport.write, which queues it, and the reactor then finds the
        # error as Twisted always does.
        try:
            sent = transport.socket.send(data)
        except OSError:
            sent = 0
        if sent == len(data):
            return
        data = data[sent:]
    transport.write(data)


def unsentBytes(transport: Any) -> int:
    """
    Bytes written to C{transport}, one that L{canSendDirectly} accepted,
    and still in its buffer.
    """
    unsent: int = len(transport.dataBuffer) - transport.offset
    return unsent + transport._tempDataLen
