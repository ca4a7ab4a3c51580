"""
Tests for L{twisted_web_re.util}: L{redirectTo} and the L{Redirect} and
L{ParentRedirect} resources, and L{DeferredResource}, a stand-in for a
resource that a Deferred gives later.

Everything is rendered by a real L{server.Site} over a L{StringTransport}, so
the assertions are on what a client receives.
"""

from __future__ import annotations

from typing import Any

import pytest
from _httpparse import PEER, Response, parseResponses
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, succeed
from twisted.internet.testing import MemoryReactorClock, StringTransport

from twisted_web_re import server, util
from twisted_web_re.resource import Resource
from twisted_web_re.util import DeferredResource, ParentRedirect, Redirect, redirectTo


class Client:
    """
    One client connection to a L{server.Site} publishing C{root}, arriving on
    port 80 with C{Host: example.com}.
    """

    def __init__(self, root: Any) -> None:
        self.site = server.Site(root, reactor=MemoryReactorClock())
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.2", 80), peerAddress=PEER
        )
        self.channel = self.site.buildProtocol(PEER)
        self.channel.makeConnection(self.transport)

    def send(self, path: bytes = b"/") -> None:
        """Send a GET; its answer may come now or later."""
        self.channel.dataReceived(
            b"GET " + path + b" HTTP/1.1\r\nHost: example.com\r\n\r\n"
        )

    def responses(self) -> list[Response]:
        """Every complete response so far."""
        return parseResponses(self.transport.value())

    def request(self, path: bytes = b"/") -> Response:
        """Send a GET and return the response it got at once."""
        before = len(self.responses())
        self.send(path)
        responses = self.responses()
        assert len(responses) == before + 1, self.transport.value()
        return responses[-1]


class Page(Resource):
    """A leaf whose C{render_GET} is the given callable."""

    isLeaf = True

    def __init__(self, render: Any) -> None:
        super().__init__()
        self._render = render

    def render_GET(self, request: Any) -> Any:
        return self._render(request)


class Text(Resource):
    """
    Renders a fixed text and records the path it saw.  Not a leaf: like any
    such resource, asked for C{/} it looks up the empty segment (a 404).
    """

    def __init__(self, text: bytes) -> None:
        super().__init__()
        self.text = text
        self.seen: list[tuple[list[bytes], list[bytes]]] = []

    def render_GET(self, request: Any) -> bytes:
        self.seen.append((list(request.prepath), list(request.postpath)))
        return self.text


class LeafText(Text):
    """A L{Text} that renders every URL below it too."""

    isLeaf = True


# -- redirectTo ------------------------------------------------------------------------


def test_redirectToIs302WithLocation() -> None:
    """
    C{redirectTo(url, request)} makes the response a 302 Found with
    C{Location: url}, and returns an HTML page linking to it.
    """
    response = Client(
        Page(lambda request: redirectTo(b"http://example.com/there", request))
    ).request()
    assert response.status == 302
    assert response.header(b"location") == b"http://example.com/there"
    assert response.header(b"content-type") == b"text/html; charset=utf-8"
    assert b'href="http://example.com/there"' in response.body
    assert response.header(b"content-length") == b"%d" % len(response.body)


def test_redirectToRelativeURL() -> None:
    """
    The URL is sent as given, relative ones included (RFC 9110 section
    10.2.2 allows a URI reference).
    """
    response = Client(Page(lambda request: redirectTo(b"2026", request))).request()
    assert response.header(b"location") == b"2026"


def test_redirectToEscapesURLInBody() -> None:
    """
    The URL is HTML-escaped in the page, so a URL carrying markup (one built
    from user input, say) cannot inject a script.
    """
    url = b'http://example.com/"><script>alert(1)</script>'
    response = Client(Page(lambda request: redirectTo(url, request))).request()
    assert response.status == 302
    assert response.header(b"location") == url
    assert b"<script>" not in response.body
    assert b'/">' not in response.body
    assert b"&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in response.body


@pytest.mark.parametrize(
    "url",
    [
        b"http://example.com/\r\nSet-Cookie: stolen=1",
        b"http://example.com/\nX-Injected: 1",
        b"http://example.com/\rX-Injected: 1",
        b"http://example.com/\x00",
    ],
)
def test_redirectToRefusesLineBreaks(url: bytes) -> None:
    """
    A URL holding CR, LF or NUL would inject header lines: L{redirectTo}
    raises L{ValueError}, and no injected field reaches the client.
    """
    raised: list[BaseException] = []

    def render(request: Any) -> bytes:
        with pytest.raises(ValueError) as caught:
            redirectTo(url, request)
        raised.append(caught.value)
        return b"not redirected"

    client = Client(Page(render))
    response = client.request()
    assert len(raised) == 1
    assert b"X-Injected" not in client.transport.value()
    assert b"stolen" not in client.transport.value()
    assert response.header(b"location") is None


