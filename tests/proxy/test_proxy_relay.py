"""
The reverse proxy relaying one request, with the client's side played by the
stream test double and the backend's by a StringTransport on a
MemoryReactorClock: what is sent upstream, what the client is answered, and
every way the backend can fail.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.error import ConnectionRefusedError, TimeoutError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from tests._stream import FakeStream
from twisted_web_re import server
from twisted_web_re._proxy.pool import Backend, BackendPool
from twisted_web_re.proxy import ReverseProxyResource

BACKEND = Backend("backend", 8080)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"


class Setup:
    """A site with a reverse proxy to backend:8080/base, on a memory reactor."""

    def __init__(self, **settings: Any) -> None:
        self.reactor = MemoryReactorClock()
        self.pool = BackendPool(self.reactor, **settings)
        self.resource = ReverseProxyResource(
            "backend", 8080, b"/base", reactor=self.reactor, pool=self.pool
        )
        self.site = server.Site(self.resource, reactor=self.reactor)

    def request(
        self,
        method: bytes = b"GET",
        target: bytes = b"/a%20b/c?q=1",
        headers: dict[bytes, list[bytes]] | None = None,
        body: bytes | None = None,
    ) -> FakeStream:
        stream = FakeStream(site=self.site, reactor=self.reactor)
        stream.deliver(self.site.requestFactory, method, target, headers, body)
        return stream

    def connect(self, index: int = -1) -> tuple[Any, StringTransport]:
        """Complete the connection the proxy asked for."""
        host, port, factory, _timeout, _ = self.reactor.tcpClients[index]
        assert (host, port) == ("backend", 8080)
        protocol = factory.buildProtocol(None)
        transport = StringTransport()
        protocol.makeConnection(transport)
        return protocol, transport


def test_relaysRequestAndResponse() -> None:
    """
    A GET is sent upstream over HTTP/1.1 with the path joined to the base,
    the query kept, Host naming the backend, and the forwarding fields; the
    backend's response reaches the client with Via added.
    """
    setup = Setup()
    stream = setup.request(
        headers={b"user-agent": [b"t"], b"connection": [b"x-hop"], b"x-hop": [b"1"]}
    )
    assert setup.reactor.tcpClients[0][3] == setup.pool.connectTimeout
    protocol, transport = setup.connect()
    sent = transport.value()
    head, _, _ = sent.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"GET /base/a%20b/c?q=1 HTTP/1.1"
    assert lines[1] == b"host: backend:8080"
    assert b"user-agent: t" in lines
    assert b"x-hop: 1" not in lines and b"connection: x-hop" not in lines
    assert b"x-forwarded-for: 10.0.0.2" in lines
    assert b"x-forwarded-proto: http" in lines
    assert b"x-forwarded-host: example.com" in lines
    assert b"forwarded: for=10.0.0.2;proto=http;host=example.com" in lines
    assert b"via: 1.1 twisted_web_re" in lines
    protocol.dataReceived(OK)
    assert stream.code == 200 and stream.body == b"hello" and stream.ended
    assert stream.headers[b"via"] == [b"1.1 twisted_web_re"]
    assert stream.headers[b"content-type"] == [b"text/plain"]
    assert setup.pool.idleCount(BACKEND) == 1


def test_connectionReused() -> None:
    """A second request reuses the idle connection: no new connection."""
    setup = Setup()
    setup.request()
    protocol, transport = setup.connect()
    protocol.dataReceived(OK)
    transport.clear()
    stream = setup.request(target=b"/again")
    assert len(setup.reactor.tcpClients) == 1
    assert transport.value().startswith(b"GET /base/again HTTP/1.1\r\n")
    protocol.dataReceived(OK)
    assert stream.body == b"hello" and stream.ended


def test_repeatedFieldsBothWays() -> None:
    """Every value of a repeated field is passed on, in both directions."""
    setup = Setup()
    stream = setup.request(headers={b"x-a": [b"1", b"2"]})
    protocol, transport = setup.connect()
    assert b"x-a: 1\r\nx-a: 2\r\n" in transport.value()
    protocol.dataReceived(
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"Keep-Alive: timeout=5\r\nContent-Length: 0\r\n\r\n"
    )
    assert stream.headers[b"set-cookie"] == [b"a=1", b"b=2"]
    assert b"keep-alive" not in stream.headers


def test_smugglingShapesReframed() -> None:
    """
    A body arrives at the backend framed by this proxy alone: the client's
    Content-Length and Transfer-Encoding are never passed on, so the
    CL.TE and TE.CL shapes cannot desynchronise the backend.
    """
    setup = Setup()
    setup.request(
        b"POST",
        b"/p",
        headers={b"transfer-encoding": [b"chunked"], b"content-length": [b"4"]},
        body=b"0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n",
    )
    _protocol, transport = setup.connect()
    head, _, _body = transport.value().partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    assert [line for line in lines if line.startswith(b"content-length")] == [
        b"content-length: 31"
    ]
    assert not [line for line in lines if line.startswith(b"transfer-encoding")]


def test_backendRefused502() -> None:
    """A backend that refuses the connection gets the client a 502 page."""
    setup = Setup()
    stream = setup.request(target=b"/<script>")
    factory = setup.reactor.tcpClients[0][2]
    factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
    assert stream.code == 502 and stream.ended
    assert b"backend:8080" in stream.body and b"<script>" not in stream.body


def test_connectTimeout504() -> None:
    """A backend that cannot be reached in time gets the client a 504."""
    setup = Setup()
    stream = setup.request()
    factory = setup.reactor.tcpClients[0][2]
    factory.clientConnectionFailed(None, Failure(TimeoutError()))
    assert stream.code == 504 and stream.ended


def test_responseTimeout504() -> None:
    """A backend that accepts but never answers gets the client a 504."""
    setup = Setup(responseTimeout=5.0)
    stream = setup.request()
    _protocol, transport = setup.connect()
    setup.reactor.advance(4.9)
    assert not stream.heads
    setup.reactor.advance(0.2)
    assert stream.code == 504 and stream.ended and transport.disconnecting


def test_garbage502() -> None:
    """A backend answering garbage gets the client a 502."""
    setup = Setup()
    stream = setup.request()
    protocol, _transport = setup.connect()
    protocol.dataReceived(b"SSH-2.0-OpenSSH\r\n\r\n")
    assert stream.code == 502 and stream.ended


def test_closedMidBodyCutsClient() -> None:
    """
    A backend closing the connection in the middle of a body cuts the
    client's connection: it never sees a complete-looking response.
    """
    setup = Setup()
    stream = setup.request()
    protocol, _transport = setup.connect()
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
    protocol.connectionLost(Failure(ConnectionError()))
    assert stream.aborted and not stream.ended


def test_idleInBodyCutsClient() -> None:
    """A backend falling silent within the body cuts the client's connection."""
    setup = Setup(bodyIdleTimeout=3.0)
    stream = setup.request()
    protocol, _transport = setup.connect()
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
    setup.reactor.advance(3.1)
    assert stream.aborted and not stream.ended


