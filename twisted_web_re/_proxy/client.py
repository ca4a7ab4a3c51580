"""
twisted.web's one-request client, L{ProxyClient} and L{ProxyClientFactory},
kept for code that subclasses them or names them in C{ProxyRequest.protocols}
or C{proxyClientFactoryClass}: one connection per request (closed after it),
the whole body sent from memory, with twisted.web's C{handleStatus},
C{handleHeader}, C{handleResponsePart} and C{handleResponseEnd} hooks; but
HTTP/1.1, hop-by-hop fields removed both ways, every value of a repeated
field passed on, C{Via} added, and a 502 page when the backend cannot be
reached.  The proxies themselves use pooled, streaming connections instead.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IReactorTime
from twisted.internet.protocol import ClientFactory
from twisted.python.failure import Failure

from twisted_web_re._proxy.headers import (
    FORWARD_FORWARDING,
    endToEnd,
    responseFields,
    serialiseRequestHead,
    viaValue,
)
from twisted_web_re._proxy.pages import answerFailure
from twisted_web_re._proxy.upstream import UpstreamConnection, UpstreamError
from twisted_web_re._wire.response import ResponseHead

#: Response fields the request may have set defaults for, which the
#: backend's values replace.
_REPLACED = frozenset({b"server", b"date", b"content-type"})


def _reactorOf(father: Any) -> IReactorTime:
    reactor = getattr(father, "reactor", None)
    if reactor is None:
        from twisted.internet import reactor as default

        reactor = default
    return reactor


class ProxyClient(UpstreamConnection):
    """
    Sends one request to a backend and relays its response to C{father}.

    @ivar father: the client's request, which gets the response.
    @ivar command: the method.
    @ivar rest: the request-target.
    @ivar headers: the request's fields, name to value (as
        C{Request.getAllHeaders} gives them).
    @ivar data: the request body.
    """

    def __init__(
        self,
        command: bytes,
        rest: bytes,
        version: bytes,
        headers: dict[bytes, bytes],
        data: bytes,
        father: Any,
    ) -> None:
        super().__init__(_reactorOf(father))
        self.father = father
        self.command = command
        self.rest = rest or b"/"
        self.version = version
        lowered: dict[bytes, list[bytes]] = {}
        for name, value in headers.items():
            lowered.setdefault(name.lower(), []).append(value)
        fields = endToEnd(lowered)
        fields.pop(b"content-length", None)
        fields.pop(b"expect", None)
        fields.setdefault(b"via", []).append(viaValue(version))
        fields[b"connection"] = [b"close"]
        self.headers = fields
        self.data = data

    def connectionMade(self) -> None:
        """Send the request and its whole body."""
        super().connectionMade()
        head = serialiseRequestHead(self.command, self.rest, self.headers)
        self.send(self.command, head, _Hooks(self), len(self.data))
        self.writeBody(self.data)
        self.endBody()

    # -- twisted.web's hooks -------------------------------------------------

    def handleStatus(self, version: bytes, code: bytes, message: bytes) -> None:
        """The status line arrived: set the father's status."""
        self.father.setResponseCode(int(code), message)

    def handleHeader(self, key: bytes, value: bytes) -> None:
        """A response field arrived (hop-by-hop fields never do)."""
        self.father.responseHeaders.addRawHeader(key, value)

    def handleEndHeaders(self) -> None:
        """The response head is complete."""

    def handleResponsePart(self, buffer: bytes) -> None:
        """Pass a piece of the response body on to the father."""
        self.father.write(buffer)

    def handleResponseEnd(self) -> None:
        """The response is complete: finish the father, close the connection."""
        if not self.father.finished:
            self.father.finish()
        self.loseConnection()


class _Hooks:
    """The exchange of a L{ProxyClient}: reports to its hooks."""

    def __init__(self, client: ProxyClient) -> None:
        self._client = client

    def responseHead(self, head: ResponseHead) -> None:
        """Report the head through the hooks."""
        client = self._client
        client.handleStatus(head.version, b"%d" % head.code, head.reason)
        headers = client.father.responseHeaders
        for name in _REPLACED:
            headers.removeHeader(name)
        for name, values in responseFields(
            head.headers, head.version, FORWARD_FORWARDING
        ).items():
            for value in values:
                client.handleHeader(name, value)
        client.handleEndHeaders()

    def responseBody(self, data: bytes) -> None:
        """Report body data through L{ProxyClient.handleResponsePart}."""
        self._client.handleResponsePart(data)

    def responseEnd(self) -> None:
        """Report the end through L{ProxyClient.handleResponseEnd}."""
        self._client.handleResponseEnd()

    def responseFailed(self, error: UpstreamError) -> None:
        """Answer 502/504, or cut a response already started."""
        client = self._client
        answerFailure(client.father, client.rest.decode("latin-1"), error)


class ProxyClientFactory(ClientFactory):
    """
    Makes the L{ProxyClient} for one request, and answers 502 when the
    backend cannot be reached.
    """

    protocol = ProxyClient

    def __init__(
        self,
        command: bytes,
        rest: bytes,
        version: bytes,
        headers: dict[bytes, bytes],
        data: bytes,
        father: Any,
    ) -> None:
        self.father = father
        self.command = command
        self.rest = rest
        self.headers = headers
        self.data = data
        self.version = version

    def buildProtocol(self, addr: object) -> ProxyClient:
        """Make the client for this request."""
        protocol: type[ProxyClient] = self.protocol
        return protocol(
            self.command, self.rest, self.version, self.headers, self.data, self.father
        )

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        """The backend cannot be reached: answer 502."""
        destination = connector.getDestination()
        where = (
            f"{getattr(destination, 'host', '?')}:{getattr(destination, 'port', '?')}"
        )
        answerFailure(
            self.father,
            where,
            UpstreamError(f"could not connect: {reason.getErrorMessage()}"),
        )
