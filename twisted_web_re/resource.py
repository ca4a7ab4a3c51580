"""
Resources: the objects a L{Site} publishes, one per URL segment.

L{IResource} is what the publishing machinery asks of a resource; L{Resource} is
the base class that dispatches rendering to C{render_<METHOD>} methods and keeps
a dictionary of children.  The error resources answer with a status and a short
HTML page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from zope.interface import Attribute, Interface, implementer

from twisted_web_re._publish.encodedresponse import EncodingRequest
from twisted_web_re._publish.encoding import IEncoderFactory
from twisted_web_re._publish.pagehtml import errorPageHTML
from twisted_web_re.error import UnsupportedMethod
from twisted_web_re.iweb import IRequest

if TYPE_CHECKING:
    from twisted_web_re import http, server

__all__ = [
    "EncodingResourceWrapper",
    "ErrorPage",
    "ForbiddenResource",
    "IResource",
    "IStreamingUpload",
    "NoResource",
    "Resource",
    "UnsupportedMethod",
    "getChildForRequest",
]


class IResource(Interface):
    """
    A web resource: it renders requests for its URL and finds its children.
    """

    isLeaf = Attribute(
        "True if this resource takes the rest of the URL itself: traversal "
        "stops here and getChildWithDefault is never called."
    )

    def getChildWithDefault(name: bytes, request: IRequest) -> IResource:
        """Return the child for path segment name, or an error resource."""

    def putChild(path: bytes, child: IResource) -> None:
        """Make child available at path segment path."""

    def render(request: IRequest) -> bytes | int:
        """Answer request: return the body, or NOT_DONE_YET and finish later."""


class IStreamingUpload(Interface):
    """
    A resource that takes its request body as it arrives, rather than from a
    spooled C{request.content}.

    It is used only on a L{Site} with C{locateBeforeBody} set, which finds the
    resource from the request head alone.  Its C{render} is called, as usual,
    once the whole body has arrived.
    """

    def uploadStarted(request: http.Request, length: int | None) -> int | None:
        """
        The head of a request with a body has arrived (length None: chunked).

        Return None to receive the body, or a status code (401, 403, 413...)
        to answer at once, without reading any of it.
        """

    def uploadReceived(request: http.Request, data: bytes) -> None:
        """
        The next piece of the body.  Call request.pauseUpload() to stop the
        flow, and request.resumeUpload() when ready for more.
        """


def getChildForRequest(resource: IResource, request: server.Request) -> IResource:
    """
    Walk from C{resource} along C{request.postpath}, moving each segment to
    C{request.prepath}, until the path runs out or a leaf is reached.

    Both lists are read from the request at every step, so a C{getChild}
    that replaces them (as rewriting resources do) steers the rest of the
    walk.
    """
    while request.postpath and not resource.isLeaf:
        segment = request.postpath.pop(0)
        request.prepath.append(segment)
        resource = resource.getChildWithDefault(segment, request)
    return resource


def _childAttributeName(path: bytes) -> str | None:
    """The C{child_<name>} attribute for a segment, if it can be one."""
    try:
        name = path.decode("ascii")
    except UnicodeDecodeError:
        return None
    if name.isidentifier():
        return "child_" + name
    return None


@implementer(IResource)
class Resource:
    """
    A resource with a dictionary of children that renders by calling the
    C{render_<METHOD>} method for the request's method.

    @cvar isLeaf: see L{IResource.isLeaf}.
    @cvar addSlash: if true, this resource stands for a directory: requested
        without a trailing slash it redirects to the URL with one, and the
        empty segment after the slash is the resource itself.
    @ivar children: path segment to child resource, filled by L{putChild}.
    """

    isLeaf: bool | int = False
    addSlash: bool = False
    server: object = None

    def __init__(self) -> None:
        self.children: dict[bytes, IResource] = {}

    def listStaticNames(self) -> list[bytes]:
        """Return the names of the children given to L{putChild}."""
        return list(self.children)

    def listStaticEntities(self) -> list[tuple[bytes, IResource]]:
        """Return the C{(name, child)} pairs given to L{putChild}."""
        return list(self.children.items())

    def listNames(self) -> list[bytes]:
        """Return the names of this resource's static children."""
        return self.listStaticNames()

    def listEntities(self) -> list[tuple[bytes, IResource]]:
        """Return this resource's static C{(name, child)} pairs."""
        return self.listStaticEntities()

    def getStaticEntity(self, name: bytes) -> IResource | None:
        """Return the child given to L{putChild} as C{name}, or C{None}."""
        return self.children.get(name)

    def delEntity(self, name: bytes) -> None:
        """Remove the child C{name}."""
        del self.children[name]

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """
        Return the child for a segment that is not a static child.  Override
        this for dynamic children; by default there are none (404).
        """
        return NoResource("No such child resource.")

    def getChildWithDefault(self, path: bytes, request: IRequest) -> IResource:
        """
        Return the static child C{path}, else a C{child_<path>} attribute, else
        (for L{addSlash} resources and the empty segment) this resource, else
        what L{getChild} gives.
        """
        child = self.children.get(path)
        if child is not None:
            return child
        attribute = _childAttributeName(path)
        if attribute is not None:
            child = getattr(self, attribute, None)
            if child is not None:
                return child
        if not path and self.addSlash:
            return self
        return self.getChild(path, request)

    def putChild(self, path: bytes, child: IResource) -> None:
        """
        Make C{child} available at path segment C{path}.

        @raise TypeError: C{path} is not bytes.
        """
        if not isinstance(path, bytes):
            raise TypeError(f"path segment must be bytes, not {path!r}")
        self.children[path] = child
        if isinstance(child, Resource):
            child.server = self.server

    def render(self, request: IRequest) -> bytes | int:
        """
        Call C{render_<METHOD>} for the request's method (C{render_GET} for
        HEAD when there is no C{render_HEAD}).

        @raise UnsupportedMethod: there is no method to call; it names those
            there are.
        """
        method = request.method
        name = _renderNames.get(method)
        if name is None:
            name = _renderName(method)
        renderer = getattr(self, name, None) if name else None
        if renderer is None and method == b"HEAD":
            renderer = getattr(self, "render_GET", None)
        if renderer is None:
            allowed = getattr(self, "allowedMethods", None)
            raise UnsupportedMethod(allowed or _renderableMethods(self))
        body: bytes | int = renderer(request)
        return body


