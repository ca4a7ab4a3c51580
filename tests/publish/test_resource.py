"""
Tests for L{twisted_web_re.resource}: how a URL is walked down a tree of
resources (C{prepath}/C{postpath}, leaves, children, C{child_<name>}
attributes, C{addSlash}), how a resource chooses its C{render_<METHOD>}, and
the error resources.

Traversal is tested on its own with a minimal request object; rendering goes
through a real L{server.Site} on a L{StringTransport}, so every assertion is
also about what a client receives.
"""

from __future__ import annotations

from typing import Any

import pytest
from _httpparse import PEER, Response, parseResponses
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from zope.interface import implementer
from zope.interface.verify import verifyObject

from twisted_web_re import resource, server
from twisted_web_re.resource import (
    EncodingResourceWrapper,
    ErrorPage,
    ForbiddenResource,
    IResource,
    NoResource,
    Resource,
    UnsupportedMethod,
    getChildForRequest,
)

# -- helpers ---------------------------------------------------------------------------


class TraversalRequest:
    """
    The part of a request traversal uses: the path segments, and a method.
    """

    def __init__(self, segments: list[bytes], method: bytes = b"GET") -> None:
        self.prepath: list[bytes] = []
        self.postpath = list(segments)
        self.method = method


class Client:
    """
    One client connection to a L{server.Site} publishing C{root}, over a
    L{StringTransport}, with a L{MemoryReactorClock}.
    """

    def __init__(self, root: Any) -> None:
        self.clock = MemoryReactorClock()
        self.site = server.Site(root, reactor=self.clock)
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.2", 80), peerAddress=PEER
        )
        self.channel = self.site.buildProtocol(PEER)
        self.channel.makeConnection(self.transport)
        self.methods: list[bytes] = []

    def request(self, path: bytes = b"/", method: bytes = b"GET") -> Response:
        """Send one request and return the one response it got."""
        before = len(parseResponses(self.transport.value(), self.methods))
        self.methods.append(method)
        self.channel.dataReceived(
            method + b" " + path + b" HTTP/1.1\r\nHost: example.com\r\n\r\n"
        )
        responses = parseResponses(self.transport.value(), self.methods)
        assert len(responses) == before + 1, responses
        return responses[-1]


def get(root: Any, path: bytes = b"/", method: bytes = b"GET") -> Response:
    """The response C{root}, published by a site, gives to one request."""
    return Client(root).request(path, method)


class Text(Resource):
    """
    Renders a fixed text, and records the path segments it saw.
    """

    def __init__(self, text: bytes = b"text") -> None:
        super().__init__()
        self.text = text
        self.seen: list[tuple[list[bytes], list[bytes]]] = []

    def render_GET(self, request: Any) -> bytes:
        self.seen.append((list(request.prepath), list(request.postpath)))
        return self.text


class LeafText(Text):
    """A L{Text} that takes the rest of the URL itself."""

    isLeaf = True


# -- traversal -------------------------------------------------------------------------


def test_traversalMovesSegmentsFromPostpathToPrepath() -> None:
    """
    Each segment a resource is asked for moves from C{postpath} to
    C{prepath}; the walk ends at the resource of the last segment.
    """
    root = Resource()
    a = Resource()
    b = Text()
    root.putChild(b"a", a)
    a.putChild(b"b", b)
    request = TraversalRequest([b"a", b"b"])
    assert getChildForRequest(root, request) is b
    assert request.prepath == [b"a", b"b"]
    assert request.postpath == []


class _Replacing(Resource):
    """A resource whose C{getChild} replaces the request's C{postpath} list."""

    def getChild(self, path: bytes, request: Any) -> Resource:
        request.postpath = [b"b", *request.postpath]
        return self.children[b"real"]


def test_walkFollowsAReplacedPostpath() -> None:
    """
    A C{getChild} that replaces C{request.postpath} with a new list (as
    twisted.web's rewriting resources do) steers the rest of the walk, as
    in twisted.web.
    """
    root = _Replacing()
    real = Resource()
    b = Text(b"bee")
    root.putChild(b"real", real)
    real.putChild(b"b", b)
    request = TraversalRequest([b"alias"])
    assert getChildForRequest(root, request) is b
    assert request.prepath == [b"alias", b"b"]
    assert request.postpath == []


def test_prepathSeenByTheRenderedResource() -> None:
    """
    Rendered through a site, a resource at C{/a/b} sees C{prepath}
    C{[b"a", b"b"]} and an empty C{postpath}.
    """
    root = Resource()
    a = Resource()
    b = Text(b"bee")
    root.putChild(b"a", a)
    a.putChild(b"b", b)
    response = get(root, b"/a/b")
    assert (response.status, response.body) == (200, b"bee")
    assert b.seen == [([b"a", b"b"], [])]


