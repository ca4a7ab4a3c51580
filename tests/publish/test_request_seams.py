"""
What the request offers in public, so that no other room reaches into its
privates: the stream's reactor and site, the port and authority the client
addressed, storing body it took elsewhere, processing it again, and the
interfaces a Site's request and a protocol-level request provide.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from _stream import FakeStream
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.threadpool import ThreadPool
from zope.interface.verify import verifyObject

from twisted_web_re import http, server, static, twcgi, util, wsgi
from twisted_web_re._publish.traversal import siteRequest
from twisted_web_re.iweb import IHTTPRequest, IRequest, IStream, IStreamRequest
from twisted_web_re.resource import Resource

PEER = IPv4Address("TCP", "127.0.0.1", 50000)

#: What a resource that needs a Site's request says it needs.
NEEDED = "(twisted_web_re.server.Request)"


class Text(Resource):
    """Answers GET and POST with a fixed text, and records what it saw."""

    isLeaf = True

    def __init__(self, text: bytes) -> None:
        super().__init__()
        self.text = text
        self.seen: list[tuple[bytes, bytes, bytes | None]] = []

    def render(self, request: Any) -> bytes:
        self.seen.append(
            (request.method, request.content.read(), request.getHeader(b"content-type"))
        )
        return self.text


class Held(Resource):
    """Answers nothing: the test decides what becomes of the request."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Any] = []

    def render(self, request: Any) -> int:
        self.requests.append(request)
        return server.NOT_DONE_YET


def test_channelNamesItsSiteAndReactor() -> None:
    """
    A channel a Site builds names that Site and the Site's reactor, the
    names the stream contract gives them, before and after it connects.
    """
    clock = Clock()
    site = server.Site(Resource(), reactor=clock)
    channel = site.buildProtocol(PEER)
    assert channel.site is site
    assert channel.reactor is clock
    channel.makeConnection(StringTransport())
    assert verifyObject(IStream, channel)
    assert channel.reactor is clock
    channel.connectionLost(None)


def test_plainChannelHasNoSite() -> None:
    """
    A channel of a plain HTTPFactory carries no Site's requests, and is
    timed by the global reactor unless given one.
    """
    from twisted.internet import reactor

    channel = http.HTTPFactory().buildProtocol(PEER)
    assert channel.site is None
    assert channel.reactor is reactor


def test_fakeStreamProvidesTheContract() -> None:
    """The test double of the stream provides all that the contract names."""
    assert verifyObject(IStream, FakeStream())


def test_requestReactorIsItsStreams() -> None:
    """
    A request's reactor is the one of the stream that carries it: what a
    static file's producer times its turns with.
    """
    clock = Clock()
    stream = FakeStream(site=server.Site(Held(), reactor=clock), reactor=clock)
    request = stream.deliver(server.Request, b"GET", b"/")
    assert isinstance(request, http.Request)
    assert request.reactor is clock


def test_interfacesOfRequests() -> None:
    """
    A Site's request provides IRequest, which resources are given; a
    protocol-level request provides IHTTPRequest and the stream contract's
    side, but not IRequest (it stands nowhere in a tree of resources), as
    in twisted.web.
    """
    stream = FakeStream(site=server.Site(Held(), reactor=Clock()))
    published = stream.deliver(server.Request, b"GET", b"/a/b")
    assert verifyObject(IRequest, published)
    assert (published.prepath, published.postpath) == ([], [b"a", b"b"])
    plain = http.Request(FakeStream())
    assert verifyObject(IHTTPRequest, plain)
    assert verifyObject(IStreamRequest, plain)
    assert not IRequest.providedBy(plain)


def deliver(target: bytes, **kw: Any) -> http.Request:
    """Deliver a request for C{target} to a plain protocol-level request."""
    request = FakeStream().deliver(http.Request, b"GET", target, **kw)
    assert isinstance(request, http.Request)
    return request


def test_requestPortOfAbsoluteTarget() -> None:
    """
    A target in absolute form names the port and authority the client
    addressed (its scheme's default port when it gives none).
    """
    request = deliver(b"http://example.org:8081/x")
    assert request.getRequestPort() == 8081
    assert request.getTargetAuthority() == b"example.org:8081"
    request = deliver(b"https://example.org/x")
    assert request.getRequestPort() == 443
    assert request.getTargetAuthority() == b"example.org"


def test_requestPortOfOriginTarget() -> None:
    """
    A target in origin form addresses the local port; it has no authority
    (the Host field stands for it), and neither has a request after
    setHost.
    """
    request = deliver(b"/x")
    assert request.getRequestPort() == 8080
    assert request.getTargetAuthority() is None
    request = deliver(b"http://example.org:8081/x")
    request.setHost(b"proxy.example", 8443, ssl=True)
    assert request.getRequestPort() == 8443
    assert request.getTargetAuthority() is None


def test_storeContent() -> None:
    """
    Body stored with storeContent ends up in the request's content, as
    what the protocol hands it does.
    """
    request = http.Request(FakeStream())
    request.gotLength(None)
    request.storeContent(b"one ")
    request.handleContentChunk(b"two")
    assert request.content is not None
    request.content.seek(0)
    assert request.content.read() == b"one two"


