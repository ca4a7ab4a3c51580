"""
Small resources and helpers: redirects, a resource that arrives later, and
the HTML rendering of a failure.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure
from twisted.python.urlpath import URLPath

from twisted_web_re import resource
from twisted_web_re._publish.tracebackpage import formatFailure as _formatFailure
from twisted_web_re._publish.traversal import siteRequest
from twisted_web_re.iweb import IRequest
from twisted_web_re.server import NOT_DONE_YET

if TYPE_CHECKING:
    from twisted_web_re import server

__all__ = [
    "DeferredResource",
    "ParentRedirect",
    "Redirect",
    "formatFailure",
    "redirectTo",
]


def formatFailure(failure: Failure) -> bytes:
    """
    Render C{failure} as HTML, as the 500 page of a site that displays
    tracebacks shows it.

    @param failure: Any failure, with or without a traceback.
    @return: A UTF-8 HTML fragment, a C{<div class="traceback">}: each frame,
        outermost first, with its file, line, function and the source lines
        around its line, then the exception.  All text is escaped; the values
        of variables are never shown.
    """
    return _formatFailure(failure)


def redirectTo(URL: bytes, request: IRequest) -> bytes:
    """
    Make C{request}'s response a 302 redirect to C{URL}, and return a small
    HTML page linking to it for clients that do not follow redirects.

    @raise TypeError: C{URL} is not bytes.
    @raise ValueError: C{URL} holds CR, LF or NUL (it would inject headers).
    """
    if not isinstance(URL, bytes):
        raise TypeError(f"redirectTo needs the URL as bytes, not {URL!r}")
    request.redirect(URL)
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    escaped = html.escape(URL.decode("utf-8", "replace"))
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0;URL={escaped}">'
        "<title>Redirecting</title></head>\n"
        f'<body><a href="{escaped}">click here</a></body></html>\n'
    ).encode()


class Redirect(resource.Resource):
    """
    Redirects every request, for itself and any path below it, to one URL.
    """

    isLeaf = True

    def __init__(self, url: bytes) -> None:
        super().__init__()
        self.url = url

    def render(self, request: IRequest) -> bytes:
        """Redirect to the URL."""
        return redirectTo(self.url, request)

    def getChild(self, name: bytes, request: IRequest) -> resource.IResource:
        """Every path below is the same redirect."""
        return self


class ParentRedirect(resource.Resource):
    """
    Redirects to the directory containing the requested URL (C{/a/b} to C{/a/}).
    """

    isLeaf = True

    def render(self, request: IRequest) -> bytes:
        """Redirect to the enclosing directory."""
        here = URLPath.fromBytes(request.prePathURL()).here()
        return redirectTo(str(here).encode("ascii"), request)

    def getChild(self, name: bytes, request: IRequest) -> resource.IResource:
        """Every path below redirects the same way."""
        return self


class DeferredResource(resource.Resource):
    """
    A resource standing in for the one a Deferred gives: every request,
    before or after the Deferred fires, is traversed and rendered on that
    resource (or answered 500 if the Deferred fails).
    """

    isLeaf = True

    def __init__(self, d: Deferred[resource.IResource]) -> None:
        """
        @param d: fires with the resource to stand in for, or fails.
        """
        super().__init__()
        self.d = d
        self._waiting: list[server.Request] = []
        self._outcome: resource.IResource | Failure | None = None
        d.addBoth(self._settle)

    def _settle(self, outcome: resource.IResource | Failure) -> None:
        self._outcome = outcome
        waiting, self._waiting = self._waiting, []
        for request in waiting:
            self._serve(request)

    def getChild(self, name: bytes, request: IRequest) -> resource.IResource:
        """Stand in for every path below, too."""
        return self

    def render(self, request: IRequest) -> int:
        """
        Render the resource now if it is here, else once it arrives.

        @raise TypeError: C{request} is not a Site's request, which alone
            can be traversed and rendered again.
        """
        request = siteRequest(request)
        if self._outcome is None:
            self._waiting.append(request)
        else:
            self._serve(request)
        return NOT_DONE_YET

    def _serve(self, request: server.Request) -> None:
        outcome = self._outcome
        if isinstance(outcome, Failure):
            request.processingFailed(outcome)
        elif outcome is not None:
            request.render(resource.getChildForRequest(outcome, request))