def test_redirectToRefusesStr() -> None:
    """
    The URL must be bytes: a str raises L{TypeError}.
    """

    def render(request: Any) -> bytes:
        with pytest.raises(TypeError):
            redirectTo("http://example.com/", request)  # type: ignore[arg-type]
        return b"ok"

    assert Client(Page(render)).request().body == b"ok"


# -- Redirect and ParentRedirect -------------------------------------------------------


def test_redirectResource() -> None:
    """
    A L{Redirect} redirects its URL, and every URL below it, to its target.
    """
    root = Resource()
    root.putChild(b"old", Redirect(b"http://example.org/new"))
    client = Client(root)
    for path in (b"/old", b"/old/", b"/old/deeper/still?q=1"):
        response = client.request(path)
        assert response.status == 302
        assert response.header(b"location") == b"http://example.org/new"


def test_parentRedirect() -> None:
    """
    A L{ParentRedirect} at C{/a/b} redirects to the directory that contains
    it, C{http://example.com/a/}.
    """
    a = Resource()
    a.putChild(b"b", ParentRedirect())
    root = Resource()
    root.putChild(b"a", a)
    response = Client(root).request(b"/a/b")
    assert response.status == 302
    assert response.header(b"location") == b"http://example.com/a/"


def test_parentRedirectAtRoot() -> None:
    """
    At the top of the site, the containing directory is the root.
    """
    root = Resource()
    root.putChild(b"x", ParentRedirect())
    response = Client(root).request(b"/x")
    assert response.header(b"location") == b"http://example.com/"


def test_parentRedirectBelow() -> None:
    """
    Every URL below a L{ParentRedirect} redirects as the resource itself
    does.
    """
    a = Resource()
    a.putChild(b"b", ParentRedirect())
    root = Resource()
    root.putChild(b"a", a)
    response = Client(root).request(b"/a/b/c/d")
    assert response.header(b"location") == b"http://example.com/a/"


# -- DeferredResource ------------------------------------------------------------------


def test_deferredResourceAfterFiring() -> None:
    """
    A L{DeferredResource} whose Deferred has fired renders the resource it
    gave.
    """
    real = LeafText(b"real")
    response = Client(DeferredResource(succeed(real))).request()
    assert (response.status, response.body) == (200, b"real")


def test_deferredResourceBeforeFiring() -> None:
    """
    A request that arrives before the Deferred fires waits, and is rendered
    by the resource once it arrives; later requests are rendered at once.
    """
    arriving: Deferred[Any] = Deferred()
    client = Client(DeferredResource(arriving))
    client.send()
    assert client.responses() == []
    arriving.callback(LeafText(b"arrived"))
    [response] = client.responses()
    assert (response.status, response.body) == (200, b"arrived")
    assert client.request().body == b"arrived"


def test_deferredResourceSeveralWaiting() -> None:
    """
    Every request waiting for the Deferred is answered when it fires, in
    order.
    """
    arriving: Deferred[Any] = Deferred()
    clients = [Client(DeferredResource(arriving)) for _ in range(1)]
    deferredResource = clients[0].site.resource
    clients.append(Client(deferredResource))
    clients.append(Client(deferredResource))
    for client in clients:
        client.send()
    arriving.callback(LeafText(b"all"))
    assert [c.responses()[0].body for c in clients] == [b"all", b"all", b"all"]


def test_deferredResourceTraversesBelow() -> None:
    """
    The rest of the URL is traversed from the resource the Deferred gives.
    """
    real = Resource()
    child = Text(b"child")
    real.putChild(b"kid", child)
    root = Resource()
    arriving: Deferred[Any] = Deferred()
    root.putChild(b"lazy", DeferredResource(arriving))
    client = Client(root)
    client.send(b"/lazy/kid")
    arriving.callback(real)
    [response] = client.responses()
    assert response.body == b"child"
    assert child.seen == [([b"lazy", b"kid"], [])]
    assert client.request(b"/lazy/missing").status == 404


def test_deferredResourceFailing() -> None:
    """
    If the Deferred fails, waiting requests and later ones get 500.
    """
    arriving: Deferred[Any] = Deferred()
    client = Client(DeferredResource(arriving))
    client.send()
    arriving.errback(RuntimeError("no resource today"))
    [response] = client.responses()
    assert response.status == 500
    assert b"no resource today" not in response.body
    assert client.request().status == 500


def test_moduleNames() -> None:
    """
    The module offers twisted.web.util's server-side names.
    """
    for name in ("redirectTo", "Redirect", "ParentRedirect", "DeferredResource"):
        assert name in util.__all__
