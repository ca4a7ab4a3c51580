"""
The page a bare C{twistd web-re} serves, so a fresh install can be seen to work.

It is a plain L{http.Request} subclass, not a resource tree: it proves that the
channel, the request and the command line fit together before the publishing
layer (C{server}, C{resource}, C{static}) exists.
"""

from __future__ import annotations

from collections.abc import Iterable

from twisted.internet.interfaces import IReactorCore

from twisted_web_re import http

__all__ = ["DEMO_PAGE", "DemoRequest", "demoFactory"]

#: The body of the answer to C{GET /}.
DEMO_PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>twisted_web_re</title></head>
<body>
<h1>twisted_web_re is running</h1>
<p>This is the demo page of <code>twistd web-re</code>.
Run <code>twistd web-re --help</code> to see what else it can serve.</p>
</body>
</html>
"""

# The error bodies never echo the request: a reflected path is an injection
# waiting to happen, and the status line already says what went wrong.
_NOT_FOUND_PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>404 Not Found</title></head>
<body><h1>Not Found</h1><p>The demo server has only one page, at /.</p></body>
</html>
"""

_NOT_ALLOWED_PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>405 Method Not Allowed</title></head>
<body><h1>Method Not Allowed</h1><p>The demo page answers GET and HEAD.</p></body>
</html>
"""


class DemoRequest(http.Request):
    """
    A request answered with the demo page for C{GET} or C{HEAD /}, else an error.

    Any other path gets 404; any other method on C{/} gets 405 with an
    C{Allow} header.  Every answer carries L{extraHeaders} as well.

    @cvar extraHeaders: Headers added to every response, before the page's own
        C{Content-Type} and C{Content-Length}, which replace any of the same
        name.
    """

    extraHeaders: tuple[tuple[bytes, bytes], ...] = ()

    def process(self) -> None:
        """
        Answer this request completely: status, headers, body, finish.
        """
        for name, value in self.extraHeaders:
            self.responseHeaders.addRawHeader(name, value)
        if self.path != b"/":
            self._answer(http.NOT_FOUND, _NOT_FOUND_PAGE)
        elif self.method not in (b"GET", b"HEAD"):
            self.setHeader(b"Allow", b"GET, HEAD")
            self._answer(http.NOT_ALLOWED, _NOT_ALLOWED_PAGE)
        else:
            self._answer(http.OK, DEMO_PAGE)

    def _answer(self, code: int, body: bytes) -> None:
        """
        Send C{body} as an HTML response with status C{code}, then finish.

        A C{HEAD} request gets the same headers, C{Content-Length} included,
        but no body (RFC 9110 section 9.3.2).

        @param code: The response status code.
        @param body: The complete HTML document.
        """
        self.setResponseCode(code)
        self.setHeader(b"Content-Type", b"text/html; charset=utf-8")
        self.setHeader(b"Content-Length", b"%d" % (len(body),))
        if self.method != b"HEAD":
            self.write(body)
        self.finish()


def demoFactory(
    extraHeaders: Iterable[tuple[bytes, bytes]] = (),
    logPath: str | None = None,
    reactor: IReactorCore | None = None,
) -> http.HTTPFactory:
    """
    Make an HTTP factory whose every request is answered by L{DemoRequest}.

    @param extraHeaders: C{(name, value)} pairs added to every response.
    @param logPath: Where to write the access log, or L{None} for none.
    @param reactor: The reactor for timeouts and log dates; the global
        reactor when L{None}.
    @return: A factory of its own: the headers given here reach its responses
        only, not those of any other factory.
    """
    headers = tuple(extraHeaders)

    # Subclasses made per factory, so that two services in one process can
    # add different headers without sharing class state.
    class _Request(DemoRequest):
        extraHeaders = headers

    class _Channel(http.HTTPChannel):
        requestFactory = _Request

    factory = http.HTTPFactory(logPath=logPath, reactor=reactor)
    factory.protocol = _Channel
    return factory
