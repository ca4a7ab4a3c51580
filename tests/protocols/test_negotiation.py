"""
How a connection becomes HTTP/2 (L{twisted_web_re._protocols.http1switch},
L{twisted_web_re._protocols.negotiation}): by the cleartext preface of a
client with prior knowledge, by C{Upgrade: h2c}, and by ALPN C{h2} over TLS,
each switchable on the factory; tested against a recording stand-in for the
HTTP/2 connection, over a L{StringTransport}.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _httpparse import PEER, Server
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import DataReceived, ResponseReceived, StreamEnded
from test_tls import Hello, TLSConnection
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from twisted_web_re import http, server
from twisted_web_re._protocols.negotiation import (
    PREFACE,
    h2cSettings,
)
from twisted_web_re._protocols.tlshandshake import fitForHTTP2, selectProtocol
from twisted_web_re.http_headers import Headers

pytestmark = pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")

#: What the stand-in writes when connected, as a server preface would be.
SERVER_PREFACE = b"<server preface>"

#: An HTTP2-Settings value: one setting (ENABLE_PUSH = 0), base64url.
SETTINGS = b"AAIAAAAA"

UPGRADE = (
    b"GET /up?x=1 HTTP/1.1\r\nHost: example.com\r\n"
    b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
    b"HTTP2-Settings: " + SETTINGS + b"\r\n\r\n"
)

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


class FakeHTTP2(Protocol):
    """
    Stands for the HTTP/2 connection: records how it was configured, told
    of an Upgrade, connected and fed, and closes when asked to shut down.
    """

    def __init__(self) -> None:
        self.requestFactory: Any = None
        self.factory: Any = None
        self.site: object | None = None
        self.configured: dict[str, Any] | None = None
        self.upgraded: tuple[bytes, bytes, bytes, Headers] | None = None
        self.upgradedBeforeMade = False
        self.made = False
        self.received: list[bytes] = []
        self.lost: list[Failure] = []
        self.shutDowns: list[float] = []
        self._closed: list[Deferred[None]] = []

    def configure(self, **settings: Any) -> None:
        self.configured = settings

    def upgradedFrom(
        self, settings: bytes, method: bytes, target: bytes, headers: Headers
    ) -> None:
        self.upgraded = (settings, method, target, headers)
        self.upgradedBeforeMade = not self.made

    def connectionMade(self) -> None:
        self.made = True
        self.transport.write(SERVER_PREFACE)  # type: ignore[union-attr]

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)

    def connectionLost(self, reason: Failure = Failure(ConnectionDone())) -> None:  # noqa: B008
        self.lost.append(reason)
        waiting, self._closed = self._closed, []
        for closed in waiting:
            closed.callback(None)

    def shutDown(self, deadline: float) -> Deferred[None]:
        self.shutDowns.append(deadline)
        return self.notifyClosed()

    def notifyClosed(self) -> Deferred[None]:
        closed: Deferred[None] = Deferred()
        if self.lost:
            closed.callback(None)
        else:
            self._closed.append(closed)
        return closed


class FakeFactory(http.HTTPFactory):
    """A factory whose connections become L{FakeHTTP2}s."""

    http2Protocol = FakeHTTP2


class FakeSite(server.Site):
    """A site whose connections become L{FakeHTTP2}s."""

    http2Protocol = FakeHTTP2


def connect(**settings: Any) -> Server:
    """
    @param settings: keyword arguments for the factory.
    @return: a cleartext connection of a L{FakeFactory}.
    """
    return Server(factoryClass=FakeFactory, **settings)


def switched(connection: Server) -> FakeHTTP2 | None:
    """The HTTP/2 stand-in the connection was handed to, if any."""
    protocol = connection.channel._switched
    assert protocol is None or isinstance(protocol, FakeHTTP2)
    return protocol


# -- prior knowledge ------------------------------------------------------------


def test_priorKnowledge() -> None:
    """
    A cleartext connection starting with the HTTP/2 preface is HTTP/2: the
    HTTP/2 connection is made, configured as the channel was, and given
    every byte from the preface's first on; no HTTP/1.1 request is made.
    """
    connection = connect(maxHeadSize=40000, trustedProxies=["10.0.0.0/8"])
    connection.feed(PREFACE + b"frames")
    connection.feed(b"more frames")
    h2 = switched(connection)
    assert h2 is not None and h2.made
    assert b"".join(h2.received) == PREFACE + b"frames" + b"more frames"
    assert connection.value() == SERVER_PREFACE
    assert connection.requests == []
    channel = connection.channel
    assert h2.requestFactory is channel.requestFactory
    assert h2.factory is connection.factory
    assert h2.configured == {
        "limits": connection.factory.limits,
        "reactor": connection.clock,
        "accessLog": connection.factory.log,
        "refuseBody": connection.factory.refuseBody,
        "trustedProxies": connection.factory.trustedProxies,
    }
    assert connection.factory.limits.maxHeadSize == 40000
    assert connection.factory.negotiation.live == 1


@pytest.mark.parametrize("split", [1, 3, 16, 23])
def test_prefaceSplitAcrossReads(split: int) -> None:
    """
    A preface arriving in pieces (one byte at a time, or cut anywhere) is
    recognised all the same, and nothing of it is lost or answered.
    """
    connection = connect()
    data = PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    for start in range(0, len(data), split):
        connection.feed(data[start : start + split])
    h2 = switched(connection)
    assert h2 is not None
    assert b"".join(h2.received) == data
    assert connection.value() == SERVER_PREFACE


def test_partialPrefaceIdleTimeout() -> None:
    """
    A client that sends part of the preface and then nothing is closed
    when the idle timeout passes, as an idle connection is.
    """
    connection = connect(timeout=5)
    connection.feed(PREFACE[:10])
    connection.clock.advance(4)
    assert not connection.closed
    connection.clock.advance(2)
    assert connection.closed
    assert switched(connection) is None


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(GET, id="get"),
        pytest.param(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", id="post"
        ),
        pytest.param(
            b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", id="put"
        ),
    ],
)
def test_http1ServedByteByByte(data: bytes) -> None:
    """
    HTTP/1.1 requests, even those whose first letters begin the preface
    (C{P}), sent one byte at a time, are served in HTTP/1.1 as before.
    """
    connection = connect()
    connection.feed(data, bytewise=True)
    [response] = connection.responses()
    assert response.status == 200
    assert switched(connection) is None


def test_notQuiteThePreface() -> None:
    """
    A client sending something that starts like the preface but is not it
    (24 bytes that differ at the end) is answered in HTTP/1.1: its
    C{PRI * HTTP/2.0} request line earns 505, and no HTTP/2 is made.
    """
    connection = connect()
    connection.feed(PREFACE[:-6] + b"XX\r\n\r\n")
    assert switched(connection) is None
    [response] = connection.responses()
    assert response.status == 505
    assert connection.factory.negotiation.live == 0


def test_priorKnowledgeOff() -> None:
    """
    With C{h2cPriorKnowledge=False}, the preface is an HTTP/1.1 request
    like any other (answered 505), as on an HTTP/1.1-only server.
    """
    connection = connect(h2cPriorKnowledge=False)
    connection.feed(PREFACE)
    assert switched(connection) is None
    [response] = connection.responses()
    assert response.status == 505


def test_switchedConnectionLoss() -> None:
    """The connection's loss reaches the HTTP/2 connection, which is no longer live."""
    connection = connect()
    connection.feed(PREFACE)
    h2 = switched(connection)
    assert h2 is not None
    connection.channel.connectionLost(Failure(ConnectionDone()))
    assert len(h2.lost) == 1
    assert connection.factory.negotiation.live == 0


