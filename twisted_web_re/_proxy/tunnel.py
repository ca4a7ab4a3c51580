"""
Tunnels: once a backend has answered an C{Upgrade} request with C{101
Switching Protocols} (a WebSocket, say), the client's connection and the
backend's carry each other's bytes unchanged, each pausing the other when
it cannot keep up, until either closes.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from twisted_web_re._proxy.headers import Forwarding, responseFields
from twisted_web_re._proxy.request import ProxiedRequest, switcher
from twisted_web_re._proxy.upstream import UpstreamConnection, UpstreamError
from twisted_web_re._wire.parser import connectionTokens
from twisted_web_re._wire.response import ResponseHead


def upgradeRequested(request: ProxiedRequest) -> bytes | None:
    """
    The protocols C{request} asks to upgrade to (its C{Upgrade} value), when
    it asks for an upgrade and its stream can be switched; else C{None}.
    """
    headers = request.requestHeaders
    upgrade = headers.getLowered(b"upgrade")
    if not upgrade or request.clientproto != b"HTTP/1.1":
        return None
    if b"upgrade" not in connectionTokens(headers.getLowered(b"connection") or []):
        return None
    if switcher(request) is None:
        return None
    return b", ".join(upgrade)


class ClientSide(Protocol):
    """The client's end of a tunnel, given the client's connection."""

    def __init__(self, upstream: UpstreamConnection) -> None:
        self._upstream = upstream
        self._backendSide = BackendSide(self)

    def connectionMade(self) -> None:
        """Join the two connections, each pacing the other."""
        upstream = self._upstream
        upstream.setExchange(self._backendSide)
        client: Any = self.transport
        backend: Any = upstream.transport
        client.registerProducer(backend, True)
        backend.registerProducer(client, True)
        leftover = upstream.tunnelLeftover()
        if leftover:
            client.write(leftover)

    def dataReceived(self, data: bytes) -> None:
        """The client sent bytes: pass them to the backend."""
        backend: Any = self._upstream.transport
        backend.write(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        """The client went away: close the backend's side too."""
        self._upstream.abort()


class BackendSide:
    """The backend's end of a tunnel, as the upstream connection's exchange."""

    def __init__(self, client: ClientSide) -> None:
        self._client = client

    def responseHead(self, head: ResponseHead) -> None:
        """Never called: the head was read before the tunnel began."""

    def responseBody(self, data: bytes) -> None:
        """The backend sent bytes: pass them to the client."""
        transport: Any = self._client.transport
        transport.write(data)

    def responseEnd(self) -> None:
        """Never called: a tunnel ends by closing."""

    def responseFailed(self, error: UpstreamError) -> None:
        """The backend closed its side: close the client's once it is sent."""
        transport: Any = self._client.transport
        transport.loseConnection()


def startTunnel(
    request: ProxiedRequest,
    head: ResponseHead,
    connection: UpstreamConnection,
    forwarding: Forwarding,
) -> None:
    """
    Send the backend's C{101} to the client and join the connections.
    """
    request.setResponseCode(101, head.reason or b"Switching Protocols")
    headers = request.responseHeaders
    for name in list(headers.lowered()):
        headers.removeHeader(name)
    for name, values in responseFields(head.headers, head.version, forwarding).items():
        headers.setRawHeaders(name, values)
    headers.setRawHeaders(b"connection", [b"upgrade"])
    headers.setRawHeaders(b"upgrade", head.headers.get(b"upgrade", []))
    request.write(b"")
    stream = switcher(request)
    assert stream is not None, "an upgrade is only asked for on a switching stream"
    stream.switchProtocol(ClientSide(connection))