def test_trailingSlashGivesEmptyLastSegment() -> None:
    """
    C{/foo/} reaches C{foo} with C{postpath} C{[b""]}; C{/foo} with an empty
    C{postpath}; and C{/} is the single empty segment C{[b""]}.
    """
    root = Resource()
    foo = LeafText()
    root.putChild(b"foo", foo)
    client = Client(root)
    client.request(b"/foo/")
    client.request(b"/foo")
    assert foo.seen == [([b"foo"], [b""]), ([b"foo"], [])]
    leaf = LeafText()
    Client(leaf).request(b"/")
    assert leaf.seen == [([], [b""])]


def test_leafStopsTraversal() -> None:
    """
    A leaf (C{isLeaf = True}) is rendered with the rest of the URL left in
    C{postpath}; none of its children is ever asked for.
    """
    asked: list[bytes] = []

    class Leaf(LeafText):
        def getChildWithDefault(self, path: bytes, request: Any) -> Any:
            asked.append(path)
            return super().getChildWithDefault(path, request)

    root = Resource()
    leaf = Leaf()
    leaf.putChild(b"b", Text(b"never"))
    root.putChild(b"a", leaf)
    request = TraversalRequest([b"a", b"b", b"c"])
    assert getChildForRequest(root, request) is leaf
    assert (request.prepath, request.postpath) == ([b"a"], [b"b", b"c"])
    response = get(root, b"/a/b/c")
    assert response.body == b"text"
    assert leaf.seen == [([b"a"], [b"b", b"c"])]
    assert asked == []


def test_leafRootRendersEveryURL() -> None:
    """
    A leaf at the root renders every URL of the site itself.
    """
    for path in (b"/", b"/x", b"/x/y/z?q=1"):
        assert get(LeafText(b"root"), path).body == b"root"


def test_putChildRequiresBytes() -> None:
    """
    A child's path segment must be bytes: a str one raises L{TypeError}
    (it could never match, since URL segments are bytes).
    """
    root = Resource()
    with pytest.raises(TypeError, match="fred"):
        root.putChild("fred", Text())  # type: ignore[arg-type]
    assert root.children == {}


def test_putChildMakesChildAvailable() -> None:
    """
    A child put at C{b"fred"} is served at C{/fred}, and listed.
    """
    root = Resource()
    fred = Text(b"fred")
    root.putChild(b"fred", fred)
    assert get(root, b"/fred").body == b"fred"
    assert root.listNames() == [b"fred"]
    assert root.getStaticEntity(b"fred") is fred


def test_getChildDefaultIsNoResource() -> None:
    """
    By default a resource has no dynamic children: C{getChild} gives a 404
    L{NoResource}, and so does any unknown URL.
    """
    child = Resource().getChild(b"missing", TraversalRequest([]))
    assert isinstance(child, NoResource)
    assert child.code == 404
    root = Resource()
    root.putChild(b"here", Text())
    response = get(root, b"/missing")
    assert response.status == 404
    assert get(root, b"/missing/and/more").status == 404


# -- getChildWithDefault's order -------------------------------------------------------


class Lookup(Resource):
    """
    Records what L{getChild} was asked for, and answers with a marker.
    """

    def __init__(self) -> None:
        super().__init__()
        self.dynamic = Text(b"dynamic")
        self.asked: list[bytes] = []

    def getChild(self, path: bytes, request: Any) -> Any:
        self.asked.append(path)
        return self.dynamic


def test_staticChildBeforeAttributeChild() -> None:
    """
    A child given to C{putChild} wins over a C{child_<name>} attribute of
    the same name.
    """
    parent = Lookup()
    static = Text(b"static")
    attribute = Text(b"attribute")
    parent.child_x = attribute  # type: ignore[attr-defined]
    parent.putChild(b"x", static)
    assert parent.getChildWithDefault(b"x", TraversalRequest([])) is static
    assert parent.asked == []


def test_attributeChildBeforeGetChild() -> None:
    """
    Without a static child, a C{child_<name>} attribute is the child for the
    segment C{<name>}, and C{getChild} is not asked.
    """

    class Parent(Lookup):
        child_elephant = Text(b"elephant")

    parent = Parent()
    child = parent.getChildWithDefault(b"elephant", TraversalRequest([]))
    assert child is Parent.child_elephant
    assert parent.asked == []
    assert get(parent, b"/elephant").body == b"elephant"


def test_segmentsThatCannotBeAttributesGoToGetChild() -> None:
    """
    A segment that is not a Python identifier (C{a-b}, C{1x}, non-ASCII) is
    never looked up as an attribute: C{getChild} decides.
    """
    parent = Lookup()
    request = TraversalRequest([])
    for segment in (b"a-b", b"1x", b"caf\xc3\xa9", b"\xff"):
        assert parent.getChildWithDefault(segment, request) is parent.dynamic
    assert parent.asked == [b"a-b", b"1x", b"caf\xc3\xa9", b"\xff"]


