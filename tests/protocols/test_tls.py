"""
A site served over TLS, as Twisted's C{ssl:} endpoints serve it: a L{Site}
wrapped in Twisted's L{TLSMemoryBIOFactory}, spoken to by an in-memory
pyOpenSSL client, over a L{StringTransport} standing for the TCP connection,
with a L{MemoryReactorClock} for every timer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _httpparse import HOST, PEER, Response, parseResponses
from conftest import writeSelfSignedCertificate
from OpenSSL import SSL
from twisted.internet import ssl
from twisted.internet.endpoints import SSL4ServerEndpoint
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IProtocolNegotiationFactory
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogEvent, formatEvent
from twisted.protocols.tls import TLSMemoryBIOFactory, TLSMemoryBIOProtocol
from twisted.python.failure import Failure
from zope.interface.verify import verifyObject

from twisted_web_re import http, resource, server
from twisted_web_re._protocols.http1 import LINGER_SECONDS
from twisted_web_re._protocols.tlshandshake import selectProtocol, useOwnSelection

# Twisted's own TLS options hand pyOpenSSL objects to pyOpenSSL, which warns.
pytestmark = pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")

#: Rounds of moving bytes each way after which a TLS exchange must be quiet.
PUMP_ROUNDS = 50


class Hello(resource.Resource):
    """A page saying C{hello} at every path."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> bytes:
        """
        @return: C{hello}.
        """
        return b"hello"


def helloSite(clock: MemoryReactorClock, **settings: float) -> server.Site:
    """
    @param clock: the site's reactor.
    @param settings: more keyword arguments for the L{server.Site}.
    @return: a site serving L{Hello}, in HTTP/1 only (C{h2} off: these
        tests are about HTTP/1.1 over TLS; C{test_negotiation} has C{h2}).
    """
    return server.Site(Hello(), reactor=clock, h2=False, **settings)


class TCPTransport(StringTransport):
    """
    The TCP connection beneath TLS: a L{StringTransport} that can also be
    half-closed, and records it.

    @ivar writeClosed: whether C{loseWriteConnection} was called.
    """

    writeClosed = False

    def loseWriteConnection(self) -> None:
        """Record a half-close, as a TCP connection would do one."""
        self.writeClosed = True


