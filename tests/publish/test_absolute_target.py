"""
Tests for a request-target in absolute form (C{GET http://a.example/x}):
RFC 9112 section 3.2.2 has the server ignore the C{Host} field and use the
target's authority, so the host name, the port and the URLs a request gives
are the target's, while C{uri}, the C{Host} field and the local address stay
what they are.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from _httpparse import PEER, parseResponses
from twisted.internet.address import IPv4Address
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.testing import MemoryReactorClock, StringTransport
from zope.interface import directlyProvides

from twisted_web_re import server, twcgi
from twisted_web_re._gateways.wsgiinput import makeEnviron
from twisted_web_re._protocols import accesslog as _accesslog
from twisted_web_re._wire.errors import BadRequest
from twisted_web_re._wire.limits import DEFAULT_LIMITS
from twisted_web_re._wire.parser import findHeadEnd, parseHead
from twisted_web_re.resource import Resource


def serve(
    target: bytes,
    *,
    host: bytes | None = b"b.example",
    port: int = 80,
    secure: bool = False,
    version: bytes = b"HTTP/1.1",
    trustedProxies: Any = None,
) -> tuple[Any, bytes]:
    """
    Send C{GET target} to a site whose leaf C{/app/page} (under C{/app},
    which remembers its root URL) records the request, on a connection
    arriving at local port C{port}.

    @return: the request the leaf rendered (C{None} if none was), and what
        the server wrote.
    """
    seen: list[Any] = []

    class Page(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            seen.append(request)
            return b"page"

    class App(Resource):
        def getChild(self, name: bytes, request: Any) -> Any:
            request.rememberRootURL()
            return Page()

    root = Resource()
    root.putChild(b"app", App())
    kwargs: dict[str, Any] = {}
    if trustedProxies is not None:
        kwargs["trustedProxies"] = trustedProxies
    site = server.Site(root, reactor=MemoryReactorClock(), **kwargs)
    transport = StringTransport(
        hostAddress=IPv4Address("TCP", "127.0.0.2", port), peerAddress=PEER
    )
    if secure:
        directlyProvides(transport, ISSLTransport)
    channel = site.buildProtocol(PEER)
    channel.makeConnection(transport)
    head = b"GET " + target + b" " + version + b"\r\n"
    if host is not None:
        head += b"Host: " + host + b"\r\n"
    channel.dataReceived(head + b"\r\n")
    return (seen[0] if seen else None), transport.value()


def test_hostnameIsTheTargets() -> None:
    """
    C{getRequestHostname()} is the target's host, not the C{Host} field's.
    """
    request, _ = serve(b"http://a.example/app/page")
    assert request.getRequestHostname() == b"a.example"


def test_prePathURLFromTarget() -> None:
    """
    C{prePathURL()}, C{URLPath()} and C{getRootURL()} are built from the
    target's host and port: the port given in the target, else the scheme's
    default, whatever local port the connection arrived on.
    """
    request, _ = serve(b"http://a.example:8080/app/page", port=80)
    assert request.prePathURL() == b"http://a.example:8080/app/page"
    assert str(request.URLPath()) == "http://a.example:8080/app/page"
    assert request.getRootURL() == b"http://a.example:8080/app"
    request, _ = serve(b"http://a.example/app/page", port=8080)
    assert request.prePathURL() == b"http://a.example/app/page"
    request, _ = serve(b"HTTP://a.example:80/app/page?x=1", port=8080)
    assert request.prePathURL() == b"http://a.example/app/page"


def test_httpsTargetOverTLS() -> None:
    """
    An C{https} target on a TLS connection has 443 for its default port.
    """
    request, _ = serve(b"https://a.example/app/page", port=8443, secure=True)
    assert request.prePathURL() == b"https://a.example/app/page"
    request, _ = serve(b"https://a.example:9443/app/page", port=443, secure=True)
    assert request.prePathURL() == b"https://a.example:9443/app/page"


def test_ipv6Target() -> None:
    """
    An IPv6 literal in the target keeps its brackets, as in C{Host}.
    """
    request, _ = serve(b"http://[::1]:8080/app/page")
    assert request.getRequestHostname() == b"[::1]"
    assert request.prePathURL() == b"http://[::1]:8080/app/page"


def test_localAddressAndFieldsKept() -> None:
    """
    C{getHost()} stays the local address the connection arrived on; C{uri}
    and the C{Host} field stay as the client sent them.
    """
    request, _ = serve(b"http://a.example:8080/app/page?x=1", port=8000)
    assert request.getHost() == IPv4Address("TCP", "127.0.0.2", 8000)
    assert request.uri == b"http://a.example:8080/app/page?x=1"
    assert request.path == b"/app/page"
    assert request.requestHeaders.getRawHeaders(b"host") == [b"b.example"]
    assert request.getHeader(b"host") == b"b.example"


def test_accessLogKeepsTarget() -> None:
    """
    The access log line shows the request-target as it was sent.
    """
    request, _ = serve(b"http://a.example:8080/app/page?x=1")
    line = _accesslog.combinedLogFormatter("-", request)
    assert '"GET http://a.example:8080/app/page?x=1 HTTP/1.1"' in line


def test_http10WithoutHost() -> None:
    """
    An HTTP/1.0 request, which may leave out C{Host}, takes its host from
    an absolute-form target.
    """
    request, _ = serve(b"http://a.example/app/page", host=None, version=b"HTTP/1.0")
    assert request.getRequestHostname() == b"a.example"
    assert request.prePathURL() == b"http://a.example/app/page"


def test_originFormUnchanged() -> None:
    """
    An origin-form target still gets its host from C{Host} and its port
    from the local address.
    """
    request, _ = serve(b"/app/page", host=b"b.example:9999", port=8080)
    assert request.getRequestHostname() == b"b.example"
    assert request.prePathURL() == b"http://b.example:8080/app/page"


def test_setHostWins() -> None:
    """
    C{setHost()} (for a server behind a proxy) overrides the target's
    authority too.
    """
    request, _ = serve(b"http://a.example:8080/app/page")
    request.setHost(b"c.example", 443, ssl=True)
    assert request.getRequestHostname() == b"c.example"
    assert request.prePathURL() == b"https://c.example/app/page"


@pytest.mark.parametrize(
    ("target", "secure"),
    [(b"https://a.example/app/page", False), (b"http://a.example/app/page", True)],
)
def test_schemeOfOtherConnectionMisdirected(target: bytes, secure: bool) -> None:
    """
    A target whose scheme is not the connection's (C{https} over cleartext,
    C{http} over TLS) is answered 421 Misdirected Request (RFC 9110 section
    7.4): the server is not the authority for it on this connection.
    """
    request, written = serve(target, secure=secure)
    assert request is None
    [response] = parseResponses(written, [b"GET"])
    assert response.status == 421


def test_trustedProxyMayForwardOtherScheme() -> None:
    """
    A trusted proxy (one in C{trustedProxies}) terminating TLS may forward an
    C{https} target over cleartext.
    """
    request, _ = serve(
        b"https://a.example/app/page", trustedProxies=[PEER.host], port=8080
    )
    assert request is not None
    assert request.getRequestHostname() == b"a.example"


def parse(head: bytes) -> Any:
    fieldsEnd, headEnd = findHeadEnd(head, 0)
    return parseHead(head, 0, fieldsEnd, headEnd, DEFAULT_LIMITS)


@pytest.mark.parametrize(
    "target",
    [
        b"http:///x",
        b"http://:80/x",
        b"http://user@a.example/x",
        b"http://a.example:99999/x",
        b"http://a.example:8x/x",
        b"http://a\\b/x",
        b"ftp://a.example/x",
        b"urn:x://a",
    ],
)
def test_invalidAuthorityRefused(target: bytes) -> None:
    """
    An absolute-form target must be C{http} or C{https} with a valid host
    (RFC 9110 section 4.2: no empty host, no userinfo), and a port that
    is a port; anything else is 400.
    """
    with pytest.raises(BadRequest):
        parse(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")


def test_validAuthorityAccepted() -> None:
    """
    Absolute-form targets with names, addresses, ports (empty too) and no
    path are accepted.
    """
    for target in [
        b"http://a.example",
        b"http://a.example?x",
        b"HTTPS://A.example:443/x",
        b"http://127.0.0.1:8080/",
        b"http://[::1]/",
        b"http://a.example:/x",
    ]:
        head = parse(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n\r\n")
        assert head.target == target


def test_cgiEnvironment() -> None:
    """
    A CGI program is told the target's host (C{SERVER_NAME}, C{HTTP_HOST})
    and port (C{SERVER_PORT}).
    """
    request, _ = serve(b"http://a.example:8080/app/page", port=8000)
    env = twcgi._cgiEnvironment(request, "/bin/true", None, (), False)
    assert env["SERVER_NAME"] == "a.example"
    assert env["SERVER_PORT"] == "8080"
    assert env["HTTP_HOST"] == "a.example:8080"
    assert env["REQUEST_URI"] == "http://a.example:8080/app/page"


def test_wsgiEnviron() -> None:
    """
    A WSGI application is told the target's host and port, so that the URL
    it rebuilds (PEP 3333) is the target's.
    """
    request, _ = serve(b"http://a.example/app/page", port=8000)
    environ = makeEnviron(request, io.BytesIO(), False, {})
    assert environ["SERVER_NAME"] == "a.example"
    assert environ["SERVER_PORT"] == "80"
    assert environ["HTTP_HOST"] == "a.example"


def test_wsgiEnvironOriginForm() -> None:
    """
    For an origin-form target the WSGI environ is as before: the C{Host}
    field as sent and the local port.
    """
    request, _ = serve(b"/app/page", host=b"b.example:9", port=8000)
    environ = makeEnviron(request, io.BytesIO(), False, {})
    assert environ["SERVER_NAME"] == "b.example"
    assert environ["SERVER_PORT"] == "8000"
    assert environ["HTTP_HOST"] == "b.example:9"
