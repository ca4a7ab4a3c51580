"""
The request a L{Site <twisted_web_re._publish.site.Site>} makes: it walks
from the site's root resource along its URL's path to the resource that
answers it, and then knows where it is: its URLs and its client's session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote_to_bytes

from twisted.python.failure import Failure
from twisted.python.urlpath import URLPath
from zope.interface.interface import InterfaceClass

from twisted_web_re._publish.rendering import RenderingRequest
from twisted_web_re._publish.session import Session
from twisted_web_re.iweb import IStream

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

    @ivar site: the L{Site} the request arrived at.
    @ivar prepath: the path segments already consumed by traversal.
    @ivar postpath: the path segments still to be consumed.
    @ivar sitepath: the segments leading to the site's root (when a site is
        published below another resource).
    @ivar session: the L{Session} of the request, once L{getSession} made one.
    @ivar appRootURL: the URL L{rememberRootURL} remembered.
    @cvar defaultContentType: the C{Content-Type} every response starts with.
    """

    defaultContentType: bytes | None = b"text/html"
    session: Session | None = None
    appRootURL: bytes | None = None
    _located: IResource | None = None
    _secureSession = False

    def __init__(self, channel: IStream, queued: object = None) -> None:
        """
        @param channel: the channel the request arrived on.
        @param queued: ignored, as in twisted.web.
        """
        super().__init__(channel, queued)
        self.prepath: list[bytes] = []
        self.postpath: list[bytes] = []
        self.sitepath: list[bytes] = []

    def process(self) -> None:
        """
        Find the resource for this request's path and render it; any error
        becomes a 500 page (see L{processingFailed}).

        C{content} is at its start when C{render} is called, whatever
        C{getChild} did with it.
        """
        self.site = site = self.channel.site  # type: ignore[union-attr]
        if self.defaultContentType is not None:
            self.setHeader(b"content-type", self.defaultContentType)
        located = self._located
        if located is None:
            self.postpath = _segments(self.path)
        # The fields are read from the body as received, even if a resource
        # puts something else in content (twisted.web parses them first).
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
        self.site = site = self.channel.site  # type: ignore[union-attr]
        self.prepath = []
        self.postpath = _segments(self.path)
        self._located = located = site.getResourceFor(self)
        return located

    # -- URLs ---------------------------------------------------------------

    def _prePathURL(self, prepath: list[bytes]) -> bytes:
        secure = self.isSecure()
        port = self._requestPort()
        default = 443 if secure else 80
        hostport = b"" if port in (default, None) else b":%d" % port
        prefix = b"%s://%s%s/" % (
            b"https" if secure else b"http",
            self.getRequestHostname(),
            hostport,
        )
        return prefix + b"/".join(
            quote(segment, safe="").encode("ascii") for segment in prepath
        )

    def prePathURL(self) -> bytes:
        """Return the absolute URL of the resource being rendered."""
        return self._prePathURL(self.prepath)

    def URLPath(self) -> URLPath:
        """Return L{prePathURL} as a L{twisted.python.urlpath.URLPath}."""
        return URLPath.fromBytes(self.prePathURL())

    def rememberRootURL(self) -> None:
        """Remember the URL of the resource before this one as the app root."""
        self.appRootURL = self._prePathURL(self.prepath[:-1])

    def getRootURL(self) -> bytes | None:
        """Return the URL L{rememberRootURL} remembered."""
        return self.appRootURL

    # -- sessions -----------------------------------------------------------

    def getSession(
        self,
        sessionInterface: InterfaceClass | None = None,
        forceNotSecure: bool = False,
    ) -> Any:
        """
        Return this client's session, creating it (and its cookie) if the
        client has none or an expired one.

        Over TLS a separate, Secure-only session is used unless
        C{forceNotSecure}.  With C{sessionInterface}, return the session's
        component for that interface instead.

        @return: the L{Session}, or its component for C{sessionInterface}
            (whatever object was registered for it).
        """
        secure = self.isSecure() and not forceNotSecure
        session = self.session
        if session is None or session.expired or secure != self._secureSession:
            site = self.site
            if site is None:
                raise RuntimeError(f"{self!r} has no site: it was not processed")
            cookieName = site.sessionCookieName(secure, self.sitepath)
            session = None
            uid = self.getCookie(cookieName)
            if uid is not None:
                try:
                    session = site.getSession(uid)
                except KeyError:
                    session = None
            if session is None:
                session = site.makeSession()
                site.addSessionCookie(self, cookieName, session.uid, secure)
            self.session = session
            self._secureSession = secure
        session.touch()
        if sessionInterface is not None:
            return session.getComponent(sessionInterface)
        return session

    def getSessionUid(self) -> bytes:
        """
        Return the uid of this client's session (see L{getSession}, which
        this calls).
        """
        uid: bytes = self.getSession().uid
        return uid
