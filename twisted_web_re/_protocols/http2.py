"""
L{HTTP2Connection}: the Twisted protocol that serves HTTP/2 on one
connection, with the C{h2} library as its frame and state machine.

It is connected from the first byte of the client's preface, however HTTP/2
was chosen (ALPN C{h2}, cleartext prior knowledge, or an C{Upgrade: h2c}
answered by L{HTTP2Connection.upgradedFrom}).  Each request stream is an
L{HTTP2Stream} carrying a request made by the request factory, the same
request HTTP/1.1 makes.  The connection enforces the limits named C{h2*} in
L{twisted_web_re._wire.limits}, holds response data within the client's
windows (L{OutboundFlow}), and ends with GOAWAY: when idle too long, when
asked to shut down (letting the streams in flight finish), or on a
connection error.
"""

from __future__ import annotations

from typing import Any

from h2.errors import ErrorCodes
from h2.events import (
    DataReceived,
    Event,
    RemoteSettingsChanged,
    RequestReceived,
    StreamEnded,
    StreamReset,
    WindowUpdated,
)
from h2.exceptions import ProtocolError
from h2.stream import StreamState as H2StreamState
from hyperframe.frame import GoAwayFrame
from twisted.internet.defer import Deferred, succeed
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IPushProducer,
    IReactorTime,
)
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re._protocols.addresses import ConnectionAddresses
from twisted_web_re._protocols.forwarded import Network
from twisted_web_re._protocols.http1 import AccessLog, BodyRefusal, RequestFactory
from twisted_web_re._protocols.http2engine import (
    DEFAULT_WINDOW,
    PREFACE,
    FrameSplitter,
    FrameTooLarge,
    MalformedRequest,
    ServerEngine,
    newEngine,
    settingsFrame,
)
from twisted_web_re._protocols.http2fields import upgradedRequestFields
from twisted_web_re._protocols.http2flow import OutboundFlow
from twisted_web_re._protocols.http2stream import HTTP2Stream
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._wire.http2guard import Budget, FrameGuard
from twisted_web_re._wire.limits import DEFAULT_LIMITS, Limits
from twisted_web_re.http_headers import Headers

_log = Logger()


