"""
Virtual hosting (L{twisted_web_re.vhost}): routing by host name, and the
VHostMonster that lets a reverse proxy name the scheme, host and port the
site is seen at.  Requests are carried by the L{FakeStream} test double.
"""

from __future__ import annotations

from typing import Any

import pytest
from _stream import FakeStream
from twisted.internet.task import Clock
from twisted.python.urlpath import URLPath

from twisted_web_re import server, util, vhost
from twisted_web_re._protocols.forwarded import parseTrustedProxies
from twisted_web_re._publish.hostnames import canonicalHost, hostAndPort
from twisted_web_re.http_headers import Headers
from twisted_web_re.resource import Resource


class Named(Resource):
    """A leaf saying its name and where the request stands."""

    isLeaf = True

    def __init__(self, name: bytes) -> None:
        super().__init__()
        self.name = name

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"content-type", b"text/plain")
        return b"%s prepath=%r postpath=%r" % (
            self.name,
            request.prepath,
            request.postpath,
        )


class Tree(Resource):
    """A non-leaf with one child, C{b"page"}."""

    def __init__(self, name: bytes) -> None:
        super().__init__()
        self.putChild(b"page", Named(name + b"/page"))


class Seen(Resource):
    """A leaf recording what the request says of its URL, scheme and host."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, Any] = {}

    def render_GET(self, request: Any) -> bytes:
        self.seen = {
            "secure": request.isSecure(),
            "host": request.getHost(),
            "hostname": request.getRequestHostname(),
            "prePathURL": request.prePathURL(),
            "URLPath": str(request.URLPath()),
            "path": request.path,
            "uri": request.uri,
            "prepath": list(request.prepath),
            "postpath": list(request.postpath),
            "args": request.args,
        }
        return b"seen"


def serveHost(root: Any, target: bytes, host: bytes | None, **kw: Any) -> FakeStream:
    """Answer one GET for C{target} sent to C{host} (C{None}: no Host field)."""
    site = server.Site(root, reactor=Clock())
    stream = FakeStream(site, secure=kw.pop("secure", False))
    stream.trustedProxies = kw.pop("trusted", ())
    fields = {} if host is None else {b"host": [host]}
    request = site.requestFactory(stream)
    stream.request = request
    version = kw.pop("version", b"HTTP/1.1")
    request.headReceived(b"GET", target, version, Headers.fromLowered(fields))
    request.gotLength(0)
    request.requestReceived(b"GET", target, version)
    return stream


# -- canonical host names -------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        (b"example.com", b"example.com"),
        ("example.com", b"example.com"),
        (b"Example.COM", b"example.com"),
        (b"example.com.", b"example.com"),
        ("bücher.de", b"xn--bcher-kva.de"),
        ("Bücher.DE.", b"xn--bcher-kva.de"),
        (b"XN--BCHER-KVA.de", b"xn--bcher-kva.de"),
        ("bücher.de".encode(), b"xn--bcher-kva.de"),
        (b"b%C3%BCcher.de", b"xn--bcher-kva.de"),
        (b"127.0.0.1", b"127.0.0.1"),
        ("::1", b"[::1]"),
        (b"[0:0::1]", b"[::1]"),
        (b"[2001:DB8::1]", b"[2001:db8::1]"),
    ],
)
def test_canonicalHost(name: bytes | str, canonical: bytes) -> None:
    """
    Every spelling of a host name (case, trailing dot, Unicode or C{xn--}
    form, C{str} or C{bytes}, IPv6 with or without brackets) has one
    canonical form.
    """
    assert canonicalHost(name) == canonical


@pytest.mark.parametrize(
    "name",
    [b"example.com:8080", "example.com:80", b"\xff.com", b"a b.com", b"[::1", b"a/b"],
)
def test_canonicalHostRefusesNonHosts(name: bytes | str) -> None:
    """A name with a port, bytes that are not UTF-8 or a space is refused."""
    with pytest.raises(ValueError, match="not a valid host name"):
        canonicalHost(name)


@pytest.mark.parametrize(
    ("segment", "secure", "expected"),
    [
        (b"example.com", False, (b"example.com", 80)),
        (b"example.com", True, (b"example.com", 443)),
        (b"Example.com:8080", False, (b"example.com", 8080)),
        (b"[::1]:8443", True, (b"[::1]", 8443)),
        (b"[::1]", False, (b"[::1]", 80)),
        # RFC 3986 section 3.2.3: an empty port is the scheme's default.
        (b"example.com:", True, (b"example.com", 443)),
    ],
)
def test_hostAndPort(segment: bytes, secure: bool, expected: tuple[bytes, int]) -> None:
    """A C{host[:port]} segment gives its host and port, or the default port."""
    assert hostAndPort(segment, secure) == expected


@pytest.mark.parametrize(
    "segment",
    [
        b"",
        b":80",
        b"example.com:http",
        b"example.com:70000",
        b"example.com:123456",
        b"::1:80",
        b"[::1]80",
        b"[::1",
        b"evil.com\r\nset-cookie: a=b",
        b"a b",
    ],
)
def test_hostAndPortRefusesOthers(segment: bytes) -> None:
    """Anything but a host and a port of at most 65535 is refused."""
    with pytest.raises(ValueError):
        hostAndPort(segment, False)


# -- NameVirtualHost --------------------------------------------------------


def hosting() -> vhost.NameVirtualHost:
    """Hosts foo.com (a leaf), bar.com (a tree) and bücher.de, no default."""
    root = vhost.NameVirtualHost()
    root.addHost("foo.com", Named(b"foo"))
    root.addHost(b"bar.com", Tree(b"bar"))
    root.addHost("bücher.de", Named(b"buecher"))
    return root


@pytest.mark.parametrize(
    "host",
    [b"foo.com", b"foo.com:8080", b"FOO.com", b"foo.com.", b"Foo.Com.:80"],
)
def test_routesByHost(host: bytes) -> None:
    """
    A host added as C{str} (as the howto writes it) serves requests to that
    host whatever their port, letter case or trailing dot.
    """
    stream = serveHost(hosting(), b"/a/b", host)
    assert stream.code == 200
    assert stream.body.startswith(b"foo ")


@pytest.mark.parametrize("host", [b"xn--bcher-kva.de", b"XN--BCHER-KVA.DE:443"])
def test_routesInternationalisedNames(host: bytes) -> None:
    """A host added by its Unicode name serves requests naming its C{xn--} form."""
    stream = serveHost(hosting(), b"/", host)
    assert stream.body.startswith(b"buecher ")


def test_addHostByAceForm() -> None:
    """A host added by its C{xn--} form matches, as does its Unicode name."""
    root = vhost.NameVirtualHost()
    root.addHost(b"xn--bcher-kva.de", Named(b"ace"))
    assert serveHost(root, b"/", b"xn--bcher-kva.de").body.startswith(b"ace ")
    assert b"xn--bcher-kva.de" in root.hosts
    root.removeHost("bücher.de")
    assert root.hosts == {}


def test_bytesAndStrNamesAreOneHost() -> None:
    """C{"foo.com"} and C{b"foo.com"} name the same host: the later one wins."""
    root = vhost.NameVirtualHost()
    root.addHost("foo.com", Named(b"first"))
    root.addHost(b"FOO.com", Named(b"second"))
    assert list(root.hosts) == [b"foo.com"]
    assert serveHost(root, b"/", b"foo.com").body.startswith(b"second ")


def test_addHostWithPortRefused() -> None:
    """A name with a port, which would never match, is refused when added."""
    root = vhost.NameVirtualHost()
    with pytest.raises(ValueError, match=r"example\.com:8080"):
        root.addHost("example.com:8080", Named(b"x"))


def test_removeHost() -> None:
    """A removed host falls back to the default; removing it again is a KeyError."""
    root = hosting()
    root.default = Named(b"default")
    root.removeHost(b"FOO.COM")
    assert serveHost(root, b"/", b"foo.com").body.startswith(b"default ")
    with pytest.raises(KeyError):
        root.removeHost("foo.com")


def test_unknownHostGoesToDefault() -> None:
    """A host that is not served is answered by the default resource."""
    root = hosting()
    root.default = Tree(b"default")
    stream = serveHost(root, b"/page", b"other.org")
    assert stream.code == 200
    assert stream.body.startswith(b"default/page ")


def test_unknownHostWithoutDefaultIs404NamingIt() -> None:
    """
    Without a default, an unknown host gets a 404 page naming the host, its
    text escaped.
    """
    stream = serveHost(hosting(), b"/", b"a&b.org:81")
    assert stream.code == 404
    assert b"a&amp;b.org" in stream.body
    assert b"a&b" not in stream.body


@pytest.mark.parametrize("default", [None, Named(b"default")])
def test_noHostField(default: Resource | None) -> None:
    """
    An HTTP/1.0 request without C{Host} goes to the default, or gets 404
    when there is none (not the host named by the server's own address).
    """
    root = hosting()
    root.addHost("10.0.0.1", Named(b"own address"))
    root.default = default
    stream = serveHost(root, b"/", None, version=b"HTTP/1.0")
    if default is None:
        assert stream.code == 404
    else:
        assert stream.body.startswith(b"default ")


def test_absoluteFormAuthorityWins() -> None:
    """
    A target in absolute form is routed by its authority, not by the C{Host}
    field (RFC 9112 section 3.2.2).
    """
    stream = serveHost(hosting(), b"http://FOO.com:8080/x", b"bar.com")
    assert stream.body.startswith(b"foo ")


def test_leafGetsConsumedSegmentBack() -> None:
    """
    A leaf host resource sees the whole path: the segment consumed to reach
    it is given back, as in twisted.web.
    """
    stream = serveHost(hosting(), b"/a/b", b"foo.com")
    assert stream.body == b"foo prepath=[] postpath=[b'a', b'b']"


def test_treeHostTraversed() -> None:
    """A non-leaf host resource's children are found as usual."""
    stream = serveHost(hosting(), b"/page", b"bar.com")
    assert stream.body == b"bar/page prepath=[b'page'] postpath=[]"
    assert serveHost(hosting(), b"/nothing", b"bar.com").code == 404


def test_renderedWhenNoSegmentLeft() -> None:
    """
    Published below another resource and requested without a trailing
    segment, the virtual host renders the host's resource.
    """
    parent = Resource()
    parent.putChild(b"v", hosting())
    stream = serveHost(parent, b"/v", b"foo.com")
    assert stream.body == b"foo prepath=[b'v'] postpath=[]"


def test_staticEntities() -> None:
    """
    The hosts are listed as a C{"Virtual Hosts"} collection, whose entities
    are found by any spelling of the host (twisted.web's looks the
    collection itself up, and finds nothing).
    """
    root = hosting()
    names = [name for name, _ in root.listStaticEntities()]
    assert names == ["Virtual Hosts"]
    collection = root.getStaticEntity("Virtual Hosts")
    assert isinstance(collection, vhost.VirtualHostCollection)
    assert collection.getStaticEntity("FOO.com") is root.hosts[b"foo.com"]
    assert collection.getStaticEntity("no such:host") is None
    assert dict(collection.listStaticEntities()) == root.hosts
    page = Named(b"put")
    collection.putEntity("new.org", page)
    assert root.hosts[b"new.org"] is page
    collection.delEntity("new.org")
    assert b"new.org" not in root.hosts


# -- VHostMonsterResource -----------------------------------------------------


def monstered(seen: Resource, **kw: Any) -> tuple[Resource, vhost.VHostMonsterResource]:
    """A site root with C{vhost.rpy} (a monster), C{seen} and a directory."""
    root = Resource()
    monster = vhost.VHostMonsterResource(**kw)
    root.putChild(b"vhost.rpy", monster)
    root.putChild(b"seen", seen)
    directory = Resource()
    directory.addSlash = True
    directory.putChild(b"", Named(b"index"))
    root.putChild(b"dir", directory)
    root.putChild(b"up", util.ParentRedirect())
    return root, monster


def test_monsterSetsSchemeHostAndPort() -> None:
    """
    C{/vhost.rpy/https/example.com:8443/seen/x?a=1} is served as
    C{/seen/x?a=1} sent to C{https://example.com:8443}: every way of asking
    the request its URL says so.
    """
    seen = Seen()
    root, _ = monstered(seen)
    stream = serveHost(root, b"/vhost.rpy/https/Example.com:8443/seen/x?a=1", b"int")
    assert stream.code == 200
    assert seen.seen["secure"] is True
    assert seen.seen["host"].host == "example.com"
    assert seen.seen["host"].port == 8443
    assert seen.seen["hostname"] == b"example.com"
    assert seen.seen["prePathURL"] == b"https://example.com:8443/seen"
    assert seen.seen["URLPath"] == "https://example.com:8443/seen"
    assert seen.seen["path"] == b"/seen/x"
    assert seen.seen["uri"] == b"/seen/x?a=1"
    assert seen.seen["prepath"] == [b"seen"]
    assert seen.seen["postpath"] == [b"x"]
    assert seen.seen["args"] == {b"a": [b"1"]}
    # The stream itself is no more secure than it was.
    assert stream.isSecure() is False


def test_monsterDefaultPorts() -> None:
    """Without a port, the scheme's default is used and left out of URLs."""
    for scheme, port in ((b"http", 80), (b"https", 443)):
        seen = Seen()
        root, _ = monstered(seen)
        serveHost(root, b"/vhost.rpy/%s/example.com/seen" % scheme, b"internal:8538")
        assert seen.seen["host"].port == port
        assert seen.seen["prePathURL"] == scheme + b"://example.com/seen"


def test_monsterHttpOverTLS() -> None:
    """
    C{/http/} says the client used http even when the proxy reached this
    server over TLS.
    """
    seen = Seen()
    root, _ = monstered(seen)
    serveHost(root, b"/vhost.rpy/http/example.com/seen", b"int", secure=True)
    assert seen.seen["secure"] is False
    assert seen.seen["prePathURL"] == b"http://example.com/seen"


def test_monsterSlashRedirect() -> None:
    """
    A directory's redirect to its slash form is to the path the client
    sees, not the path through C{vhost.rpy}.
    """
    root, _ = monstered(Seen())
    stream = serveHost(root, b"/vhost.rpy/https/example.com/dir?q=1", b"int")
    assert stream.code == 301
    assert stream.headers[b"location"] == [b"/dir/?q=1"]


def test_monsterAbsoluteRedirect() -> None:
    """A redirect built from C{prePathURL} names the proxy's scheme and host."""
    root, _ = monstered(Seen())
    stream = serveHost(root, b"/vhost.rpy/https/example.com:8443/up/x", b"int")
    assert stream.code == 302
    assert stream.headers[b"location"] == [b"https://example.com:8443/"]


class SessionPage(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        request.getSession()
        return b"session"


@pytest.mark.parametrize(("scheme", "secure"), [(b"https", True), (b"http", False)])
def test_monsterSessionCookie(scheme: bytes, secure: bool) -> None:
    """
    The session cookie is marked C{Secure} when, and only when, the proxy
    says its client used https.
    """
    root, _ = monstered(SessionPage())
    stream = serveHost(
        root, b"/vhost.rpy/%s/example.com/seen" % scheme, b"int", secure=not secure
    )
    (cookie,) = stream.heads[-1][3]
    assert (b"; Secure" in cookie) is secure
    assert cookie.startswith(
        b"TWISTED_SECURE_SESSION=" if secure else b"TWISTED_SESSION="
    )


def test_monsterRoutesThroughNameVirtualHost() -> None:
    """
    Behind the monster, a L{NameVirtualHost} at the root routes by the host
    the proxy named.
    """
    root = hosting()
    root.default = Resource()
    root.default.putChild(b"vhost.rpy", vhost.VHostMonsterResource())
    stream = serveHost(root, b"/vhost.rpy/http/foo.com:80/a", b"internal")
    assert stream.body == b"foo prepath=[] postpath=[b'a']"


def test_monsterBelowRoot() -> None:
    """Published below the root, the monster still serves the rest from the root."""
    seen = Seen()
    root, monster = monstered(seen)
    below = Resource()
    below.putChild(b"vhost.rpy", monster)
    root.putChild(b"proxy", below)
    serveHost(root, b"/proxy/vhost.rpy/http/example.com/seen/y", b"int")
    assert seen.seen["path"] == b"/seen/y"
    assert seen.seen["prePathURL"] == b"http://example.com/seen"


def test_monsterBareHostSegment() -> None:
    """Nothing after the host segment is the site's root page."""
    root, _ = monstered(Seen())
    root.putChild(b"", Named(b"home"))
    stream = serveHost(root, b"/vhost.rpy/http/example.com", b"int")
    assert stream.body.startswith(b"home ")


@pytest.mark.parametrize(
    "target",
    [
        b"/vhost.rpy/http/evil.com%0d%0aSet-Cookie:%20a=b/seen",
        b"/vhost.rpy/http/example.com:99999/seen",
        b"/vhost.rpy/http/example.com:x/seen",
        b"/vhost.rpy/http/%20/seen",
        b"/vhost.rpy/http//seen",
    ],
)
def test_monsterBadHostIs400(target: bytes) -> None:
    """
    A host segment that is not a host and port is answered 400: it never
    reaches a header or a URL the site builds.
    """
    root, _ = monstered(Seen())
    stream = serveHost(root, target, b"int")
    assert stream.code == 400
    assert b"set-cookie" not in {k.lower() for k in stream.headers}


def test_monsterUnknownScheme() -> None:
    """A scheme other than http and https is answered 404."""
    root, _ = monstered(Seen())
    assert serveHost(root, b"/vhost.rpy/ftp/example.com/seen", b"int").code == 404


def test_monsterTrustedProxiesGiven() -> None:
    """
    With C{trustedProxies}, only those peers may name the host; others are
    answered 403 (the L{FakeStream}'s peer is 10.0.0.2).
    """
    seen = Seen()
    root, _ = monstered(seen, trustedProxies=["10.0.0.0/24"])
    target = b"/vhost.rpy/https/example.com/seen"
    assert serveHost(root, target, b"int").code == 200
    root, _ = monstered(seen, trustedProxies=["192.0.2.1", "::1"])
    stream = serveHost(root, target, b"int")
    assert stream.code == 403


def test_monsterSiteTrustedProxies() -> None:
    """
    Without its own list, the monster accepts only the site's trusted
    proxies when the site names some, and everyone when it names none.
    """
    root, _ = monstered(Seen())
    target = b"/vhost.rpy/https/example.com/seen"
    elsewhere = parseTrustedProxies(["192.0.2.0/24"])
    here = parseTrustedProxies(["10.0.0.2"])
    assert serveHost(root, target, b"int", trusted=elsewhere).code == 403
    assert serveHost(root, target, b"int", trusted=here).code == 200
    assert serveHost(root, target, b"int").code == 200


def test_monsterTrustedProxiesInvalid() -> None:
    """A trusted proxy that is no address or network is refused at once."""
    with pytest.raises(ValueError):
        vhost.VHostMonsterResource(trustedProxies=["not an address"])


def test_urlPathType() -> None:
    """C{URLPath()} behind the monster is a L{URLPath} one can navigate."""
    seen = Seen()
    root, _ = monstered(seen)
    serveHost(root, b"/vhost.rpy/https/example.com/seen/z", b"int")
    assert str(URLPath.fromString(seen.seen["URLPath"]).child(b"a")) == (
        "https://example.com/seen/a"
    )


def test_monsterOwnPage() -> None:
    """
    The monster's own URL answers a plain-text note on its use (where
    twisted.web answers 405), or 403 to a peer it does not trust.
    """
    root, _ = monstered(Seen())
    stream = serveHost(root, b"/vhost.rpy", b"int")
    assert stream.code == 200
    assert stream.headers[b"content-type"] == [b"text/plain; charset=utf-8"]
    assert b"/https/<host>[:<port>]/<path>" in stream.body
    root, _ = monstered(Seen(), trustedProxies=["192.0.2.1"])
    assert serveHost(root, b"/vhost.rpy", b"int").code == 403
