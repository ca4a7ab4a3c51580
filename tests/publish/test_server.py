"""
Tests for L{twisted_web_re.server}: a L{Site} publishing resources, and the
publishing L{Request}: locating the resource, the three ways a render method
answers (bytes, C{NOT_DONE_YET}, a Deferred), errors and their pages, method
handling, C{addSlash}, URLs, and sessions.

Every test runs a real channel from C{site.buildProtocol} over a
L{StringTransport}, with a L{MemoryReactorClock} as the site's reactor, and
asserts on the parsed bytes the client receives.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from _httpparse import PEER, Response, parseResponses
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogEvent, formatEvent
from twisted.python.components import registerAdapter
from twisted.python.failure import Failure
from twisted.python.urlpath import URLPath
from zope.interface import Attribute, Interface, directlyProvides, implementer

from twisted_web_re import http, server
from twisted_web_re.resource import Resource

# -- raw requests ----------------------------------------------------------------------

HOST = b"Host: example.com\r\n"

#: A session cookie as the server sets it, with the identifier captured.
SESSION_COOKIE = re.compile(
    rb"TWISTED_SESSION=([0-9a-f]{32}); Path=/; HttpOnly; SameSite=Lax"
)


def requestBytes(
    method: bytes = b"GET",
    path: bytes = b"/",
    headers: tuple[tuple[bytes, bytes], ...] = (),
    body: bytes = b"",
    host: bytes | None = b"example.com",
) -> bytes:
    """The bytes of one HTTP/1.1 request."""
    lines = [method + b" " + path + b" HTTP/1.1"]
    if host is not None:
        lines.append(b"Host: " + host)
    lines.extend(name + b": " + value for name, value in headers)
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# -- the harness -----------------------------------------------------------------------


class Client:
    """
    One client connection to a L{server.Site} publishing C{root}.

    @ivar clock: the site's reactor.
    @ivar site: the site.
    @ivar transport: the connection's transport; C{value()} is what the
        server wrote.
    @ivar methods: the method of every request sent, so that the answers to
        HEAD are parsed without a body.
    """

    def __init__(
        self,
        root: Any,
        *,
        port: int = 80,
        secure: bool = False,
        site: server.Site | None = None,
        clock: MemoryReactorClock | None = None,
    ) -> None:
        self.clock = clock or MemoryReactorClock()
        self.site = site or server.Site(root, reactor=self.clock)
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.2", port), peerAddress=PEER
        )
        if secure:
            directlyProvides(self.transport, ISSLTransport)
        self.channel = self.site.buildProtocol(PEER)
        self.channel.makeConnection(self.transport)
        self.methods: list[bytes] = []

    def send(self, method: bytes = b"GET", path: bytes = b"/", **kwargs: Any) -> None:
        """Send one request; its answer may come now or later."""
        self.methods.append(method)
        self.channel.dataReceived(requestBytes(method, path, **kwargs))

    def responses(self) -> list[Response]:
        """Every complete response so far."""
        return parseResponses(self.transport.value(), self.methods)

    def request(
        self, method: bytes = b"GET", path: bytes = b"/", **kwargs: Any
    ) -> Response:
        """Send one request and return the response it got at once."""
        before = len(self.responses())
        self.send(method, path, **kwargs)
        responses = self.responses()
        assert len(responses) == before + 1, self.transport.value()
        return responses[-1]

    def another(self) -> Client:
        """A new connection to the same site, from the same client."""
        return Client(self.site.resource, site=self.site, clock=self.clock)

    def disconnect(self) -> None:
        """The client goes away."""
        self.channel.connectionLost(Failure(ConnectionDone("client went away")))


def get(root: Any, path: bytes = b"/", method: bytes = b"GET", **kw: Any) -> Response:
    """The answer a site publishing C{root} gives to one request."""
    return Client(root).request(method, path, **kw)


def logText(events: list[LogEvent]) -> str:
    """The log events, formatted, one per line."""
    return "\n".join(formatEvent(event) for event in events)


class Page(Resource):
    """A leaf that renders what its C{render_GET} callable returns."""

    isLeaf = True

    def __init__(self, render: Any = None, body: bytes = b"page") -> None:
        super().__init__()
        self.requests: list[Any] = []
        self._render = render or (lambda request: body)

    def render_GET(self, request: Any) -> Any:
        self.requests.append(request)
        return self._render(request)

    def __repr__(self) -> str:
        return "<Page resource 1234>"


# -- locating the resource -------------------------------------------------------------


def test_getResourceForSetsSitepath() -> None:
    """
    C{Site.getResourceFor} records in C{request.sitepath} where the site is
    mounted: nothing, for a site at the root of the server.
    """
    page = Page()
    root = Resource()
    root.putChild(b"a", page)
    response = get(root, b"/a")
    assert response.status == 200
    request = page.requests[0]
    assert request.sitepath == []
    assert request.prepath == [b"a"]
    assert request.site is not None


def test_percentEncodedSegmentsDecoded() -> None:
    """
    Path segments are percent-decoded, each on its own: C{%20} is a space in
    its segment, and C{%2F} is a slash inside one segment, not a separator.
    """
    page = Page()
    get(page, b"/a%20b")
    get(page, b"/a%2Fb/c")
    get(page, b"/caf%C3%A9?x=%20")
    assert [r.postpath for r in page.requests] == [
        [b"a b"],
        [b"a/b", b"c"],
        [b"caf\xc3\xa9"],
    ]


def test_percentEncodedChildName() -> None:
    """
    A child put at C{b"a b"} is found for the URL C{/a%20b}.
    """
    root = Resource()
    root.putChild(b"a b", Page(body=b"spaced"))
    assert get(root, b"/a%20b").body == b"spaced"


# -- rendering bytes -------------------------------------------------------------------


def test_renderBytes() -> None:
    """
    A render method returning bytes sends them as the body, with a
    Content-Length.
    """
    response = get(Page(body=b"Hello, world!"))
    assert response.status == 200
    assert response.body == b"Hello, world!"
    assert response.framing == "length"
    assert response.header(b"content-length") == b"13"


def test_renderEmptyBytes() -> None:
    """
    An empty body is sent as Content-Length 0.
    """
    response = get(Page(body=b""))
    assert (response.status, response.body) == (200, b"")
    assert response.header(b"content-length") == b"0"


def test_defaultContentType() -> None:
    """
    A response whose resource sets no Content-Type is C{text/html}, as in
    twisted.web; one that sets its own keeps it.
    """
    assert get(Page()).header(b"content-type") == b"text/html"

    def plain(request: Any) -> bytes:
        request.setHeader(b"content-type", b"text/plain")
        return b"x"

    assert get(Page(plain)).header(b"content-type") == b"text/plain"


def test_statusAndHeadersFromRender() -> None:
    """
    The status and headers set by the render method are sent.
    """

    def created(request: Any) -> bytes:
        request.setResponseCode(201)
        request.setHeader(b"x-thing", b"made")
        return b"done"

    response = get(Page(created))
    assert response.status == 201
    assert response.header(b"x-thing") == b"made"


def test_headRenderKeepsDeclaredLength() -> None:
    """
    A C{render_HEAD} that declares the Content-Length GET would send and
    returns no body keeps that Content-Length (as in twisted.web, where an
    empty body returned for HEAD leaves the header alone): the client learns
    the size of the representation, not 0.
    """

    class Sized(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            return b"x" * 100

        def render_HEAD(self, request: Any) -> bytes:
            request.setHeader(b"content-length", b"100")
            return b""

    response = get(Sized(), b"/", b"HEAD")
    assert response.status == 200
    assert response.header(b"content-length") == b"100"


def test_writeThenReturnBytes() -> None:
    """
    A render method that writes part of the body with C{request.write} and
    returns the rest sends both parts, in order, as twisted.web does; the
    connection stays usable.
    """

    def render(request: Any) -> bytes:
        request.write(b"written-")
        return b"returned"

    client = Client(Page(render))
    response = client.request()
    assert response.body == b"written-returned"
    assert not client.transport.disconnecting


# -- NOT_DONE_YET ----------------------------------------------------------------------


def test_notDoneYetFinishedSynchronously() -> None:
    """
    A render method may write the body itself, finish, and return
    C{NOT_DONE_YET}: the client gets what it wrote.
    """

    def render(request: Any) -> int:
        request.write(b"hello ")
        request.write(b"world")
        request.finish()
        return server.NOT_DONE_YET

    response = get(Page(render))
    assert (response.status, response.body) == (200, b"hello world")


def test_notDoneYetFinishedLater() -> None:
    """
    A render method may return C{NOT_DONE_YET} and write and finish later;
    nothing is sent as finished until it does.
    """
    clock = MemoryReactorClock()

    def render(request: Any) -> int:
        request.write(b"first ")
        clock.callLater(1, request.write, b"second")
        clock.callLater(2, request.finish)
        return server.NOT_DONE_YET

    client = Client(Page(render), clock=clock)
    client.send()
    assert client.transport.value().endswith(b"first \r\n")
    clock.advance(1)
    assert client.transport.value().endswith(b"second\r\n")
    clock.advance(1)
    [response] = client.responses()
    assert response.body == b"first second"
    assert response.framing == "chunked"


def test_notDoneYetNothingSentUntilFinished() -> None:
    """
    Until a C{NOT_DONE_YET} render writes or finishes, the client gets
    nothing at all.
    """
    clock = MemoryReactorClock()
    pending: list[Any] = []

    def render(request: Any) -> int:
        pending.append(request)
        return server.NOT_DONE_YET

    client = Client(Page(render), clock=clock)
    client.send()
    assert client.transport.value() == b""
    pending[0].write(b"late")
    pending[0].finish()
    [response] = client.responses()
    assert response.body == b"late"


def test_keepAliveAfterNotDoneYet() -> None:
    """
    After a C{NOT_DONE_YET} response finishes, the next request on the same
    connection is answered.
    """
    clock = MemoryReactorClock()

    def render(request: Any) -> int:
        clock.callLater(1, lambda: (request.write(b"slow"), request.finish()))
        return server.NOT_DONE_YET

    root = Resource()
    root.putChild(b"slow", Page(render))
    root.putChild(b"fast", Page(body=b"fast"))
    client = Client(root, clock=clock)
    client.send(path=b"/slow")
    clock.advance(1)
    assert client.request(path=b"/fast").body == b"fast"
    assert [r.body for r in client.responses()] == [b"slow", b"fast"]


# -- Deferreds -------------------------------------------------------------------------


def test_deferredFiringWithBytesLater() -> None:
    """
    A render method may return a Deferred; the bytes it fires with are the
    body, with a Content-Length.
    """
    pending: Deferred[bytes] = Deferred()
    client = Client(Page(lambda request: pending))
    client.send()
    assert client.responses() == []
    pending.callback(b"arrived")
    [response] = client.responses()
    assert (response.status, response.body) == (200, b"arrived")
    assert response.header(b"content-length") == b"7"


def test_deferredAlreadyFired() -> None:
    """
    A Deferred that has already fired answers at once.
    """
    response = get(Page(lambda request: succeed(b"ready")))
    assert response.body == b"ready"


def test_deferredFailing() -> None:
    """
    A Deferred that fails gives a 500 page, and the failure is logged.
    """
    pending: Deferred[bytes] = Deferred()
    client = Client(Page(lambda request: pending))
    client.send()
    pending.errback(ValueError("secret detail"))
    [response] = client.responses()
    assert response.status == 500
    assert b"secret detail" not in response.body
    assert b"Traceback" not in response.body


def test_deferredFailingAtOnce(logged: list[LogEvent]) -> None:
    """
    An already failed Deferred gives a 500 page, and its failure is logged.
    """
    response = get(Page(lambda request: fail(ZeroDivisionError("oops"))))
    assert response.status == 500
    assert "ZeroDivisionError" in logText(logged) or any(
        isinstance(e.get("log_failure"), Failure)
        and e["log_failure"].check(ZeroDivisionError)
        for e in logged
    )


def test_deferredFiringWithNonBytes(logged: list[LogEvent]) -> None:
    """
    A Deferred that fires with something other than bytes gives a 500 page.
    """
    response = get(Page(lambda request: succeed("text, not bytes")))
    assert response.status == 500
    assert b"text, not bytes" not in response.body


# -- what a render method must not return ----------------------------------------------


@pytest.mark.parametrize("returned", ["a str", None, 42, [b"list"]])
def test_renderReturningNonBytes(returned: object, logged: list[LogEvent]) -> None:
    """
    A render method returning neither bytes nor C{NOT_DONE_YET} (a str,
    C{None}...) gives a 500 page without a traceback, and an error is logged
    that names the resource.
    """
    response = get(Page(lambda request: returned))
    assert response.status == 500
    assert b"Traceback" not in response.body
    assert response.body.startswith(b"<!DOCTYPE html>")
    if isinstance(returned, str):
        assert returned.encode() not in response.body
    text = logText(logged)
    assert "<Page resource 1234>" in text
    assert any(
        e.get("log_level") is not None and e["log_level"].name in ("error", "critical")
        for e in logged
    )


# -- exceptions ------------------------------------------------------------------------


class Boom(Exception):
    """The exception a failing render method raises."""


def explode(request: Any) -> bytes:
    raise Boom('<script>alert("boom")</script>')


def test_exceptionGives500WithoutTraceback(logged: list[LogEvent]) -> None:
    """
    An exception in a render method gives a 500 "Processing Failed" page
    that shows neither the traceback nor the exception's text (they would
    tell an attacker about the code), and the failure is logged.
    """
    response = get(Page(explode))
    assert response.status == 500
    assert b"Processing Failed" in response.body
    assert b"Traceback" not in response.body
    assert b"boom" not in response.body
    assert response.header(b"content-length") == b"%d" % len(response.body)
    failures = [e["log_failure"] for e in logged if "log_failure" in e]
    assert any(f.check(Boom) for f in failures)


def test_exceptionTracebackShownWhenAsked() -> None:
    """
    With C{site.displayTracebacks = True}, the 500 page shows the
    traceback, HTML-escaped (the exception's text cannot inject markup).
    """
    client = Client(Page(explode))
    client.site.displayTracebacks = True
    response = client.request()
    assert response.status == 500
    assert b"Processing Failed" in response.body
    assert b"Traceback" in response.body
    assert b"Boom" in response.body
    assert b"&lt;script&gt;alert(&quot;boom&quot;)&lt;/script&gt;" in response.body
    assert b"<script>" not in response.body


def test_displayTracebacksOffByDefault() -> None:
    """
    Sites do not show tracebacks unless told to.
    """
    assert server.Site(Resource()).displayTracebacks is False


def test_partialOutputThenException() -> None:
    """
    A render method that writes part of a response and sets headers, then
    raises, gives a clean 500: none of its output and none of its headers
    reach the client, and the connection stays usable.
    """

    def render(request: Any) -> bytes:
        request.setHeader(b"x-partial", b"yes")
        request.write(b"partial output")
        raise Boom("late")

    root = Resource()
    root.putChild(b"bad", Page(render))
    root.putChild(b"good", Page(body=b"good"))
    client = Client(root)
    response = client.request(path=b"/bad")
    assert response.status == 500
    assert b"partial output" not in response.body
    assert response.header(b"x-partial") is None
    assert not client.transport.disconnecting
    assert client.request(path=b"/good").body == b"good"


def test_failureAfterOutputSentAbortsConnection() -> None:
    """
    If a response has already started going out when its Deferred fails,
    a 500 can no longer be sent: the connection is dropped instead, so the
    client can tell the response is incomplete.
    """
    pending: Deferred[bytes] = Deferred()
    requests: list[Any] = []

    def render(request: Any) -> Deferred[bytes]:
        requests.append(request)
        return pending

    client = Client(Page(render))
    client.send()
    requests[0].write(b"begun")
    assert b"begun" in client.transport.value()
    pending.errback(Boom("midway"))
    assert client.transport.disconnecting
    assert b"500" not in client.transport.value().split(b"\r\n")[0]


def test_notDoneYetFailureAbortsConnection(logged: list[LogEvent]) -> None:
    """
    A resource that answers with C{NOT_DONE_YET}, writes part of its body,
    and then hands its Deferred's failure to C{request.processingFailed}
    (the twisted.web idiom) has its response cut: no last chunk, the
    connection dropped, the failure logged.
    """
    pending: Deferred[None] = Deferred()

    def render(request: Any) -> int:
        def later() -> Deferred[None]:
            request.write(b"the first half")
            return pending

        pending.addErrback(request.processingFailed)
        client.clock.callLater(0, later)
        return server.NOT_DONE_YET

    client = Client(Page(render))
    client.send()
    client.clock.advance(0)
    assert b"the first half" in client.transport.value()
    pending.errback(Boom("midway"))
    assert client.transport.disconnecting
    assert not client.transport.value().endswith(b"0\r\n\r\n")
    assert any("log_failure" in event for event in logged)


# -- methods ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", [b"DELETE", b"PUT", b"OPTIONS", b"POST", b"PATCH"])
def test_methodNotAllowed(method: bytes) -> None:
    """
    A known method the resource has no C{render_<METHOD>} for is answered
    405 Method Not Allowed, with an C{Allow} header naming the methods it
    has.
    """
    response = get(Page(), b"/", method)
    assert response.status == 405
    assert response.header(b"allow") == b"GET, HEAD"
    assert response.body.startswith(b"<!DOCTYPE html>")


@pytest.mark.parametrize("method", [b"BREW", b"FOO", b"M-SEARCH"])
def test_unknownMethodNotImplemented(method: bytes) -> None:
    """
    A method the server does not know at all is answered 501 Not
    Implemented.
    """
    response = get(Page(), b"/", method)
    assert response.status == 501


def test_headHasNoBodyAndGetsLength() -> None:
    """
    HEAD gets the headers of GET, its Content-Length included, and no body.
    """
    response = get(Page(body=b"0123456789"), b"/", b"HEAD")
    assert response.status == 200
    assert response.body == b""
    assert response.header(b"content-length") == b"10"
    assert response.header(b"content-type") == b"text/html"


def test_headThenGetOnOneConnection() -> None:
    """
    A HEAD followed by a GET on one connection: the GET's body follows the
    HEAD's headers directly (the HEAD sent no body bytes).
    """
    client = Client(Page(body=b"body!"))
    client.send(b"HEAD")
    client.send(b"GET")
    head, got = client.responses()
    assert head.body == b""
    assert got.body == b"body!"


# -- the client going away -------------------------------------------------------------


def test_notifyFinishFailsOnDisconnect() -> None:
    """
    When the client disconnects while a C{NOT_DONE_YET} render is pending,
    C{notifyFinish()}'s Deferred fails, so the resource can stop working.
    """
    outcomes: list[Any] = []

    def render(request: Any) -> int:
        request.notifyFinish().addBoth(outcomes.append)
        return server.NOT_DONE_YET

    client = Client(Page(render))
    client.send()
    assert outcomes == []
    client.disconnect()
    assert len(outcomes) == 1
    assert isinstance(outcomes[0], Failure)


def test_notifyFinishSucceedsOnFinish() -> None:
    """
    When the response finishes normally, C{notifyFinish()} fires with
    C{None}.
    """
    outcomes: list[Any] = []

    def render(request: Any) -> bytes:
        request.notifyFinish().addBoth(outcomes.append)
        return b"ok"

    get(Page(render))
    assert outcomes == [None]


def test_pendingDeferredCancelledOnDisconnect() -> None:
    """
    A Deferred returned by a render method is cancelled when the client
    disconnects before it fires, and nothing is written afterwards.
    """
    cancelled: list[Deferred[bytes]] = []
    pending: Deferred[bytes] = Deferred(cancelled.append)
    client = Client(Page(lambda request: pending))
    client.send()
    client.disconnect()
    assert cancelled == [pending]
    assert pending.called
    assert client.transport.value() == b""


def test_writeAfterDisconnectIgnored() -> None:
    """
    A resource that writes after the client went away does not crash the
    server: the write is dropped.
    """
    requests: list[Any] = []

    def render(request: Any) -> int:
        requests.append(request)
        return server.NOT_DONE_YET

    client = Client(Page(render))
    client.send()
    client.disconnect()
    requests[0].write(b"nobody listens")
    assert client.transport.value() == b""


# -- addSlash --------------------------------------------------------------------------


class Directory(Resource):
    """A directory-like resource: its URL ends in a slash."""

    addSlash = True

    def render_GET(self, request: Any) -> bytes:
        return b"listing"


def test_addSlashRedirects() -> None:
    """
    A directory-like resource (C{addSlash = True}) asked for without its
    slash redirects permanently (301) to the URL with it.
    """
    root = Resource()
    root.putChild(b"dir", Directory())
    response = get(root, b"/dir")
    assert response.status == 301
    assert response.header(b"location") == b"/dir/"


def test_addSlashRedirectKeepsQuery() -> None:
    """
    The redirect keeps the query string, after the added slash.
    """
    root = Resource()
    root.putChild(b"dir", Directory())
    response = get(root, b"/dir?a=1&b=%20")
    assert response.status == 301
    assert response.header(b"location") == b"/dir/?a=1&b=%20"


def test_addSlashWithSlashRenders() -> None:
    """
    The URL with its slash renders the resource itself.
    """
    root = Resource()
    root.putChild(b"dir", Directory())
    response = get(root, b"/dir/")
    assert (response.status, response.body) == (200, b"listing")


def test_addSlashRootRenders() -> None:
    """
    A directory-like root is rendered for C{/} without a redirect.
    """
    response = get(Directory(), b"/")
    assert (response.status, response.body) == (200, b"listing")


def test_addSlashNested() -> None:
    """
    A directory inside a directory redirects C{/a/b} to C{/a/b/}.
    """
    outer = Directory()
    outer.putChild(b"b", Directory())
    root = Resource()
    root.putChild(b"a", outer)
    assert get(root, b"/a").header(b"location") == b"/a/"
    assert get(root, b"/a/b").header(b"location") == b"/a/b/"
    assert get(root, b"/a/b/").body == b"listing"


# -- URLs ------------------------------------------------------------------------------


def urlsAt(
    path: bytes,
    *,
    port: int = 80,
    secure: bool = False,
    host: bytes | None = b"example.com",
) -> dict[str, Any]:
    """
    Render a tree where C{/app} remembers its root URL and C{/app/page} is a
    leaf, and return what the leaf saw of its URLs.
    """
    seen: dict[str, Any] = {}

    def render(request: Any) -> bytes:
        seen["prePathURL"] = request.prePathURL()
        seen["URLPath"] = request.URLPath()
        seen["rootURL"] = request.getRootURL()
        return b""

    class App(Resource):
        def getChild(self, name: bytes, request: Any) -> Any:
            seen["rootBefore"] = request.getRootURL()
            request.rememberRootURL()
            return Page(render)

    root = Resource()
    root.putChild(b"app", App())
    client = Client(root, port=port, secure=secure)
    response = client.request(path=path, host=host)
    assert response.status == 200
    return seen


def test_prePathURL() -> None:
    """
    C{prePathURL} is the absolute URL of the resource being rendered: the
    scheme, the host the client asked for, and the path traversed so far.
    """
    assert urlsAt(b"/app/page/more")["prePathURL"] == b"http://example.com/app/page"


def test_prePathURLQuotesSegments() -> None:
    """
    The segments in C{prePathURL} are percent-encoded again.
    """
    seen = urlsAt(b"/app/a%20b")
    assert seen["prePathURL"] == b"http://example.com/app/a%20b"


def test_prePathURLNonDefaultPort() -> None:
    """
    A port other than the scheme's default is part of the URL.
    """
    seen = urlsAt(b"/app/page", port=8080)
    assert seen["prePathURL"] == b"http://example.com:8080/app/page"


def test_prePathURLHostWithPort() -> None:
    """
    The host name comes from the C{Host} header without the port it carries.
    """
    seen = urlsAt(b"/app/page", host=b"www.example.org:80")
    assert seen["prePathURL"] == b"http://www.example.org/app/page"


def test_prePathURLSecure() -> None:
    """
    Over TLS the scheme is C{https}, and 443 is the default port.
    """
    assert urlsAt(b"/app/x", port=443, secure=True)["prePathURL"] == (
        b"https://example.com/app/x"
    )
    assert urlsAt(b"/app/x", port=8443, secure=True)["prePathURL"] == (
        b"https://example.com:8443/app/x"
    )


def test_prePathURLIPv6Host() -> None:
    """
    An IPv6 literal in the C{Host} header keeps its brackets, and loses its
    port.
    """
    seen = urlsAt(b"/app/page", port=8080, host=b"[::1]:8080")
    assert seen["prePathURL"] == b"http://[::1]:8080/app/page"


def test_URLPath() -> None:
    """
    C{URLPath()} is C{prePathURL} as a L{URLPath}, ready for relative URLs.
    """
    url = urlsAt(b"/app/page")["URLPath"]
    assert isinstance(url, URLPath)
    assert str(url) == "http://example.com/app/page"
    assert str(url.sibling(b"other")) == "http://example.com/app/other"
    assert str(url.child(b"kid")) == "http://example.com/app/page/kid"


def test_rememberRootURL() -> None:
    """
    A resource calling C{rememberRootURL} while its child is looked up makes
    its own URL the root URL that C{getRootURL} gives afterwards; before,
    there is none.
    """
    seen = urlsAt(b"/app/page")
    assert seen["rootBefore"] is None
    assert seen["rootURL"] == b"http://example.com/app"


# -- sessions --------------------------------------------------------------------------


class SessionPage(Resource):
    """Records the session of every request, and its identifier as the body."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[Any] = []

    def render_GET(self, request: Any) -> bytes:
        session = request.getSession()
        self.sessions.append(session)
        return session.uid


def sessionCookie(response: Response) -> bytes:
    """The identifier in the response's session cookie."""
    [value] = response.values(b"set-cookie")
    match = SESSION_COOKIE.fullmatch(value)
    assert match is not None, value
    return match.group(1)


def test_getSessionCreatesSessionAndCookie() -> None:
    """
    The first C{getSession} makes a session, keeps it in the site, and sets
    the cookie C{TWISTED_SESSION=<32 hex digits>; Path=/; HttpOnly;
    SameSite=Lax}.
    """
    page = SessionPage()
    client = Client(page)
    response = client.request()
    uid = sessionCookie(response)
    assert response.body == uid
    [session] = page.sessions
    assert session.uid == uid
    assert client.site.sessions == {uid: session}


def test_sameCookieSameSession() -> None:
    """
    A request bringing the session cookie back gets the same session, and
    no new cookie.
    """
    page = SessionPage()
    client = Client(page)
    uid = sessionCookie(client.request())
    again = client.request(headers=((b"Cookie", b"TWISTED_SESSION=" + uid),))
    assert again.values(b"set-cookie") == []
    assert again.body == uid
    assert page.sessions[0] is page.sessions[1]


def test_cookieOnAnotherConnection() -> None:
    """
    The session follows its cookie, not the connection.
    """
    page = SessionPage()
    first = Client(page)
    uid = sessionCookie(first.request())
    second = first.another()
    response = second.request(headers=((b"Cookie", b"TWISTED_SESSION=" + uid),))
    assert response.body == uid


def test_getSessionTwiceInOneRequest() -> None:
    """
    Two C{getSession} calls in one request return one session and set one
    cookie.
    """

    def render(request: Any) -> bytes:
        assert request.getSession() is request.getSession()
        return b"ok"

    response = get(Page(render))
    assert len(response.values(b"set-cookie")) == 1


def test_unknownCookieGetsNewSession() -> None:
    """
    A cookie naming no live session (forged, or from before a restart) gets
    a new session and a new cookie.
    """
    client = Client(SessionPage())
    response = client.request(headers=((b"Cookie", b"TWISTED_SESSION=" + b"0" * 32),))
    assert sessionCookie(response) != b"0" * 32


def test_expiredSessionReplaced() -> None:
    """
    A session unused for more than its timeout (900 seconds) expires; its
    cookie then gets a new session and a new cookie.
    """
    page = SessionPage()
    client = Client(page)
    uid = sessionCookie(client.request())
    client.clock.advance(901)
    assert uid not in client.site.sessions
    client = client.another()
    response = client.request(headers=((b"Cookie", b"TWISTED_SESSION=" + uid),))
    newUid = sessionCookie(response)
    assert newUid != uid
    assert page.sessions[1] is not page.sessions[0]


def test_usedSessionKeptAlive() -> None:
    """
    Each use postpones expiry: a session used every 600 seconds lives on.
    """
    page = SessionPage()
    client = Client(page)
    uid = sessionCookie(client.request())
    for _ in range(3):
        client.clock.advance(600)
        client = client.another()
        response = client.request(headers=((b"Cookie", b"TWISTED_SESSION=" + uid),))
        assert response.values(b"set-cookie") == []
    assert len({id(s) for s in page.sessions}) == 1


class ICounter(Interface):
    """A page-view counter kept on a session."""

    value = Attribute("Views so far.")


@implementer(ICounter)
class Counter:
    """The L{ICounter} adapter of a session."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.value = 0


registerAdapter(Counter, server.Session, ICounter)


def test_sessionInterfaceAdaptation() -> None:
    """
    C{getSession(ICounter)} returns the session's L{ICounter} component,
    made by the registered adapter once and kept with the session.
    """

    def render(request: Any) -> bytes:
        counter = request.getSession(ICounter)
        assert ICounter.providedBy(counter)
        assert counter.session is request.getSession()
        assert ICounter(request.getSession()) is counter
        counter.value += 1
        return b"%d" % counter.value

    client = Client(Page(render))
    first = client.request()
    uid = sessionCookie(first)
    cookie = ((b"Cookie", b"TWISTED_SESSION=" + uid),)
    assert first.body == b"1"
    assert client.request(headers=cookie).body == b"2"
    assert client.request(headers=cookie).body == b"3"
    assert client.another().request().body == b"1"


def test_sessionCookieSameSiteNone() -> None:
    """
    C{Site.sessionCookieSameSite = None} sends the cookie without a SameSite
    attribute.
    """
    client = Client(SessionPage())
    client.site.sessionCookieSameSite = None
    [cookie] = client.request().values(b"set-cookie")
    assert re.fullmatch(rb"TWISTED_SESSION=[0-9a-f]{32}; Path=/; HttpOnly", cookie)


def test_sessionCookieSameSiteStrict() -> None:
    """
    C{Site.sessionCookieSameSite = b"Strict"} sends C{SameSite=Strict}.
    """
    client = Client(SessionPage())
    client.site.sessionCookieSameSite = b"Strict"
    [cookie] = client.request().values(b"set-cookie")
    assert cookie.endswith(b"; HttpOnly; SameSite=Strict")


def test_sessionCookieNotHttpOnly() -> None:
    """
    C{Site.sessionCookieHttpOnly = False} lets page scripts see the cookie.
    """
    client = Client(SessionPage())
    client.site.sessionCookieHttpOnly = False
    [cookie] = client.request().values(b"set-cookie")
    assert re.fullmatch(rb"TWISTED_SESSION=[0-9a-f]{32}; Path=/; SameSite=Lax", cookie)


def test_secureSessionCookie() -> None:
    """
    Over TLS the session cookie is C{TWISTED_SECURE_SESSION}, marked Secure.
    """
    client = Client(SessionPage(), port=443, secure=True)
    [cookie] = client.request().values(b"set-cookie")
    assert re.fullmatch(
        rb"TWISTED_SECURE_SESSION=[0-9a-f]{32}; Path=/; Secure; HttpOnly; "
        rb"SameSite=Lax",
        cookie,
    )


class Mount(Resource):
    """
    Publishes another site's tree below this resource, as twisted.web's
    distributed servers do: the inner site locates its resource from here.
    """

    isLeaf = True

    def __init__(self, site: server.Site) -> None:
        super().__init__()
        self.site = site

    def render(self, request: Any) -> int:
        request.render(self.site.getResourceFor(request))
        return server.NOT_DONE_YET


def test_sitepathOfMountedSite() -> None:
    """
    A site published below the resource at C{/mount} sees C{sitepath}
    C{[b"mount"]}, and its session cookie is named for it:
    C{TWISTED_SESSION_mount}, so it does not clash with the outer site's.
    """
    page = SessionPage()
    inner = server.Site(page, reactor=MemoryReactorClock())
    root = Resource()
    root.putChild(b"mount", Mount(inner))
    client = Client(root)
    response = client.request(path=b"/mount/x")
    assert response.status == 200
    [cookie] = response.values(b"set-cookie")
    assert re.fullmatch(
        rb"TWISTED_SESSION_mount=[0-9a-f]{32}; Path=/; HttpOnly; SameSite=Lax",
        cookie,
    )
    [session] = page.sessions
    assert session.uid in inner.sessions


def test_sitepathOfMountedSiteRequest() -> None:
    """
    The inner site's resources see the outer path in C{sitepath} and
    C{prepath}, and the rest below the mount point in C{postpath}.
    """
    page = Page()
    inner = server.Site(page, reactor=MemoryReactorClock())
    root = Resource()
    root.putChild(b"mount", Mount(inner))
    get(root, b"/mount/a/b")
    [request] = page.requests
    assert request.sitepath == [b"mount"]
    assert request.prepath == [b"mount"]
    assert request.postpath == [b"a", b"b"]


# -- the module ------------------------------------------------------------------------


def test_moduleNames() -> None:
    """
    The module offers the names twisted.web.server users import.
    """
    assert server.NOT_DONE_YET == 1
    assert issubclass(server.Site, http.HTTPFactory)
    assert issubclass(server.Request, http.Request)
    assert isinstance(server.version, bytes)
    for name in ("Site", "Request", "Session", "NOT_DONE_YET", "GzipEncoderFactory"):
        assert hasattr(server, name)


def test_twistedWebResourceMissingMethodIs405() -> None:
    """
    A resource written for twisted.web, mounted in our tree with putChild,
    answers 405 (not 500) for a method it lacks: its own UnsupportedMethod is
    recognised.
    """
    from twisted.web.resource import Resource as TwistedResource

    class Old(TwistedResource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            return b"old"

    root = Resource()
    root.putChild(b"old", Old())
    response = get(root, b"/old", b"DELETE")
    assert response.status == 405
    assert response.header(b"allow") is not None


def test_addSlashRedirectStaysOnSite() -> None:
    """
    The trailing-slash redirect of a path starting with two slashes stays on
    this site: the Location cannot be read as another host (open redirect).
    """

    class Dir(Resource):
        addSlash = True

        def render_GET(self, request: Any) -> bytes:
            return b"dir"

    class Root(Resource):
        addSlash = True

        def getChild(self, name: bytes, request: Any) -> Any:
            return Dir()

    response = get(Root(), b"//evil.example")
    assert response.status == 301
    location = response.header(b"location")
    assert location is not None
    assert not location.startswith(b"//")
