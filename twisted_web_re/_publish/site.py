"""
L{Site}: the HTTP factory that publishes a tree of resources, making a
L{Request <twisted_web_re._publish.traversal.Request>} for each request and
holding what they share: the root resource, the sessions, the form limits.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.logger import Logger

from twisted_web_re import http
from twisted_web_re._protocols.http1 import RequestFactory
from twisted_web_re._publish.forms import DEFAULT_FORM_LIMITS, FormLimits
from twisted_web_re._publish.session import SiteSessions
from twisted_web_re._publish.traversal import Request
from twisted_web_re.iweb import IStreamRequest
from twisted_web_re.resource import IResource, IStreamingUpload, getChildForRequest

_log = Logger()

#: Where L{http.HTTPFactory} takes its reactor among its positional
#: arguments (logPath, timeout, logFormatter, reactor).
_REACTOR_POSITION = 3


def _reactorArgument(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> IReactorTime | None:
    """The reactor among the arguments given for L{http.HTTPFactory}."""
    if len(args) > _REACTOR_POSITION:
        reactor: IReactorTime | None = args[_REACTOR_POSITION]
        return reactor
    return kwargs.get("reactor")


class Site(SiteSessions, http.HTTPFactory):
    """
    An HTTP factory that publishes a tree of resources.

    @ivar resource: the root resource, rendered for C{/}.
    @ivar requestFactory: makes each request from its channel; L{Request}
        by default.
    @ivar displayTracebacks: show tracebacks on 500 pages (off by default:
        they tell an attacker about the server's code).
    @ivar formLimits: the limits on form bodies parsed into C{request.args}
        and C{request.files} (see L{twisted_web_re._publish.forms.FormLimits}).
    @ivar locateBeforeBody: find the resource for a request with a body as
        soon as its head arrives, so that an L{IStreamingUpload}
        resource can refuse the body or take it as it arrives.  Off by
        default: twisted.web locates resources after the whole body, and
        C{getChild} code may rely on that.
    """

    requestFactory: RequestFactory = Request
    displayTracebacks = False
    locateBeforeBody = False
    formLimits: FormLimits = DEFAULT_FORM_LIMITS

    def __init__(
        self,
        resource: IResource,
        requestFactory: RequestFactory | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """
        @param resource: the root resource.
        @param requestFactory: the request class, L{Request} by default.
        @param args: passed on to L{http.HTTPFactory}, as are C{kwargs}; its
            C{reactor} also times the sessions' expiry.
        """
        super().__init__(*args, **kwargs)
        self.resource = resource
        if requestFactory is not None:
            self.requestFactory = requestFactory
        self._initSessions(_reactorArgument(args, kwargs))

    def buildProtocol(self, addr: IAddress | None) -> http.HTTPChannel:  # type: ignore[override]
        """Make a channel whose requests are this site's requests."""
        channel = super().buildProtocol(addr)
        channel.requestFactory = self.requestFactory
        channel.site = self
        return channel

    def startFactory(self) -> None:
        """Start what L{http.HTTPFactory} starts, and the session timers."""
        super().startFactory()
        self._startSessionTimers()

    def stopFactory(self) -> None:
        """Stop the session timers, then what L{http.HTTPFactory} stops."""
        self._stopSessionTimers()
        super().stopFactory()

    def refuseBody(self, request: IStreamRequest, length: int | None) -> int | None:
        """
        With L{locateBeforeBody}, locate the resource now; one providing
        L{IStreamingUpload} then decides whether to take the body,
        and takes it as it arrives.
        """
        if not self.locateBeforeBody or not isinstance(request, Request):
            return None
        try:
            located = request.locateFromHead()
        except Exception:
            _log.failure("Error locating the resource for {request!r}", request=request)
            return 500
        if not IStreamingUpload.providedBy(located):
            return None
        upload = IStreamingUpload(located)
        try:
            refusal = upload.uploadStarted(request, length)
        except Exception:
            _log.failure("Error starting the upload of {request!r}", request=request)
            return 500
        if refusal is None:
            request.streamUploadTo(upload)
        return refusal

    def getResourceFor(self, request: Request) -> IResource:
        """
        Return the resource C{request}'s URL names, walking from the root.
        """
        request.site = self
        request.sitepath = request.prepath[:]
        return getChildForRequest(self.resource, request)
