"""
The request methods the server recognises.
"""

from __future__ import annotations

#: Methods defined by RFC 9110 section 9, PATCH (RFC 5789) and WebDAV (RFC 4918,
#: RFC 3253): a resource that lacks one of these answers 405 Method Not Allowed;
#: any other method is answered 501 Not Implemented.
KNOWN_METHODS = frozenset(
    {
        b"GET",
        b"HEAD",
        b"POST",
        b"PUT",
        b"DELETE",
        b"CONNECT",
        b"OPTIONS",
        b"TRACE",
        b"PATCH",
        b"PROPFIND",
        b"PROPPATCH",
        b"MKCOL",
        b"COPY",
        b"MOVE",
        b"LOCK",
        b"UNLOCK",
        b"REPORT",
        b"MKACTIVITY",
        b"CHECKOUT",
        b"MERGE",
        b"SEARCH",
    }
)
