"""
The one exception family for peer errors found on the wire.

Each error carries the status code the server answers with; the channel has one
place that turns it into a response and a close.
"""

from __future__ import annotations


class WireError(Exception):
    """
    The peer sent something that is not acceptable HTTP/1.1.

    @ivar status: the response status code this error earns.
    @ivar reason: a short, fixed, human-readable explanation.  It never echoes
        peer bytes, so it is safe to send back as a response body.
    """

    status: int = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadRequest(WireError):
    """Malformed syntax or framing (400): the connection cannot be trusted."""

    status = 400


class ContentTooLarge(WireError):
    """The request body is larger than the configured limit (413)."""

    status = 413


class MisdirectedRequest(WireError):
    """
    A request-target in absolute form whose scheme is not the connection's
    (421, RFC 9110 section 7.4).
    """

    status = 421


class URITooLong(WireError):
    """The request line is longer than the configured limit (414)."""

    status = 414


class HeaderFieldsTooLarge(WireError):
    """The header block is too large or has too many fields (431)."""

    status = 431


class NotImplementedCoding(WireError):
    """A transfer coding this server does not implement (501)."""

    status = 501


class VersionNotSupported(WireError):
    """An HTTP major version other than 1 (505)."""

    status = 505


class RequestTimeout(WireError):
    """The peer took too long to send a request head or body (408)."""

    status = 408


class ExpectationFailed(WireError):
    """An C{Expect} value other than C{100-continue} (417)."""

    status = 417
