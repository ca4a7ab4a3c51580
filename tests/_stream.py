"""
L{FakeStream}: a test double of the stream contract (L{iweb.IStream}), so
that the publishing layer can be tested without HTTP/1.1 bytes.  It records
the head, the body and the end a request hands it, and feeds a request its
head and body as a protocol would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import (
    IAddress,
    IPullProducer,
    IPushProducer,
    IReactorTime,
)
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re.http_headers import Headers
from twisted_web_re.iweb import IStream, IStreamRequest


@implementer(IStream)
class FakeStream:
    """
    Carries one request, recording what it answers.

    @ivar heads: every head committed, as C{(code, reason, fields, cookies)};
        the last one is the response's.
    @ivar body: the body data written, joined.
    @ivar ended: whether the response was ended.
    @ivar aborted: whether the request aborted the stream.
    @ivar bodyPaused: whether the request paused its body.
    @ivar producer: the producer registered, and whether it streams.
    @ivar site: the Site whose requests it carries, or C{None}.
    @ivar reactor: the reactor timing it: a L{Clock} unless one is given.
    """

    bodyMemoryLimit = 64 * 1024
    trustedProxies: tuple[Any, ...] = ()
    chunked = False

    def __init__(
        self,
        site: Any = None,
        secure: bool = False,
        reactor: IReactorTime | None = None,
    ) -> None:
        self.site = site
        self.reactor = Clock() if reactor is None else reactor
        self.transport = StringTransport()
        self.heads: list[tuple[int, bytes, dict[bytes, list[bytes]], list[bytes]]] = []
        self.sent = False
        self.chunks: list[bytes] = []
        self.ended = False
        self.aborted = False
        self.bodyPaused = False
        self.producer: tuple[IPushProducer | IPullProducer, bool] | None = None
        self.request: IStreamRequest | None = None
        self._secure = secure

    # -- the carrier's side -----------------------------------------------

    def getPeer(self) -> IAddress:
        return IPv4Address("TCP", "10.0.0.2", 40000)

    def getHost(self) -> IAddress:
        return IPv4Address("TCP", "10.0.0.1", 8080)

    def isSecure(self) -> bool:
        return self._secure

    def pauseBody(self) -> None:
        self.bodyPaused = True

    def resumeBody(self) -> None:
        self.bodyPaused = False

    def writeHead(
        self,
        code: int,
        reason: bytes,
        headers: Mapping[bytes, list[bytes]],
        cookies: Sequence[bytes],
    ) -> None:
        assert not self.sent, "a head replaced after it was sent"
        self.heads.append(
            (code, reason, {k: list(v) for k, v in headers.items()}, list(cookies))
        )

    def writeBody(self, data: bytes) -> None:
        assert self.heads, "body before head"
        assert not self.ended, "body after the end"
        self.sent = True
        self._count(data)

    def endResponse(self, last: bytes = b"") -> None:
        assert self.heads, "end before head"
        assert not self.ended, "ended twice"
        self.sent = True
        self._count(last)
        self.ended = True

    def _count(self, data: bytes) -> None:
        code = self.heads[-1][0]
        if self.request is not None and self.request.method == b"HEAD":
            return
        if code in (204, 304) or code < 200:
            return
        if data:
            self.chunks.append(data)
        if self.request is not None:
            self.request.sentLength += len(data)

    def registerProducer(
        self, producer: IPushProducer | IPullProducer, streaming: bool
    ) -> None:
        assert self.producer is None, "two producers"
        self.producer = (producer, streaming)

    def unregisterProducer(self) -> None:
        self.producer = None

    def abortConnection(self) -> None:
        self.aborted = True

    def loseConnection(self) -> None:
        self.aborted = True

    # -- what the test reads ----------------------------------------------

    @property
    def code(self) -> int:
        """The status of the response head."""
        return self.heads[-1][0]

    @property
    def headers(self) -> dict[bytes, list[bytes]]:
        """The fields of the response head."""
        return self.heads[-1][2]

    @property
    def body(self) -> bytes:
        """The body written so far."""
        return b"".join(self.chunks)

    # -- playing the protocol ---------------------------------------------

    def deliver(
        self,
        requestFactory: Callable[[IStream], IStreamRequest],
        method: bytes,
        target: bytes,
        headers: Mapping[bytes, list[bytes]] | None = None,
        body: bytes | None = None,
        version: bytes = b"HTTP/1.1",
    ) -> IStreamRequest:
        """
        Make a request with C{requestFactory} and hand it a head and a body
        (in two pieces), as a protocol would; return it.
        """
        request = self.request = requestFactory(self)
        fields = {b"host": [b"example.com"]}
        fields.update({k: list(v) for k, v in (headers or {}).items()})
        request.headReceived(method, target, version, Headers.fromLowered(fields))
        request.gotLength(len(body) if body else 0)
        if body:
            half = len(body) // 2
            request.handleContentChunk(body[:half])
            request.handleContentChunk(body[half:])
        request.requestReceived(method, target, version)
        return request

    def lose(self, reason: Failure) -> None:
        """Give the request up, as a protocol does when its connection goes."""
        assert self.request is not None
        self.request.connectionLost(reason)
