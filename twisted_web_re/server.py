"""
Object publishing: L{Site} serves a tree of resources, and its L{Request} finds
the resource for each URL and renders it.

A render method may return the body as bytes, return L{NOT_DONE_YET} and call
C{request.write()}/C{request.finish()} itself (now or later), or return a
Deferred that fires with the body.

The names are twisted.web.server's; the work is done in the publishing room,
C{twisted_web_re._publish}: traversal (L{Request}), rendering and answering
failures, forms, content codings, sessions and the L{Site}.
"""

from __future__ import annotations

from twisted_web_re._publish.encoding import GzipEncoderFactory
from twisted_web_re._publish.rendering import NOT_DONE_YET
from twisted_web_re._publish.session import Session
from twisted_web_re._publish.site import Site
from twisted_web_re._publish.traversal import Request
from twisted_web_re._version import SERVER_NAME

__all__ = [
    "NOT_DONE_YET",
    "GzipEncoderFactory",
    "Request",
    "Session",
    "Site",
    "version",
]

#: The server's name and version, as sent in the C{Server} header.
version = SERVER_NAME
