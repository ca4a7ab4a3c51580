"""
URL rewriting (L{twisted_web_re.rewrite}): rules run before traversal goes
on in the wrapped resource, and no rule can lead out of the wrapped tree.
Requests are carried by the L{FakeStream} test double.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _stream import FakeStream
from twisted.internet.task import Clock

from twisted_web_re import rewrite, server, static
from twisted_web_re.resource import Resource


class Where(Resource):
    """A leaf saying where the request stands."""

    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"content-type", b"text/plain")
        return b"path=%s uri=%s prepath=%r postpath=%r" % (
            request.path,
            request.uri,
            request.prepath,
            request.postpath,
        )


def get(root: Any, target: bytes) -> FakeStream:
    """Answer one GET for C{target} on a site of C{root}."""
    site = server.Site(root, reactor=Clock())
    stream = FakeStream(site)
    stream.deliver(site.requestFactory, b"GET", target)
    return stream


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A site directory with user pages, a manual, and a secret beside it."""
    site = tmp_path / "site"
    (site / "users" / "foo").mkdir(parents=True)
    (site / "users" / "foo" / "bar.html").write_bytes(b"foo's bar")
    (site / "manual").mkdir()
    (site / "manual" / "intro.html").write_bytes(b"the intro")
    (site / "index.html").write_bytes(b"home")
    (tmp_path / "secret.txt").write_bytes(b"secret")
    return site


def test_tildeToUsers(tree: Path) -> None:
    """
    C{/~foo/bar.html} is served as C{/users/foo/bar.html} (the howto's
    example; twisted.web's rule compares bytes with str and never fires).
    """
    root = rewrite.RewriterResource(static.File(str(tree)), rewrite.tildeToUsers)
    stream = get(root, b"/~foo/bar.html")
    assert stream.code == 200
    assert stream.body == b"foo's bar"


def test_tildeToUsersPathAndQuery() -> None:
    """The rewritten request's path and target agree with it, query kept."""
    inner = Resource()
    users = Resource()
    users.putChild(b"foo", Where())
    inner.putChild(b"users", users)
    root = rewrite.RewriterResource(inner, rewrite.tildeToUsers)
    stream = get(root, b"/~foo/a%20b?x=1")
    assert stream.body == (
        b"path=/users/foo/a%20b uri=/users/foo/a%20b?x=1 "
        b"prepath=[b'users', b'foo'] postpath=[b'a b']"
    )


def test_otherPathsUntouched(tree: Path) -> None:
    """Paths no rule rewrites are served as they are."""
    root = rewrite.RewriterResource(static.File(str(tree)), rewrite.tildeToUsers)
    assert get(root, b"/index.html").body == b"home"
    assert get(root, b"/users/foo/bar.html").body == b"foo's bar"


@pytest.mark.parametrize(
    ("aliasPath", "sourcePath"),
    [("docs", "manual"), (b"docs", b"manual"), ("/docs/", "/manual")],
)
def test_alias(tree: Path, aliasPath: Any, sourcePath: Any) -> None:
    """C{alias} serves a prefix as another, given as C{str} or C{bytes}."""
    root = rewrite.RewriterResource(
        static.File(str(tree)), rewrite.alias(aliasPath, sourcePath)
    )
    assert get(root, b"/docs/intro.html").body == b"the intro"
    assert get(root, b"/manual/intro.html").body == b"the intro"
    assert get(root, b"/documents/intro.html").code == 404


def test_aliasOfSeveralSegments() -> None:
    """A prefix of several segments maps to one of several segments."""
    inner = Resource()
    a = Resource()
    b = Resource()
    b.putChild(b"leaf", Where())
    a.putChild(b"b", b)
    inner.putChild(b"a", a)
    root = rewrite.RewriterResource(inner, rewrite.alias("x/y", "a/b"))
    stream = get(root, b"/x/y/leaf/z")
    assert stream.body == (
        b"path=/a/b/leaf/z uri=/a/b/leaf/z prepath=[b'a', b'b', b'leaf'] "
        b"postpath=[b'z']"
    )


