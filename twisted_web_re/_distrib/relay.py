"""
L{ResponseRelay}: on the front server, one request relayed to a personal
server, and the response coming back.

The personal server sends the head whole, then pieces of body, then the end
(or an abort).  While the client cannot take more, the relay (registered as
the front request's producer) leaves the personal server's last piece
unacknowledged, which holds the personal server back: back-pressure reaches
the personal server's producer.  A body larger than the copy carries is
read by the personal server in pieces (L{remote_readBody}), as it arrives
from the client when the front's Site hands it over that way (see
L{twisted_web_re._distrib.upload}).

Whatever goes wrong gets a clear answer: 502 Bad Gateway if the personal
server cannot be reached or fails before the head, 504 Gateway Timeout if it
says nothing for too long, and an aborted response (never one that looks
complete) if it dies after the head.  A twisted.web personal server answers
with twisted.web's calls (C{setResponseCode}, C{setHeader}, C{write}, ...),
which the relay takes as well.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IPushProducer, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb
from zope.interface import implementer

from twisted_web_re._distrib.limits import INLINE_BODY_LIMIT, PIECE_SIZE
from twisted_web_re._distrib.upload import SpooledBody, StreamedBody
from twisted_web_re._distrib.wire import RequestCopy, copyState, readResponseHead
from twisted_web_re._wire.serialise import httpDate
from twisted_web_re.iweb import IRequest
from twisted_web_re.pages import errorPage

_log = Logger()

#: The keyword arguments of twisted.web's C{addCookie}.
_COOKIE_OPTIONS = frozenset(
    {
        "expires",
        "domain",
        "path",
        "max_age",
        "comment",
        "secure",
        "httpOnly",
        "sameSite",
    }
)


class RelayError(pb.Error):
    """The relay refuses what the personal server asked (the client is gone,
    the response is over, or the message was malformed)."""


@implementer(IPushProducer)
class ResponseRelay(pb.Referenceable):
    """
    One front request relayed to a personal server.

    @ivar request: the front's request.
    @ivar timeout: seconds to wait for each message from the personal server.
    @ivar sent: whether the request's copy was sent (or is being).
    """

    sent = False

    def __init__(
        self, request: IRequest, reactor: IReactorTime, timeout: float
    ) -> None:
        """
        @param request: the front's request.
        @param reactor: the reactor timing the wait.
        @param timeout: seconds to wait for each message.
        """
        self.request = request
        self.timeout = timeout
        self._reactor = reactor
        self._timer: IDelayedCall | None = None
        self._control: pb.RemoteReference | None = None
        self._headDone = False
        self._over = False
        self._paused = False
        # The answers to the pieces written while the client could take no
        # more (the personal server may send several before it waits).
        self._waiting: list[Deferred[None]] = []
        self._registered = False
        self._body: SpooledBody | StreamedBody | None = None
        self._root: pb.RemoteReference | None = None
        self._remoteProducer: pb.RemoteReference | None = None
        self._remotePull = False
        finished = cast(Deferred[None], request.notifyFinish())
        finished.addErrback(self._clientGone)

    # -- sending the request ---------------------------------------------------

    def streamBody(self, length: int | None) -> StreamedBody:
        """
        Relay the body as it arrives from the client, rather than from the
        request's C{content}: call before L{copy}.

        @param length: the declared length, or L{None} when chunked.
        @return: the body, to be given each piece and then the end.
        """
        body = StreamedBody(self.request, length)
        self._body = body
        return body

    def bodyReceived(self, data: bytes) -> None:
        """The next piece of a body relayed as it arrives (L{streamBody})."""
        if isinstance(self._body, StreamedBody):
            self._body.received(data)

    def bodyEnded(self) -> None:
        """The whole of a body relayed as it arrives has arrived."""
        if isinstance(self._body, StreamedBody):
            self._body.ended()

    def copy(self) -> RequestCopy:
        """
        @return: the request's copy for the personal server, carrying the
            body when it is small and all there; the timer for the answer
            starts now.
        """
        streamed = self._body
        length: int | None = 0
        body = b""
        if isinstance(streamed, StreamedBody):
            length = streamed.length
            complete = streamed.complete
            if complete is not None and len(complete) <= INLINE_BODY_LIMIT:
                body, length, self._body = complete, len(complete), None
        elif self.request.content is not None:
            content = self.request.content
            content.seek(0, 2)
            length = content.tell()
            content.seek(0)
            if length <= INLINE_BODY_LIMIT:
                body = content.read()
            else:
                self._body = SpooledBody(content, length)
        self._arm()
        return RequestCopy(copyState(self.request, self, body, length))

    def watch(self, root: pb.RemoteReference) -> None:
        """
        Watch the connection to the personal server that C{root} came
        through: if it is lost before the response is over, the response
        fails (502 before the head, aborted after it).

        @param root: the personal server's root object.
        """
        self._root = root
        root.notifyOnDisconnect(self._personalGone)

    def _personalGone(self, root: pb.RemoteReference) -> None:
        self._root = None
        self._fail(502, "Bad Gateway", "The personal server went away.")

    def answered(self, result: object) -> None:
        """
        The personal server took the request: keep the handle our
        personal server returns, to stop it if the client goes away.
        """
        if isinstance(result, pb.RemoteReference):
            self._control = result
            if self._over:
                self._stop()

    def failed(self, reason: Failure) -> None:
        """
        The personal server could not be reached, or dropped the request:
        502 before the head, an aborted response after it.
        """
        if self._over:
            return
        _log.info("relayed request failed: {reason}", reason=reason.getErrorMessage())
        self._fail(502, "Bad Gateway", "The personal server could not answer.")

    def unreachable(self) -> None:
        """
        No connection to the personal server could be made (the connection
        logged why): 502.
        """
        self._fail(502, "Bad Gateway", "The personal server cannot be reached.")

    # -- our protocol ----------------------------------------------------------

    def remote_head(
        self, code: object, reason: object, headers: object, cookies: object
    ) -> None:
        """Take the response head: status, reason, every field and cookie."""
        self._check()
        if self._headDone:
            raise RelayError("the head was already sent")
        try:
            code, reason, fields, cookieList = readResponseHead(
                code, reason, headers, cookies
            )
        except ValueError as e:
            self._fail(502, "Bad Gateway", "The personal server sent a bad response.")
            raise RelayError(str(e)) from None
        request = self.request
        request.setResponseCode(code, reason)
        request.responseHeaders = fields
        request.cookies = cookieList  # type: ignore[attr-defined]
        self._startBody()

    def remote_body(self, data: object) -> Deferred[None] | None:
        """
        Write a piece of the body; while the client cannot take more, the
        answer waits, and with it the personal server.
        """
        self._check()
        if type(data) is not bytes or len(data) > PIECE_SIZE * 10:
            self._abort("a malformed piece of body")
            raise RelayError("a piece of body is bytes")
        if not self._headDone:
            self._startBody()
        self.request.write(data)
        if self._paused:
            waiting: Deferred[None] = Deferred()
            self._waiting.append(waiting)
            return waiting
        if self._remotePull:
            self._tellProducer("resumeProducing")
        return None

    def remote_end(self) -> None:
        """The response is complete."""
        self._check()
        if not self._headDone:
            self._startBody()
        self._end()
        self.request.finish()

    def remote_abort(self) -> None:
        """The personal server could not complete the response."""
        if self._over:
            return
        if not self._headDone:
            self._fail(502, "Bad Gateway", "The personal server failed to answer.")
        else:
            self._abort("the personal server aborted it")

    def remote_readBody(self, size: object) -> bytes | Deferred[bytes]:
        """
        @param size: the most bytes wanted, up to L{PIECE_SIZE}.
        @return: the next piece of the request body, C{b""} at its end; a
            piece still to come from the client is answered when it comes
            (the wait for the personal server is off meanwhile: the client
            is the slow one).
        """
        self._check()
        body = self._body
        if body is None or type(size) is not int or not 0 < size <= PIECE_SIZE:
            raise RelayError("no such body to read")
        data = body.read(size)
        if isinstance(data, Deferred):
            self._disarm()
            data.addCallback(self._pieceArrived)
        return data

    def _pieceArrived(self, data: bytes) -> bytes:
        if not self._over:
            self._arm()
        return data

    # -- twisted.web's protocol ----------------------------------------------

    def remote_setResponseCode(self, code: object, message: object = None) -> None:
        """twisted.web's way of setting the status."""
        self._check()
        if message is not None and type(message) is not bytes:
            raise RelayError("the reason phrase is bytes")
        readResponseHead(code, message or b"", [], [])
        self.request.setResponseCode(code, message)  # type: ignore[arg-type]

    def remote_setHeader(self, name: object, value: object) -> None:
        """twisted.web's way of setting a field."""
        self._check()
        if isinstance(name, str):
            name = name.encode("latin-1")
        if isinstance(value, str):
            value = value.encode("latin-1")
        fields = readResponseHead(200, b"", [(name, [value])], [])[2]
        for key, values in fields.getAllRawHeaders():
            self.request.responseHeaders.setRawHeaders(key, values)

    def remote_setLastModified(self, when: object) -> None:
        """twisted.web's way of setting C{Last-Modified}."""
        self._check()
        if not isinstance(when, (int, float)) or isinstance(when, bool):
            raise RelayError("a time is a number")
        self.request.responseHeaders.setRawHeaders(b"last-modified", [httpDate(when)])

    def remote_setETag(self, tag: object) -> None:
        """twisted.web's way of setting C{ETag}."""
        self.remote_setHeader(b"etag", tag)

    def remote_addCookie(self, name: object, value: object, **options: object) -> None:
        """twisted.web's way of adding a cookie: its arguments, checked."""
        self._check()
        if not all(
            type(v) in (bytes, str, int, bool, type(None))
            for v in (name, value, *options.values())
        ):
            raise RelayError("a cookie's parts are text")
        unknown = set(options) - _COOKIE_OPTIONS
        if unknown:
            raise RelayError(f"unknown cookie options {sorted(unknown)!r:.100}")
        try:
            self.request.addCookie(name, value, **options)  # type: ignore[arg-type]
        except (TypeError, ValueError) as e:
            raise RelayError(str(e)) from None

    def remote_write(self, data: object) -> Deferred[None] | None:
        """twisted.web's way of writing a piece of the body."""
        return self.remote_body(data)

    def remote_finish(self) -> None:
        """twisted.web's way of ending the response."""
        self.remote_end()

    def remote_registerProducer(self, producer: object, streaming: object) -> None:
        """
        twisted.web's producer of the body: a push one is paused and resumed
        with the client, a pull one asked for a piece after each piece the
        client can take.
        """
        self._check()
        if not isinstance(producer, pb.RemoteReference):
            raise RelayError("a producer is a remote reference")
        self._remoteProducer = producer
        self._remotePull = not streaming
        if self._remotePull and not self._paused:
            self._tellProducer("resumeProducing")

    def remote_unregisterProducer(self) -> None:
        """twisted.web's producer is done (it may say so after the end)."""
        self._remoteProducer = None

    def _tellProducer(self, name: str) -> None:
        producer = self._remoteProducer
        if producer is not None:
            try:
                producer.callRemote(name).addErrback(lambda reason: None)
            except pb.DeadReferenceError:
                self._remoteProducer = None

    # -- the front request's producer ----------------------------------------

    def pauseProducing(self) -> None:
        """The client cannot take more: hold the personal server back."""
        self._paused = True
        self._disarm()
        if not self._remotePull:
            self._tellProducer("pauseProducing")

    def resumeProducing(self) -> None:
        """The client can take more: let the personal server go on."""
        self._paused = False
        waiting, self._waiting = self._waiting, []
        if not self._over:
            self._arm()
        for d in waiting:
            d.callback(None)
        self._tellProducer("resumeProducing")

    def stopProducing(self) -> None:
        """The client's connection is gone."""
        self._clientGone(None)

    # -- internals ------------------------------------------------------------

    @property
    def over(self) -> bool:
        """Whether the response is over (sent, failed, or its client gone)."""
        return self._over

    def _check(self) -> None:
        if self._over:
            raise RelayError("the response is over")
        self._arm()

    def _startBody(self) -> None:
        self._headDone = True
        if not self._registered:
            self._registered = True
            self.request.registerProducer(self, True)

    def _end(self) -> None:
        self._over = True
        self._disarm()
        body, self._body = self._body, None
        if body is not None:
            body.close(Failure(RelayError("the response is over")))
        root, self._root = self._root, None
        if root is not None:
            root.dontNotifyOnDisconnect(self._personalGone)
        self._remoteProducer = None
        if self._registered:
            self._registered = False
            self.request.unregisterProducer()
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.errback(Failure(RelayError("the response is over")))

    def _fail(self, code: int, brief: str, detail: str) -> None:
        """Answer with an error page if nothing was sent, else abort."""
        if self._over:
            return
        if self._headDone:
            self._abort(brief)
            return
        self._end()
        self._stop()
        request = self.request
        request.setResponseCode(code)
        request.responseHeaders.setRawHeaders(
            b"content-type", [b"text/html; charset=utf-8"]
        )
        body = errorPage(code, brief, detail).render(request)
        request.write(body)
        request.finish()

    def _abort(self, why: str) -> None:
        """Cut the client's response, so it is never taken as complete."""
        if self._over:
            return
        _log.info("relayed response aborted: {why}", why=why)
        self._end()
        self._stop()
        self.request.abortConnection()  # type: ignore[attr-defined]

    def _clientGone(self, reason: object) -> None:
        if self._over:
            return
        self._tellProducer("stopProducing")
        self._end()
        self._stop()

    def _stop(self) -> None:
        control, self._control = self._control, None
        if control is not None:
            try:
                control.callRemote("stop").addErrback(lambda reason: None)
            except pb.DeadReferenceError:
                pass

    def _arm(self) -> None:
        self._disarm()
        if not self._paused:
            self._timer = self._reactor.callLater(self.timeout, self._timedOut)

    def _disarm(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _timedOut(self) -> None:
        self._timer = None
        self._fail(
            504, "Gateway Timeout", "The personal server did not answer in time."
        )
