"""
The request a L{Site <twisted_web_re._publish.site.Site>} makes: it walks
from the site's root resource along its URL's path to the resource that
answers it (where it then stands is kept by
L{LocatedRequest <twisted_web_re._publish.located.LocatedRequest>}).
"""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

from twisted.python.failure import Failure

from twisted_web_re._publish.rendering import RenderingRequest

if TYPE_CHECKING:
    from twisted_web_re.resource import IResource


def _segments(path: bytes) -> list[bytes]:
    """The percent-decoded segments of a path after its leading slash."""
    if path == b"/":
        return [b""]
    return [
        unquote_to_bytes(segment) if b"%" in segment else segment
        for segment in path[1:].split(b"/")
    ]


class Request(RenderingRequest):
    """
    A request to a L{Site}: it locates the resource for its URL and renders it.

    Where it stands (its path segments, URLs and session) is kept by
    L{LocatedRequest}, the layer under its forms, codings and rendering.

    @cvar defaultContentType: the C{Content-Type} every response starts with.
    """

    defaultContentType: bytes | None = b"text/html"
    _located: IResource | None = None

    def process(self) -> None:
        """
        Find the resource for this request's path and render it; any error
        becomes a 500 page (see L{processingFailed}).

        C{content} is at its start when C{render} is called, whatever
        C{getChild} did with it.
        """
        self.site = site = self.channel.site
        if self.defaultContentType is not None:
            self.setHeader(b"content-type", self.defaultContentType)
        located = self._located
        if located is None:
            self.postpath = _segments(self.path)
        # The fields are read from the body as received, even if a resource
        # puts something else in content (twisted.web parses them first).
        if self._isForm:
            self._holdForm()
        content = self.content
        try:
            if located is None:
                located = site.getResourceFor(self)
                if content is not None:
                    content.seek(0)
            self.render(located)
        except Exception:
            self.processingFailed(Failure())

    def locateFromHead(self) -> IResource:
        """
        Find the resource from the head alone, before the body arrives (for
        L{Site.locateBeforeBody}); L{process} then renders that resource.

        @return: the resource located.
        """
        return self.locateAt([], _segments(self.path))

    def locateAt(self, prepath: list[bytes], postpath: list[bytes]) -> IResource:
        """
        Find the resource from the root along C{postpath}, as if C{prepath}
        had been walked already (a request relayed from a server that
        consumed those segments, say); L{process} then renders that resource
        instead of locating one from the path.

        @param prepath: the segments taken as already walked.
        @param postpath: the segments to walk.
        @return: the resource located.
        """
        self.site = site = self.channel.site
        self.prepath = list(prepath)
        self.postpath = list(postpath)
        self._located = located = site.getResourceFor(self)
        return located

    def processAgain(self, method: bytes, target: bytes) -> None:
        """
        Answer this request afresh, as a request of C{method} for C{target}
        without a body: what a CGI program's local redirect (RFC 3875
        section 6.2.2) asks for.  The resource is located anew for
        C{target}, even if one was located from the head; the body and the
        fields that describe it are dropped.  The response must not have
        been started.

        @param method: the method to answer, C{b"GET"} or C{b"HEAD"}.
        @param target: the new request-target, a path and any query.
        """
        self._located = None
        self.prepath = []
        headers = self.requestHeaders
        for name in (b"content-length", b"content-type", b"transfer-encoding"):
            headers.removeHeader(name)
        self.content = BytesIO()
        self.requestReceived(method, target, self.clientproto)


def siteRequest(request: object) -> Request:
    """
    Return C{request} as the request of a L{Site} that it must be: for a
    resource that needs more of it than C{IRequest} promises (to process it
    again, to answer with the site's error page, to run a gateway with it).

    @raise TypeError: it is some other object (a test double, say).
    """
    if isinstance(request, Request):
        return request
    raise TypeError(
        "this resource answers only the requests of a twisted_web_re Site "
        f"(twisted_web_re.server.Request), not {request!r}"
    )