@implementer(IPushProducer)
class HTTP2Connection(ConnectionAddresses, Protocol):
    """
    An HTTP/2 server connection.

    What it shares with other connections is given to L{configure}, with
    the meaning L{twisted_web_re.http.HTTPChannel.configure} gives it;
    unconfigured, it applies the default limits, the global reactor, and logs
    nothing.

    @cvar requestFactory: called with each L{HTTP2Stream} to make its request.
    @ivar factory: the factory that made it, if any.
    @ivar site: given to each stream as its C{site}.
    @ivar trustedProxies: networks whose forwarding headers are believed.
    @ivar limits: the limits it applies.
    @ivar reactor: the reactor for its timers (once connected).
    @ivar accessLog: called with each request once finished, or cut short
        after its response started.
    @ivar refuseBody: asked, for each request with a body, whether to read it.
    @ivar engine: the C{h2} connection (once connected).
    @ivar flow: the outbound flow control (once connected).
    @ivar writePaused: whether the transport pushes back.
    @ivar engineOpen: whether frames may still be sent (no connection error).
    """

    requestFactory: RequestFactory | None = None
    factory: Factory | None = None
    site: object | None = None
    _guard: FrameGuard
    _provokedResets: Budget

    def __init__(self) -> None:
        self.limits: Limits = DEFAULT_LIMITS
        self.reactor: Any = None
        self.accessLog: AccessLog | None = None
        self.refuseBody: BodyRefusal | None = None
        self.trustedProxies: tuple[Network, ...] = ()
        self.engine: ServerEngine = None  # type: ignore[assignment]
        self.flow: OutboundFlow = None  # type: ignore[assignment]
        self.writePaused = False
        self.engineOpen = True
        self._streams: dict[int, HTTP2Stream] = {}
        # Streams answered before their body ended, its rest being dropped.
        self._draining: dict[int, HTTP2Stream] = {}
        self._splitter: FrameSplitter | None = None
        self._preface: bytes | None = b""
        self._corked = 0
        self._closed = False
        self._closing = False
        self._goingAway: int | None = None
        self._peerGoingAway = False
        self._upgrade: tuple[bytes, bytes, bytes, Headers] | None = None
        self._idleSince = 0.0
        self._idleTimer: IDelayedCall | None = None
        self._stallTimer: IDelayedCall | None = None
        self._shutdownTimer: IDelayedCall | None = None
        self._headTimer: IDelayedCall | None = None
        self._shutDownWhenMade: float | None = None
        self._whenClosed: list[Deferred[None]] = []
        self._peer: IAddress | None = None
        self._host: IAddress | None = None
        self._secure: bool | None = None

    def configure(
        self,
        *,
        limits: Limits = DEFAULT_LIMITS,
        reactor: IReactorTime | None = None,
        accessLog: AccessLog | None = None,
        refuseBody: BodyRefusal | None = None,
        trustedProxies: tuple[Network, ...] = (),
    ) -> None:
        """
        Give the connection what it shares with the other connections, before
        it is made; the same as L{twisted_web_re.http.HTTPChannel.configure}.
        """
        self.limits = limits
        self.reactor = reactor
        self.accessLog = accessLog
        self.refuseBody = refuseBody
        self.trustedProxies = trustedProxies

    def upgradedFrom(
        self, settings: bytes, method: bytes, target: bytes, headers: Headers
    ) -> None:
        """
        The connection comes from an HTTP/1.1 request that asked for h2c by
        C{Upgrade} (RFC 7540 section 3.2), answered with a C{101}: call before
        C{makeConnection}.  Once connected, the server preface goes out and
        that request (one without a body) is answered as stream 1.

        @param settings: the request's C{HTTP2-Settings} value (base64url).
        @param method: its method.
        @param target: its request-target.
        @param headers: its fields.
        """
        self._upgrade = (settings, method, target, headers)

    # -- connection life ----------------------------------------------------------

    def connectionMade(self) -> None:
        """Send our preface (SETTINGS) and start the idle timer."""
        limits = self.limits
        self.reactor = resolveReactor(self.reactor)
        engine = self.engine = newEngine(limits)
        self.flow = OutboundFlow(engine, self.reactor.seconds, self._drained)
        self._splitter = FrameSplitter(limits.h2MaxFrameSize)
        self._guard = FrameGuard(
            limits, maxFrameSize=limits.h2MaxFrameSize, preface=False
        )
        self._provokedResets = Budget(limits.h2MaxProvokedResetsPerSecond)
        upgrade = self._upgrade
        if upgrade is not None:
            try:
                engine.initiate_upgrade_connection(upgrade[0])
            except Exception:
                # A bad HTTP2-Settings: the request asked for a connection
                # it described wrongly (RFC 7540 section 3.2.1).
                _log.info("Invalid HTTP2-Settings from {peer}", peer=self.getPeer())
                engine.initiate_connection()
                upgrade = None
        else:
            engine.initiate_connection()
        # h2 sent its own view of our settings; the client is told ours.
        engine.data_to_send()
        extra = limits.h2ConnectionWindow - DEFAULT_WINDOW
        if extra > 0:
            engine.increment_flow_control_window(extra)
        transport: Any = self.transport
        transport.write(settingsFrame(limits))
        transport.registerProducer(self, True)
        setNoDelay = getattr(transport, "setTcpNoDelay", None)
        if setNoDelay is not None:
            try:
                setNoDelay(True)
            except OSError:
                pass
        self._idleSince = self.reactor.seconds()
        self._armIdle(limits.h2IdleTimeout)
        if upgrade is not None:
            self._answerUpgrade(*upgrade[1:])
        if self._shutDownWhenMade is not None:
            self.shutDown(self._shutDownWhenMade)
        self.flush()

    def _answerUpgrade(self, method: bytes, target: bytes, headers: Headers) -> None:
        """Answer the request that asked for h2c as stream 1."""
        self._openStream(1, upgradedRequestFields(method, target, headers), True)

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Give up every stream still open, and fire L{notifyClosed}."""
        if self._closed:
            return
        self._closed = True
        self._closing = True
        reason = reason or Failure(ConnectionDone("connection closed"))
        for timer in (
            self._idleTimer,
            self._stallTimer,
            self._shutdownTimer,
            self._headTimer,
        ):
            if timer is not None and timer.active():
                timer.cancel()
        self._idleTimer = self._stallTimer = self._shutdownTimer = None
        self._headTimer = None
        self._abandonAll(reason)
        waiting, self._whenClosed = self._whenClosed, []
        for d in waiting:
            d.callback(None)

    def _abandonAll(self, reason: Failure) -> None:
        """Give up every stream (the connection will carry no more frames)."""
        self.engineOpen = False
        for stream in [*self._streams.values(), *self._draining.values()]:
            stream.lost(reason)
        self._streams.clear()
        self._draining.clear()

    def notifyClosed(self) -> Deferred[None]:
        """Return a Deferred that fires when the connection is lost."""
        if self._closed:
            return succeed(None)
        d: Deferred[None] = Deferred()
        self._whenClosed.append(d)
        return d

    def shutDown(self, deadline: float) -> Deferred[None]:
        """
        End gracefully: send GOAWAY now, let the streams in flight finish,
        and close after C{deadline} seconds at the latest.

        Asked before the connection is made (it became HTTP/2 while the
        server was stopping), it does so once it is: the client is sent our
        SETTINGS, then the GOAWAY.

        @return: a Deferred that fires once the connection is closed (at once
            if it already is).
        """
        if self._closed:
            return succeed(None)
        closed = self.notifyClosed()
        if self.engine is None:
            self._shutDownWhenMade = deadline
            return closed
        self._sendGoAway(ErrorCodes.NO_ERROR)
        if self._shutdownTimer is None:
            self._shutdownTimer = self.reactor.callLater(deadline, self._deadlinePassed)
        self._closeIfDone()
        return closed

    def _deadlinePassed(self) -> None:
        self._shutdownTimer = None
        if self._streams:
            _log.info(
                "HTTP/2 connection from {peer} closed at its shutdown deadline "
                "with {count} streams unfinished",
                peer=self.getPeer(),
                count=len(self._streams),
            )
        self._abandonAll(Failure(ConnectionLost("server shut down")))
        self._close()

    def _sendGoAway(self, code: int) -> None:
        """
        Send GOAWAY with C{code} naming the last stream taken, once.  It is
        written here, not by C{h2}, which would refuse to send the responses
        still in flight after it.
        """
        if self._goingAway is not None or self._closing:
            return
        last = self._goingAway = self.engine.highest_inbound_stream_id
        self._writeOut()
        frame = GoAwayFrame(0, last_stream_id=last, error_code=code)
        self.transport.write(bytes(frame.serialize()))  # type: ignore[union-attr]

    def _close(self) -> None:
        """Close once what was written is sent."""
        if self._closing:
            return
        self._writeOut()
        self._closing = True
        transport: Any = self.transport
        transport.unregisterProducer()
        transport.loseConnection()

    def _fail(self, code: int, problem: str) -> None:
        """
        A connection error: log C{problem} once, send GOAWAY with C{code}
        (unless C{h2} has queued its own), give up every stream, and close.
        """
        if self._closing:
            return
        _log.info(
            "HTTP/2 connection error from {peer}: {problem}",
            peer=self.getPeer(),
            problem=problem,
        )
        if self.engineOpen and self._goingAway is None:
            try:
                self.engine.close_connection(code)
            except ProtocolError:
                pass
        self._goingAway = self.engine.highest_inbound_stream_id
        self._writeOut()
        self._abandonAll(Failure(ConnectionLost(problem)))
        self._close()

    def _closeIfDone(self) -> None:
        """After a GOAWAY either way, close once no stream is left."""
        if (
            (self._goingAway is not None or self._peerGoingAway)
            and not self._streams
            and not self._closing
        ):
            self._close()

    # -- input ----------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        """
        Take what arrived: the preface, then frames, each handed to C{h2}
        and its events to the streams.  Nothing the client sends raises
        out of here: a connection error ends the connection with GOAWAY.
        """
        if self._closing:
            return
        if self._preface is not None:
            data = self._preface + data
            if len(data) < len(PREFACE):
                if PREFACE.startswith(data):
                    self._preface = data
                    return
            elif data.startswith(PREFACE):
                self._preface = None
                data = data[len(PREFACE) :]
                self._receive(PREFACE)
            if self._preface is not None:
                self._fail(ErrorCodes.PROTOCOL_ERROR, "invalid connection preface")
                return
        # The flood guard sees every byte after the preface before h2 does.
        guard = self._guard
        verdict = guard.scan(data, self.reactor.seconds())
        if verdict is not None:
            self._fail(verdict.errorCode, verdict.problem)
            return
        if guard.headerBlockOpen:
            if self._headTimer is None:
                self._armHeadTimer()
        elif self._headTimer is not None:
            self._headTimer.cancel()
            self._headTimer = None
        self._corked += 1
        try:
            assert self._splitter is not None
            for piece in self._splitter.split(data):
                if self._closing:
                    break
                if isinstance(piece, tuple):
                    self._peerGoAway(*piece)
                else:
                    self._receive(piece)
        except FrameTooLarge as error:
            self._fail(ErrorCodes.FRAME_SIZE_ERROR, str(error))
        finally:
            self._corked -= 1
        self.flush()

    def _receive(self, data: bytes) -> None:
        """Hand C{data} to C{h2}, then its events to the streams."""
        try:
            events = self.engine.receive_data(data)
        except ProtocolError as error:
            # h2 has queued its GOAWAY.
            self._goingAway = self.engine.highest_inbound_stream_id
            self._fail(error.error_code, f"{type(error).__name__}: {error}")
            return
        if self.engine.provokedResets:
            self._countProvokedResets()
        if len(events) > 1:
            reset = {
                event.stream_id
                for event in events
                if isinstance(event, (StreamReset, MalformedRequest))
            }
            if reset:
                self._eventsBeforeResets(events, reset)
                return
        for event in events:
            if self._closing:
                return
            self._event(event)

    def _eventsBeforeResets(self, events: list[Event], reset: set[int]) -> None:
        """
        Handle C{events}, some of whose streams were reset later in the same
        read (by the client, or by C{h2} for a stream error): C{h2} has
        closed those streams already, so what came on them before their
        reset is dropped (their DATA handed back to the connection's window)
        and a request among it is never made, let alone answered.
        """
        for event in events:
            if self._closing:
                return
            streamId = getattr(event, "stream_id", 0)
            if streamId in reset and not isinstance(
                event, (StreamReset, MalformedRequest)
            ):
                if isinstance(event, DataReceived) and event.flow_controlled_length:
                    self.engine.acknowledge_received_data(
                        event.flow_controlled_length, streamId
                    )
                continue
            self._event(event)

    def _countProvokedResets(self) -> None:
        """
        Spend the resets the client made us send (MadeYouReset,
        CVE-2025-8671): over L{Limits.h2MaxProvokedResetsPerSecond}, end the
        connection with GOAWAY ENHANCE_YOUR_CALM.
        """
        engine = self.engine
        count, engine.provokedResets = engine.provokedResets, 0
        now = self.reactor.seconds()
        budget = self._provokedResets
        for _ in range(count):
            if not budget.spend(now):
                self._fail(
                    ErrorCodes.ENHANCE_YOUR_CALM,
                    "more than "
                    f"{self.limits.h2MaxProvokedResetsPerSecond} streams a second "
                    "reset for frames that are stream errors "
                    "(MadeYouReset, CVE-2025-8671)",
                )
                return

    def _event(self, event: Event) -> None:
        if isinstance(event, DataReceived):
            stream = self._streams.get(event.stream_id)
            if stream is None and self._draining:
                stream = self._draining.get(event.stream_id)
            if stream is not None:
                stream.bodyReceived(event.data, event.flow_controlled_length)
            elif event.flow_controlled_length:
                self.engine.acknowledge_received_data(
                    event.flow_controlled_length,
                    event.stream_id,
                )
        elif isinstance(event, RequestReceived):
            self._openStream(
                event.stream_id,
                event.headers,
                event.stream_ended is not None,
            )
        elif isinstance(event, StreamEnded):
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream.bodyEnded()
            elif self._draining:
                stream = self._draining.pop(event.stream_id, None)
                if stream is not None:
                    stream.bodyEnded()
        elif isinstance(event, (WindowUpdated, RemoteSettingsChanged)):
            self.flow.resume()
            self._updateProducers()
        elif isinstance(event, StreamReset):
            streamId: int = event.stream_id
            self.flow.discard(streamId)
            stream = self._stream(streamId)
            if stream is not None:
                stream.lost(
                    Failure(
                        ConnectionLost(
                            f"stream reset by the client ({event.error_code!r})"
                        )
                    )
                )
        elif isinstance(event, MalformedRequest):
            _log.info(
                "Malformed HTTP/2 request from {peer} on stream {stream}: "
                "{problem}; the stream is reset",
                peer=self.getPeer(),
                stream=event.stream_id,
                problem=event.problem,
            )
            self.flow.discard(event.stream_id)
            stream = self._stream(event.stream_id)
            if stream is not None:
                stream.lost(Failure(ConnectionLost(event.problem)))

    def _stream(self, streamId: int) -> HTTP2Stream | None:
        """The stream C{streamId}, being served or draining its body."""
        stream = self._streams.get(streamId)
        if stream is None and self._draining:
            stream = self._draining.get(streamId)
        return stream

    def _openStream(
        self, streamId: int, headers: list[tuple[bytes, bytes]], ended: bool
    ) -> None:
        """A request's HEADERS opened C{streamId}: refuse it, or carry it."""
        engine = self.engine
        refusal = None
        if self._peerGoingAway or (
            self._goingAway is not None and streamId > self._goingAway
        ):
            refusal = "the connection is going away"
        elif (
            # Counting the open streams walks them all: only when the
            # streams h2 knows (open or not yet forgotten) could be too many.
            len(engine.streams) > self.limits.h2MaxConcurrentStreams
            and engine.open_inbound_streams > self.limits.h2MaxConcurrentStreams
        ):
            refusal = "too many concurrent streams"
        if refusal is not None:
            _log.info(
                "Refused HTTP/2 stream {stream} from {peer}: {problem}",
                stream=streamId,
                peer=self.getPeer(),
                problem=refusal,
            )
            engine.reset_stream(streamId, ErrorCodes.REFUSED_STREAM)
            engine.provokedResets += 1
            self._countProvokedResets()
            return
        stream = HTTP2Stream(self, streamId)
        self._streams[streamId] = stream
        stream.headReceived(headers, ended)

    def _peerGoAway(self, streamId: int, payload: bytes) -> None:
        """
        The client sent GOAWAY: with C{NO_ERROR} it opens no more streams, and
        the connection closes once those in flight are answered; with an
        error, every stream is given up and the connection closed.
        """
        if streamId != 0:
            self._fail(ErrorCodes.PROTOCOL_ERROR, "GOAWAY on a stream")
            return
        if len(payload) < 8:
            self._fail(ErrorCodes.FRAME_SIZE_ERROR, "GOAWAY too short")
            return
        code = int.from_bytes(payload[4:8], "big")
        self._peerGoingAway = True
        if code != ErrorCodes.NO_ERROR:
            _log.info(
                "HTTP/2 client {peer} went away with error {code}",
                peer=self.getPeer(),
                code=code,
            )
            self.engineOpen = False
            self._closing = True
            self._abandonAll(Failure(ConnectionLost(f"client GOAWAY {code}")))
            self._closing = False
            self._close()
            return
        self._closeIfDone()

    # -- output ---------------------------------------------------------------------

    def flush(self) -> None:
        """
        Write what C{h2} has to send, unless input is being read (it is
        written once at the end), and watch the streams waiting for a window.
        """
        if self._corked or self._closing:
            return
        self._writeOut()
        if self._stallTimer is None and self.flow.oldestStall() is not None:
            timeout = self.limits.h2SendTimeout
            if timeout is not None:
                self._stallTimer = self.reactor.callLater(timeout, self._checkStalls)

    def _writeOut(self) -> None:
        """Write what C{h2} has to send now."""
        data = self.engine.data_to_send()
        if data:
            self.transport.write(data)  # type: ignore[union-attr]

    def _drained(self, streamId: int) -> None:
        """The flow sent some of C{streamId}'s held data: resume its producer."""
        stream = self._streams.get(streamId)
        if stream is not None:
            stream.updateProducer()

    def _updateProducers(self) -> None:
        for stream in list(self._streams.values()):
            stream.updateProducer()

    def streamFinished(self, stream: HTTP2Stream, draining: bool = False) -> None:
        """
        C{stream} is done with (its response ended, or it was given up):
        forget it, and close if the connection is going away.

        @param draining: the stream's response ended before its request's
            body: it is kept, apart, until the rest of that body is dropped
            or its deadline passes (L{drainTooSlow}).
        """
        streamId = stream.streamId
        if self._streams.pop(streamId, None) is None:
            if self._draining:
                self._draining.pop(streamId, None)
            return
        if draining:
            self._draining[streamId] = stream
        if not self._streams:
            self._idleSince = self.reactor.seconds()
            if self._idleTimer is None:
                self._armIdle(self.limits.h2IdleTimeout)
        self._closeIfDone()

    def stopUpload(self, stream: HTTP2Stream) -> None:
        """
        C{stream} was answered whole before its request body ended: once that
        answer is all sent, reset it with C{NO_ERROR} so that the client stops
        sending (RFC 9113 section 8.1); until then, the body is dropped.
        """
        h2stream = self.engine.streams.get(stream.streamId)
        if (
            h2stream is not None
            and h2stream.state_machine.state is H2StreamState.HALF_CLOSED_LOCAL
        ):
            self.engine.reset_stream(stream.streamId, ErrorCodes.NO_ERROR)
            stream.lost(Failure(ConnectionDone("answered before its body")))
            self.flush()

    def drainTooSlow(self, stream: HTTP2Stream) -> None:
        """
        The rest of C{stream}'s request body, answered already, did not
        arrive within the body's deadline: reset the stream, with
        C{NO_ERROR} if the whole response went out (the client keeps it, RFC
        9113 section 8.1), else with C{CANCEL}.
        """
        _log.info(
            "HTTP/2 stream {stream} from {peer} reset: the rest of its body, "
            "answered already and being drained, was not received in time",
            stream=stream.streamId,
            peer=self.getPeer(),
        )
        h2stream = self.engine.streams.get(stream.streamId)
        sent = (
            h2stream is None
            or h2stream.state_machine.state is H2StreamState.HALF_CLOSED_LOCAL
        )
        try:
            self.engine.reset_stream(
                stream.streamId, ErrorCodes.NO_ERROR if sent else ErrorCodes.CANCEL
            )
        except ProtocolError:
            pass  # closed on the engine's side already
        stream.lost(Failure(ConnectionLost("request body not received in time")))
        self.flush()

    # -- timers ---------------------------------------------------------------------

    def _armIdle(self, timeout: float | None) -> None:
        if timeout is not None and not self._closing:
            self._idleTimer = self.reactor.callLater(timeout, self._idleFired)

    def _idleFired(self) -> None:
        self._idleTimer = None
        timeout = self.limits.h2IdleTimeout
        if self._streams or timeout is None:
            return  # re-armed when the last stream finishes
        left = self._idleSince + timeout - self.reactor.seconds()
        if left > 0:
            self._armIdle(left)
            return
        self._sendGoAway(ErrorCodes.NO_ERROR)
        self._close()

    def _armHeadTimer(self) -> None:
        timeout = self.limits.headTimeout
        if timeout is not None:
            self._headTimer = self.reactor.callLater(timeout, self._headTimerFired)

    def _headTimerFired(self) -> None:
        """
        A header block stayed open (HEADERS without END_HEADERS, and no
        CONTINUATION ending it) for C{headTimeout}, the time HTTP/1.1 gives a
        request head: nothing but its CONTINUATION may follow (RFC 9113
        section 6.10), so the connection is ended.
        """
        self._headTimer = None
        if self._guard.headerBlockOpen:
            self._fail(
                ErrorCodes.ENHANCE_YOUR_CALM,
                f"a header block left open for {self.limits.headTimeout:g} s "
                "(headTimeout)",
            )

    def _checkStalls(self) -> None:
        """
        Reset each stream whose data waited for the client's window longer
        than the send timeout, or end the connection if its window is the
        one stuck (a client that never reads: a slow-read attack).
        """
        self._stallTimer = None
        timeout = self.limits.h2SendTimeout
        if self._closing or timeout is None:
            return
        for streamId, connectionStuck in self.flow.stalled(timeout):
            if connectionStuck:
                self._fail(
                    ErrorCodes.ENHANCE_YOUR_CALM,
                    f"the connection's window stayed closed for {timeout:g} s",
                )
                return
            _log.info(
                "HTTP/2 stream {stream} from {peer} reset: its window stayed "
                "closed for {timeout} s",
                stream=streamId,
                peer=self.getPeer(),
                timeout=timeout,
            )
            self.flow.discard(streamId)
            stream = self._streams.get(streamId)
            try:
                self.engine.reset_stream(streamId, ErrorCodes.CANCEL)
            except ProtocolError:
                pass
            if stream is not None:
                stream.lost(Failure(ConnectionLost("client did not read the response")))
        oldest = self.flow.oldestStall()
        if oldest is not None:
            wait = max(oldest + timeout - self.reactor.seconds(), 0.001)
            self._stallTimer = self.reactor.callLater(wait, self._checkStalls)
        self.flush()

    # -- back-pressure from the transport -------------------------------------------

    def pauseProducing(self) -> None:
        """The transport's buffer is full: pause every stream's producer."""
        self.writePaused = True
        self._updateProducers()

    def resumeProducing(self) -> None:
        """The transport's buffer drained: resume the producers."""
        self.writePaused = False
        self._updateProducers()

    def stopProducing(self) -> None:
        """The transport is going away (L{connectionLost} follows)."""