_renderNames: dict[bytes, str] = {}


def _renderName(method: bytes) -> str:
    """
    The C{render_<METHOD>} attribute name for C{method}, or C{""} if the
    method cannot name an attribute; remembered for the first few methods.
    """
    try:
        name = "render_" + method.decode("ascii")
    except UnicodeDecodeError:
        return ""
    if not name.isidentifier():
        return ""
    if len(_renderNames) < 64:
        _renderNames[method] = name
    return name


def _renderableMethods(resource: object) -> list[bytes]:
    """
    The methods C{resource} can render: every C{render_<METHOD>} it has, with
    HEAD wherever there is GET.
    """
    found = {
        name[len("render_") :].encode("ascii")
        for name in dir(resource)
        if name.startswith("render_")
        and name[len("render_") :].isupper()
        and callable(getattr(resource, name, None))
    }
    if b"GET" in found:
        found.add(b"HEAD")
    return sorted(found)


class ErrorPage(Resource):
    """
    A resource that answers every request, for itself and every path below
    it, with status C{code} and a short HTML page.

    @ivar code: the status code.
    @ivar brief: the page's heading.
    @ivar detail: the page's explanation.
    """

    isLeaf = True

    def __init__(self, status: int, brief: str, detail: str) -> None:
        super().__init__()
        self.code = status
        self.brief = brief
        self.detail = detail

    def render(self, request: IRequest) -> bytes:
        """Answer with the status and the page."""
        request.setResponseCode(self.code)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return errorPageHTML(self.code, self.brief, self.detail)

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """Every path below an error page is the same error."""
        return self


class NoResource(ErrorPage):
    """A 404 Not Found page."""

    def __init__(self, message: str = "Sorry. No luck finding that resource.") -> None:
        super().__init__(404, "No Such Resource", message)


class ForbiddenResource(ErrorPage):
    """A 403 Forbidden page."""

    def __init__(self, message: str = "Sorry, resource is forbidden.") -> None:
        super().__init__(403, "Forbidden Resource", message)


@implementer(IResource)
class EncodingResourceWrapper:
    """
    Wraps a resource so that its responses are content-coded (gzip, say) when
    the client accepts it.

    Each encoder factory's C{encoderForRequest(request)} is asked in turn,
    when the response starts; the first to return an encoder encodes the
    response's body.
    """

    def __init__(
        self, original: IResource, encoders: Iterable[IEncoderFactory]
    ) -> None:
        self._original = original
        self._encoders = list(encoders)

    @property
    def isLeaf(self) -> bool | int:
        """The wrapped resource's L{IResource.isLeaf}."""
        leaf: bool | int = self._original.isLeaf
        return leaf

    def getChildWithDefault(self, name: bytes, request: IRequest) -> IResource:
        """The wrapped resource's child (not itself encoded)."""
        return self._original.getChildWithDefault(name, request)

    def putChild(self, path: bytes, child: IResource) -> None:
        """Give the wrapped resource a child."""
        self._original.putChild(path, child)

    def render(self, request: IRequest) -> bytes | int:
        """
        Render the wrapped resource, with the encoders offered to the request
        (a request of a L{Site <twisted_web_re.server.Site>}; any other is
        answered uncoded): it chooses one when the response starts, once the
        resource has set its headers (its Content-Type, say, or its own
        Content-Encoding).
        """
        if isinstance(request, EncodingRequest):
            request.offerEncoders(self._encoders)
        return self._original.render(request)