# -- Upgrade: h2c ---------------------------------------------------------------


def test_upgrade() -> None:
    """
    A first request without a body asking for h2c is answered C{101
    Switching Protocols} (and nothing else in HTTP/1.1); the HTTP/2
    connection is told of the request before it is connected, then given
    the client's preface and frames that follow.
    """
    connection = connect(h2cUpgrade=True)
    connection.feed(UPGRADE + PREFACE[:5])
    connection.feed(PREFACE[5:] + b"frames")
    h2 = switched(connection)
    assert h2 is not None and h2.upgraded is not None
    assert h2.upgradedBeforeMade
    settings, method, target, headers = h2.upgraded
    assert (settings, method, target) == (SETTINGS, b"GET", b"/up?x=1")
    assert headers.getRawHeaders(b"host") == [b"example.com"]
    assert headers.getRawHeaders(b"http2-settings") == [SETTINGS]
    assert b"".join(h2.received) == PREFACE + b"frames"
    assert connection.value() == (
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
        b"Upgrade: h2c\r\n\r\n" + SERVER_PREFACE
    )
    assert connection.requests == []


def test_upgradeHeadSplit() -> None:
    """An Upgrade request arriving one byte at a time is upgraded too."""
    connection = connect(h2cUpgrade=True)
    connection.feed(UPGRADE, bytewise=True)
    h2 = switched(connection)
    assert h2 is not None and h2.upgraded is not None