def test_processAgain() -> None:
    """
    processAgain answers a request afresh for another target, as a request
    without a body: the resource is located for the new target and sees
    no body, nor the fields that described it.
    """
    held, answer = Held(), Text(b"answer")
    root = Resource()
    root.putChild(b"held", held)
    root.putChild(b"answer", answer)
    stream = FakeStream(site=server.Site(root, reactor=Clock()))
    stream.deliver(
        server.Request,
        b"POST",
        b"/held",
        headers={b"content-type": [b"text/plain"]},
        body=b"the body",
    )
    (request,) = held.requests
    request.processAgain(b"GET", b"/answer?x=1")
    assert answer.seen == [(b"GET", b"", None)]
    assert request.uri == b"/answer?x=1"
    assert request.args == {b"x": [b"1"]}
    assert (request.prepath, request.postpath) == ([b"answer"], [])
    assert (stream.code, stream.body, stream.ended) == (200, b"answer", True)


def test_siteRequestRefusesOthers() -> None:
    """
    A resource that needs a Site's request refuses anything else with a
    TypeError naming what it needs, rather than failing somewhere inside.
    """
    plain = http.Request(FakeStream())
    with pytest.raises(TypeError, match=re.escape(NEEDED)):
        siteRequest(plain)
    for render in [
        static.ASISProcessor("/nonexistent.asis").render,
        twcgi.CGIScript("/nonexistent.cgi").render,
        util.DeferredResource(Deferred()).render,
        wsgi.WSGIResource(MemoryReactorClock(), ThreadPool(), None).render,
    ]:
        with pytest.raises(TypeError, match=re.escape(NEEDED)):
            render(plain)


def test_requestMadeByHandHasItsOwnHeadersAndTransport() -> None:
    """
    A request made by hand, before any head arrives, has empty request
    headers of its own (the same object each time it is read, never shared
    with another request), and its stream's transport.
    """
    stream = FakeStream()
    first, second = http.Request(stream), http.Request(stream)
    headers = first.requestHeaders
    assert headers is first.requestHeaders
    assert list(headers.getAllRawHeaders()) == []
    headers.setRawHeaders(b"x-test", [b"1"])
    assert second.requestHeaders.getRawHeaders(b"x-test") is None
    assert first.transport is stream.transport


def test_requestReceivedWithAnotherTargetReadsIt() -> None:
    """
    A request given a target other than its head's when it is processed
    takes that target's path and query, and keeps its head's fields.
    """
    stream = FakeStream()
    request = http.Request(stream)
    request.requestHeaders.setRawHeaders(b"host", [b"example.com"])
    request.requestReceived(b"GET", b"/a/b?x=1", b"HTTP/1.0")
    assert (request.method, request.uri, request.path) == (b"GET", b"/a/b?x=1", b"/a/b")
    assert request.clientproto == b"HTTP/1.0"
    assert request.args == {b"x": [b"1"]}
    assert request.getHeader(b"host") == b"example.com"


class Recording(server.Request):
    """A Site's request whose subclass sees every header set, write and finish."""

    calls: list[tuple[str, object]]

    def __init__(self, channel: Any, queued: object = None) -> None:
        super().__init__(channel, queued)
        self.calls = []

    def setHeader(self, name: bytes | str, value: bytes | str) -> None:
        self.calls.append(("setHeader", name))
        super().setHeader(name, value)

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))
        super().write(data)

    def finish(self) -> None:
        self.calls.append(("finish", None))
        super().finish()


@pytest.mark.parametrize("override", ["setHeader", "write", "finish"])
def test_renderedBodyGoesThroughOverriddenMethods(override: str) -> None:
    """
    A body a resource returns whole is answered through the request's own
    C{setHeader}, C{write} and C{finish} when a subclass overrides any of
    them, as twisted.web does, and the response on the wire is the same.
    """
    methods = {"setHeader", "write", "finish"} - {override}
    cls = type(
        "OneOverride",
        (Recording,),
        {name: getattr(server.Request, name) for name in methods},
    )
    site = server.Site(Text(b"hello"), requestFactory=cls)
    channel = site.buildProtocol(PEER)
    transport = StringTransport()
    channel.makeConnection(transport)
    seen: list[Any] = []
    original = channel.requestFactory

    def remember(stream: Any) -> Any:
        request = original(stream)
        seen.append(request)
        return request

    channel.requestFactory = remember
    channel.dataReceived(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    response = transport.value()
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nContent-Length: 5\r\n" in response
    assert response.endswith(b"\r\n\r\nhello")
    assert override in [kind for kind, _ in seen[0].calls]
    if override == "setHeader":
        assert ("setHeader", b"content-length") in seen[0].calls
    if override == "write":
        assert ("write", b"hello") in seen[0].calls


@pytest.mark.parametrize("override", ["setHeader", "write", "finish"])
def test_renderedBodyGoesThroughMethodsSetOnTheRequest(override: str) -> None:
    """
    A method a resource sets on the request itself (C{request.write = ...})
    is called for the body it returns whole, as twisted.web calls it.
    """
    seen: list[str] = []

    class Patching(Resource):
        isLeaf = True

        def render(self, request: Any) -> bytes:
            original = getattr(request, override)

            def patched(*args: Any) -> Any:
                seen.append(override)
                return original(*args)

            setattr(request, override, patched)
            return b"hello"

    site = server.Site(Patching())
    channel = site.buildProtocol(PEER)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert transport.value().endswith(b"\r\nContent-Length: 5\r\n\r\nhello")
    assert seen == [override]
