"""
The exceptions of the web server, under twisted.web.error's names.

L{Error} and its redirect kinds carry an HTTP status: raised from a render
method (or failing the Deferred it returned), L{Error} is answered with its
status and message, and L{PageRedirect} with a redirect to its location (see
C{doc/publishing.md}).  L{UnsupportedMethod} is what L{resource.Resource}
raises for a method it cannot render.  The template errors of twisted.web.error
belong to twisted.web.template, which works with this package's requests and is
imported from twisted.web.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from twisted_web_re._wire.status import RESPONSES

__all__ = [
    "Error",
    "ExcessiveBufferingError",
    "InfiniteRedirection",
    "PageRedirect",
    "RedirectWithNoLocation",
    "SchemeNotSupported",
    "UnexposedMethodError",
    "UnsupportedMethod",
]


def _statusOf(code: int | bytes | str) -> bytes:
    """
    The status code C{code} (an int, or its digits as bytes or text) as its
    three ASCII digits.

    @raise ValueError: C{code} is not a three-digit status code (RFC 9110
        section 15).
    """
    if isinstance(code, int):
        status = b"%d" % code
    elif isinstance(code, str):
        status = code.encode("ascii", "replace")
    else:
        status = bytes(code)
    if len(status) != 3 or not status.isdigit():
        raise ValueError(f"not a three-digit HTTP status code: {code!r}")
    return status


class Error(Exception):
    """
    An HTTP error: a status code, a message, and perhaps a response body.

    @ivar status: the status code, as ASCII digits (C{b"404"}).
    @ivar message: the message; by default the status's reason phrase
        (C{b"Not Found"}), or C{None} for a status without one.
    @ivar response: the body of the response, or C{None}.  Raised from a
        render method, it is shown (escaped) on the error page.
    """

    def __init__(
        self,
        code: int | bytes | str,
        message: bytes | None = None,
        response: bytes | None = None,
    ) -> None:
        """
        @param code: the status code: an int, or its digits.
        @param message: the message (default: the status's reason phrase).
        @param response: the response body, if any.
        @raise ValueError: C{code} is not a three-digit status code.
        """
        self.status = _statusOf(code)
        self.message = message or RESPONSES.get(int(self.status))
        self.response = response
        super().__init__(code, self.message, response)

    def __str__(self) -> str:
        """The status and, if there is one, the message: C{"404 Not Found"}."""
        if self.message is None:
            return self.status.decode("ascii", "replace")
        return (self.status + b" " + self.message).decode("ascii", "replace")


class PageRedirect(Error):
    """
    An HTTP redirect: an L{Error} that also names where to go.

    @ivar location: the URL to go to, or C{None}.  When there is one, the
        message says so (C{b"Found to /elsewhere"}).
    """

    def __init__(
        self,
        code: int | bytes | str,
        message: bytes | None = None,
        response: bytes | None = None,
        location: bytes | None = None,
    ) -> None:
        """
        @param code: the status code: an int, or its digits.
        @param message: the message (default: the status's reason phrase).
        @param response: the response body, if any.
        @param location: the URL to go to.
        @raise ValueError: C{code} is not a three-digit status code.
        """
        super().__init__(code, message, response)
        self.location = location
        if self.message and location:
            self.message += b" to " + location


class InfiniteRedirection(PageRedirect):
    """
    Redirects that would go on for ever: a client following them stopped.
    """


class RedirectWithNoLocation(Error):
    """
    A redirect response that named no place to go.

    @ivar uri: the URI whose response it was; the message names it
        (C{b"Found to http://example.com/"}).
    """

    def __init__(self, code: int | bytes | str, message: bytes, uri: bytes) -> None:
        """
        @param code: the status code: an int, or its digits.
        @param message: the message, to which C{b" to "} and C{uri} are added.
        @param uri: the URI that was requested.
        @raise ValueError: C{code} is not a three-digit status code.
        """
        super().__init__(code, message)
        self.uri = uri
        self.message = message + b" to " + uri


class UnsupportedMethod(Exception):
    """
    A resource cannot render the request's method.

    Raised from a render method, it is answered 405 with an C{Allow} header
    naming the methods the resource can render (501 for a method this server
    does not know at all).

    @ivar allowedMethods: the methods the resource can render.
    """

    def __init__(self, allowedMethods: Sequence[bytes], *args: object) -> None:
        """
        @param allowedMethods: the methods the resource can render, such as
            C{[b"GET", b"HEAD"]}.
        @param args: anything else to keep in the exception's C{args}.
        @raise TypeError: C{allowedMethods} is not a sequence of methods (a
            single C{b"GET"} would be read as a list of numbers).
        """
        if not isinstance(allowedMethods, Sequence) or isinstance(
            allowedMethods, (bytes, str)
        ):
            raise TypeError(
                f"allowedMethods must be a sequence of methods, not {allowedMethods!r}"
            )
        super().__init__(allowedMethods, *args)
        self.allowedMethods = allowedMethods

    def __str__(self) -> str:
        """Which methods would have been rendered."""
        return f"Expected one of {list(self.allowedMethods)!r}"


class UnexposedMethodError(Exception):
    """
    An object was asked for a method it does not expose.
    """


class SchemeNotSupported(Exception):
    """
    A URI's scheme is not one of those supported.
    """


class ExcessiveBufferingError(Exception):
    """
    A connection had to buffer too much outgoing data for a peer that does not
    read it, so it was closed and that data dropped.
    """


_MOVED_TO_RESOURCE = ("ErrorPage", "ForbiddenResource", "NoResource")


def __getattr__(name: str) -> Any:
    """
    The error pages old twisted.web code imports from C{error} (they moved
    to C{resource} long ago, and older books still name them here).

    @raise AttributeError: C{name} is not one of them.
    """
    if name in _MOVED_TO_RESOURCE:
        from twisted_web_re import resource

        return getattr(resource, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