class TLSConnection:
    """
    One TLS connection from an in-memory client to a L{Site} behind Twisted's
    TLS layer.

    @ivar clock: the reactor of the site and of the TLS layer.
    @ivar tcp: the transport beneath the TLS layer.
    @ivar client: the client's pyOpenSSL connection.
    @ivar received: the plaintext the client has read so far.
    @ivar closeNotified: whether the client has read the server's
        C{close_notify}.
    @ivar refusal: the error with which the client's handshake failed, if it
        did.
    """

    def __init__(
        self,
        certificateDirectory: Path,
        alpn: list[bytes] | None,
        site: server.Site | None = None,
        clock: MemoryReactorClock | None = None,
        ownSelection: bool = True,
    ) -> None:
        """
        Connect, and complete the handshake if the server agrees to it
        (L{refusal} says if it did not).

        @param certificateDirectory: where to write the server's certificate.
        @param alpn: the protocols the client offers by ALPN, or C{None} to
            offer none.
        @param site: the site to serve; a static C{hello} page by default.
        @param clock: the site's reactor (one is made when C{None}).
        @param ownSelection: whether the TLS options are set up as
            C{twistd web-re} sets up those of its C{ssl:} endpoints, choosing
            the protocol by L{selectProtocol}; if not, Twisted's choice is
            left, as for a site a program listens with itself.
        """
        certPath, keyPath = writeSelfSignedCertificate(certificateDirectory)
        certificate = ssl.PrivateCertificate.loadPEM(
            certPath.read_text() + keyPath.read_text()
        )
        self.clock = clock if clock is not None else MemoryReactorClock()
        if site is None:
            site = helloSite(self.clock)
        options = certificate.options()
        if ownSelection:
            endpoint = SSL4ServerEndpoint(self.clock, 0, options)
            assert useOwnSelection(endpoint)
        factory = TLSMemoryBIOFactory(options, False, site, clock=self.clock)
        self.protocol: TLSMemoryBIOProtocol = factory.buildProtocol(PEER)
        self.tcp = TCPTransport(hostAddress=HOST, peerAddress=PEER)
        self.protocol.makeConnection(self.tcp)

        context = SSL.Context(SSL.TLS_CLIENT_METHOD)
        if alpn is not None:
            context.set_alpn_protos(alpn)
        self.client = SSL.Connection(context, None)
        self.client.set_connect_state()
        self.received = b""
        self.closeNotified = False
        self.refusal: SSL.Error | None = None
        self._handshakeDone = False
        self.pump()

    def pump(self) -> None:
        """
        Move bytes between client and server, and turn the clock by nothing
        (for the TLS layer's batched writes), until neither has more to say.
        A handshake that fails on the client's side is recorded in
        L{refusal}.
        """
        for _ in range(PUMP_ROUNDS):
            self.clock.advance(0)
            moved = False
            fromServer = self.tcp.value()
            if fromServer:
                self.tcp.clear()
                self.client.bio_write(fromServer)
                moved = True
            if not self._handshakeDone and self.refusal is None:
                try:
                    self.client.do_handshake()
                    self._handshakeDone = True
                except SSL.WantReadError:
                    pass
                except SSL.Error as e:
                    self.refusal = e
            if self._handshakeDone:
                self._readPlaintext()
            try:
                toServer = self.client.bio_read(1 << 20)
            except SSL.WantReadError:
                toServer = b""
            if toServer and not self.tcp.disconnecting:
                self.protocol.dataReceived(toServer)
                moved = True
            if not moved:
                return
        raise AssertionError(f"TLS exchange still busy after {PUMP_ROUNDS} rounds")

    def _readPlaintext(self) -> None:
        """Read what the client can decrypt, and notice C{close_notify}."""
        while not self.closeNotified:
            try:
                self.received += self.client.recv(1 << 20)
            except SSL.WantReadError:
                return
            except SSL.ZeroReturnError:
                self.closeNotified = True

    @property
    def negotiated(self) -> bytes | None:
        """The protocol chosen by ALPN, or C{None} if none was."""
        chosen: bytes | None = self.client.get_alpn_proto_negotiated() or None
        return chosen

    def send(self, data: bytes) -> None:
        """Send C{data} from the client, encrypted, and pump."""
        self.client.sendall(data)
        self.pump()

    def sendCloseNotify(self) -> None:
        """Send the client's C{close_notify}, and pump."""
        self.client.shutdown()
        self.pump()

    def responses(self) -> list[Response]:
        """The responses the client has read, parsed strictly."""
        return parseResponses(self.received)


@pytest.mark.parametrize("factory", [http.HTTPFactory(), server.Site(Hello())])
def test_namesProtocolsForALPN(factory: http.HTTPFactory) -> None:
    """
    Every factory names the protocols it speaks to Twisted's TLS layer, HTTP/2
    first, then HTTP/1.1: without them, Twisted refuses the
    handshake of every client offering ALPN.
    """
    assert verifyObject(IProtocolNegotiationFactory, factory)
    assert factory.acceptableProtocols() == [b"h2", b"http/1.1", b"http/1.0"]


@pytest.mark.parametrize(
    "ownSelection",
    [
        pytest.param(True, id="twistd-web-re"),
        pytest.param(False, id="twisted-choice"),
    ],
)
@pytest.mark.parametrize(
    "alpn, chosen",
    [
        pytest.param([b"h2", b"http/1.1"], b"http/1.1", id="browser"),
        pytest.param([b"http/1.1"], b"http/1.1", id="http/1.1"),
        pytest.param([b"http/1.0"], b"http/1.0", id="http/1.0"),
        pytest.param(None, None, id="no-alpn"),
    ],
)
def test_servedWhateverTheClientOffers(
    tmp_path: Path,
    logged: list[LogEvent],
    alpn: list[bytes] | None,
    chosen: bytes | None,
    ownSelection: bool,
) -> None:
    """
    A client offering ALPN as browsers and curl do (C{h2} and C{http/1.1}),
    one offering only HTTP/1.1 or only HTTP/1.0, and one offering no ALPN at
    all each complete the handshake, are given the HTTP version they can
    speak, and are served, whether the protocol is chosen as on the ports of
    C{twistd web-re} or as on a port a program listens on itself; nothing is
    logged.
    """
    connection = TLSConnection(tmp_path, alpn, ownSelection=ownSelection)
    assert connection.negotiated == chosen
    connection.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    [response] = connection.responses()
    assert response.status == 200
    assert response.body == b"hello"
    assert logged == []