@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(UPGRADE, id="upgrade-off"),
    ],
)
def test_upgradeOffByDefault(request_: bytes) -> None:
    """
    By default (C{h2cUpgrade} off) the Upgrade is ignored: the request is
    answered in HTTP/1.1, and the connection stays HTTP/1.1.
    """
    connection = connect()
    connection.feed(request_)
    assert switched(connection) is None
    [response] = connection.responses()
    assert response.status == 200
    assert len(connection.processed) == 1


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(
            UPGRADE.replace(b"\r\n\r\n", b"\r\nContent-Length: 3\r\n\r\nabc"),
            id="with-body",
        ),
        pytest.param(UPGRADE.replace(b"Upgrade: h2c", b"Upgrade: h2"), id="h2-token"),
        pytest.param(
            UPGRADE.replace(
                b"Connection: Upgrade, HTTP2-Settings", b"Connection: Upgrade"
            ),
            id="settings-not-in-connection",
        ),
        pytest.param(
            UPGRADE.replace(b"HTTP2-Settings: " + SETTINGS + b"\r\n", b""),
            id="no-settings",
        ),
        pytest.param(
            UPGRADE.replace(
                b"\r\n\r\n", b"\r\nHTTP2-Settings: " + SETTINGS + b"\r\n\r\n"
            ),
            id="two-settings",
        ),
        pytest.param(UPGRADE.replace(SETTINGS, b"AA+/AAAA"), id="not-base64url"),
        pytest.param(UPGRADE.replace(SETTINGS, b"AAIA"), id="not-whole-settings"),
        pytest.param(
            UPGRADE.replace(b"HTTP/1.1\r\n", b"HTTP/1.0\r\n", 1), id="http/1.0"
        ),
    ],
)
def test_upgradeIgnored(head: bytes) -> None:
    """
    An Upgrade that cannot be honoured (the request has a body, which would
    have to be read in HTTP/1.1; it names C{h2}, which is for TLS; the
    C{HTTP2-Settings} field is missing, repeated, invalid, or not named in
    C{Connection}; the request is HTTP/1.0) is ignored: the request is
    answered in HTTP/1.1.
    """
    connection = connect(h2cUpgrade=True)
    connection.feed(head)
    assert switched(connection) is None
    [response] = connection.responses()
    assert response.status == 200
    assert connection.factory.negotiation.live == 0


def test_upgradeOnLaterRequestIgnored() -> None:
    """
    Only the first request of a connection may switch it: an Upgrade on a
    later one is answered in HTTP/1.1.
    """
    connection = connect(h2cUpgrade=True)
    connection.feed(GET + UPGRADE)
    assert switched(connection) is None
    assert [r.status for r in connection.responses()] == [200, 200]


def test_upgradeWithPriorKnowledgeOff() -> None:
    """The two cleartext ways are independent: Upgrade works without the other."""
    connection = connect(h2cUpgrade=True, h2cPriorKnowledge=False)
    connection.feed(UPGRADE)
    assert switched(connection) is not None


def test_upgradeToAbsoluteTargetOfOtherScheme() -> None:
    """
    An Upgrade whose target names C{https} over cleartext is refused as any
    such request is (421), not upgraded.
    """
    connection = connect(h2cUpgrade=True)
    connection.feed(UPGRADE.replace(b"/up?x=1", b"https://example.com/"))
    assert switched(connection) is None
    [response] = connection.responses()
    assert response.status == 421


def test_h2cSettings() -> None:
    """The Upgrade's settings are accepted with or without base64 padding."""
    headers = {
        b"upgrade": [b"websocket, H2C"],
        b"connection": [b"keep-alive, upgrade", b"HTTP2-Settings"],
        b"http2-settings": [b"AAMAAABkAAQAoAAAAAIAAAAA"],
    }
    assert h2cSettings(headers) == b"AAMAAABkAAQAoAAAAAIAAAAA"
    headers[b"http2-settings"] = [b""]
    assert h2cSettings(headers) == b""


# -- ALPN -------------------------------------------------------------------------


def fakeSite(clock: MemoryReactorClock, **settings: Any) -> server.Site:
    """A site saying hello whose connections become L{FakeHTTP2}s."""
    return FakeSite(Hello(), reactor=clock, **settings)


