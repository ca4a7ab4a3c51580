"""
L{HTTPChannel}: the Twisted protocol that serves HTTP/1.1 on one connection.

It feeds received bytes to the wire layer, hands each request to its
L{Request}, answers pipelined requests strictly one after another, keeps the
connection alive or closes it, enforces the idle, head and body timeouts, and
routes back-pressure between the transport and the response's producer.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from twisted.internet import interfaces
from twisted.internet._producer_helpers import _PullToPush
from twisted.internet.interfaces import (
    IDelayedCall,
    IHandshakeListener,
    IPullProducer,
    IPushProducer,
)
from twisted.internet.protocol import Protocol
from twisted.internet.tcp import Connection
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOProtocol
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re._protocols.closing import closeWhenSent, stopWriting
from twisted_web_re._protocols.forwarded import _isTrusted
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._protocols.tlshandshake import logHandshakeFailure
from twisted_web_re._publish.request import Request
from twisted_web_re._publish.spool import BodyStorageError
from twisted_web_re._version import SERVER_NAME
from twisted_web_re._wire.errors import MisdirectedRequest, RequestTimeout, WireError
from twisted_web_re._wire.framing import BodyDecoder, ChunkedDecoder, LengthDecoder
from twisted_web_re._wire.limits import DEFAULT_LIMITS, Limits
from twisted_web_re._wire.parser import (
    CHUNKED,
    RequestHead,
    checkIncompleteHead,
    findHeadEnd,
    parseHead,
    skipEmptyLines,
    targetAuthority,
)
from twisted_web_re._wire.serialise import httpDate
from twisted_web_re._wire.status import reasonPhrase

if TYPE_CHECKING:
    from twisted_web_re.http import HTTPFactory

_log = Logger()

#: Bytes of pipelined input buffered while a request is answered before the
#: channel stops reading from the socket.
PIPELINE_BUFFER = 64 * 1024

#: Seconds a connection closed for an error keeps draining the client's input,
#: so the error response is not destroyed by a TCP reset (RFC 9112 section 9.6).
LINGER_SECONDS = 2.0

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_LINE_ENDS = (0x0D, 0x0A)


class _State(enum.IntEnum):
    """
    Where a connection is in its request/response cycle.

    ::

        IDLE --bytes--> HEAD --head, body--> BODY --body done--> RESPONDING
        BODY --body done, request answered early--> IDLE
        IDLE/HEAD --whole head, no body--> RESPONDING
        RESPONDING --finished, keep-alive--> IDLE
        any --error, timeout, close--> CLOSING
    """

    IDLE = 0
    HEAD = 1
    BODY = 2
    RESPONDING = 3
    CLOSING = 4


_TRANSITIONS: dict[_State, frozenset[_State]] = {
    _State.IDLE: frozenset({_State.HEAD, _State.BODY, _State.RESPONDING}),
    _State.HEAD: frozenset({_State.BODY, _State.RESPONDING}),
    _State.BODY: frozenset({_State.RESPONDING, _State.IDLE}),
    _State.RESPONDING: frozenset({_State.IDLE}),
    _State.CLOSING: frozenset(),
}


@implementer(IPushProducer, IHandshakeListener)
class HTTPChannel(Protocol):
    """
    An HTTP/1.1 server connection.

    The end of the client's input means the client has gone, as in
    twisted.web: a response still pending is abandoned, and its request's
    C{notifyFinish} Deferreds fail.  (A half-close is indistinguishable from a
    close on the reading side, and a server that waited would never learn
    that a client of a long-polling resource had left.)

    @cvar requestFactory: called with the channel to make each L{Request}.
    """

    requestFactory: Any = Request
    factory: HTTPFactory | None = None

    def __init__(self) -> None:
        self._state = _State.IDLE
        self._buffer = b""
        self._request: Request | None = None
        self._decoder: BodyDecoder | None = None
        self._parsing = False
        self._corked: list[bytes] | None = None
        self._corkedBytes = 0
        self._readPaused = False
        self._writePaused = False
        self._producer: IPushProducer | None = None
        self._timer: IDelayedCall | None = None
        self._since = 0.0
        self._directSend = False
        self._lingering = False
        self._bodyPaused = False
        self._pausedAt = 0.0
        self._limits: Limits = DEFAULT_LIMITS
        self._reactor: Any = None
        self._peer: Any = None
        self._host: Any = None
        self._secure: bool | None = None
        self._trustedProxies: tuple[Any, ...] = ()
        self._handshaken = False

    # -- connection life ------------------------------------------------------

    def connectionMade(self) -> None:
        """
        Adopt the factory's limits and reactor, and start the idle timer.
        """
        factory = self.factory
        self._limits = getattr(factory, "limits", DEFAULT_LIMITS)
        self._trustedProxies = getattr(factory, "trustedProxies", ())
        reactor = resolveReactor(getattr(factory, "_reactor", None))
        self._reactor = reactor
        transport = self.transport
        self._directSend = isinstance(transport, Connection) and not getattr(
            transport, "TLS", False
        )
        transport.registerProducer(self, True)  # type: ignore[union-attr]
        # Responses are written whole, so Nagle's algorithm could only hold a
        # response back waiting for the client's delayed ACK.
        setNoDelay = getattr(transport, "setTcpNoDelay", None)
        if setNoDelay is not None:
            try:
                setNoDelay(True)
            except OSError:
                pass
        self._since = reactor.seconds()
        self._armTimer(self._limits.idleTimeout)

    def connectionLost(self, reason: Failure | None = None) -> None:
        """
        Cancel timers, and tell an unfinished request that it was abandoned.
        Over TLS, log why the handshake failed if it did.
        """
        if not self._handshaken and isinstance(self.transport, TLSMemoryBIOProtocol):
            logHandshakeFailure(self.transport, reason)
        self._state = _State.CLOSING
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        request, self._request = self._request, None
        self._producer = None
        self._buffer = b""
        if request is not None and not request.finished:
            # What never left this process was not sent.
            request.sentLength = max(0, request.sentLength - self._unsentBytes())
            self._abandon(
                request, reason or Failure(ConnectionError("connection lost"))
            )

    def _unsentBytes(self) -> int:
        """Bytes written to a plain TCP transport and still in its buffer."""
        if not self._directSend:
            return 0
        transport: Any = self.transport
        unsent: int = len(transport.dataBuffer) - transport.offset
        return unsent + transport._tempDataLen

    def _abandon(self, request: Request, reason: Failure) -> None:
        """
        C{request} will never finish: tell it, and log it if its response was
        started (with the status and the bytes sent so far).
        """
        request.connectionLost(reason)
        factory = self.factory
        if request.startedWriting and factory is not None:
            factory.log(request)

    def handshakeCompleted(self) -> None:
        """
        Note that the TLS handshake has ended well (Twisted's TLS layer calls
        this), so that a later TLS error is not logged as a handshake failure.
        """
        self._handshaken = True

    def isSecure(self) -> bool:
        """
        Return whether the connection is over TLS (asked once).
        """
        secure = self._secure
        if secure is None:
            secure = self._secure = (
                interfaces.ISSLTransport(self.transport, None) is not None
            )
        return secure

    def getPeer(self) -> Any:
        """Return the client's address (asked of the transport once)."""
        peer = self._peer
        if peer is None:
            peer = self._peer = self.transport.getPeer()  # type: ignore[union-attr]
        return peer

    def getHost(self) -> Any:
        """Return the local address (asked of the transport once)."""
        host = self._host
        if host is None:
            host = self._host = self.transport.getHost()  # type: ignore[union-attr]
        return host

    # -- timers -----------------------------------------------------------------

    def _setState(self, state: _State) -> None:
        if state not in _TRANSITIONS[self._state] and state is not _State.CLOSING:
            raise RuntimeError(f"bad channel transition {self._state} -> {state}")
        self._state = state

    def _armTimer(self, timeout: float | None) -> None:
        """Make sure the timer fires no later than C{timeout} from now."""
        if timeout is None:
            return
        timer = self._timer
        if timer is None:
            self._timer = self._reactor.callLater(timeout, self._timerFired)
        elif timer.getTime() > self._since + timeout:
            timer.reset(timeout)

    def _deadline(self) -> float | None:
        """The time by which the current state must have moved on."""
        limits = self._limits
        state = self._state
        if state is _State.IDLE:
            timeout = limits.idleTimeout
        elif state is _State.HEAD:
            timeout = limits.headTimeout
        elif state is _State.BODY:
            if limits.bodyTimeout is None or self._bodyPaused:
                return None
            received = self._decoder.received if self._decoder is not None else 0
            return self._since + limits.bodyTimeout + received / limits.bodyMinRate
        elif state is _State.CLOSING and self._lingering:
            return self._since + LINGER_SECONDS
        else:
            return None
        return None if timeout is None else self._since + timeout

    def _timerFired(self) -> None:
        self._timer = None
        deadline = self._deadline()
        if deadline is None:
            return
        now = self._reactor.seconds()
        if now < deadline:
            self._timer = self._reactor.callLater(deadline - now, self._timerFired)
            return
        state = self._state
        if state is _State.IDLE:
            self._close()
        elif state is _State.CLOSING:
            self.transport.abortConnection()  # type: ignore[union-attr]
        else:
            self._reject(RequestTimeout("request not received in time"))

    # -- input ------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        """
        Parse what arrived, answering every complete request in order.
        """
        state = self._state
        if state is _State.CLOSING:
            return
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        # While the client does not read its responses, the body of the request
        # under way is still read; only new requests wait.
        waitForWrite = self._writePaused and state is not _State.BODY
        if state is _State.RESPONDING or waitForWrite or self._bodyPaused:
            self._buffer = data
            if waitForWrite or self._bodyPaused or len(data) > PIPELINE_BUFFER:
                self._pauseReading()
            return
        self._parse(data)

    def _pauseReading(self) -> None:
        if not self._readPaused:
            self._readPaused = True
            self.transport.pauseProducing()  # type: ignore[union-attr]

    def _resumeReading(self) -> None:
        if self._readPaused:
            self._readPaused = False
            self.transport.resumeProducing()  # type: ignore[union-attr]

    def _parse(self, buf: bytes) -> None:
        self._parsing = True
        self._corked = []
        pos = 0
        end = len(buf)
        try:
            while pos < end:
                state = self._state
                if state is _State.IDLE or state is _State.HEAD:
                    if self._writePaused:
                        # The client is not reading its responses: answer no
                        # more until it does (Twisted ticket 8868).
                        break
                    if buf[pos] in _LINE_ENDS:
                        pos = skipEmptyLines(buf, pos)
                        if pos == end:
                            if state is _State.IDLE:
                                self._enterHead()
                            break
                    fieldsEnd, headEnd = findHeadEnd(buf, pos)
                    if headEnd < 0:
                        checkIncompleteHead(buf, pos, self._limits)
                        if state is _State.IDLE:
                            self._enterHead()
                        break
                    head = parseHead(buf, pos, fieldsEnd, headEnd, self._limits)
                    pos = headEnd
                    self._startRequest(head)
                elif state is _State.BODY:
                    if self._bodyPaused:
                        break
                    decoder = self._decoder
                    assert decoder is not None
                    pieces: list[bytes] = []
                    pos = decoder.decode(buf, pos, pieces)
                    request = self._request
                    if request is not None:
                        for piece in pieces:
                            request.handleContentChunk(piece)
                    if not decoder.done:
                        break
                    self._decoder = None
                    if request is None:
                        # The rest of a body whose request was answered
                        # early has been read and dropped.
                        self._enterIdle()
                    else:
                        self._dispatch(request)
                else:
                    break
        except WireError as error:
            self._parsing = False
            self._reject(error)
            return
        except BodyStorageError as error:
            self._parsing = False
            self._cannotStore(error)
            return
        finally:
            self._parsing = False
            self._uncork()
        if pos < end and self._state is not _State.CLOSING:
            self._buffer = buf[pos:] if pos else buf
            state = self._state
            if (
                self._bodyPaused
                or (self._writePaused and state is not _State.BODY)
                or (state is _State.RESPONDING and len(self._buffer) > PIPELINE_BUFFER)
            ):
                self._pauseReading()

    def _pauseBody(self) -> None:
        """
        Stop reading the request body until L{_resumeBody}; the body timeout
        does not run meanwhile (the application, not the client, is slow).
        """
        if self._state is _State.BODY and not self._bodyPaused:
            self._bodyPaused = True
            self._pausedAt = self._reactor.seconds()
            self._pauseReading()

    def _resumeBody(self) -> None:
        """Read the request body again, starting with what was buffered."""
        if not self._bodyPaused:
            return
        self._bodyPaused = False
        now = self._reactor.seconds()
        self._since += now - self._pausedAt
        if self._timer is None:
            self._armTimer(self._limits.bodyTimeout)
        self._resumeReading()
        if not self._parsing:
            buffered, self._buffer = self._buffer, b""
            if buffered:
                self._parse(buffered)

    def _enterHead(self) -> None:
        self._setState(_State.HEAD)
        self._since = self._reactor.seconds()
        self._armTimer(self._limits.headTimeout)

    def _startRequest(self, head: RequestHead) -> None:
        if head.target[:1] != b"/":
            self._checkScheme(head.target)
        request = self.requestFactory(self)
        request.requestHeaders._raw = head.headers
        request.method = head.method
        request.uri = head.target
        request.clientproto = head.version
        request._keepAlive = head.keepAlive
        self._request = request
        length = head.bodyLength
        if length:
            # The hooks that see the head before the body see its path too.
            request._setTarget(head.target)
        if not length:
            request.gotLength(0)
            self._dispatch(request)
            return
        declared = None if length == CHUNKED else length
        factory = self.factory
        refusal = factory.refuseBody(request, declared) if factory is not None else None
        if refusal is not None:
            self._request = None
            self._sendError(refusal, "request body refused")
            return
        request.gotLength(declared)
        if head.expectContinue:
            self._send(_CONTINUE)
        self._decoder = (
            ChunkedDecoder(self._limits) if declared is None else LengthDecoder(length)
        )
        self._setState(_State.BODY)
        self._since = self._reactor.seconds()
        self._armTimer(self._limits.bodyTimeout)

    def _checkScheme(self, target: bytes) -> None:
        """
        Refuse a target in absolute form whose scheme is not this
        connection's, unless it comes from a trusted proxy (which may have
        terminated TLS): RFC 9110 section 7.4 requires it for C{https} over
        cleartext, and over TLS this server is no authority for C{http}.

        @raise MisdirectedRequest: the target is refused.
        """
        authority = targetAuthority(target)
        if authority is None or authority.secure == self.isSecure():
            return
        trusted = self._trustedProxies
        if trusted and _isTrusted(str(getattr(self.getPeer(), "host", "")), trusted):
            return
        raise MisdirectedRequest("request target of another scheme")

    def _dispatch(self, request: Request) -> None:
        self._state = _State.RESPONDING  # from HEAD, BODY or IDLE: all allowed
        if self._bodyPaused:
            # Paused on the body's last piece: there is no more body to wait
            # for, and the connection must read the next request.
            self._bodyPaused = False
            self._resumeReading()
        request._holding = True
        try:
            request.requestReceived(request.method, request.uri, request.clientproto)
        except Exception:
            self._processingFailed(request, Failure())
            return
        if request._holding:
            request._release()

    def _processingFailed(self, request: Request, failure: Failure) -> None:
        """
        The application raised while processing C{request}: log it and answer
        500.  What C{process()} wrote is still held then, so none of it is sent,
        and the client never sees the traceback.
        """
        _log.failure("Unhandled error processing {request!r}", failure, request=request)
        if request.finished or self._state is _State.CLOSING:
            return
        request._holding = False
        request.finished = 1
        self._request = None
        request.connectionLost(failure)
        self._sendError(500, "the server failed to process the request", linger=False)

    # -- output -----------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        """
        Write C{data} to the client: at once, or, while the channel is parsing
        one read's worth of input, together with the other responses that read
        produces (one send for a pipelined batch).

        What is held back is sent as soon as it reaches the C{maxUnsentOutput}
        limit: the transport must see it to pause the channel, and a paused
        channel answers no further request, so a client that pipelines
        requests and reads nothing cannot make the server hold their responses
        without bound.
        """
        corked = self._corked
        if corked is None:
            self._write(data)
            return
        corked.append(data)
        self._corkedBytes += len(data)
        if self._corkedBytes >= self._limits.maxUnsentOutput:
            self._flush(corked)

    def _flush(self, corked: list[bytes]) -> None:
        """Send what was held back, and keep holding what follows."""
        if corked:
            data = corked[0] if len(corked) == 1 else b"".join(corked)
            corked.clear()
            self._corkedBytes = 0
            self._write(data)

    def _uncork(self) -> None:
        """Send what was held back while parsing, and hold nothing more."""
        corked, self._corked = self._corked, None
        if corked:
            self._flush(corked)

    def _write(self, data: bytes) -> None:
        """
        Write C{data} to the transport now.

        Twisted's transports queue every write until the next reactor turn
        (two epoll_ctl calls per response); when nothing is queued on a plain TCP
        socket, send at once and queue only what the socket did not take.
        """
        transport: Any = self.transport
        if (
            self._directSend
            and not transport._tempDataLen
            and not transport.dataBuffer
            and transport.connected
            and not transport.disconnecting
            and not transport._writeDisconnected
        ):
            sent = transport.writeSomeData(data)
            if isinstance(sent, int):
                if sent == len(data):
                    return
                data = data[sent:]
        transport.write(data)

    def _requestDone(self, request: Request) -> None:
        """
        C{request} finished: log it, then move on to the next request or close.
        """
        if request is not self._request:
            return
        self._request = None
        self._producer = None
        factory = self.factory
        if factory is not None:
            factory.log(request)
        if not request._keepAlive or self._state is _State.CLOSING:
            self._close()
            return
        if self._state is _State.BODY:
            # Answered before its body was all read (a streaming upload that
            # responded early): the rest of the body is still read, and
            # dropped, so that none of it is ever taken for a request.
            if self._bodyPaused:
                self._bodyPaused = False
                self._resumeReading()
            return
        self._enterIdle()

    def _enterIdle(self) -> None:
        """Wait for the next request, then read any already buffered."""
        self._state = _State.IDLE  # from RESPONDING or a dropped BODY
        self._since = self._reactor.seconds()
        # Any timer still pending fires before the new idle deadline, and will
        # re-arm itself; only a missing one needs scheduling.
        if self._timer is None:
            self._armTimer(self._limits.idleTimeout)
        if not self._parsing and not self._writePaused:
            self._continue()

    def _continue(self) -> None:
        """Read again, and answer what was buffered while we could not."""
        self._resumeReading()
        buffered, self._buffer = self._buffer, b""
        if buffered:
            self._parse(buffered)

    def _close(self) -> None:
        """Close the connection once everything written has been sent."""
        if self._state is _State.CLOSING:
            return
        self._uncork()
        self._state = _State.CLOSING
        self._buffer = b""
        transport: Any = self.transport
        transport.unregisterProducer()
        closeWhenSent(transport)

    def _reject(self, error: WireError) -> None:
        """Answer a peer error with its status, then close."""
        _log.info(
            "Rejected request from {peer}: {status} {reason}",
            peer=self.getPeer(),
            status=error.status,
            reason=error.reason,
        )
        request, self._request = self._request, None
        if request is not None and not request.finished:
            self._abandon(request, Failure(error))
        if request is None and self._state is _State.BODY:
            # The body of a request already answered: an error response now
            # would follow that answer on the wire.  Close instead.
            self._close()
            return
        self._sendError(error.status, error.reason)

    def _cannotStore(self, error: BodyStorageError) -> None:
        """
        The body of the request under way could not be stored (its files are
        already closed): answer 507 or 500 at once and close, since the rest
        of the body, still coming, must never be read as requests.
        """
        request, self._request = self._request, None
        _log.error(
            "Could not store the request body from {peer}: {problem}; "
            "answered {status} and closed the connection",
            peer=self.getPeer(),
            problem=error.problem,
            status=error.status,
        )
        if request is not None:
            request.connectionLost(Failure(error))
            if request.startedWriting and not request._resetResponse():
                # Part of an answer has gone out: no error page can follow it.
                self._close()
                return
        self._sendError(error.status, error.reason)

    def _sendError(self, status: int, reason: str, linger: bool = True) -> None:
        """
        Send a minimal plain-text error response and close the connection,
        draining input for a while first when C{linger} so that the client
        reads the response rather than a reset.
        """
        phrase = reasonPhrase(status)
        body = b"%d %s: %s\n" % (status, phrase, reason.encode("ascii", "replace"))
        self._send(
            b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: %d\r\nConnection: close\r\nDate: %s\r\n"
            b"Server: %s\r\n\r\n%s"
            % (status, phrase, len(body), httpDate(), SERVER_NAME, body)
        )
        self._uncork()
        self._buffer = b""
        self._decoder = None
        self._state = _State.CLOSING
        transport: Any = self.transport
        transport.unregisterProducer()
        if linger and stopWriting(transport):
            self._resumeReading()
            self._lingering = True
            self._since = self._reactor.seconds()
            self._armTimer(LINGER_SECONDS)
        else:
            closeWhenSent(transport)

    # -- back-pressure ----------------------------------------------------------

    def registerProducer(
        self, producer: IPushProducer | IPullProducer, streaming: bool
    ) -> None:
        """
        Make C{producer} the source of the current response's body.

        @raise RuntimeError: a producer is already registered.
        """
        if self._producer is not None:
            raise RuntimeError(
                f"cannot register {producer!r}: {self._producer!r} is registered"
            )
        if streaming:
            push: Any = producer
        else:
            push = _PullToPush(producer, self)
            push.startStreaming()
        self._producer = push
        if self._writePaused:
            push.pauseProducing()

    def unregisterProducer(self) -> None:
        """
        Forget the current response's producer.
        """
        producer, self._producer = self._producer, None
        if isinstance(producer, _PullToPush):
            producer.stopStreaming()

    def pauseProducing(self) -> None:
        """
        The transport's buffer is full: pause the response's producer.
        """
        self._writePaused = True
        if self._producer is not None:
            self._producer.pauseProducing()

    def resumeProducing(self) -> None:
        """
        The transport's buffer drained: resume the response's producer.
        """
        self._writePaused = False
        if self._producer is not None:
            self._producer.resumeProducing()
        state = self._state
        if self._parsing:
            return
        reading = state is _State.IDLE or state is _State.HEAD
        if reading or (state is _State.BODY and not self._bodyPaused):
            self._continue()

    def stopProducing(self) -> None:
        """
        The transport is going away: stop the response's producer.
        """
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.stopProducing()
