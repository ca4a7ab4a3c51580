"""
What the proxy needs of a client's request (L{ProxiedRequest}), and of the
stream carrying it to hand the connection over to a tunnel
(L{SwitchingStream}).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IProtocol,
    IPullProducer,
    IPushProducer,
)

from twisted_web_re.http_headers import Headers
from twisted_web_re.iweb import IStream


class ProxiedRequest(Protocol):
    """
    A client's request as the proxy uses it: the part of
    L{twisted_web_re.iweb.IHTTPRequest} that reads the request and answers
    it, and from L{twisted_web_re.http.Request}, pacing a streamed upload,
    cutting the connection, and the stream that carries it.  Requests of
    HTTP/1.1 and of HTTP/2 are both this.
    """

    @property
    def method(self) -> bytes:
        """The request method."""

    @property
    def uri(self) -> bytes:
        """The request-target as sent."""

    @property
    def clientproto(self) -> bytes:
        """The request's version, C{b"HTTP/1.1"} say."""

    @property
    def requestHeaders(self) -> Headers:
        """The request's fields."""

    #: The response's fields.
    responseHeaders: Headers

    @property
    def content(self) -> IO[bytes] | None:
        """The stored request body, when it was stored."""

    @property
    def producer(self) -> IPushProducer | IPullProducer | None:
        """The producer of the response body, if one is registered."""

    @property
    def startedWriting(self) -> int:
        """Whether the response head is committed."""

    @property
    def finished(self) -> int:
        """Whether the response has ended."""

    @property
    def channel(self) -> IStream:
        """The stream carrying the request."""

    def getClientAddress(self) -> IAddress:
        """The client's address."""

    def isSecure(self) -> bool:
        """Whether the request came over TLS."""

    def setResponseCode(self, code: int, message: bytes | None = None) -> None:
        """Set the response status."""

    def write(self, data: bytes) -> None:
        """Write part of the response body."""

    def finish(self) -> None:
        """End the response."""

    def notifyFinish(self) -> Deferred[None]:
        """A Deferred firing at the end, failing when the client goes away."""

    def registerProducer(
        self, producer: IPushProducer | IPullProducer, streaming: bool
    ) -> None:
        """Make C{producer} the source of the response body."""

    def unregisterProducer(self) -> None:
        """Forget the response body's producer."""

    def pauseUpload(self) -> None:
        """Receive no more of the request body for now."""

    def resumeUpload(self) -> None:
        """Receive the request body again."""

    def abortConnection(self) -> None:
        """Cut the client's connection, so a partial response is seen cut."""


class SwitchingStream(Protocol):
    """
    A stream that can hand its connection to another protocol: an HTTP/1.1
    channel (L{twisted_web_re._protocols.http1switch.ProtocolSwitching}).
    """

    def writeHead(
        self,
        code: int,
        reason: bytes,
        headers: Mapping[bytes, list[bytes]],
        cookies: Sequence[bytes],
    ) -> None:
        """Commit the response head (see L{IStream.writeHead})."""

    def switchProtocol(self, protocol: IProtocol) -> None:
        """Send the committed head and give the connection to C{protocol}."""


def switcher(request: ProxiedRequest) -> SwitchingStream | None:
    """
    The stream of C{request}, when it can hand its connection over (an
    HTTP/1.1 connection can; an HTTP/2 stream cannot); else C{None}.
    """
    stream = request.channel
    if getattr(stream, "switchProtocol", None) is None:
        return None
    return stream  # type: ignore[return-value]
