"""
L{HTTP2Stream}: one HTTP/2 stream carrying one request, the L{IStream} its
request writes its response to.

The stream feeds its request the head and the body as the connection
receives them, re-opening the client's window for the stream only as the
request takes the data, so that a request that pauses its body throttles its
own upload alone.  It sends the response head and body as HEADERS and DATA
frames through the connection's outbound flow control, pausing the
response's producer while the client's windows or the transport hold the
data back.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from h2.errors import ErrorCodes
from h2.exceptions import ProtocolError
from twisted.internet.error import ConnectionAborted, ConnectionLost
from twisted.internet.interfaces import (
    IAddress,
    IDelayedCall,
    IPullProducer,
    IPushProducer,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re._protocols.http2fields import (
    VERSION,
    ResponseHead,
    requestHead,
    responseHead,
)
from twisted_web_re._protocols.internals import isPullAdapter, pullToPush
from twisted_web_re._wire.errors import ContentTooLarge, WireError
from twisted_web_re._wire.status import reasonPhrase
from twisted_web_re.http_headers import Headers
from twisted_web_re.iweb import IStream, IStreamRequest, RequestBodyError

if TYPE_CHECKING:
    from twisted_web_re._protocols.http2 import HTTP2Connection

_log = Logger()

_CONTINUE = [(b":status", b"100")]


class StreamState(enum.Enum):
    """
    Where a stream is in its life (RFC 9113 section 5.1, as the server's
    request sees it)::

        RECEIVING --END_STREAM--> PROCESSING --response ended--> FINISHED
        RECEIVING --response ended before the body--> FINISHED (body dropped)
        any --reset by either side, connection lost--> GONE
    """

    RECEIVING = "receiving"
    PROCESSING = "processing"
    FINISHED = "finished"
    GONE = "gone"


RECEIVING = StreamState.RECEIVING
PROCESSING = StreamState.PROCESSING
FINISHED = StreamState.FINISHED
GONE = StreamState.GONE


@implementer(IStream)
class HTTP2Stream:
    """
    One HTTP/2 stream: it carries one request (made with the connection's
    request factory) and its response.

    @ivar streamId: the stream's identifier.
    @ivar transport: the connection's transport.
    @ivar site: the connection's C{site} (what the request factory's
        requests read as C{channel.site}).
    @ivar reactor: the reactor the connection's timers use.
    @ivar chunked: always false: HTTP/2 frames every body the same way.
    @ivar trustedProxies: networks whose forwarding headers are believed.
    @ivar request: the request, once its head arrived (C{None} if it was
        refused).
    @ivar draining: whether the response ended before the request's body:
        the rest of the body is being read and dropped, within the body's
        deadline.
    """

    chunked = False
    request: IStreamRequest | None = None
    draining = False
    # What every stream starts with, shared until set (a stream is made for
    # every request: fewer assignments each time).
    _method = b"GET"
    _received = 0
    _bodyPaused = False
    _since = 0.0
    _pausedAt = 0.0
    _bodyTimer: IDelayedCall | None = None
    _endHeld = False
    _head: ResponseHead | None = None
    _headSent = False
    _lengthLeft: int | None = None
    _sent = 0
    _producer: Any = None
    _producerPaused = False

    def __init__(self, connection: HTTP2Connection, streamId: int) -> None:
        """
        @param connection: the connection the stream belongs to.
        @param streamId: its identifier.
        """
        self._connection = connection
        self.streamId = streamId
        self.transport = connection.transport
        self.site = connection.site
        self.reactor = connection.reactor
        self.trustedProxies = connection.trustedProxies
        self.state = RECEIVING
        self._held: deque[tuple[bytes, int]] = deque()

    def __repr__(self) -> str:
        return f"<HTTP2Stream {self.streamId} {self.state.name}>"

    # -- what the request asks of its stream ----------------------------------

    @property
    def bodyMemoryLimit(self) -> int:
        """Bytes of a request body kept in memory (from the limits)."""
        return self._connection.limits.bodyMemoryLimit

    def getPeer(self) -> IAddress:
        """Return the client's address."""
        return self._connection.getPeer()

    def getHost(self) -> IAddress:
        """Return the local address."""
        return self._connection.getHost()

    def isSecure(self) -> bool:
        """Return whether the connection is over TLS."""
        return self._connection.isSecure()

    # -- the request's head and body --------------------------------------------

    def headReceived(self, headers: list[tuple[bytes, bytes]], ended: bool) -> None:
        """
        The request's HEADERS arrived (with END_STREAM when C{ended}): make
        the request and feed it the head, and, if it has no body, process it.
        """
        connection = self._connection
        try:
            head = requestHead(headers, connection.limits)
        except WireError as error:
            self._refuse(error.status, error.reason)
            return
        factory = connection.requestFactory
        if factory is None:
            raise RuntimeError(f"{connection!r} has no requestFactory")
        request = self.request = factory(self)
        self._method = head.method
        request.headReceived(
            head.method, head.target, VERSION, Headers.fromLowered(head.fields)
        )
        if ended:
            request.gotLength(0)
            self._dispatch()
            return
        refuse = connection.refuseBody
        refusal = refuse(request, head.length) if refuse is not None else None
        if refusal is not None:
            self.request = None
            self._refuse(refusal, "request body refused")
            return
        self._since = self.reactor.seconds()
        try:
            request.gotLength(head.length)
        except RequestBodyError as error:
            self._cannotStore(error)
            return
        if self.state is not RECEIVING:
            return  # answered already, from the head alone
        if head.expectContinue:
            connection.engine.send_headers(self.streamId, _CONTINUE)
        self._armBodyTimer()

    def bodyReceived(self, data: bytes, flowLength: int) -> None:
        """
        A DATA frame arrived: deliver its data to the request, or hold it
        while the request has paused its body; the stream's window re-opens
        as the request takes the data.
        """
        if self.state is not RECEIVING:
            # Answered before its body was all read: drop the rest, each byte
            # extending the deadline as it would have.
            self._received += len(data)
            self._acknowledge(flowLength)
            return
        self._received += len(data)
        maxBody = self._connection.limits.maxBodySize
        if maxBody is not None and self._received > maxBody:
            self._acknowledge(flowLength)
            self._refuse(413, ContentTooLarge("request body too large").reason)
            return
        if self._bodyPaused or self._held:
            self._held.append((data, flowLength))
            return
        self._deliver(data, flowLength)

    def _deliver(self, data: bytes, flowLength: int) -> None:
        request = self.request
        if request is not None and data:
            try:
                request.handleContentChunk(data)
            except RequestBodyError as error:
                self._acknowledge(flowLength)
                self._cannotStore(error)
                return
        self._acknowledge(flowLength)

    def _acknowledge(self, flowLength: int) -> None:
        """Give C{flowLength} bytes of window back to the client."""
        if flowLength:
            self._connection.engine.acknowledge_received_data(flowLength, self.streamId)

    def bodyEnded(self) -> None:
        """The request's END_STREAM arrived: process it once its body is in."""
        if self.state is not RECEIVING:
            if self.draining:
                self.draining = False
                self._stopBodyTimer()
            return
        if self._held:
            self._endHeld = True
            return
        self._dispatch()

    def pauseBody(self) -> None:
        """
        Deliver no more body until L{resumeBody}: what arrives meanwhile is
        held, and the stream's window stays closed once it is used up.  The
        body's deadline does not run meanwhile (the application, not the
        client, is slow).
        """
        if not self._bodyPaused:
            self._bodyPaused = True
            self._pausedAt = self.reactor.seconds()

    def resumeBody(self) -> None:
        """Deliver the body again, starting with what was held."""
        if not self._bodyPaused:
            return
        self._bodyPaused = False
        self._since += self.reactor.seconds() - self._pausedAt
        if self._bodyTimer is None:
            self._armBodyTimer()
        held = self._held
        while held and not self._bodyPaused and self.state is RECEIVING:
            data, flowLength = held.popleft()
            self._deliver(data, flowLength)
        if not held and self._endHeld and self.state is RECEIVING:
            self._endHeld = False
            self._dispatch()
        self._connection.flush()

    # -- the body's deadline ------------------------------------------------------

    def _bodyDeadline(self) -> float | None:
        """
        When the body must have ended, as on HTTP/1.1: C{bodyTimeout} after
        its head, plus 1/C{bodyMinRate} s for each byte received, not counting
        the time the request kept its body paused; C{None} if there is none.
        """
        limits = self._connection.limits
        if limits.bodyTimeout is None:
            return None
        return self._since + limits.bodyTimeout + self._received / limits.bodyMinRate

    def _armBodyTimer(self) -> None:
        deadline = self._bodyDeadline()
        if deadline is not None and (self.state is RECEIVING or self.draining):
            wait = max(deadline - self.reactor.seconds(), 0.0)
            self._bodyTimer = self.reactor.callLater(wait, self._bodyTimerFired)

    def _stopBodyTimer(self) -> None:
        timer, self._bodyTimer = self._bodyTimer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _bodyTimerFired(self) -> None:
        """
        The body's deadline may have passed: answer 408 (or reset the stream
        with C{CANCEL} once the response has started, or let the connection
        end a stream whose body is drained), or wait on.  Not while the body
        is paused, nor once it has all arrived (held for a paused request).
        """
        self._bodyTimer = None
        draining = self.draining
        if not draining and (
            self.state is not RECEIVING or self._bodyPaused or self._endHeld
        ):
            return
        deadline = self._bodyDeadline()
        if deadline is None:
            return
        if self.reactor.seconds() < deadline:
            self._armBodyTimer()
            return
        if draining:
            self.draining = False
            self._connection.drainTooSlow(self)
            return
        self._refuse(408, "request body not received in time")
        self._connection.flush()

    def _dispatch(self) -> None:
        """The whole request has arrived: process it."""
        request = self.request
        self.state = PROCESSING
        self._stopBodyTimer()
        if request is None:
            return
        try:
            request.requestReceived(request.method, request.uri, request.clientproto)
        except Exception:
            self._processingFailed(Failure())

    def _processingFailed(self, failure: Failure) -> None:
        """
        The application raised while processing its request: log it and answer
        500 (or cut the stream if part of the response went out).
        """
        request = self.request
        _log.failure("Unhandled error processing {request!r}", failure, request=request)
        if request is None or request.finished or self.state is GONE:
            return
        request.finished = 1
        self.request = None
        request.connectionLost(failure)
        self._refuse(500, "the server failed to process the request")

    # -- the response -------------------------------------------------------------

    def writeHead(
        self,
        code: int,
        reason: bytes,
        headers: Mapping[bytes, list[bytes]],
        cookies: Sequence[bytes],
    ) -> None:
        """See L{IStream.writeHead}; C{reason} has no place in HTTP/2."""
        if self.state is GONE or self._headSent:
            return
        head = self._head = responseHead(code, headers, cookies, self._method)
        if head.problem is not None:
            self._logProblem(head.problem)

    def writeBody(self, data: bytes) -> None:
        """See L{IStream.writeBody}."""
        if self.state is GONE or self.state is FINISHED:
            return
        if not self._headSent:
            self._sendHead(None, False)
        if data:
            self._sendBody(data, False)
        self._connection.flush()

    def endResponse(self, last: bytes = b"") -> None:
        """See L{IStream.endResponse}."""
        if self.state is GONE or self.state is FINISHED:
            return
        if not self._headSent:
            head = self._head
            if head is None:
                head = self._head = responseHead(200, {}, (), self._method)
            if head.bodyAllowed:
                self._sendHead(len(last), not last)
                if last:
                    self._sendBody(last, True)
            else:
                self._sendHead(len(last) or None, True)
        elif not self._sendBody(last, True):
            return
        self._finished()

    def _sendHead(self, length: int | None, end: bool) -> None:
        head = self._head
        if head is None:
            head = self._head = responseHead(200, {}, (), self._method)
        self._headSent = True
        self._lengthLeft = head.declared if head.bodyAllowed else None
        self._connection.engine.send_headers(
            self.streamId, head.withLength(length), end_stream=end
        )

    def _sendBody(self, data: bytes, end: bool) -> bool:
        """
        Send C{data} (and end the stream when C{end}), within the declared
        length and only when the response has a body; count it in the
        request's C{sentLength}.

        @return: whether the stream was ended (not cut for a short body).
        """
        head = self._head
        if head is None or not head.bodyAllowed:
            data = b""
        left = self._lengthLeft
        if left is not None:
            if len(data) > left:
                self._logProblem(
                    "wrote more than its Content-Length; the excess is dropped"
                )
                data = data[:left]
            left = self._lengthLeft = left - len(data)
            if end and left:
                self._logProblem(
                    f"finished {left} bytes short of its Content-Length; "
                    "the stream is reset"
                )
                self._sent += len(data)
                self._reset(ErrorCodes.INTERNAL_ERROR, ConnectionAborted())
                return False
        self._sent += len(data)
        request = self.request
        if request is not None:
            request.sentLength = self._sent
        self._connection.flow.send(self.streamId, data, end)
        self._updateProducer()
        return True

    def _finished(self) -> None:
        """
        The response ended: log the request, and let the stream go, draining
        the rest of its body if it is still coming (within the body's
        deadline, as on HTTP/1.1).
        """
        request = self.request
        if self.state is RECEIVING and not self._endHeld:
            self._startDraining()
        else:
            self._stopBodyTimer()
        self.state = FINISHED
        if self._producer is not None:
            self._unregister()
        held = self._held
        while held:
            self._acknowledge(held.popleft()[1])
        connection = self._connection
        if request is not None and connection.accessLog is not None:
            connection.accessLog(request)
        connection.flush()
        connection.streamFinished(self, self.draining)

    def _startDraining(self) -> None:
        self.draining = True
        if self._bodyPaused:
            # What was held is dropped at once: the client is slow again.
            self._bodyPaused = False
            self._since += self.reactor.seconds() - self._pausedAt
        if self._bodyTimer is None:
            self._armBodyTimer()

    def _logProblem(self, problem: str) -> None:
        _log.error("{request!r}: {problem}", request=self.request, problem=problem)

    def _refuse(self, status: int, reason: str) -> None:
        """
        Answer C{status} with a short plain-text body at once (the request, if
        any, is not processed), then stop the client's upload.
        """
        _log.info(
            "Refused HTTP/2 stream {stream} from {peer}: {status} {reason}",
            stream=self.streamId,
            peer=self.getPeer(),
            status=status,
            reason=reason,
        )
        request, self.request = self.request, None
        if request is not None and not request.finished:
            request.connectionLost(Failure(ConnectionLost(reason)))
        if self._headSent:
            # Part of an answer has gone out: no error can follow it.
            code = ErrorCodes.INTERNAL_ERROR if status >= 500 else ErrorCodes.CANCEL
            self._reset(code, None)
            return
        body = b"%d %s: %s\n" % (
            status,
            reasonPhrase(status),
            reason.encode("ascii", "replace"),
        )
        self._head = responseHead(
            status, {b"content-type": [b"text/plain; charset=utf-8"]}, (), self._method
        )
        receiving = self.state is RECEIVING
        self.endResponse(body)
        if receiving and self.state is FINISHED:
            # RFC 9113 section 8.1: a server that answered before the whole
            # request may ask the client to stop sending it.
            self._connection.stopUpload(self)

    def _cannotStore(self, error: RequestBodyError) -> None:
        """The request's body could not be stored: answer its status."""
        _log.error(
            "Could not store the request body from {peer}: {problem}",
            peer=self.getPeer(),
            problem=error.problem,
        )
        self._refuse(error.status, error.reason)

    # -- producers ----------------------------------------------------------------

    def registerProducer(
        self, producer: IPushProducer | IPullProducer, streaming: bool
    ) -> None:
        """
        Make C{producer} the source of the response body.

        @raise RuntimeError: a producer is already registered.
        """
        if self._producer is not None:
            raise RuntimeError(
                f"cannot register {producer!r}: {self._producer!r} is registered"
            )
        self._producer = producer if streaming else pullToPush(producer, self)  # type: ignore[arg-type]
        self._producerPaused = False
        self._updateProducer()

    def unregisterProducer(self) -> None:
        """Forget the response's producer."""
        self._unregister()

    def _unregister(self) -> None:
        producer, self._producer = self._producer, None
        if isPullAdapter(producer):
            producer.stopStreaming()

    def updateProducer(self) -> None:
        """
        Pause the producer while the transport pushes back, while the stream
        holds a full buffer, or while it holds data and has no window; resume
        it otherwise.
        """
        self._updateProducer()

    def _updateProducer(self) -> None:
        producer = self._producer
        if producer is None:
            return
        connection = self._connection
        flow = connection.flow
        held = flow.held(self.streamId)
        pause = (
            connection.writePaused
            or held >= connection.limits.h2StreamBuffer
            or (held > 0 and flow.window(self.streamId) <= 0)
        )
        if pause != self._producerPaused:
            self._producerPaused = pause
            if pause:
                producer.pauseProducing()
            else:
                producer.resumeProducing()

    # -- giving up ------------------------------------------------------------------

    def abortConnection(self) -> None:
        """
        Cut the response: reset the stream with C{INTERNAL_ERROR}, so that
        the client sees it incomplete.  The other streams go on.
        """
        self._reset(ErrorCodes.INTERNAL_ERROR, ConnectionAborted())
        self._connection.flush()

    def loseConnection(self) -> None:
        """
        End the stream: nothing if the response has ended, else it is reset
        with C{CANCEL} (HTTP/2 has no way to end a body of unknown length
        early that a client could tell from a complete one).
        """
        if self.state is not FINISHED:
            self._reset(ErrorCodes.CANCEL, ConnectionLost("stream closed"))
            self._connection.flush()

    def _reset(self, code: int, error: Exception | None) -> None:
        """Reset the stream with C{code}, and give its request up."""
        if self.state is GONE:
            return
        try:
            self._connection.engine.reset_stream(self.streamId, code)
        except ProtocolError:
            pass  # already closed on the engine's side
        self.lost(Failure(error or ConnectionLost("stream reset")))

    def lost(self, reason: Failure) -> None:
        """
        The stream was reset (by the client or by us) or the connection was
        lost: drop what it holds, stop its producer, and tell an unfinished
        request, logging it if its response had started.
        """
        if self.state is GONE:
            return
        finished = self.state is FINISHED
        self.state = GONE
        self.draining = False
        self._stopBodyTimer()
        connection = self._connection
        unsent = connection.flow.discard(self.streamId)
        producer, self._producer = self._producer, None
        held, self._held = self._held, deque()
        if connection.engineOpen:
            for _, flowLength in held:
                self._acknowledge(flowLength)
        request = self.request
        if request is not None and not finished and not request.finished:
            # What never left this process was not sent.
            request.sentLength = max(0, self._sent - unsent)
            request.connectionLost(reason)
            if request.startedWriting and connection.accessLog is not None:
                connection.accessLog(request)
        if producer is not None:
            if isPullAdapter(producer):
                producer.stopStreaming()
            try:
                producer.stopProducing()
            except Exception:
                _log.failure("stopping the producer of {stream!r}", stream=self)
        connection.streamFinished(self)
