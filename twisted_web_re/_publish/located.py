"""
L{LocatedRequest}: the layer of a L{Site <twisted_web_re._publish.site.Site>}'s
request that knows where it stands in the site's tree of resources: the path
segments traversal consumed and left, the URLs built from them, and the
client's session.  The request's forms, codings and rendering are built on
it, so that each of them hands resources a request that provides
L{twisted_web_re.iweb.IRequest}.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from twisted.python.urlpath import URLPath
from zope.interface import implementer
from zope.interface.interface import InterfaceClass

from twisted_web_re import http
from twisted_web_re._publish.session import Session
from twisted_web_re.iweb import IRequest, IStream

if TYPE_CHECKING:
    from twisted_web_re._publish.site import Site


@implementer(IRequest)
class LocatedRequest(http.Request):
    """
    A request that knows where it stands in a site's tree of resources.

    @ivar site: the L{Site} the request arrived at, once processed.
    @ivar prepath: the path segments already consumed by traversal.
    @ivar postpath: the path segments still to be consumed.
    @ivar sitepath: the segments leading to the site's root (when a site is
        published below another resource).
    @ivar session: the L{Session} of the request, once L{getSession} made one.
    @ivar appRootURL: the URL L{rememberRootURL} remembered.
    """

    site: Site | None = None
    session: Session | None = None
    appRootURL: bytes | None = None
    _secureSession = False

    def __init__(self, channel: IStream, queued: object = None) -> None:
        """
        @param channel: the stream the request arrived on.
        @param queued: ignored, as in twisted.web.
        """
        super().__init__(channel, queued)
        self.prepath: list[bytes] = []
        self.postpath: list[bytes] = []
        self.sitepath: list[bytes] = []

    # -- URLs ---------------------------------------------------------------

    def _prePathURL(self, prepath: list[bytes]) -> bytes:
        secure = self.isSecure()
        port = self.getRequestPort()
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
