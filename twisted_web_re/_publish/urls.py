"""
Request-target manipulations shared by the publishing rooms.
"""

from __future__ import annotations


def withTrailingSlash(uri: bytes) -> bytes:
    """
    Return the request-target C{uri} with a slash added to its path, its query
    kept: C{/docs?page=2} becomes C{/docs/?page=2}.

    A path that starts with two slashes, or a slash and a backslash, gets
    C{/.} in front, which names the same path: a browser would otherwise read
    C{//example.com/} in a C{Location} as another site (an open redirect).
    """
    path, sep, query = uri.partition(b"?")
    if path[1:2] in (b"/", b"\\"):
        path = b"/." + path
    return path + b"/" + sep + query