@pytest.mark.parametrize("ownSelection", [True, False])
def test_alpnH2(tmp_path: Path, ownSelection: bool) -> None:
    """
    A TLS client offering C{h2} and C{http/1.1} by ALPN is given C{h2}, and
    the connection is HTTP/2 as soon as the handshake ends (the server's
    preface goes out before the client sends anything); the HTTP/2
    connection has the site as its C{site}.
    """
    clock = MemoryReactorClock()
    site = fakeSite(clock)
    connection = TLSConnection(
        tmp_path, [b"h2", b"http/1.1"], site, clock, ownSelection=ownSelection
    )
    assert connection.negotiated == b"h2"
    assert connection.received == SERVER_PREFACE
    connection.send(PREFACE + b"frames")
    h2 = connection.protocol.wrappedProtocol._switched  # type: ignore[attr-defined]
    assert isinstance(h2, FakeHTTP2)
    assert b"".join(h2.received) == PREFACE + b"frames"
    assert h2.site is site
    assert h2.requestFactory is site.requestFactory


def test_alpnH2Off(tmp_path: Path) -> None:
    """With C{h2=False}, a browser's offer is given HTTP/1.1, served as before."""
    clock = MemoryReactorClock()
    connection = TLSConnection(
        tmp_path, [b"h2", b"http/1.1"], fakeSite(clock, h2=False), clock
    )
    assert connection.negotiated == b"http/1.1"
    connection.send(GET)
    [response] = connection.responses()
    assert response.body == b"hello"


def test_noPriorKnowledgeOverTLS(tmp_path: Path) -> None:
    """
    Over TLS, HTTP/2 is chosen by ALPN only: a client that offered no ALPN
    and sends the preface is answered in HTTP/1.1.
    """
    clock = MemoryReactorClock()
    connection = TLSConnection(tmp_path, None, fakeSite(clock), clock)
    connection.send(PREFACE)
    [response] = connection.responses()
    assert response.status == 505


def test_acceptableProtocols() -> None:
    """
    C{h2} is named first to ALPN only while HTTP/2 over TLS is on.
    """
    assert FakeFactory().acceptableProtocols() == [b"h2", b"http/1.1", b"http/1.0"]
    assert FakeFactory(h2=False).acceptableProtocols() == [b"http/1.1", b"http/1.0"]
    assert http.HTTPFactory().acceptableProtocols() == [b"h2", b"http/1.1", b"http/1.0"]


# -- graceful shutdown ----------------------------------------------------------


def test_shutDownHTTP2() -> None:
    """
    The factory shuts down every live HTTP/2 connection with the deadline
    given, and its Deferred fires only once all of them have closed; one
    already closed is not asked.
    """
    factory = FakeFactory(reactor=MemoryReactorClock())
    connections = []
    for _ in range(3):
        channel = factory.buildProtocol(PEER)
        channel.makeConnection(StringTransport())
        channel.dataReceived(PREFACE)
        connections.append(channel._switched)
    first, second, third = connections
    assert isinstance(first, FakeHTTP2) and isinstance(second, FakeHTTP2)
    assert isinstance(third, FakeHTTP2)
    third.connectionLost(Failure(ConnectionDone()))
    assert factory.negotiation.live == 2
    done = factory.shutDownHTTP2(3.5)
    fired: list[object] = []
    done.addCallback(fired.append)
    assert first.shutDowns == [3.5] and second.shutDowns == [3.5]
    assert third.shutDowns == []
    first.connectionLost(Failure(ConnectionDone()))
    assert fired == []
    second.connectionLost(Failure(ConnectionDone()))
    assert fired == [None]
    assert factory.negotiation.live == 0


def test_switchedDuringShutDownIsShutDown() -> None:
    """
    A connection that becomes HTTP/2 after the factory's HTTP/2 shutdown
    started (its preface, or its ALPN choice, arriving during the stop) is
    shut down too, with the same deadline, and the shutdown waits for it.
    """
    factory = FakeFactory(reactor=MemoryReactorClock())
    early = factory.buildProtocol(PEER)
    early.makeConnection(StringTransport())
    early.dataReceived(PREFACE)
    done = factory.shutDownHTTP2(2.5)
    fired: list[object] = []
    done.addCallback(fired.append)
    late = factory.buildProtocol(PEER)
    late.makeConnection(StringTransport())
    late.dataReceived(PREFACE)
    first, second = early._switched, late._switched
    assert isinstance(first, FakeHTTP2) and isinstance(second, FakeHTTP2)
    assert first.shutDowns == [2.5] and second.shutDowns == [2.5]
    first.connectionLost(Failure(ConnectionDone()))
    assert fired == []
    second.connectionLost(Failure(ConnectionDone()))
    assert fired == [None]


def test_shutDownWithNone() -> None:
    """With no HTTP/2 connection live, the shutdown is done at once."""
    fired: list[object] = []
    FakeFactory().shutDownHTTP2(1).addCallback(fired.append)
    assert fired == [None]