@pytest.mark.parametrize("bad", ["..", "a/../b", "./a"])
def test_aliasRefusesDotSegments(bad: str) -> None:
    """An alias to or from a C{.} or C{..} path is refused when made."""
    with pytest.raises(ValueError, match="segment"):
        rewrite.alias("x", bad)
    with pytest.raises(ValueError, match="segment"):
        rewrite.alias(bad, "x")


def _setting(segments: list[bytes]) -> Any:
    """A rule replacing the whole remaining path with C{segments}."""

    def rule(request: Any) -> None:
        request.postpath = list(segments)

    return rule


@pytest.mark.parametrize(
    "segments",
    [
        [b"..", b"secret.txt"],
        [b"users", b"..", b"..", b"secret.txt"],
        [b".", b"index.html"],
        [b"/etc/passwd"],
        [b"..%2fsecret.txt"],
        [b"%2e%2e", b"secret.txt"],
        [b"a\\..\\..\\secret.txt"],
        [b"", b"etc", b"passwd"],
        [b"users", b"", b"foo"],
        [b"index.html\x00.txt"],
    ],
)
def test_ruleCannotEscapeTree(tree: Path, segments: list[bytes]) -> None:
    """
    A rule producing a path that could lead out of the wrapped tree (dot
    segments, absolute or separator-holding segments, their encodings, empty
    segments) gets 404, never a file outside the root.
    """
    root = rewrite.RewriterResource(static.File(str(tree)), _setting(segments))
    stream = get(root, b"/anything")
    assert stream.code == 404
    assert b"secret" not in stream.body


def test_trailingEmptySegmentAllowed(tree: Path) -> None:
    """A rewritten path may end in a slash (an empty last segment)."""
    root = rewrite.RewriterResource(
        static.File(str(tree)), _setting([b"users", b"foo", b""])
    )
    stream = get(root, b"/anything")
    assert stream.code == 200
    assert b"bar.html" in stream.body


def test_ruleChangingPostpathOnly() -> None:
    """
    A rule that changes only C{postpath} gets C{path} and C{uri} made to
    match, the query kept.
    """
    inner = Resource()
    inner.putChild(b"new", Where())
    root = rewrite.RewriterResource(inner, _setting([b"new", b"x y"]))
    stream = get(root, b"/old/z?q=2")
    assert stream.body == (
        b"path=/new/x%20y uri=/new/x%20y?q=2 prepath=[b'new'] postpath=[b'x y']"
    )


def test_rulesRunInOrder() -> None:
    """Each rule sees what the one before it left."""
    inner = Resource()
    inner.putChild(b"c", Where())
    root = rewrite.RewriterResource(
        inner, rewrite.alias("a", "b"), rewrite.alias("b", "c")
    )
    assert get(root, b"/a/d").body.startswith(b"path=/c/d ")


def test_ruleLeavingTextSegmentIs500() -> None:
    """A rule leaving a C{str} segment is a programming error: 500."""
    root = rewrite.RewriterResource(Resource(), _setting(["text"]))  # type: ignore[list-item]
    assert get(root, b"/x").code == 500


def test_renderRunsRules() -> None:
    """
    Rendered itself (no segment left), the rewriter runs its rules and
    renders the wrapped resource.
    """
    seen: list[bytes] = []

    def rule(request: Any) -> None:
        seen.append(request.path)

    parent = Resource()
    parent.putChild(b"r", rewrite.RewriterResource(Where(), rule))
    stream = get(parent, b"/r")
    assert stream.code == 200
    assert seen == [b"/r"]


def test_leafWrappedResourceSeesWholePath() -> None:
    """A leaf wrapped resource sees every segment, rewritten."""
    root = rewrite.RewriterResource(Where(), rewrite.alias("a", "b"))
    assert get(root, b"/a/c").body == (
        b"path=/b/c uri=/b/c prepath=[] postpath=[b'b', b'c']"
    )
