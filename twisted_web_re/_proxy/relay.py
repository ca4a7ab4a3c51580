"""
Relaying one request to a backend and its response back: the request head
rewritten for the backend, the body streamed up with the backend's
back-pressure, the response streamed down with the client's, a safe request
retried once on a fresh connection when a reused one was found closed, and
every failure answered: 502 or 504 before the response head, a cut
connection after it (never a truncated response that looks complete).

The client's request is used only through its public API (and, to tunnel
an upgraded connection, its stream's C{switchProtocol}), so the same relay
serves requests carried by HTTP/1.1 and by HTTP/2.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from twisted.internet.defer import CancelledError, Deferred
from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.protocols.basic import FileSender
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re._proxy.headers import (
    Forwarding,
    requestFields,
    responseFields,
    serialiseRequestHead,
)
from twisted_web_re._proxy.pages import answerFailure
from twisted_web_re._proxy.pool import Backend, BackendPool, Checkout
from twisted_web_re._proxy.request import ProxiedRequest
from twisted_web_re._proxy.tunnel import startTunnel, upgradeRequested
from twisted_web_re._proxy.upstream import UpstreamConnection, UpstreamError
from twisted_web_re._wire.response import ResponseHead
from twisted_web_re.http_headers import Headers

_log = Logger()

#: Methods a request may be retried with when a reused connection turns out
#: to have been closed by the backend (RFC 9110 section 9.2.2: idempotent,
#: and here also without a streamed body).
RETRYABLE = frozenset({b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"PUT", b"DELETE"})


@implementer(IPushProducer)
class _Pacer:
    """
    Passes a consumer's back-pressure on to the other side: registered with
    the client's request, it pauses the backend's reading; registered with
    the backend's transport, it pauses the client's upload.
    """

    def __init__(
        self,
        pause: Callable[[], None],
        resume: Callable[[], None],
        stop: Callable[[], None],
    ) -> None:
        self.pauseProducing = pause
        self.resumeProducing = resume
        self.stopProducing = stop


class Relay:
    """
    One request relayed to one backend.

    @ivar request: the client's request.
    @ivar backend: where it goes.
    """

    def __init__(
        self,
        request: ProxiedRequest,
        backend: Backend,
        target: bytes,
        pool: BackendPool,
        forwarding: Forwarding,
    ) -> None:
        """
        @param request: the client's request.
        @param target: the request-target to send (path and query).
        """
        self.request = request
        self.backend = backend
        self._target = target
        self._pool = pool
        self._forwarding = forwarding
        self._connection: UpstreamConnection | None = None
        self._spool: IO[bytes] | None = None
        self._spoolLength = 0
        self._streamed = False
        self._streamLength: int | None = None
        self._pending: list[bytes] | None = None
        self._bodyEnded = False
        self._retried = False
        self._done = False
        self._waiting: Deferred[Checkout] | None = None
        self._upgrade = upgradeRequested(request)
        self._head = self._buildHead()
        request.notifyFinish().addErrback(self._clientGone)

    def _buildHead(self) -> bytes:
        request = self.request
        headers = request.requestHeaders
        hosts = headers.getLowered(b"host")
        address = request.getClientAddress()
        fields = requestFields(
            headers.lowered(),
            request.clientproto,
            getattr(address, "host", None),
            request.isSecure(),
            hosts[0] if hosts else None,
            self._forwarding,
            self.backend.authority,
        )
        if self._upgrade is not None:
            fields[b"connection"] = [b"upgrade"]
            fields[b"upgrade"] = [self._upgrade]
        return serialiseRequestHead(request.method, self._target, fields)

    # -- starting ----------------------------------------------------------------

    def sendSpooled(self, content: IO[bytes] | None) -> None:
        """
        Send the request with the body the request has stored (all of it
        has arrived).
        """
        if content is not None:
            content.seek(0, 2)
            self._spoolLength = content.tell()
            content.seek(0, 0)
            self._spool = content
        self._connect(reuse=True)

    def startStreaming(self, length: int | None) -> None:
        """
        Send the request now, before its body has arrived: the body follows
        through L{bodyReceived} and L{bodyEnded}.

        @param length: the body's length, or C{None} when unknown (it is
            then sent chunked).
        """
        self._streamed = True
        self._streamLength = length
        self._pending = []
        self.request.pauseUpload()
        self._connect(reuse=False)

    def bodyReceived(self, data: bytes) -> None:
        """The next piece of a streamed request body."""
        connection = self._connection
        if self._pending is not None:
            # No connection yet: hold this piece, and no more until there is
            # one (the pause asked before the body began may not have held).
            self._pending.append(data)
            self.request.pauseUpload()
        elif connection is not None:
            connection.writeBody(data)

    def bodyEnded(self) -> None:
        """The streamed request body is complete."""
        self._bodyEnded = True
        if self._pending is None and self._connection is not None:
            self._endStreamedBody(self._connection)

    def _connect(self, reuse: bool) -> None:
        if reuse:
            connection = self._pool.takeIdle(self.backend)
            if connection is not None:
                self._send(connection, True)
                return
        waiting = self._waiting = self._pool.checkout(self.backend, reuse)
        waiting.addCallbacks(self._checkedOut, self._connectFailed)

    def _checkedOut(self, checkout: Checkout) -> None:
        self._waiting = None
        self._send(*checkout)

    def _connectFailed(self, reason: Failure) -> None:
        self._waiting = None
        if reason.check(CancelledError):
            return
        error = reason.value
        if not isinstance(error, UpstreamError):
            error = UpstreamError(f"could not connect: {reason.getErrorMessage()}")
        self.responseFailed(error)

    def _send(self, connection: UpstreamConnection, reused: bool) -> None:
        if self._done:
            connection.loseConnection()
            return
        self._connection = connection
        self._reused = reused
        request = self.request
        if self._streamed:
            connection.send(request.method, self._head, self, self._streamLength)
            transport: Any = connection.transport
            transport.registerProducer(
                _Pacer(request.pauseUpload, request.resumeUpload, lambda: None), True
            )
            pending, self._pending = self._pending or [], None
            for data in pending:
                connection.writeBody(data)
            if self._bodyEnded:
                self._endStreamedBody(connection)
            request.resumeUpload()
            return
        spool = self._spool
        connection.send(request.method, self._head, self, self._spoolLength)
        if spool is not None and self._spoolLength:
            spool.seek(0, 0)
            sent = FileSender().beginFileTransfer(spool, connection.transport)
            sent.addCallbacks(lambda _: connection.endBody(), lambda _: None)

    def _endStreamedBody(self, connection: UpstreamConnection) -> None:
        transport: Any = connection.transport
        if transport is not None:
            transport.unregisterProducer()
        connection.endBody()

    # -- the response ------------------------------------------------------------

    def responseHead(self, head: ResponseHead) -> None:
        """Copy the backend's status and end-to-end fields to the response."""
        request = self.request
        if head.code == 101:
            self._tunnel(head)
            return
        request.setResponseCode(head.code, head.reason)
        # The backend's fields replace any set before; the response reader
        # has checked them as strictly as the request parser checks a
        # client's, so they are not checked again.
        request.responseHeaders = Headers.fromLowered(
            responseFields(head.headers, head.version, self._forwarding)
        )
        connection = self._connection
        if connection is not None:
            request.registerProducer(
                _Pacer(connection.pauseReading, connection.resumeReading, self._stop),
                True,
            )

    def responseBody(self, data: bytes) -> None:
        """Pass a piece of the response body on to the client."""
        self.request.write(data)

    def responseEnd(self) -> None:
        """The response is complete: finish the client's too."""
        if self._done:
            return
        self._done = True
        request = self.request
        if request.producer is not None:
            request.unregisterProducer()
        request.finish()

    def responseFailed(self, error: UpstreamError) -> None:
        """
        The backend failed: retry a safe request once if a reused connection
        was closed before answering, or answer 502/504, or cut the response.
        """
        if self._done:
            return
        request = self.request
        if (
            error.untouched
            and getattr(self, "_reused", False)
            and not self._retried
            and not self._streamed
            and request.method in RETRYABLE
        ):
            self._retried = True
            self._connection = None
            self._connect(reuse=False)
            return
        self._done = True
        _log.warn(
            "Proxy: backend {backend} failed for {method} {uri}: {error}",
            backend=str(self.backend),
            method=request.method.decode("latin-1"),
            uri=request.uri.decode("latin-1"),
            error=str(error),
        )
        answerFailure(request, str(self.backend), error)

    # -- ending early ------------------------------------------------------------

    def _stop(self) -> None:
        """The client's request will not be completed: drop the backend's."""
        self._done = True
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            waiting.cancel()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.abort()

    def _clientGone(self, reason: Failure) -> None:
        self._stop()

    def _tunnel(self, head: ResponseHead) -> None:
        connection = self._connection
        self._done = True
        if self._upgrade is None or connection is None:
            answerFailure(
                self.request,
                str(self.backend),
                UpstreamError("backend switched protocols unasked"),
            )
            if connection is not None:
                connection.abort()
            return
        startTunnel(self.request, head, connection, self._forwarding)
