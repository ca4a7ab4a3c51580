"""
The forward proxy (L{proxy.Proxy} with L{proxy.ProxyRequest}) on a real
HTTP/1.1 channel over a StringTransport, its backends' connections made by
hand on a MemoryReactorClock: C{CONNECT} refused by default, refused beyond
its allow-list, and tunnelling within it; request bodies streamed upstream.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, ConnectionRefusedError, TimeoutError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from twisted_web_re import http
from twisted_web_re._proxy.connect import connectTarget
from twisted_web_re.proxy import ConnectAllowList, Proxy, ProxyRequest

PEER = IPv4Address("TCP", "127.0.0.1", 54321)
HOST = IPv4Address("TCP", "127.0.0.1", 3128)


class Setup:
    """A forward proxy's connection from one client, on a memory reactor."""

    def __init__(self, allowList: ConnectAllowList | None = None) -> None:
        self.reactor = reactor = MemoryReactorClock()

        class Request(ProxyRequest):
            connectAllowList = allowList

            def __init__(self, channel: Any, queued: object = None) -> None:
                super().__init__(channel, queued, reactor=reactor)

        class Channel(Proxy):
            requestFactory = Request

        factory = http.HTTPFactory(reactor=reactor)
        factory.protocol = Channel
        self.channel = factory.buildProtocol(PEER)
        self.transport = StringTransport(hostAddress=HOST, peerAddress=PEER)
        self.channel.makeConnection(self.transport)

    def feed(self, data: bytes) -> None:
        self.channel.dataReceived(data)

    def connect(self, index: int = -1) -> tuple[Any, StringTransport]:
        """Complete the connection the proxy asked for."""
        factory = self.reactor.tcpClients[index][2]
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport

    def fail(self, reason: Exception, index: int = -1) -> None:
        """Fail the connection the proxy asked for."""
        factory = self.reactor.tcpClients[index][2]
        factory.clientConnectionFailed(None, Failure(reason))


ALLOWED = ConnectAllowList(["Tunnel.Test", "::1"], [443, 8443])


def status(data: bytes) -> bytes:
    """The status line of the response in C{data}."""
    return data.partition(b"\r\n")[0]


def test_connectRefusedByDefault() -> None:
    """Without an allow-list, CONNECT is answered 405 and nothing is dialled."""
    setup = Setup()
    setup.feed(b"CONNECT tunnel.test:443 HTTP/1.1\r\nHost: tunnel.test:443\r\n\r\n")
    assert status(setup.transport.value()) == b"HTTP/1.1 405 Method Not Allowed"
    assert setup.reactor.tcpClients == []


@pytest.mark.parametrize("target", [b"other.test:443", b"tunnel.test:22"])
def test_connectOutsideAllowList403(target: bytes) -> None:
    """A host or a port that is not on the allow-list is answered 403."""
    setup = Setup(ALLOWED)
    setup.feed(b"CONNECT " + target + b" HTTP/1.1\r\nHost: " + target + b"\r\n\r\n")
    assert status(setup.transport.value()) == b"HTTP/1.1 403 Forbidden"
    assert setup.reactor.tcpClients == []


def test_connectTargets() -> None:
    """CONNECT targets are host:port, an IPv6 address in brackets."""
    assert connectTarget(b"tunnel.test:443") == ("tunnel.test", 443)
    assert connectTarget(b"[::1]:8443") == ("::1", 8443)
    for bad in [
        b"tunnel.test",
        b"tunnel.test:",
        b":443",
        b"h:0",
        b"h:70000",
        b"[::1:4",
    ]:
        assert connectTarget(bad) is None, bad


