"""
L{RelayStream}: the stream contract (L{IStream}) carried over PB, as a
personal server's request sees it.

The request is processed by the personal server's own Site, exactly as a
request from a socket: what it hands the stream (the head, body data, the
end, a producer) is sent to the front server's relay for that request.  The
head goes whole (status, reason, every field, every cookie), so whatever the
application set reaches the client (twisted issue #5528).  Body data goes in
pieces of L{PIECE_SIZE}; at most L{WINDOW} pieces are unacknowledged, and a
registered producer is paused until the front has taken enough, so a large
response never piles up in either server.

The request body comes the other way, through the same contract: the
stream gives the request the head, then each piece of body as it reads it
from the front (C{readBody}, one piece asked at a time, none while the
request has paused its upload), then says the request was received.  A
resource taking its upload as it arrives (on a Site with
C{locateBeforeBody}: a WSGI application, say) sees the first piece while
the client is still sending the rest.

A twisted.web front knows only twisted.web's calls (C{setResponseCode},
C{setHeader}, C{write}, C{finish}); the stream speaks them to a front that
did not say it knows ours (see L{RequestState.relayVersion}).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import (
    IAddress,
    IPullProducer,
    IPushProducer,
    IReactorTime,
)
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb
from zope.interface import implementer

from twisted_web_re._distrib.limits import PIECE_SIZE, WINDOW
from twisted_web_re._distrib.wire import RequestState
from twisted_web_re.iweb import IStream, IStreamRequest
from twisted_web_re.pages import errorPage

if TYPE_CHECKING:
    from twisted_web_re._publish.site import Site

_log = Logger()

#: Statuses whose responses have no body (RFC 9110 sections 15.2, 15.3.5,
#: 15.4.5).
_NO_BODY = frozenset({204, 304})


def pieces(data: bytes, size: int = PIECE_SIZE) -> list[bytes]:
    """
    @param data: body data.
    @param size: the largest piece.
    @return: C{data} cut into pieces of at most C{size} bytes.
    """
    if len(data) <= size:
        return [data]
    view = memoryview(data)
    return [bytes(view[start : start + size]) for start in range(0, len(data), size)]


@implementer(IStream)
class RelayStream(pb.Referenceable):
    """
    Carries one relayed request on a personal server; the front holds it as
    a remote reference, to say the client went away (L{remote_stop}).

    @ivar site: the personal server's Site.
    @ivar reactor: the reactor that times the request.
    @ivar request: the request carried, once L{attach} was called.
    """

    transport = None
    chunked = False
    trustedProxies: tuple[object, ...] = ()
    request: IStreamRequest | None = None

    def __init__(self, state: RequestState, site: Site, reactor: IReactorTime) -> None:
        """
        @param state: the checked copy of the front's request.
        @param site: the Site the request is processed by.
        @param reactor: the reactor timing it.
        """
        self._state = state
        self.site = site
        self.reactor = reactor
        self.bodyMemoryLimit = site.limits.bodyMemoryLimit
        self._head: tuple[int, bytes, dict[bytes, list[bytes]], list[bytes]] | None
        self._head = None
        self._code = 200
        self._inFlight = 0
        self._ended = False
        self._gone = False
        self._producer: IPushProducer | IPullProducer | None = None
        self._streaming = False
        self._paused = False
        self._pullScheduled = False
        self._bodyLeft: int | None = 0
        self._bodyPaused = False
        self._reading = False
        self._unread: bytes | None = None
        self._received = False

    def attach(self, request: IStreamRequest) -> None:
        """@param request: the request this stream carries."""
        self.request = request

    def start(self) -> None:
        """
        Give the request its head, ask the Site whether it takes the body
        (see C{Site.refuseBody}), then feed it the body as it is read from
        the front, and process it once all of it has come.
        """
        request = self.request
        assert request is not None, "attach the request first"
        state = self._state
        request.headReceived(state.method, state.uri, state.clientproto, state.headers)
        length = state.bodyLength
        if length == 0:
            request.gotLength(0)
            self._requestReceived()
            return
        refuse = getattr(self.site, "refuseBody", None)
        refusal = refuse(request, length) if refuse is not None else None
        if refusal is not None:
            self._answerError(refusal)
            return
        try:
            request.gotLength(length)
        except Exception:
            self._bodyFailed(Failure())
            return
        self._bodyLeft = length
        if state.inlineBody:
            self._deliver(state.inlineBody)
        self._readBody()

    # -- the request body ------------------------------------------------------

    def _readBody(self) -> None:
        """Ask the front for the next piece, unless one is awaited, the
        request paused its upload, or the body is over."""
        if self._reading or self._bodyPaused or self._gone or self._received:
            return
        unread, self._unread = self._unread, None
        if unread is not None:
            self._deliver(unread)
            if self._bodyPaused or self._gone or self._received:
                return
        left = self._bodyLeft
        if left == 0:
            self._requestReceived()
            return
        asked = PIECE_SIZE if left is None else min(left, PIECE_SIZE)
        try:
            d: Deferred[object] = self._state.remote.callRemote("readBody", asked)
        except pb.DeadReferenceError:
            self._lost(Failure())
            return
        self._reading = True
        d.addCallback(self._pieceRead, asked)
        d.addErrback(self._bodyFailed)

    def _pieceRead(self, data: object, asked: int) -> None:
        self._reading = False
        if self._gone or self._received:
            return
        if type(data) is not bytes or len(data) > asked:
            raise pb.Error(f"the front sent {type(data).__name__} as body")
        if not data:
            if self._bodyLeft is not None:
                raise pb.Error("the front's body ended early")
            self._bodyLeft = 0
        elif self._bodyPaused:
            self._unread = data
            return
        else:
            self._deliver(data)
        self._readBody()

    def _deliver(self, data: bytes) -> None:
        """Hand the request a piece of its body."""
        if self._bodyLeft is not None:
            self._bodyLeft -= len(data)
        try:
            self.request.handleContentChunk(data)  # type: ignore[union-attr]
        except Exception:
            self._bodyFailed(Failure())

    def _bodyFailed(self, reason: Failure) -> None:
        self._reading = False
        if self._gone or self._received:
            return
        _log.info(
            "the body of {request!r} could not be read: {reason}",
            request=self.request,
            reason=reason.getErrorMessage(),
        )
        self._giveUp(reason)

    def _giveUp(self, reason: Failure) -> None:
        """Abort the front's response, and tell the request it is lost."""
        ended = self._ended
        self.abortConnection()
        self._gone = True
        self._producer = None
        if self.request is not None and not ended:
            self.request.connectionLost(reason)

    def _requestReceived(self) -> None:
        self._received = True
        request = self.request
        assert request is not None
        state = self._state
        try:
            request.requestReceived(state.method, state.uri, state.clientproto)
        except Exception:
            failure = Failure()
            _log.failure(
                "Unhandled error processing {request!r}", failure, request=request
            )
            self._giveUp(failure)

    def _answerError(self, code: int) -> None:
        """Answer at once with C{code}, without reading the body (a Site's
        refusal)."""
        self._received = True
        request = self.request
        assert request is not None
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        brief = request.code_message.decode("latin-1")  # type: ignore[attr-defined]
        request.write(errorPage(code, brief, "").render(request))  # type: ignore[arg-type]
        request.finish()

    # -- what the request asks of its carrier ---------------------------------

    def getPeer(self) -> IAddress:
        """@return: the client's address, as the front saw it."""
        return self._state.client

    def getHost(self) -> IAddress:
        """@return: the address the front received the request on."""
        return self._state.host

    def isSecure(self) -> bool:
        """@return: whether the client reached the front over TLS."""
        return self._state.secure

    def pauseBody(self) -> None:
        """Ask the front for no more of the body until L{resumeBody}."""
        self._bodyPaused = True

    def resumeBody(self) -> None:
        """Go on reading the body from the front."""
        if self._bodyPaused:
            self._bodyPaused = False
            self._readBody()

    def writeHead(
        self,
        code: int,
        reason: bytes,
        headers: Mapping[bytes, list[bytes]],
        cookies: Sequence[bytes],
    ) -> None:
        """Keep the head, to be sent with the first body data or the end."""
        self._code = code
        self._head = (
            code,
            reason,
            {name: list(values) for name, values in headers.items()},
            list(cookies),
        )

    def writeBody(self, data: bytes) -> None:
        """Send the head if it waits, then C{data} in pieces."""
        if self._ended or self._gone:
            return
        self._sendHead()
        self._sendBody(data)

    def endResponse(self, last: bytes = b"") -> None:
        """
        Send the head if it waits (with a C{Content-Length} when C{last} is
        the whole body), C{last} in pieces, and the end.
        """
        if self._ended or self._gone:
            return
        head = self._head
        if head is not None and self._hasBody() and b"content-length" not in head[2]:
            head[2][b"content-length"] = [b"%d" % len(last)]
        self._sendHead()
        self._sendBody(last)
        self._ended = True
        self._producer = None
        self._call("end" if self._ours else "finish")
        log = getattr(self.site, "log", None)
        if log is not None and self.request is not None:
            log(self.request)

    def registerProducer(
        self, producer: IPushProducer | IPullProducer, streaming: bool
    ) -> None:
        """
        Take C{producer} as the body's source: a push producer is paused
        while L{WINDOW} pieces are unacknowledged, a pull producer is asked
        for a piece whenever fewer are.

        @raise RuntimeError: a producer is already registered.
        """
        if self._producer is not None:
            raise RuntimeError(f"a producer is already registered: {self._producer!r}")
        self._producer = producer
        self._streaming = streaming
        self._paused = False
        self._flow()

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self._producer = None

    def abortConnection(self) -> None:
        """
        Tell the front to abort the client's response, so that it is seen
        cut, not complete.  (A twisted.web front has no such call: its
        client's response is left unfinished, to time out.)
        """
        if self._ended or self._gone:
            return
        self._ended = True
        self._producer = None
        if self._ours:
            self._call("abort")
        else:
            _log.warn("a twisted.web front cannot abort a response: left unfinished")

    def loseConnection(self) -> None:
        """End the relay: an unfinished response is aborted."""
        self.abortConnection()

    # -- what the front tells us ------------------------------------------------

    def remote_stop(self) -> None:
        """The front's client went away: the request's connection is lost."""
        self._lost(Failure(ConnectionDone("the front's client went away")))

    # -- sending ------------------------------------------------------------------

    @property
    def _ours(self) -> bool:
        return self._state.relayVersion is not None

    def _hasBody(self) -> bool:
        code = self._code
        if code < 200 or code in _NO_BODY:
            return False
        return self.request is None or self.request.method != b"HEAD"

    def _sendHead(self) -> None:
        head, self._head = self._head, None
        if head is None:
            return
        code, reason, headers, cookies = head
        if self._ours:
            self._call("head", code, reason, list(headers.items()), cookies)
            return
        # twisted.web's front takes one value per name, and its cookies only
        # as addCookie's arguments: the first Set-Cookie goes as a field.
        self._call("setResponseCode", code, reason)
        for name, values in headers.items():
            if values:
                self._call("setHeader", name, b", ".join(values))
        if cookies:
            self._call("setHeader", b"set-cookie", cookies[0])
            if len(cookies) > 1:
                _log.warn("a twisted.web front gets only the first of several cookies")

    def _sendBody(self, data: bytes) -> None:
        if not data or not self._hasBody():
            return
        if self.request is not None:
            self.request.sentLength += len(data)
        for piece in pieces(data):
            self._call("body" if self._ours else "write", piece)
        self._flow()

    def _call(self, name: str, *args: object) -> None:
        try:
            d = self._state.remote.callRemote(name, *args)
        except pb.DeadReferenceError as e:
            self._lost(Failure(e))
            return
        self._inFlight += 1
        d.addCallbacks(self._acked, self._refused)

    def _acked(self, result: object) -> None:
        self._inFlight -= 1
        self._flow()

    def _refused(self, reason: Failure) -> None:
        self._inFlight -= 1
        if not self._gone:
            _log.info(
                "the front refused a relayed response: {reason}",
                reason=reason.getErrorMessage(),
            )
        self._lost(reason)

    def _flow(self) -> None:
        """Pause, resume or ask the producer for more, by the window."""
        producer = self._producer
        if producer is None or self._gone:
            return
        if self._streaming:
            if self._inFlight >= WINDOW and not self._paused:
                self._paused = True
                producer.pauseProducing()  # type: ignore[union-attr]
            elif self._inFlight <= WINDOW // 2 and self._paused:
                self._paused = False
                producer.resumeProducing()
        elif self._inFlight < WINDOW and not self._pullScheduled:
            self._pullScheduled = True
            self.reactor.callLater(0, self._pull)

    def _pull(self) -> None:
        self._pullScheduled = False
        producer = self._producer
        if producer is not None and not self._streaming and not self._gone:
            producer.resumeProducing()

    def _lost(self, reason: Failure) -> None:
        if self._gone:
            return
        self._gone = True
        self._producer = None
        request = self.request
        if request is not None and not self._ended:
            request.connectionLost(reason)
