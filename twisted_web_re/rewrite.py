"""
URL rewriting, under twisted.web.rewrite's names: L{RewriterResource} runs
rules that may change a request's path before the resource it wraps looks
at it, as Apache's mod_rewrite does before a request is served.

A rule is any callable taking the request; it rewrites
C{request.postpath}, the segments still to be traversed (and, if it likes,
C{request.path} and C{request.uri} to match; when it changes the segments
only, they are made to match for it).  A rewritten path that could leave
the wrapped tree (a C{..} or C{.} segment, a segment holding a slash, a
backslash, a NUL or their percent-encodings, an empty segment anywhere but
at the end) is answered 404: a rule such as L{alias} built from a request's
own path must not become a way out of the tree it serves.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from twisted_web_re import pages
from twisted_web_re.iweb import IRequest
from twisted_web_re.resource import IResource, Resource

if TYPE_CHECKING:
    pass

__all__ = ["RewriterResource", "alias", "tildeToUsers"]

#: A rewrite rule: it may change the request's C{postpath} (and C{path} and
#: C{uri}) in place.
Rule = Callable[[IRequest], object]

# What no rewritten segment may hold: a separator (which a later decoding or
# a file system could split on), or the percent-encoding of one or of a dot,
# which a resource decoding once more would turn into one.
_UNSAFE_SEGMENT = re.compile(rb"[/\\\x00]|%(?:2[fFeE]|5[cC]|00)")

# The characters a path segment may hold unencoded (RFC 3986 section 3.3).
_SEGMENT_SAFE = "!$&'()*+,;=:@~"


def _escapes(segments: list[bytes]) -> bool:
    """Whether a rewritten path of C{segments} could leave its tree."""
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if not isinstance(segment, bytes):
            raise TypeError(
                f"a rewrite rule left a segment that is not bytes: {segment!r}"
            )
        if segment in (b".", b"..") or _UNSAFE_SEGMENT.search(segment):
            return True
        if not segment and index != last:
            return True
    return False


def _pathOf(segments: list[bytes]) -> bytes:
    """The path of C{segments}, each percent-encoded where it must be."""
    return b"/" + b"/".join(
        quote(segment, safe=_SEGMENT_SAFE).encode("ascii") for segment in segments
    )


class RewriterResource(Resource):
    """
    A resource standing for C{orig} after running its rewrite rules on each
    request: traversal goes on in C{orig} with the path as the rules left it.

    @ivar resource: the resource wrapped.
    @ivar rewriteRules: the rules, run in order on every request.
    """

    def __init__(self, orig: IResource, *rewriteRules: Rule) -> None:
        """
        @param orig: the resource to wrap.
        @param rewriteRules: callables taking the request, run in order.
        """
        super().__init__()
        self.resource = orig
        self.rewriteRules = list(rewriteRules)

    def _rewrite(self, request: IRequest) -> bool:
        """
        Run the rules on C{request}, and keep its path and target in line
        with its segments.

        @return: whether the rewritten path stays in the tree.
        @raise TypeError: a rule left a segment that is not bytes.
        """
        postpath = request.postpath
        before = list(postpath)
        path = request.path
        for rule in self.rewriteRules:
            rule(request)
        after = request.postpath
        if after is not postpath:
            # Traversal walks the list it started with: a rule that put a
            # new list in its place (as twisted.web's alias does) is copied
            # into that one.
            postpath[:] = after
            request.postpath = postpath
        if postpath == before:
            return True
        if _escapes(postpath):
            return False
        if request.path == path:
            query = request.uri.partition(b"?")[2]
            request.path = _pathOf(request.prepath + postpath)
            request.uri = request.path + (b"?" + query if query else b"")
        return True

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """
        Give C{path} back to the request, run the rules, and continue in the
        wrapped resource with the first segment they leave.
        """
        request.postpath.insert(0, path)
        request.prepath.pop()
        if not self._rewrite(request):
            return pages.notFound()
        if self.resource.isLeaf or not request.postpath:
            return self.resource
        segment = request.postpath.pop(0)
        request.prepath.append(segment)
        return self.resource.getChildWithDefault(segment, request)

    def render(self, request: IRequest) -> bytes | int:
        """Run the rules, then render the wrapped resource."""
        if not self._rewrite(request):
            return pages.notFound().render(request)
        return self.resource.render(request)


def _reset(request: IRequest) -> None:
    """Set C{request}'s path and target from its segments, query kept."""
    query = request.uri.partition(b"?")[2]
    request.path = _pathOf(request.prepath + request.postpath)
    request.uri = request.path + (b"?" + query if query else b"")


def tildeToUsers(request: IRequest) -> None:
    """
    A rewrite rule serving C{/~name/rest} as C{/users/name/rest}, as the
    classic per-user home pages are served.
    """
    postpath = request.postpath
    if postpath and postpath[0][:1] == b"~":
        postpath[:1] = [b"users", postpath[0][1:]]
        _reset(request)


def _segmentsOf(path: bytes | str) -> list[bytes]:
    """
    The segments of a rule's path argument (C{"a/b"}, C{b"/a/b"}).

    @raise ValueError: a segment is C{.} or C{..}.
    """
    raw = path.encode("utf-8") if isinstance(path, str) else path
    segments = raw.strip(b"/").split(b"/")
    if any(segment in (b".", b"..") for segment in segments):
        raise ValueError(f"a path with a . or .. segment: {path!r}")
    return segments


def alias(aliasPath: bytes | str, sourcePath: bytes | str) -> Rule:
    """
    Return a rewrite rule serving every path under C{aliasPath} as the same
    path under C{sourcePath}: with C{alias("docs", "static/manual")},
    C{/docs/intro.html} is served as C{/static/manual/intro.html}.

    Links a resource builds from C{request.prepath} then point under
    C{sourcePath}, not under C{aliasPath}.

    @param aliasPath: the path prefix to rewrite, segments split by C{/}.
    @param sourcePath: the path prefix to rewrite it to.
    @raise ValueError: either holds a C{.} or C{..} segment.
    """
    aliasSegments = _segmentsOf(aliasPath)
    sourceSegments = _segmentsOf(sourcePath)
    count = len(aliasSegments)

    def rewriter(request: IRequest) -> None:
        if request.postpath[:count] == aliasSegments:
            request.postpath = sourceSegments + request.postpath[count:]
            _reset(request)

    return rewriter