def test_staleConnectionRetried() -> None:
    """
    A safe request sent on a reused connection that the backend had closed
    is retried once on a new connection.
    """
    setup = Setup()
    setup.request()
    protocol, _transport = setup.connect()
    protocol.dataReceived(OK)
    stream = setup.request()
    protocol.connectionLost(Failure(ConnectionError()))
    assert len(setup.reactor.tcpClients) == 2
    second, _ = setup.connect()
    second.dataReceived(OK)
    assert stream.code == 200 and stream.body == b"hello"


def test_postNotRetried() -> None:
    """A POST is not retried: the backend may have acted on it."""
    setup = Setup()
    setup.request()
    protocol, _transport = setup.connect()
    protocol.dataReceived(OK)
    stream = setup.request(b"POST", b"/p", body=b"data")
    protocol.connectionLost(Failure(ConnectionError()))
    assert len(setup.reactor.tcpClients) == 1
    assert stream.code == 502


def test_slowClientPausesBackend() -> None:
    """
    The response's producer is registered with the client's stream:
    pausing it (the client does not read) stops reading from the backend.
    """
    setup = Setup()
    stream = setup.request()
    protocol, transport = setup.connect()
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
    assert stream.producer is not None and stream.producer[1] is True
    producer = stream.producer[0]
    producer.pauseProducing()
    assert transport.producerState == "paused"
    producer.resumeProducing()
    assert transport.producerState == "producing"


def test_clientGoneAbortsBackend() -> None:
    """A client that goes away takes the backend's connection with it."""
    setup = Setup()
    stream = setup.request()
    protocol, transport = setup.connect()
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
    stream.lose(Failure(ConnectionError()))
    assert transport.disconnecting
    assert setup.pool.idleCount(BACKEND) == 0


def test_childPath() -> None:
    """
    getChild appends the quoted segment with one slash, even when the path
    ends in one (twisted.web makes a double slash there).
    """
    resource = ReverseProxyResource("h", 80, b"/base/", reactor=MemoryReactorClock())
    assert resource.getChild(b"a b", None).path == b"/base/a%20b"
    assert resource.getChild(b"x", None).getChild(b"y", None).path == b"/base/x/y"