class _Negotiated:
    """A TLS connection as OpenSSL has negotiated it when ALPN is chosen."""

    def __init__(self, version: str, cipher: str, factory: object = None) -> None:
        self.version, self.cipher = version, cipher
        self.factory = factory

    def get_protocol_version_name(self) -> str:
        return self.version

    def get_cipher_name(self) -> str:
        return self.cipher

    def get_app_data(self) -> object:
        tls = Protocol()
        tls.factory = type("TLSFactory", (), {"wrappedFactory": self.factory})()
        return tls


@pytest.mark.parametrize(
    "version, cipher, fit",
    [
        ("TLSv1.3", "TLS_AES_128_GCM_SHA256", True),
        ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", True),
        ("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305", True),
        ("TLSv1.2", "DHE-RSA-AES256-GCM-SHA384", True),
        ("TLSv1.2", "ECDHE-RSA-AES128-SHA256", False),
        ("TLSv1.2", "AES128-GCM-SHA256", False),
        ("TLSv1.1", "ECDHE-RSA-AES128-SHA", False),
    ],
)
def test_h2OnlyOnFitConnections(version: str, cipher: str, fit: bool) -> None:
    """
    C{h2} is chosen only on TLS 1.3, or TLS 1.2 with an ephemeral key
    exchange and AEAD cipher (RFC 9113 section 9.2); otherwise a browser's
    offer is given HTTP/1.1.
    """
    connection = _Negotiated(version, cipher, FakeFactory())
    assert fitForHTTP2(connection) is fit  # type: ignore[arg-type]
    chosen = selectProtocol(connection, [b"h2", b"http/1.1"])  # type: ignore[arg-type]
    assert chosen == (b"h2" if fit else b"http/1.1")


# -- with the real HTTP/2 connection ----------------------------------------------


def _h2Answer(client: H2Connection, data: bytes) -> tuple[int | None, bytes, bool]:
    """
    Feed the server's HTTP/2 bytes to C{client}.

    @return: the status, body and whether stream 1 ended.
    """
    status, body, ended = None, b"", False
    for event in client.receive_data(data):
        if isinstance(event, ResponseReceived) and event.stream_id == 1:
            status = int(dict(event.headers)[b":status"])
        elif isinstance(event, DataReceived) and event.stream_id == 1:
            body += event.data
        elif isinstance(event, StreamEnded) and event.stream_id == 1:
            ended = True
    return status, body, ended


def _h2Client() -> H2Connection:
    return H2Connection(H2Configuration(client_side=True, header_encoding=None))


REQUEST_FIELDS = [
    (b":method", b"GET"),
    (b":scheme", b"http"),
    (b":authority", b"example.com"),
    (b":path", b"/real?x=1"),
]


def test_priorKnowledgeServed() -> None:
    """
    A client with prior knowledge is served by the package's HTTP/2
    connection: the request reaches the application as C{HTTP/2}.
    """
    connection = Server()
    client = _h2Client()
    client.initiate_connection()
    client.send_headers(1, REQUEST_FIELDS, end_stream=True)
    connection.feed(client.data_to_send())
    assert _h2Answer(client, connection.value()) == (200, b"GET /real?x=1\n", True)
    [request] = connection.processed
    assert request.clientproto == b"HTTP/2"


def test_upgradeServed() -> None:
    """
    An h2c Upgrade is answered C{101}, then by the package's HTTP/2
    connection, the upgrading request as stream 1.
    """
    connection = Server(h2cUpgrade=True)
    client = _h2Client()
    settings = client.initiate_upgrade_connection()
    connection.feed(
        b"GET /real?x=1 HTTP/1.1\r\nHost: example.com\r\n"
        b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
        b"HTTP2-Settings: " + settings + b"\r\n\r\n" + client.data_to_send()
    )
    head, _, frames = connection.value().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert _h2Answer(client, frames) == (200, b"GET /real?x=1\n", True)
    [request] = connection.processed
    assert request.clientproto == b"HTTP/2"


def test_alpnServed(tmp_path: Path) -> None:
    """A TLS client choosing C{h2} is served by the package's HTTP/2 connection."""
    clock = MemoryReactorClock()
    site = server.Site(Hello(), reactor=clock)
    connection = TLSConnection(tmp_path, [b"h2", b"http/1.1"], site, clock)
    assert connection.negotiated == b"h2"
    client = _h2Client()
    client.initiate_connection()
    client.send_headers(
        1, [(n, b"https" if n == b":scheme" else v) for n, v in REQUEST_FIELDS], True
    )
    connection.send(client.data_to_send())
    assert _h2Answer(client, connection.received) == (200, b"hello", True)
