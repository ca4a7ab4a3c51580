"""
L{Output}: how a connection's bytes reach its transport, held back while
one read's worth of input is answered so that a pipelined batch of responses
goes out in one write, and sent at once (not a reactor turn later) when the
transport is plain TCP with nothing queued.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import ITransport

from twisted_web_re._protocols.internals import (
    canSendDirectly,
    sendNow,
    unsentBytes,
)
from twisted_web_re._wire.limits import DEFAULT_LIMITS


class Output:
    """
    The writing end of one connection.

    @ivar corked: whether what is sent is held back until L{uncork}.
    """

    __slots__ = ("_corkedBytes", "_direct", "_held", "_limit", "_transport", "corked")

    def __init__(self) -> None:
        self._transport: Any = None
        self._direct = False
        self._limit = DEFAULT_LIMITS.maxUnsentOutput
        self._held: list[bytes] | None = None
        self._corkedBytes = 0
        self.corked = False

    def attach(self, transport: ITransport, limit: int) -> None:
        """
        Write to C{transport} from now on, holding back at most C{limit}
        bytes while corked.
        """
        self._transport = transport
        self._direct = canSendDirectly(transport)
        self._limit = limit

    def cork(self) -> None:
        """Hold back what is sent until L{uncork}."""
        self._held = []
        self.corked = True

    def send(self, data: bytes) -> None:
        """
        Write C{data}: at once, or, while corked, together with what else
        is sent before L{uncork}.

        What is held back is sent as soon as it reaches the limit: the
        transport must see it to pause the connection, and a paused
        connection answers no further request, so a client that pipelines
        requests and reads nothing cannot make the server hold their
        responses without bound.
        """
        held = self._held
        if held is None:
            self._write(data)
            return
        held.append(data)
        self._corkedBytes += len(data)
        if self._corkedBytes >= self._limit:
            self._flush(held)

    def uncork(self) -> None:
        """Send what was held back, and hold nothing more."""
        held, self._held = self._held, None
        self.corked = False
        if held:
            # _flush() and _write(), without the calls: this runs once per
            # read of a pipelined batch, after each response of it was sent.
            data = b"".join(held)
            self._corkedBytes = 0
            if self._direct:
                sendNow(self._transport, data)
            else:
                self._transport.write(data)

    def uncorkLast(self) -> None:
        """
        Send what was held back through the transport's own write, and hold
        nothing more: for the last bytes of a connection about to close,
        which the transport then sends and closes on in one turn, without
        the empty send a close after a direct send costs.
        """
        held, self._held = self._held, None
        self.corked = False
        if held:
            self._corkedBytes = 0
            self._transport.write(b"".join(held))

    def unsent(self) -> int:
        """Bytes written and still in the transport's buffer, where known."""
        return unsentBytes(self._transport) if self._direct else 0

    def _flush(self, held: list[bytes]) -> None:
        """Send what was held back, and keep holding what follows."""
        data = held[0] if len(held) == 1 else b"".join(held)
        held.clear()
        self._corkedBytes = 0
        self._write(data)

    def _write(self, data: bytes) -> None:
        """Write C{data} to the transport now (see L{sendNow})."""
        if self._direct:
            sendNow(self._transport, data)
        else:
            self._transport.write(data)
