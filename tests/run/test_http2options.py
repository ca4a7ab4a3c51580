"""
The HTTP/2 and HTTPS options of C{twistd web-re}: turning HTTP/2 and h2c off
or on, the TLS settings of every C{ssl:} port it listens on, C{--hsts}, and
the graceful shutdown of HTTP/2 connections when it stops.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from OpenSSL import SSL
from test_negotiation import FakeHTTP2
from test_tap import listeners, parse, site, splitResponse, usageError
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure
from zope.interface import directlyProvides

from twisted_web_re import http, tap
from twisted_web_re._protocols.negotiation import PREFACE

pytestmark = pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


@pytest.fixture
def fakeHTTP2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sites made from now on switch to L{FakeHTTP2} for HTTP/2."""
    monkeypatch.setattr(http.HTTPFactory, "http2Protocol", FakeHTTP2)


@pytest.mark.usefixtures("fakeHTTP2")
@pytest.mark.parametrize(
    "args, h2, priorKnowledge, upgrade",
    [
        pytest.param([], True, True, False, id="defaults"),
        pytest.param(["--no-http2"], False, False, False, id="no-http2"),
        pytest.param(["--no-h2c"], True, False, False, id="no-h2c"),
        pytest.param(["--h2c-upgrade"], True, True, True, id="h2c-upgrade"),
    ],
)
def test_http2Switches(
    args: list[str], h2: bool, priorKnowledge: bool, upgrade: bool
) -> None:
    """
    By default HTTP/2 is offered over TLS and served to cleartext clients
    with prior knowledge, not by Upgrade; C{--no-http2} turns all of it off,
    C{--no-h2c} the cleartext ways, C{--h2c-upgrade} turns the Upgrade on.
    """
    negotiation = site(parse(*args)).negotiation
    assert (negotiation.h2, negotiation.h2cPriorKnowledge, negotiation.h2cUpgrade) == (
        h2,
        priorKnowledge,
        upgrade,
    )
    assert (b"h2" in site(parse(*args)).acceptableProtocols()) is h2


@pytest.mark.parametrize(
    "args, message",
    [
        (["--h2c-upgrade", "--no-h2c"], "--h2c-upgrade and --no-h2c contradict"),
        (["--h2c-upgrade", "--no-http2"], "--h2c-upgrade and --no-http2 contradict"),
        (["--hsts-include-subdomains"], "only applies to --hsts"),
        (["--hsts", "a year"], "want whole seconds"),
        (["--hsts", "-1"], "want whole seconds"),
        (["--hsts", "1e6"], "want whole seconds"),
        (["--shutdown-deadline", "-1"], "want seconds"),
        (["--shutdown-deadline", "nan"], "want seconds"),
        (["--shutdown-deadline", "inf"], "want seconds"),
        (["--shutdown-deadline", "soon"], "want seconds"),
    ],
)
def test_badOptions(args: list[str], message: str) -> None:
    """Contradictory or invalid HTTP/2 and HSTS options are one-line usage errors."""
    error = usageError(*args)
    assert message in error
    assert "\n" not in error


def _answer(factory: Any, secure: bool) -> dict[bytes, list[bytes]]:
    """The response headers to a GET over a connection, TLS or not."""
    channel = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 12345))
    transport = StringTransport()
    if secure:
        directlyProvides(transport, ISSLTransport)
    channel.makeConnection(transport)
    channel.dataReceived(GET)
    channel.connectionLost(Failure(ConnectionDone()))
    return splitResponse(transport.value())[1]


def test_hsts() -> None:
    """
    C{--hsts SECONDS} adds C{Strict-Transport-Security: max-age=SECONDS} to
    the responses over TLS only (RFC 6797 section 7.2), with
    C{includeSubDomains} when asked, alongside any C{--add-header}.
    """
    made = site(parse("--hsts", "31536000", "--add-header", "X-One: 1"))
    secure = _answer(made, True)
    assert secure[b"strict-transport-security"] == [b"max-age=31536000"]
    assert secure[b"x-one"] == [b"1"]
    cleartext = _answer(made, False)
    assert b"strict-transport-security" not in cleartext
    assert cleartext[b"x-one"] == [b"1"]
    made = site(parse("--hsts", "0", "--hsts-include-subdomains"))
    assert _answer(made, True)[b"strict-transport-security"] == [
        b"max-age=0; includeSubDomains"
    ]


