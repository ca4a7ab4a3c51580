"""
L{HTTPChannel}: the Twisted protocol that serves HTTP/1.1 on one connection.

It feeds received bytes to the wire layer's parser, makes each request with
its request factory and carries it through the stream contract
(L{twisted_web_re.iweb.IStream}), framing the response with the wire layer's
L{ResponseWriter}.  It answers pipelined requests strictly one after another,
keeps the connection alive or closes it, enforces the idle, head and body
timeouts, routes back-pressure between the transport and the response's
producer, and can hand the connection to another protocol: after a C{101},
or to HTTP/2 as the connection starts (L{ProtocolSwitching}).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IHandshakeListener,
    IProtocol,
    IPullProducer,
    IPushProducer,
    IReactorTime,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOProtocol
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re._protocols.addresses import ConnectionAddresses
from twisted_web_re._protocols.bodyreads import WideReads, widenReads
from twisted_web_re._protocols.closing import closeWhenSent, stopWriting
from twisted_web_re._protocols.forwarded import Network, isTrusted
from twisted_web_re._protocols.http1state import (
    BODY,
    BODY_PAUSED,
    CLOSING,
    DRAINING,
    ENDS,
    HEAD,
    IDLE,
    LINGERING,
    OPENING,
    RESPONDING,
    SWITCHED,
    TRANSITIONS,
    State,
    checkMove,
    mayParse,
    mayRead,
)
from twisted_web_re._protocols.http1switch import ProtocolSwitching
from twisted_web_re._protocols.internals import isPullAdapter, pullToPush
from twisted_web_re._protocols.negotiation import HTTP2Protocol, Negotiation
from twisted_web_re._protocols.output import Output
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._protocols.sendfile import sendFileRegion
from twisted_web_re._protocols.tlshandshake import logHandshakeFailure
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
from twisted_web_re._wire.status import reasonPhrase
from twisted_web_re._wire.writer import CONTINUE, ResponseWriter, errorResponse
from twisted_web_re.http_headers import Headers
from twisted_web_re.iweb import IStream, IStreamRequest, RequestBodyError

_log = Logger()

#: Seconds a connection closed for an error keeps draining the client's input,
#: so the error response is not destroyed by a TCP reset (RFC 9112 section 9.6).
LINGER_SECONDS = 2.0

_LINEENDS = (0x0D, 0x0A)

#: Makes the request for each head: given the channel, returns the request.
RequestFactory = Callable[[IStream], IStreamRequest]

#: Called with each request once it is finished or cut short, to log it.
AccessLog = Callable[[IStreamRequest], None]

#: Decides from a request's head whether to read its body (see
#: L{twisted_web_re.http.HTTPFactory.refuseBody}).
BodyRefusal = Callable[[IStreamRequest, "int | None"], "int | None"]


@implementer(IPushProducer, IStream, IHandshakeListener)
class HTTPChannel(ConnectionAddresses, Protocol, ProtocolSwitching):
    """
    An HTTP/1.1 server connection, and the L{IStream} of the request it is
    answering.

    The end of the client's input means the client has gone, as in
    twisted.web: a response still pending is abandoned, and its request's
    C{notifyFinish} Deferreds fail.  (A half-close is indistinguishable from a
    close on the reading side, and a server that waited would never learn
    that a client of a long-polling resource had left.)

    What it shares with other connections is given to L{configure} (an
    L{twisted_web_re.http.HTTPFactory} does so); unconfigured, it applies
    the default limits, the global reactor, and logs nothing.

    @cvar requestFactory: called with the channel to make each request.
    @ivar trustedProxies: networks whose forwarding headers are believed.
    @ivar site: the Site whose requests the channel carries (set by the
        Site that builds it), or C{None}.
    """

    requestFactory: RequestFactory | None = None
    factory: Factory | None = None
    site: object | None = None
    # The transport's reads, widened while a large body arrives.
    _wide: WideReads | None = None
    # The reactor in use, from connectionMade on.
    _reactor: IReactorTime
    # What every connection starts with: class attributes until the
    # connection changes them, so that making a connection (once per
    # request, for clients that do not keep connections alive) sets only
    # what is its own.
    _state: State = OPENING
    _buffer = b""
    _request: IStreamRequest | None = None
    _decoder: BodyDecoder | None = None
    _readPaused = False
    _writePaused = False
    _producer: IPushProducer | None = None
    _switched: IProtocol | HTTP2Protocol | None = None
    _timer: IDelayedCall | None = None
    _since = 0.0
    _pausedAt = 0.0
    _limits: Limits = DEFAULT_LIMITS
    _givenReactor: IReactorTime | None = None
    _accessLog: AccessLog | None = None
    _refuseBody: BodyRefusal | None = None
    _peer: IAddress | None = None
    _host: IAddress | None = None
    _secure: bool | None = None
    trustedProxies: tuple[Network, ...] = ()
    _handshaken = False

    def __init__(self) -> None:
        self._writer = ResponseWriter(SERVER_NAME)
        self._out = Output()

    def configure(
        self,
        *,
        limits: Limits = DEFAULT_LIMITS,
        reactor: IReactorTime | None = None,
        accessLog: AccessLog | None = None,
        refuseBody: BodyRefusal | None = None,
        trustedProxies: tuple[Network, ...] = (),
        negotiation: Negotiation | None = None,
    ) -> None:
        """
        Give the channel what it shares with the other connections, before
        the connection is made.

        @param limits: the limits it applies.
        @param reactor: the reactor for its timers (the global one if
            C{None}).
        @param accessLog: called with each request once finished, or cut
            short after its response started.
        @param refuseBody: asked, for each request with a body, whether to
            read it: C{None} to read it, or the status to answer at once.
        @param trustedProxies: networks whose forwarding headers are believed.
        @param negotiation: the ways the connection may become HTTP/2 (and
            the HTTP/2 connections its factory's connections became);
            C{None}, the default, serves only HTTP/1.1.
        """
        self._negotiation = negotiation
        self._limits = limits
        self._givenReactor = reactor
        self._accessLog = accessLog
        self._refuseBody = refuseBody
        self.trustedProxies = trustedProxies

    # -- the state machine ----------------------------------------------------

    def _setState(self, state: State) -> None:
        """
        Move to C{state}: the one place the state changes.

        @raise RuntimeError: the move is not one L{State} draws.
        """
        if state not in TRANSITIONS[self._state]:
            checkMove(self._state, state)
        self._state = state

    @property
    def _bodyPaused(self) -> bool:
        """Whether the request body is paused by its request."""
        return self._state is BODY_PAUSED

    def _mayParse(self) -> bool:
        """Whether input may be parsed now (see L{mayParse})."""
        return mayParse(self._state, self._writePaused)

    def _updateReading(self) -> None:
        """Pause or resume the transport's reading as L{mayRead} says."""
        if self._state is CLOSING or self._state is SWITCHED:
            return
        if mayRead(self._state, self._writePaused, len(self._buffer)):
            if self._readPaused:
                self._readPaused = False
                self.transport.resumeProducing()  # type: ignore[union-attr]
        elif not self._readPaused:
            self._readPaused = True
            self.transport.pauseProducing()  # type: ignore[union-attr]

    # -- connection life ------------------------------------------------------

    def connectionMade(self) -> None:
        """
        Register for the transport's back-pressure and start the idle timer.
        """
        reactor = self._reactor = resolveReactor(self._givenReactor)
        transport = self.transport
        self._out.attach(transport, self._limits.maxUnsentOutput)  # type: ignore[arg-type]
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
        Cancel timers, and tell an unfinished request that it was abandoned
        (or the protocol switched to that the connection is gone).  Over TLS,
        log why the handshake failed if it did.
        """
        if not self._handshaken and isinstance(self.transport, TLSMemoryBIOProtocol):
            logHandshakeFailure(self.transport, reason)
        state = self._state
        self._setState(CLOSING)
        # The first request's hook (see ProtocolSwitching._opening), if
        # none came.
        vars(self).pop("_startRequest", None)
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        reason = reason or Failure(ConnectionError("connection lost"))
        switched, self._switched = self._switched, None
        if switched is not None and state is SWITCHED:
            switched.connectionLost(reason)
            return
        request, self._request = self._request, None
        self._producer = None
        self._buffer = b""
        if request is not None and not request.finished:
            # What never left this process was not sent.
            request.sentLength = max(0, request.sentLength - self._out.unsent())
            self._abandon(request, reason)

    def _abandon(self, request: IStreamRequest, reason: Failure) -> None:
        """
        C{request} will never finish: tell it, and log it if its response was
        started (with the status and the bytes sent so far).
        """
        request.connectionLost(reason)
        if request.startedWriting and self._accessLog is not None:
            self._accessLog(request)

    # -- what the request asks of its stream ----------------------------------

    @property
    def bodyMemoryLimit(self) -> int:
        """Bytes of a request body kept in memory (from the limits)."""
        return self._limits.bodyMemoryLimit

    @property
    def reactor(self) -> IReactorTime:
        """The reactor timing the connection: the one configured, or the global one."""
        reactor: IReactorTime = resolveReactor(self._givenReactor)
        return reactor

    @property
    def chunked(self) -> bool:
        """Whether the current response body is sent with chunked coding."""
        return self._writer.chunked

    def abortConnection(self) -> None:
        """Drop the connection at once, discarding whatever is unsent."""
        transport: Any = self.transport
        abort = getattr(transport, "abortConnection", None)
        if abort is not None:
            abort()
        else:
            transport.loseConnection()

    def loseConnection(self) -> None:
        """Close the connection once what has been written is sent."""
        self.transport.loseConnection()  # type: ignore[union-attr]

    def writeHead(
        self,
        code: int,
        reason: bytes,
        headers: Mapping[bytes, list[bytes]],
        cookies: Sequence[bytes],
    ) -> None:
        """See L{IStream.writeHead}."""
        if self._state is SWITCHED:
            return
        writer = self._writer
        writer.commit(code, reason, headers, cookies)
        if writer.problem is not None:
            self._logProblem()

    def writeBody(self, data: bytes) -> None:
        """See L{IStream.writeBody}."""
        if self._state is SWITCHED:
            return
        writer = self._writer
        if writer.pending:
            out = writer.head(None)
            if data:
                out += writer.body(data)
        else:
            out = writer.body(data)
        request = self._request
        if request is not None:
            request.sentLength = writer.sent
        if writer.problem is not None:
            self._logProblem()
        if out:
            self._out.send(out)

    def endResponse(self, last: bytes = b"") -> None:
        """
        See L{IStream.endResponse}.  A request made by hand on this channel
        (not by it, as twisted.web allows) is sent, but not logged, and the
        channel's own course does not change.
        """
        if self._state is SWITCHED:
            return
        writer = self._writer
        if writer.pending:
            out = writer.whole(last)
        else:
            out = (writer.body(last) if last else b"") + writer.end()
        request = self._request
        if request is not None:
            request.sentLength = writer.sent
        if writer.problem is not None:
            self._logProblem()
        if out:
            self._out.send(out)
        if request is not None:
            self._requestDone(request)

    def sendFileRegion(self, fd: int, offset: int, count: int) -> int:
        """
        Send up to C{count} bytes of the current response's body straight
        from the file open as C{fd}, from C{offset} (C{os.sendfile}; see
        L{twisted_web_re._protocols.sendfile.sendFileRegion}).  Not part of
        L{IStream}: a producer asks for it by name.

        @return: the bytes sent; 0 when the producer must write them
            itself; C{WAITING} (negative) when the socket is full and the
            producer is paused until it has room.
        """
        if self._state is SWITCHED:
            return 0
        return sendFileRegion(self, fd, offset, count)

    def _logProblem(self) -> None:
        """Log what the writer found wrong with the application's framing."""
        writer = self._writer
        _log.error(
            "{request!r}: {problem}", request=self._request, problem=writer.problem
        )
        writer.problem = None

    def pauseBody(self) -> None:
        """
        Stop reading the request body until L{resumeBody}; the body timeout
        does not run meanwhile (the application, not the client, is slow).
        """
        if self._state is BODY:
            self._setState(BODY_PAUSED)
            self._pausedAt = self._reactor.seconds()
            self._updateReading()

    def resumeBody(self) -> None:
        """Read the request body again, starting with what was buffered."""
        if self._state is not BODY_PAUSED:
            return
        self._setState(BODY)
        self._since += self._reactor.seconds() - self._pausedAt
        if self._timer is None:
            self._armTimer(self._limits.bodyTimeout)
        self._continue()

    # -- timers -----------------------------------------------------------------

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
        if state is IDLE or state is OPENING:
            timeout = limits.idleTimeout
        elif state is HEAD:
            timeout = limits.headTimeout
        elif state is BODY or state is DRAINING:
            if limits.bodyTimeout is None:
                return None
            received = self._decoder.received if self._decoder is not None else 0
            return self._since + limits.bodyTimeout + received / limits.bodyMinRate
        elif state is LINGERING:
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
        if state is IDLE or state is OPENING:
            self._close()
        elif state is LINGERING:
            self.transport.abortConnection()  # type: ignore[union-attr]
        else:
            self._reject(RequestTimeout("request not received in time"))

    # -- input ------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        """
        Parse what arrived, answering every complete request in order; once
        switched, pass it to the protocol switched to.
        """
        state = self._state
        if state is SWITCHED:
            self._switched.dataReceived(data)  # type: ignore[union-attr]
            return
        if state is CLOSING or state is LINGERING:
            return
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        if mayParse(state, self._writePaused):
            self._parse(data)
            return
        if state is OPENING:
            self._opening(data)
            return
        self._buffer = data
        self._updateReading()

    def _parse(self, buf: bytes) -> None:
        end = len(buf)
        if not end:
            return
        self._out.cork()
        pos = 0
        try:
            # Called with input to parse while mayParse() holds; checked again
            # after each step, as answering a request changes the state.
            while True:
                state = self._state
                if state is IDLE or state is HEAD:
                    if buf[pos] in _LINEENDS:
                        pos = skipEmptyLines(buf, pos)
                        if pos == end:
                            if state is IDLE:
                                self._enterHead()
                            break
                    fieldsEnd, headEnd = findHeadEnd(buf, pos)
                    if headEnd < 0:
                        checkIncompleteHead(buf, pos, self._limits)
                        if state is IDLE:
                            self._enterHead()
                        break
                    head = parseHead(buf, pos, fieldsEnd, headEnd, self._limits)
                    pos = headEnd
                    self._startRequest(head)
                else:
                    decoder = self._decoder
                    assert decoder is not None
                    pieces: list[bytes] = []
                    pos = decoder.decode(buf, pos, pieces)
                    request = self._request
                    if request is not None:
                        for piece in pieces:
                            request.handleContentChunk(piece)
                    wide = self._wide
                    if wide is not None and decoder.received >= wide.narrowAfter:
                        self._narrowReads()
                    if not decoder.done:
                        break
                    self._decoder = None
                    if state is DRAINING:
                        # The rest of a body whose request was answered
                        # early has been read and dropped.
                        self._enterIdle()
                    elif request is not None:
                        self._dispatch(request)
                if pos >= end or not mayParse(self._state, self._writePaused):
                    break
        except WireError as error:
            self._reject(error)
            return
        except RequestBodyError as error:
            self._cannotStore(error)
            return
        finally:
            self._out.uncork()
        if pos < end:
            state = self._state
            if state is SWITCHED:
                self._switched.dataReceived(buf[pos:])  # type: ignore[union-attr]
            elif state is not CLOSING and state is not LINGERING:
                self._buffer = buf[pos:] if pos else buf
                self._updateReading()

    def _enterHead(self) -> None:
        self._setState(HEAD)
        self._since = self._reactor.seconds()
        self._armTimer(self._limits.headTimeout)

    def _startRequest(self, head: RequestHead) -> None:
        if head.target[:1] != b"/":
            self._checkScheme(head.target)
        factory = self.requestFactory
        if factory is None:
            raise RuntimeError(f"{self!r} has no requestFactory")
        request = factory(self)
        request.headReceived(
            head.method, head.target, head.version, Headers.fromLowered(head.headers)
        )
        self._writer.reset(head.version, head.method, head.keepAlive)
        self._request = request
        length = head.bodyLength
        if not length:
            request.gotLength(0)
            self._dispatch(request)
            return
        declared = None if length == CHUNKED else length
        refuse = self._refuseBody
        refusal = refuse(request, declared) if refuse is not None else None
        if refusal is not None:
            self._request = None
            self._sendError(refusal, "request body refused")
            return
        request.gotLength(declared)
        if head.expectContinue:
            self._out.send(CONTINUE)
        if declared is None:
            self._decoder = ChunkedDecoder(self._limits)
        else:
            self._decoder = LengthDecoder(length)
            self._wide = widenReads(self.transport, length)
        self._setState(BODY)
        self._since = self._reactor.seconds()
        self._armTimer(self._limits.bodyTimeout)

    def _narrowReads(self) -> None:
        """Read as usual again, after a large body's last wide read."""
        wide, self._wide = self._wide, None
        if wide is not None:
            wide.narrow()

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
        trusted = self.trustedProxies
        if trusted and isTrusted(str(getattr(self.getPeer(), "host", "")), trusted):
            return
        raise MisdirectedRequest("request target of another scheme")

    def _dispatch(self, request: IStreamRequest) -> None:
        paused = self._state is BODY_PAUSED
        self._setState(RESPONDING)
        if paused:
            # Paused on the body's last piece: there is no more body to wait
            # for, and the connection must read the next request.
            self._updateReading()
        try:
            request.requestReceived(request.method, request.uri, request.clientproto)
        except Exception:
            self._processingFailed(request, Failure())

    def _processingFailed(self, request: IStreamRequest, failure: Failure) -> None:
        """
        The application raised while processing C{request}: log it and answer
        500.  What C{process()} wrote is still held then, so none of it is sent,
        and the client never sees the traceback.
        """
        _log.failure("Unhandled error processing {request!r}", failure, request=request)
        if request.finished or self._state in ENDS:
            return
        request.finished = 1
        self._request = None
        request.connectionLost(failure)
        self._sendError(500, "the server failed to process the request", linger=False)

    # -- output -----------------------------------------------------------------

    def _requestDone(self, request: IStreamRequest) -> None:
        """
        C{request} finished: log it, then move on to the next request or close.
        """
        self._request = None
        self._producer = None
        if self._accessLog is not None:
            self._accessLog(request)
        state = self._state
        if not self._writer.keepAlive or state in ENDS:
            self._close()
            return
        if state is BODY or state is BODY_PAUSED:
            # Answered before its body was all read (a streaming upload that
            # responded early): the rest of the body is still read, and
            # dropped, so that none of it is ever taken for a request.
            self._setState(DRAINING)
            self._continue()
            return
        self._enterIdle()

    def _enterIdle(self) -> None:
        """Wait for the next request, then read any already buffered."""
        self._setState(IDLE)
        self._since = self._reactor.seconds()
        # Any timer still pending fires before the new idle deadline, and will
        # re-arm itself; only a missing one needs scheduling.
        if self._timer is None:
            self._armTimer(self._limits.idleTimeout)
        if not self._out.corked:
            self._continue()

    def _continue(self) -> None:
        """
        Read again if L{mayRead} allows, and parse what was buffered while
        the channel could not, unless a parse is under way (its loop goes on
        with the state as it now is).
        """
        if self._out.corked:
            return
        self._updateReading()
        if self._mayParse():
            buffered, self._buffer = self._buffer, b""
            if buffered:
                self._parse(buffered)

    def _close(self) -> None:
        """Close the connection once everything written has been sent."""
        if self._state in ENDS:
            return
        self._out.uncorkLast()
        self._setState(CLOSING)
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
        if request is None and self._state is DRAINING:
            # The body of a request already answered: an error response now
            # would follow that answer on the wire.  Close instead.
            self._close()
            return
        self._sendError(error.status, error.reason)

    def _cannotStore(self, error: RequestBodyError) -> None:
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
            writer = self._writer
            if writer.code and not writer.pending:
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
        self._out.send(errorResponse(status, phrase, body, SERVER_NAME))
        self._out.uncork()
        self._buffer = b""
        self._decoder = None
        self._narrowReads()
        transport: Any = self.transport
        transport.unregisterProducer()
        if linger and stopWriting(transport):
            self._setState(LINGERING)
            self._updateReading()
            self._since = self._reactor.seconds()
            self._armTimer(LINGER_SECONDS)
        else:
            self._setState(CLOSING)
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
            push = pullToPush(producer, self)  # type: ignore[arg-type]
        self._producer = push
        if self._writePaused:
            push.pauseProducing()

    def unregisterProducer(self) -> None:
        """Forget the current response's producer."""
        producer, self._producer = self._producer, None
        if isPullAdapter(producer):
            producer.stopStreaming()  # type: ignore[union-attr]

    def pauseProducing(self) -> None:
        """The transport's buffer is full: pause the response's producer."""
        self._writePaused = True
        if self._producer is not None:
            self._producer.pauseProducing()

    def resumeProducing(self) -> None:
        """
        The transport's buffer drained: resume the response's producer, and
        read again if the channel was waiting for it.
        """
        self._writePaused = False
        if self._producer is not None:
            self._producer.resumeProducing()
        if self._mayParse():
            self._continue()

    def stopProducing(self) -> None:
        """The transport is going away: stop the response's producer."""
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.stopProducing()