def test_emptySegmentIsSelfForAddSlash() -> None:
    """
    For a directory-like resource (C{addSlash = True}) the empty segment
    after its slash is the resource itself; for others C{getChild} decides.
    """

    class Directory(Lookup):
        addSlash = True

    directory = Directory()
    request = TraversalRequest([])
    assert directory.getChildWithDefault(b"", request) is directory
    assert directory.asked == []
    plain = Lookup()
    assert plain.getChildWithDefault(b"", request) is plain.dynamic
    assert plain.asked == [b""]


def test_staticEmptyChildBeforeAddSlashSelf() -> None:
    """
    A child put at the empty segment wins over the C{addSlash} rule.
    """

    class Directory(Lookup):
        addSlash = True

    directory = Directory()
    index = Text(b"index")
    directory.putChild(b"", index)
    assert directory.getChildWithDefault(b"", TraversalRequest([])) is index


def test_getChildLast() -> None:
    """
    A segment with neither a static child nor an attribute goes to
    C{getChild}, which can make children on the fly.
    """
    parent = Lookup()
    assert parent.getChildWithDefault(b"2013", TraversalRequest([])) is parent.dynamic
    assert parent.asked == [b"2013"]
    assert get(parent, b"/2013").body == b"dynamic"


# -- rendering -------------------------------------------------------------------------


class Methods(Resource):
    """Answers GET, POST and PATCH, each with its own name."""

    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        return b"got"

    def render_POST(self, request: Any) -> bytes:
        return b"posted"

    def render_PATCH(self, request: Any) -> bytes:
        return b"patched"


@pytest.mark.parametrize(
    ("method", "body"),
    [(b"GET", b"got"), (b"POST", b"posted"), (b"PATCH", b"patched")],
)
def test_renderDispatchesOnMethod(method: bytes, body: bytes) -> None:
    """
    C{render} calls C{render_<METHOD>} for the request's method.
    """
    response = get(Methods(), b"/", method)
    assert (response.status, response.body) == (200, body)


def test_headUsesRenderGet() -> None:
    """
    Without C{render_HEAD}, a HEAD request is rendered by C{render_GET}; the
    client gets GET's headers (with its Content-Length) and no body.
    """
    calls: list[bytes] = []

    class Page(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            calls.append(request.method)
            return b"twelve bytes"

    response = get(Page(), b"/", b"HEAD")
    assert response.status == 200
    assert response.body == b""
    assert response.header(b"content-length") == b"12"
    assert calls == [b"HEAD"]


def test_renderHeadPreferred() -> None:
    """
    A resource with its own C{render_HEAD} gets HEAD requests there.
    """

    class Page(Methods):
        def render_HEAD(self, request: Any) -> bytes:
            request.setHeader(b"x-head", b"yes")
            return b""

    response = get(Page(), b"/", b"HEAD")
    assert response.header(b"x-head") == b"yes"


def test_unsupportedMethodNamesRenderMethods() -> None:
    """
    A method without a C{render_<METHOD>} raises L{UnsupportedMethod}
    carrying every method the resource has, with HEAD wherever GET is.
    """
    with pytest.raises(UnsupportedMethod) as caught:
        Methods().render(TraversalRequest([], b"PUT"))
    assert sorted(caught.value.allowedMethods) == [
        b"GET",
        b"HEAD",
        b"PATCH",
        b"POST",
    ]


def test_unsupportedMethodWithoutGetHasNoHead() -> None:
    """
    A resource with no C{render_GET} does not claim HEAD.
    """

    class PostOnly(Resource):
        def render_POST(self, request: Any) -> bytes:
            return b""

    with pytest.raises(UnsupportedMethod) as caught:
        PostOnly().render(TraversalRequest([], b"GET"))
    assert caught.value.allowedMethods == [b"POST"]
    with pytest.raises(UnsupportedMethod) as caught:
        PostOnly().render(TraversalRequest([], b"HEAD"))
    assert caught.value.allowedMethods == [b"POST"]


def test_unsupportedMethodUsesAllowedMethodsAttribute() -> None:
    """
    A resource that overrides C{render} can name its methods with an
    C{allowedMethods} class attribute, which is then what
    L{UnsupportedMethod} (and the C{Allow} header) carries.
    """

    class Custom(Resource):
        isLeaf = True
        allowedMethods = (b"GET", b"PROPFIND")

    with pytest.raises(UnsupportedMethod) as caught:
        Custom().render(TraversalRequest([], b"PUT"))
    assert list(caught.value.allowedMethods) == [b"GET", b"PROPFIND"]
    response = get(Custom(), b"/", b"PUT")
    assert response.status == 405
    assert response.header(b"allow") == b"GET, PROPFIND"


def test_unsupportedMethodIsAnswered405() -> None:
    """
    Through a site, a known method the resource lacks is answered 405 Method
    Not Allowed with an C{Allow} header.
    """
    response = get(Methods(), b"/", b"DELETE")
    assert response.status == 405
    assert response.header(b"allow") == b"GET, HEAD, PATCH, POST"


# -- error resources -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "status"),
    [
        (ErrorPage(418, "Teapot", "Short and stout."), 418),
        (ErrorPage(503, "Busy", "Come back later."), 503),
        (NoResource(), 404),
        (NoResource("Not here."), 404),
        (ForbiddenResource(), 403),
        (ForbiddenResource("Keep out."), 403),
    ],
)
def test_errorResourceStatus(page: ErrorPage, status: int) -> None:
    """
    Error resources answer with their status and an HTML page, for their own
    URL and every URL below it.
    """
    root = Resource()
    root.putChild(b"err", page)
    for path in (b"/err", b"/err/below/it"):
        response = get(root, path)
        assert response.status == status
        assert response.header(b"content-type") == b"text/html; charset=utf-8"
        assert response.body.startswith(b"<!DOCTYPE html>")
    assert page.detail.encode() in get(root, b"/err").body