def test_connectBadTarget400() -> None:
    """A CONNECT target without a numeric port is answered 400."""
    setup = Setup(ALLOWED)
    setup.feed(b"CONNECT tunnel.test:https HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status(setup.transport.value()) == b"HTTP/1.1 400 Bad Request"


def test_allowListNeedsHostsAndPorts() -> None:
    """An allow-list without hosts, without ports, or with a bad port is refused."""
    with pytest.raises(ValueError):
        ConnectAllowList([], [443])
    with pytest.raises(ValueError):
        ConnectAllowList(["a"], [])
    with pytest.raises(ValueError):
        ConnectAllowList(["a"], [0])


def test_connectTunnels() -> None:
    """
    An allowed CONNECT dials the target (host name case aside); once it is
    connected the client gets a 200 without framing fields, and then the
    two connections carry each other's bytes, those the client sent right
    after its request first; the target's close closes the client's side.
    """
    setup = Setup(ALLOWED)
    setup.feed(
        b"CONNECT TUNNEL.test:443 HTTP/1.1\r\nHost: tunnel.test:443\r\n\r\nearly"
    )
    host, port, _, timeout, _ = setup.reactor.tcpClients[0]
    assert (host, port, timeout) == ("TUNNEL.test", 443, 10.0)
    assert setup.transport.value() == b""
    backend, backendTransport = setup.connect()
    head, _, rest = setup.transport.value().partition(b"\r\n\r\n")
    assert status(head) == b"HTTP/1.1 200 Connection Established"
    lowered = head.lower()
    assert b"content-length" not in lowered
    assert b"transfer-encoding" not in lowered
    assert b"connection:" not in lowered
    assert rest == b""
    assert backendTransport.value() == b"early"
    setup.feed(b"GET / HTTP/1.1\r\n\r\n")
    assert backendTransport.value() == b"earlyGET / HTTP/1.1\r\n\r\n"
    setup.transport.clear()
    backend.dataReceived(b"\x16\x03\x01 server bytes")
    assert setup.transport.value() == b"\x16\x03\x01 server bytes"
    assert setup.transport.producer is backendTransport
    assert backendTransport.producer is setup.transport
    backend.connectionLost(Failure(ConnectionDone()))
    assert setup.transport.disconnecting


def test_connectClientGoneClosesTarget() -> None:
    """The client's close closes the tunnel's target connection."""
    setup = Setup(ALLOWED)
    setup.feed(b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n")
    _backend, backendTransport = setup.connect()
    setup.channel.connectionLost(Failure(ConnectionDone()))
    assert backendTransport.disconnecting


def test_connectClientGoneBeforeConnected() -> None:
    """A client that leaves while the target is dialled stops the dialling."""
    setup = Setup(ALLOWED)
    setup.feed(b"CONNECT tunnel.test:443 HTTP/1.1\r\nHost: x\r\n\r\n")
    connector = setup.reactor.connectors[0]
    setup.channel.connectionLost(Failure(ConnectionDone()))
    assert connector._disconnected  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "error, line",
    [
        (ConnectionRefusedError(), b"HTTP/1.1 502 Bad Gateway"),
        (TimeoutError(), b"HTTP/1.1 504 Gateway Timeout"),
    ],
)
def test_connectFailure(error: Exception, line: bytes) -> None:
    """A target that refuses is a 502, one that does not answer a 504."""
    setup = Setup(ALLOWED)
    setup.feed(b"CONNECT tunnel.test:443 HTTP/1.1\r\nHost: x\r\n\r\n")
    setup.fail(error)
    data = setup.transport.value()
    assert status(data) == line
    assert b"tunnel.test:443" in data


def test_uploadStreamedUpstream() -> None:
    """
    A forward-proxied request body goes upstream as it arrives, nothing of
    it stored: while the backend is being dialled the client's upload is
    paused after its first piece, and resumed once connected.
    """
    setup = Setup()
    setup.feed(
        b"POST http://backend.test:8080/up?x=1 HTTP/1.1\r\nHost: backend.test:8080\r\n"
        b"Content-Length: 10\r\n\r\n01234"
    )
    assert setup.transport.producerState == "paused"
    [request] = [setup.channel._request]  # type: ignore[attr-defined]
    assert request.content is None
    backend, backendTransport = setup.connect()
    assert setup.transport.producerState == "producing"
    head, _, body = backendTransport.value().partition(b"\r\n\r\n")
    assert head.startswith(b"POST /up?x=1 HTTP/1.1\r\nhost: backend.test:8080")
    assert b"content-length: 10" in head
    assert body == b"01234"
    setup.feed(b"56789")
    assert backendTransport.value().endswith(b"\r\n\r\n0123456789")
    backend.dataReceived(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    data = setup.transport.value()
    assert status(data) == b"HTTP/1.1 201 Created"
    assert data.endswith(b"\r\n\r\nok")