def test_closedWithoutWaitingForTheClient(tmp_path: Path) -> None:
    """
    When the server ends a connection (here after an HTTP/1.0 response), the
    client reads the whole response, then C{close_notify}, and the TCP
    connection is closed then, though the client never answers with its own
    C{close_notify}: a client that never does cannot hold it open.
    """
    connection = TLSConnection(tmp_path, [b"http/1.1"])
    connection.send(b"GET / HTTP/1.0\r\n\r\n")
    [response] = connection.responses()
    assert response.body == b"hello"
    assert connection.closeNotified
    assert connection.tcp.disconnecting
    assert not connection.tcp.writeClosed


def test_idleConnectionClosedOverTLS(tmp_path: Path) -> None:
    """
    A keep-alive connection idle for the site's timeout gets C{close_notify}
    and is closed, whether or not the client answers.
    """
    clock = MemoryReactorClock()
    site = helloSite(clock, timeout=5)
    connection = TLSConnection(tmp_path, [b"http/1.1"], site, clock)
    connection.send(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert not connection.tcp.disconnecting
    clock.advance(6)
    connection.pump()
    assert connection.closeNotified
    assert connection.tcp.disconnecting


def test_timeoutAnsweredOverTLS(tmp_path: Path) -> None:
    """
    A request head that does not arrive in time is answered 408 over TLS,
    followed by C{close_notify}, through the TLS layer (never by shutting the
    TCP connection beneath it, which would lose both); the connection is then
    closed when the client answers with its own C{close_notify}.
    """
    clock = MemoryReactorClock()
    site = helloSite(clock, headTimeout=3)
    connection = TLSConnection(tmp_path, [b"h2", b"http/1.1"], site, clock)
    connection.send(b"GET / HTTP/1.1\r\nHost: local")
    clock.advance(4)
    connection.pump()
    [response] = connection.responses()
    assert response.status == 408
    assert connection.closeNotified
    assert not connection.tcp.writeClosed
    assert not connection.tcp.disconnecting
    connection.sendCloseNotify()
    assert connection.tcp.disconnecting


def test_silentClientCutAfterErrorOverTLS(tmp_path: Path) -> None:
    """
    After an error response over TLS the server reads on for a while, so that
    the client reads the response rather than a reset; a client that neither
    answers C{close_notify} nor closes is cut off after L{LINGER_SECONDS}.
    """
    clock = MemoryReactorClock()
    site = helloSite(clock)
    connection = TLSConnection(tmp_path, [b"http/1.1"], site, clock)
    connection.send(b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n")
    [response] = connection.responses()
    assert response.status == 400
    assert connection.closeNotified
    # What the client still sends is read and dropped.
    connection.client.sendall(b"more")
    connection.pump()
    assert not connection.tcp.disconnecting
    clock.advance(LINGER_SECONDS + 1)
    assert connection.tcp.disconnecting
    assert connection.tcp.disconnected


@pytest.mark.parametrize(
    "alpn",
    [
        pytest.param([b"h2"], id="h2"),
        pytest.param([b"foo", b"spdy/3"], id="unknown"),
    ],
)
def test_noCommonProtocolRefused(
    tmp_path: Path, logged: list[LogEvent], alpn: list[bytes]
) -> None:
    """
    A client offering by ALPN only protocols the server does not speak (only
    C{h2}, or names unknown to it) has its handshake refused with the alert
    RFC 7301 names for this, C{no_application_protocol}, rather than
    C{internal_error}; the connection is closed at once; and one line is
    logged naming the client and what it offered.
    """
    connection = TLSConnection(tmp_path, alpn)
    assert connection.refusal is not None
    assert "no application protocol" in str(connection.refusal)
    assert connection.tcp.disconnecting
    connection.protocol.connectionLost(Failure(ConnectionDone()))
    [event] = logged
    line = formatEvent(event)
    assert f"{PEER.host}:{PEER.port}" in line
    for name in alpn:
        assert name.decode() in line
    assert "http/1.1" in line
    assert "\n" not in line


def test_noCommonProtocolWithTwistedChoice(
    tmp_path: Path, logged: list[LogEvent]
) -> None:
    """
    On a port a program listens on itself, Twisted chooses the protocol: a
    client offering only C{h2} is refused with the alert Twisted's choice
    leads to (C{internal_error}), and the connection closed at once; one line
    is logged naming the client and OpenSSL's reason.
    """
    connection = TLSConnection(tmp_path, [b"h2"], ownSelection=False)
    assert connection.refusal is not None
    assert connection.tcp.disconnecting
    connection.protocol.connectionLost(Failure(ConnectionDone()))
    [event] = logged
    line = formatEvent(event)
    assert line.startswith(f"TLS handshake with {PEER.host}:{PEER.port} failed: ")
    assert "internal error" in line


def test_handshakeFailureLogged(tmp_path: Path, logged: list[LogEvent]) -> None:
    """
    A client that is not TLS at all (here, plain HTTP sent to the HTTPS
    port) fails the handshake; the connection is closed and one line logged.
    """
    clock = MemoryReactorClock()
    certPath, keyPath = writeSelfSignedCertificate(tmp_path)
    certificate = ssl.PrivateCertificate.loadPEM(
        certPath.read_text() + keyPath.read_text()
    )
    factory = TLSMemoryBIOFactory(
        certificate.options(), False, helloSite(clock), clock=clock
    )
    protocol = factory.buildProtocol(PEER)
    tcp = TCPTransport(hostAddress=HOST, peerAddress=PEER)
    protocol.makeConnection(tcp)
    protocol.dataReceived(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    clock.advance(0)
    assert tcp.disconnecting
    protocol.connectionLost(Failure(ConnectionDone()))
    [event] = logged
    assert formatEvent(event).startswith(
        f"TLS handshake with {PEER.host}:{PEER.port} failed: "
    )


def test_clientLeavingDuringHandshakeNotLogged(
    tmp_path: Path, logged: list[LogEvent]
) -> None:
    """
    A client that connects and goes away without a handshake (a port
    scanner, a health check) is not logged.
    """
    connection = TLSConnection(tmp_path, None)
    connection.protocol.connectionLost(Failure(ConnectionDone()))
    assert logged == []
    clock = MemoryReactorClock()
    certPath, keyPath = writeSelfSignedCertificate(tmp_path)
    certificate = ssl.PrivateCertificate.loadPEM(
        certPath.read_text() + keyPath.read_text()
    )
    factory = TLSMemoryBIOFactory(
        certificate.options(), False, helloSite(clock), clock=clock
    )
    protocol = factory.buildProtocol(PEER)
    protocol.makeConnection(TCPTransport(hostAddress=HOST, peerAddress=PEER))
    protocol.connectionLost(Failure(ConnectionDone()))
    assert logged == []


def test_offerLoggedBounded(tmp_path: Path, logged: list[LogEvent]) -> None:
    """
    A client offering many long or binary protocol names is refused all the
    same; the log line shows a few of them, cut short, with control bytes
    escaped.
    """
    offer = [b"x" * 200 + bytes([n]) for n in range(100)] + [b"evil\nline\x00"]
    connection = TLSConnection(tmp_path, offer)
    assert connection.refusal is not None
    [event] = logged
    line = formatEvent(event)
    assert "\n" not in line
    assert "and 93 more" in line
    assert len(line) < 1000


def test_factoryNamingNoProtocol() -> None:
    """
    On a context shared with a factory that names no protocols, a client
    offering ALPN is served without ALPN, as if the server had none.
    """

    class Connection:
        def get_app_data(self) -> object:
            return None

    assert selectProtocol(Connection(), [b"h2"]) is SSL.NO_OVERLAPPING_PROTOCOLS  # type: ignore[arg-type]