def test_errorPageShowsBriefAndDetail() -> None:
    """
    The page shows the brief as its heading and the detail below it.
    """
    body = get(ErrorPage(409, "Conflict here", "Try again.")).body
    assert b"<h1>Conflict here</h1>" in body
    assert b"Try again." in body


def test_errorPageEscapesBriefAndDetail() -> None:
    """
    Brief and detail are HTML-escaped, so text from a URL or a user cannot
    inject markup into the page.
    """
    page = ErrorPage(400, "<b>bold</b>", '<script>alert("x")</script> & more')
    body = get(page).body
    assert b"<script>" not in body
    assert b"<b>bold" not in body
    assert b"&lt;b&gt;bold&lt;/b&gt;" in body
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in body


# -- EncodingResourceWrapper -----------------------------------------------------------


def test_encodingWrapperProvidesIResource() -> None:
    """
    An L{EncodingResourceWrapper} is a resource, so it can be put anywhere in
    a tree.
    """
    wrapper = EncodingResourceWrapper(Text(), [server.GzipEncoderFactory()])
    assert verifyObject(IResource, wrapper)
    assert verifyObject(IResource, Resource())


def test_encodingWrapperDelegatesIsLeaf() -> None:
    """
    The wrapper is a leaf exactly when the wrapped resource is.
    """
    assert EncodingResourceWrapper(LeafText(), []).isLeaf
    assert not EncodingResourceWrapper(Text(), []).isLeaf


def test_encodingWrapperDelegatesChildren() -> None:
    """
    C{putChild} on the wrapper gives the wrapped resource the child, and the
    wrapper's children are the wrapped resource's, found as usual.
    """
    original = Text(b"original")
    wrapper = EncodingResourceWrapper(original, [])
    child = Text(b"child")
    wrapper.putChild(b"kid", child)
    assert original.children == {b"kid": child}
    request = TraversalRequest([b"kid"])
    assert getChildForRequest(wrapper, request) is child
    missing = wrapper.getChildWithDefault(b"nope", TraversalRequest([]))
    assert isinstance(missing, NoResource)
    response = get(wrapper, b"/kid")
    assert response.body == b"child"


def test_encodingWrapperRendersOriginal() -> None:
    """
    Rendered for a client that asks for no coding, the wrapper answers what
    the wrapped resource answers.
    """
    response = get(EncodingResourceWrapper(Methods(), []), b"/", b"POST")
    assert (response.status, response.body) == (200, b"posted")


def test_moduleNames() -> None:
    """
    The module offers twisted.web.resource's public names.
    """
    for name in resource.__all__:
        assert hasattr(resource, name)
    assert {"Resource", "NoResource", "ErrorPage", "getChildForRequest"} <= set(
        resource.__all__
    )


def test_putChildTakesAnyIResource() -> None:
    """
    A child that provides L{resource.IResource} without being a
    L{resource.Resource} (one with C{__slots__}, say) can be given to
    C{putChild}; only a L{resource.Resource} child gets the legacy C{server}
    attribute copied to it.
    """

    @implementer(resource.IResource)
    class Slotted:
        __slots__ = ()
        isLeaf = True

    parent = resource.Resource()
    parent.server = "the server"
    plain = resource.Resource()
    slotted = Slotted()
    parent.putChild(b"slotted", slotted)
    parent.putChild(b"plain", plain)
    assert parent.getStaticEntity(b"slotted") is slotted
    assert plain.server == "the server"
