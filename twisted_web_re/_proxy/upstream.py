"""
One HTTP/1.1 client connection to a backend: it sends one request at a time
(head, then the body framed by length or chunked), reads the response with
L{twisted_web_re._wire.response.ResponseReader}, times the wait for the
response head and the silences within the body, and says whether it may be
reused for the next request.

The deadlines share one reactor timer per connection, moved on as the
exchange goes (and left to lapse unarmed between exchanges), rather than a
timer set and cancelled for every phase of every request.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol as TypingProtocol

from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError, TimeoutError
from twisted.internet.interfaces import IDelayedCall, IReactorTime, ITransport
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from twisted_web_re._protocols.internals import canSendDirectly, sendNow
from twisted_web_re._wire.response import (
    BadResponse,
    ResponseHead,
    ResponseReader,
)
from twisted_web_re._wire.serialise import LAST_CHUNK, chunk


class UpstreamError(Exception):
    """
    The exchange with the backend failed.

    @ivar timeout: whether it failed by taking too long (a 504, before the
        response head) rather than by a broken or invalid answer (a 502).
    @ivar untouched: whether the backend sent nothing at all on this
        connection for this request, so that a safe request may be retried
        on a new connection.
    """

    def __init__(self, message: str, timeout: bool = False, untouched: bool = False):
        super().__init__(message)
        self.timeout = timeout
        self.untouched = untouched


def connectFailure(reason: Failure) -> UpstreamError:
    """
    The L{UpstreamError} for a connection to the backend that could not be
    made: a timeout (a 504), a host name not found, or any other refusal.
    """
    if reason.check(TimeoutError):
        return UpstreamError("could not connect in time", timeout=True)
    if reason.check(DNSLookupError):
        return UpstreamError("host name not found")
    return UpstreamError(f"could not connect: {reason.getErrorMessage()}")


class Exchange(TypingProtocol):
    """What an L{UpstreamConnection} reports one response to."""

    def responseHead(self, head: ResponseHead) -> None:
        """The response head arrived."""

    def responseBody(self, data: bytes) -> None:
        """The next piece of the response body (or, after a 101, raw bytes)."""

    def responseEnd(self) -> None:
        """The response is complete (never called after a 101)."""

    def responseFailed(self, error: UpstreamError) -> None:
        """The exchange failed; the connection is closed."""


class _State(enum.Enum):
    """
    Where a connection is::

        IDLE --send--> BUSY --response end--> IDLE
        IDLE/BUSY --lost, error, not reusable--> CLOSED
        BUSY --101--> TUNNEL --lost--> CLOSED
    """

    IDLE = "idle"
    BUSY = "busy"
    TUNNEL = "tunnel"
    CLOSED = "closed"


_MOVES = {
    _State.IDLE: {_State.BUSY, _State.CLOSED},
    _State.BUSY: {_State.IDLE, _State.TUNNEL, _State.CLOSED},
    _State.TUNNEL: {_State.CLOSED},
    _State.CLOSED: set(),
}


class UpstreamConnection(Protocol):
    """
    An HTTP/1.1 connection to a backend, carrying one exchange at a time.

    @ivar responseTimeout: seconds from the end of the request head to the
        response head (C{None}: no limit).
    @ivar idleTimeout: seconds the backend may fall silent within the body
        while the client is reading (C{None}: no limit).
    @ivar reused: how many exchanges this connection has completed.
    @ivar onIdle: called with the connection when an exchange ends and it
        may carry another.
    @ivar onClosed: called with the connection when it closes.
    @ivar whenConnected: fired with the connection once it is made.
    """

    responseTimeout: float | None = 60.0
    idleTimeout: float | None = 60.0
    transport: ITransport | None

    def __init__(self, reactor: IReactorTime) -> None:
        self._reactor = reactor
        self._state = _State.IDLE
        self._exchange: Exchange | None = None
        self._reader: ResponseReader | None = None
        self._chunked = False
        self._bodyDone = True
        self._keepAlive = True
        self._timer: IDelayedCall | None = None
        self._armed = False
        self._readPaused = False
        self._gotBytes = False
        self._direct = False
        self.reused = 0
        self.onIdle: Callable[[UpstreamConnection], None] | None = None
        self.onClosed: Callable[[UpstreamConnection], None] | None = None
        self.whenConnected: Deferred[UpstreamConnection] | None = None

    def connectionMade(self) -> None:
        """Tell whoever waits for this connection that it is ready."""
        self._direct = canSendDirectly(self.transport)
        ready, self.whenConnected = self.whenConnected, None
        if ready is not None:
            ready.callback(self)

    # -- state ---------------------------------------------------------------

    def _move(self, new: _State) -> None:
        if new not in _MOVES[self._state]:
            raise RuntimeError(f"upstream connection cannot go {self._state} -> {new}")
        self._state = new

    @property
    def idle(self) -> bool:
        """Whether the connection is open and carries no exchange."""
        return self._state is _State.IDLE

    # -- sending -------------------------------------------------------------

    def send(
        self,
        method: bytes,
        head: bytes,
        exchange: Exchange,
        bodyLength: int | None,
    ) -> None:
        """
        Send a request head, and start reading its response.

        @param method: the request's method (a HEAD's response has no body).
        @param head: the serialised head, without framing fields; they are
            added here from C{bodyLength}.
        @param bodyLength: the body's length (C{0}: none), or C{None} to send
            it chunked.
        @raise RuntimeError: the connection is not idle.
        """
        self._move(_State.BUSY)
        self._exchange = exchange
        self._reader = ResponseReader(method, self)
        self._gotBytes = False
        self._chunked = bodyLength is None
        self._bodyDone = bodyLength == 0
        if bodyLength is None:
            framing = b"transfer-encoding: chunked\r\n\r\n"
        elif bodyLength or method not in (b"GET", b"HEAD", b"OPTIONS", b"DELETE"):
            framing = b"content-length: %d\r\n\r\n" % bodyLength
        else:
            framing = b"\r\n"
        assert self.transport is not None
        if self._direct:
            # Sent in this reactor turn rather than the next: no wait, and
            # no system calls to watch the socket for writing.
            sendNow(self.transport, head[:-2] + framing)
        else:
            self.transport.write(head[:-2] + framing)
        if self._bodyDone:
            self._startTimer(self.responseTimeout)

    def writeBody(self, data: bytes) -> None:
        """Send the next piece of the request body."""
        if self._state is not _State.BUSY or not data:
            return
        assert self.transport is not None
        self.transport.write(chunk(data) if self._chunked else data)

    def endBody(self) -> None:
        """The request body is complete: end it, and time the response."""
        if self._state is not _State.BUSY or self._bodyDone:
            return
        self._bodyDone = True
        if self._chunked:
            assert self.transport is not None
            self.transport.write(LAST_CHUNK)
        if self._reader is not None and self._reader.head is None:
            self._startTimer(self.responseTimeout)

    # -- reading -------------------------------------------------------------

    def pauseReading(self) -> None:
        """Stop reading the response (the client is not reading it)."""
        if not self._readPaused and self.transport is not None:
            self._readPaused = True
            self._disarm()
            self.transport.pauseProducing()  # type: ignore[attr-defined]

    def resumeReading(self) -> None:
        """Read the response again."""
        if self._readPaused and self.transport is not None:
            self._readPaused = False
            if self._state is _State.BUSY and self._reader is not None:
                self._startTimer(
                    self.idleTimeout
                    if self._reader.head is not None
                    else self.responseTimeout
                )
            self.transport.resumeProducing()  # type: ignore[attr-defined]

    def dataReceived(self, data: bytes) -> None:
        """Feed what the backend sent to the response reader."""
        state = self._state
        if state is _State.TUNNEL:
            if self._exchange is not None:
                self._exchange.responseBody(data)
            return
        if state is not _State.BUSY or self._reader is None:
            # Bytes nobody asked for: this connection cannot be trusted.
            self._close()
            return
        self._gotBytes = True
        reader = self._reader
        try:
            reader.feed(data)
        except BadResponse as error:
            self._fail(UpstreamError(f"invalid response: {error}"))
            return
        state = self._state
        if state is _State.BUSY:
            # Within the body, a silence is timed from the latest read; a
            # response read whole in this one needs no timer at all.
            if reader.head is not None and not reader.done and not self._readPaused:
                self._startTimer(self.idleTimeout)
        elif state is _State.TUNNEL and self._exchange is not None:
            # The switched protocol's first bytes came with the 101.
            leftover = self.tunnelLeftover()
            if leftover:
                self._exchange.responseBody(leftover)

    def responseHead(self, head: ResponseHead) -> None:
        """See L{ResponseReceiver.responseHead}."""
        self._keepAlive = head.keepAlive
        exchange = self._exchange
        if head.code == 101:
            self._move(_State.TUNNEL)
            self._disarm()
        if exchange is not None:
            exchange.responseHead(head)

    def responseBody(self, data: bytes) -> None:
        """See L{ResponseReceiver.responseBody}."""
        if self._exchange is not None:
            self._exchange.responseBody(data)

    def responseEnd(self) -> None:
        """See L{ResponseReceiver.responseEnd}: the connection may be reused."""
        self._disarm()
        exchange, self._exchange = self._exchange, None
        reader = self._reader
        reusable = (
            self._keepAlive
            and self._bodyDone
            and reader is not None
            and not reader.leftover
        )
        self._reader = None
        if reusable:
            self.reused += 1
            self._move(_State.IDLE)
        if exchange is not None:
            exchange.responseEnd()
        if not reusable:
            self._close()
        elif self._state is _State.IDLE and self.onIdle is not None:
            self.onIdle(self)

    def setExchange(self, exchange: Exchange) -> None:
        """After a 101: give the tunnelled bytes to C{exchange} from now on."""
        self._exchange = exchange

    def tunnelLeftover(self) -> bytes:
        """After a 101: the bytes the backend sent after its head."""
        reader = self._reader
        if reader is None:
            return b""
        leftover, reader.leftover = reader.leftover, b""
        return leftover

    # -- failing and closing ---------------------------------------------------

    def _startTimer(self, seconds: float | None) -> None:
        """Time out C{seconds} from now (C{None}: never), whatever was timed."""
        if seconds is None:
            self._armed = False
            return
        self._armed = True
        timer = self._timer
        if timer is not None:
            if self._reactor.seconds() + seconds >= timer.getTime():
                # Moving a timer later costs the reactor nothing until it
                # comes due; moving one sooner re-sorts its queue.
                timer.reset(seconds)
                return
            timer.cancel()
        self._timer = self._reactor.callLater(seconds, self._timedOut)

    def _disarm(self) -> None:
        """Nothing is timed now: a pending timer lapses when it comes due."""
        self._armed = False

    def _stopTimer(self) -> None:
        """Cancel the timer: the connection is closing."""
        self._armed = False
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _timedOut(self) -> None:
        self._timer = None
        if not self._armed:
            return
        self._armed = False
        headSeen = self._reader is not None and self._reader.head is not None
        what = "sent nothing within the body" if headSeen else "did not answer"
        seconds = self.idleTimeout if headSeen else self.responseTimeout
        self._fail(UpstreamError(f"backend {what} for {seconds} seconds", timeout=True))

    def _fail(self, error: UpstreamError) -> None:
        exchange, self._exchange = self._exchange, None
        self._close()
        if exchange is not None:
            exchange.responseFailed(error)

    def _close(self) -> None:
        """Abort the connection: it is never reused after a failure."""
        self._stopTimer()
        if self._state is not _State.CLOSED:
            self._move(_State.CLOSED)
            if self.onClosed is not None:
                self.onClosed(self)
        if self.transport is not None:
            self.transport.abortConnection()  # type: ignore[attr-defined]

    def abort(self) -> None:
        """Give up the exchange under way (the client went away)."""
        self._exchange = None
        self._close()

    def loseConnection(self) -> None:
        """Close an idle connection politely."""
        self._stopTimer()
        if self._state is not _State.CLOSED:
            self._move(_State.CLOSED)
            if self.onClosed is not None:
                self.onClosed(self)
        if self.transport is not None:
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure | None = None) -> None:
        """
        The connection closed: end a body framed by the close, or fail the
        exchange under way.
        """
        self._stopTimer()
        wasState = self._state
        if wasState is not _State.CLOSED:
            self._state = _State.CLOSED
            if self.onClosed is not None:
                self.onClosed(self)
        exchange, reader = self._exchange, self._reader
        if exchange is None:
            return
        if wasState is _State.TUNNEL:
            self._exchange = None
            exchange.responseFailed(UpstreamError("tunnel closed by the backend"))
            return
        if reader is None:
            return
        try:
            reader.connectionClosed()
        except BadResponse as error:
            self._exchange = None
            exchange.responseFailed(
                UpstreamError(
                    f"backend closed the connection: {error}",
                    untouched=not self._gotBytes,
                )
            )
            return
        if self._exchange is not None and reader.done:
            self._exchange = None