def test_noHstsByDefault() -> None:
    """Without C{--hsts}, no response carries the header, over TLS or not."""
    assert b"strict-transport-security" not in _answer(site(parse()), True)


# -- TLS settings of ssl: ports ---------------------------------------------------


def _handshake(
    serverContext: SSL.Context, ciphers: bytes, maxVersion: int = SSL.TLS1_2_VERSION
) -> bool:
    """
    Handshake in memory between C{serverContext} and a client offering only
    C{ciphers} (TLS 1.2 suites), at most C{maxVersion}.

    @return: whether the handshake succeeded.
    """
    client = SSL.Context(SSL.TLS_CLIENT_METHOD)
    client.set_max_proto_version(maxVersion)
    client.set_cipher_list(ciphers)
    clientSide = SSL.Connection(client, None)
    clientSide.set_connect_state()
    serverSide = SSL.Connection(serverContext, None)
    serverSide.set_accept_state()
    for _ in range(20):
        done = 0
        for side in (clientSide, serverSide):
            try:
                side.do_handshake()
                done += 1
            except SSL.WantReadError:
                pass
            except SSL.Error:
                return False
        for source, target in ((clientSide, serverSide), (serverSide, clientSide)):
            try:
                target.bio_write(source.bio_read(1 << 16))
            except SSL.WantReadError:
                pass
        if done == 2:
            return True
    raise AssertionError("handshake did not end")


def _context(description: str) -> SSL.Context:
    """The TLS context of the one port C{twistd web-re --listen DESCRIPTION} makes."""
    [listener] = listeners(tap.makeService(parse("--listen", description)))
    context: SSL.Context = listener.endpoint._sslContextFactory.getContext()  # type: ignore[attr-defined]
    return context


def test_tlsDefaults(selfSignedCertificate: tuple[Path, Path]) -> None:
    """
    An C{ssl:} port of C{twistd web-re} offers only cipher suites fit for
    HTTP/2 (RFC 9113 section 9.2: forward secret, AEAD), refusing a client
    that has only CBC suites, and accepting a modern one.
    """
    cert, key = selfSignedCertificate
    context = _context(f"ssl:0:privateKey={key}:certKey={cert}")
    assert _handshake(context, b"ECDHE-ECDSA-AES128-GCM-SHA256")
    assert _handshake(context, b"ECDHE-ECDSA-CHACHA20-POLY1305")
    assert not _handshake(context, b"ECDHE-ECDSA-AES128-SHA256")
    assert not _handshake(context, b"ECDHE-ECDSA-AES256-SHA")
    names = SSL.Connection(context, None).get_cipher_list()
    assert all(
        name.startswith("TLS_") or "GCM" in name or "CHACHA20" in name for name in names
    ), names


@pytest.mark.filterwarnings("ignore:Passing method:DeprecationWarning")
def test_tlsMethodOfTheUser(selfSignedCertificate: tuple[Path, Path]) -> None:
    """
    An C{ssl:} port whose description chooses the TLS method
    (C{sslmethod=}) keeps Twisted's settings for it: the user said
    otherwise.
    """
    cert, key = selfSignedCertificate
    context = _context(f"ssl:0:privateKey={key}:certKey={cert}:sslmethod=TLS_METHOD")
    assert _handshake(context, b"ECDHE-ECDSA-AES128-SHA256")


# -- graceful shutdown ------------------------------------------------------------


@pytest.mark.usefixtures("fakeHTTP2")
@pytest.mark.parametrize(
    "args, deadline", [([], 5.0), (["--shutdown-deadline", "0.5"], 0.5)]
)
def test_shutdownOnStop(args: list[str], deadline: float) -> None:
    """
    Stopping the service shuts every live HTTP/2 connection down with the
    deadline of C{--shutdown-deadline} (5 seconds by default), and the stop
    completes only once all of them have closed.
    """
    service = tap.makeService(parse(*args))
    made = listeners(service)[0].factory
    connections = []
    for _ in range(2):
        channel = made.buildProtocol(IPv4Address("TCP", "127.0.0.1", 12345))
        channel.makeConnection(StringTransport())
        channel.dataReceived(PREFACE)
        connections.append(channel._switched)
    service.startService()
    stopped: list[object] = []
    service.stopService().addCallback(stopped.append)
    assert [c.shutDowns for c in connections] == [[deadline], [deadline]]
    connections[0].connectionLost(Failure(ConnectionDone()))
    assert stopped == []
    connections[1].connectionLost(Failure(ConnectionDone()))
    assert len(stopped) == 1
