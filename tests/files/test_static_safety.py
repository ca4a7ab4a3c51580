"""
Tests that no request reaches outside the directory a L{static.File}
publishes, nor anything in it the File keeps back.

The tree holds, outside the published C{www} directory, a secret file and a
directory of secrets; inside it, symbolic links to both and to things inside,
dotfiles, an unreadable file and a FIFO.  Every attack in the tables gets an
error status (never 500) and never the secret bytes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from _httpparse import Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_static import Client, get, write
from twisted.logger import LogEvent

from twisted_web_re import static

#: What every secret file holds: no response may contain it.
SECRET = b"TOP-SECRET-42"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """
    The tree: C{secret.txt} and C{outside/} beside the published C{www/},
    which holds links to them, links within itself, dotfiles, an unreadable
    file and a FIFO.
    """
    base = tmp_path_factory.mktemp("safety")
    write(base / "secret.txt", SECRET)
    write(base / "outside" / "secret2.txt", SECRET)
    www = base / "www"
    write(www / "public.txt", "public")
    write(www / "sub" / "file.txt", "in sub")
    write(www / ".env", SECRET)
    write(www / ".htpasswd", SECRET)
    write(www / ".git" / "config", SECRET)
    write(www / "sub" / ".secret", SECRET)
    write(www / "locked.txt", SECRET).chmod(0)
    os.mkfifo(www / "fifo")
    (www / "link-out").symlink_to(base / "secret.txt")
    (www / "relative-out").symlink_to(Path("..") / "secret.txt")
    (www / "dir-out").symlink_to(base / "outside", target_is_directory=True)
    (www / "sub" / "up-out").symlink_to(Path("..") / ".." / "secret.txt")
    (www / "link-in").symlink_to(www / "public.txt")
    (www / "dir-in").symlink_to(www / "sub", target_is_directory=True)
    (www / "sub" / "up-in").symlink_to(Path("..") / "public.txt")
    (www / "dangling").symlink_to(base / "nothing-here")
    (www / "loop").symlink_to(www / "loop")
    return www


def refused(response: Response, status: int = 404) -> None:
    """Assert the response is the refusal C{status}, without the secret."""
    assert response.status == status, (response.status, response.body[:200])
    assert SECRET not in response.raw


#: Request targets that try to leave the tree: each gets 404.
TRAVERSALS = [
    b"/../secret.txt",
    b"/sub/../../secret.txt",
    b"/%2e%2e/secret.txt",
    b"/%2E%2E/secret.txt",
    b"/.%2e/secret.txt",
    b"/..%2fsecret.txt",
    b"/%2e%2e%2fsecret.txt",
    b"/sub/..%2f..%2fsecret.txt",
    b"/..%5csecret.txt",
    b"/..\\secret.txt",
    b"/sub\\..\\..\\secret.txt",
    b"/%5c..%5csecret.txt",
    b"/public.txt%00.html",
    b"/%00",
    b"/..%00/secret.txt",
    b"/%2fetc%2fpasswd",
    b"/%2f..%2fsecret.txt",
    b"//etc/passwd",
    b"/%c0%ae%c0%ae/secret.txt",
    b"/%c0%ae%c0%ae%c0%afsecret.txt",
    b"/%e0%80%ae%e0%80%ae/secret.txt",
    b"/%252e%252e/secret.txt",
    b"/%252e%252e%252fsecret.txt",
    b"/..%255csecret.txt",
    b"/C:%5csecret.txt",
    b"/" + b"a" * 1000,
    b"/./public.txt",
    b"/%2e/public.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal(tree: Path, target: bytes, logged: list[LogEvent]) -> None:
    """
    Dot segments, encoded dots, slashes and backslashes, NUL, absolute paths,
    overlong UTF-8 and doubled encodings all get 404, with no error logged.
    """
    refused(get(static.File(str(tree)), target))
    assert not [event for event in logged if event.get("log_failure")]


def test_absoluteFormTarget(tree: Path) -> None:
    """A request-target in absolute form is held to the same rules."""
    refused(get(static.File(str(tree)), b"http://example.com/../secret.txt"))


#: Paths through symbolic links: the status by default, and with
#: followSymlinks.
LINKS = [
    (b"/link-out", 404, 200),
    (b"/relative-out", 404, 200),
    (b"/dir-out/secret2.txt", 404, 200),
    (b"/dir-out/", 404, 200),
    (b"/dir-out", 404, 301),
    (b"/sub/up-out", 404, 200),
    (b"/dir-in/up-out", 404, 200),
    (b"/link-in", 200, 200),
    (b"/dir-in/file.txt", 200, 200),
    (b"/dir-in", 301, 301),
    (b"/sub/up-in", 200, 200),
    (b"/dangling", 404, 404),
    (b"/loop", 404, 404),
]


@pytest.mark.parametrize(("target", "default", "following"), LINKS)
def test_symlinks(tree: Path, target: bytes, default: int, following: int) -> None:
    """
    By default a symbolic link is followed only when it leads to something
    inside the tree; with C{followSymlinks} (twisted.web's behaviour), any
    link is.  A dangling or looping link is 404 either way.
    """
    response = get(static.File(str(tree)), target)
    if default == 404:
        refused(response)
    else:
        assert response.status == default
    assert get(static.File(str(tree), followSymlinks=True), target).status == following


def test_followSymlinksServesTarget(tree: Path) -> None:
    """With C{followSymlinks}, a link out of the tree serves what it points at."""
    root = static.File(str(tree), followSymlinks=True)
    assert get(root, b"/link-out").body == SECRET


def test_rootIsALink(tree: Path, tmp_path: Path) -> None:
    """
    A File made for a symbolic link to a directory publishes that directory,
    and its links are judged against where it leads.
    """
    alias = tmp_path / "alias"
    alias.symlink_to(tree, target_is_directory=True)
    root = static.File(str(alias))
    assert get(root, b"/link-in").body == b"public"
    assert get(root, b"/sub/up-in").body == b"public"
    refused(get(root, b"/link-out"))


#: Dotfiles and dot-directories.
HIDDEN = [b"/.env", b"/.htpasswd", b"/.git/config", b"/.git/", b"/sub/.secret"]


@pytest.mark.parametrize("target", HIDDEN)
def test_dotfilesRefused(tree: Path, target: bytes) -> None:
    """Dotfiles are not served by default, and C{showHidden} serves them."""
    refused(get(static.File(str(tree)), target))
    shown = get(static.File(str(tree), showHidden=True), target)
    assert shown.status == 200


def test_dotfilesNotListed(tree: Path) -> None:
    """
    A listing shows neither dotfiles nor links out of the tree, but shows
    links within it.
    """
    response = get(static.File(str(tree)), b"/")
    assert response.status == 200
    for name in (b".env", b".git", b".htpasswd", b"link-out", b"dir-out", b"up-out"):
        assert name not in response.body
    for name in (b"public.txt", b"link-in", b"dir-in", b"sub/"):
        assert name in response.body
    sub = get(static.File(str(tree)), b"/sub/")
    assert b".secret" not in sub.body and b"up-out" not in sub.body


def test_ignoredExtsKeepsRules(tree: Path) -> None:
    """
    A name found through C{ignoredExts} obeys the same rules: no dotfiles,
    no links out of the tree.
    """
    root = static.File(str(tree), ignoredExts=["*"])
    assert get(root, b"/public").body == b"public"
    refused(get(root, b"/.env"))
    (tree / "sub" / "out.txt").symlink_to(tree.parent / "secret.txt")
    try:
        refused(get(root, b"/sub/out"))
    finally:
        (tree / "sub" / "out.txt").unlink()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadableFile(tree: Path) -> None:
    """A file the server may not read gets 403."""
    refused(get(static.File(str(tree)), b"/locked.txt"), 403)


def test_unreadableFileWhateverUser(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    A file the server may not open gets 403 (the open refused here, so that
    the test holds when run as root).
    """
    opened = static._openFile

    def refuse(path: str) -> Any:
        if path.endswith("public.txt"):
            raise PermissionError(13, "Permission denied", path)
        return opened(path)

    monkeypatch.setattr(static, "_openFile", refuse)
    refused(get(static.File(str(tree)), b"/public.txt"), 403)


def test_unreadableDirectory(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory the server may not list gets 403 for its listing."""

    def refuse(path: Any) -> Any:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "scandir", refuse)
    refused(get(static.File(str(tree)), b"/sub/"), 403)


def test_fifoRefused(tree: Path) -> None:
    """A FIFO gets 403 at once: the server does not wait for a writer."""
    refused(get(static.File(str(tree)), b"/fifo"), 403)


def test_missing(tree: Path) -> None:
    """A missing file is 404, and so is anything below a file."""
    root = static.File(str(tree))
    refused(get(root, b"/missing.txt"))
    refused(get(root, b"/public.txt/x"))
    refused(get(root, b"/public.txt/"))


def test_rootMissing(tmp_path: Path) -> None:
    """A File for a directory that does not exist answers 404, for anything."""
    root = static.File(str(tmp_path / "gone"))
    refused(get(root, b"/"))
    refused(get(root, b"/x"))


def test_fileAsRoot(tree: Path) -> None:
    """
    A File for one file published as the root: its URL serves it, and
    nothing below it exists.
    """
    root = static.File(str(tree / "public.txt"))
    refused(get(root, b"/"))
    refused(get(root, b"/../secret.txt"))


_SEGMENTS = st.sampled_from(
    [
        "..",
        ".",
        "%2e",
        "%2E%2e",
        "%2f",
        "%5c",
        "\\",
        "%00",
        "%c0%ae",
        "%c0%af",
        "%25",
        "%252e",
        "secret.txt",
        "outside",
        "secret2.txt",
        "sub",
        "dir-out",
        "link-out",
        ".env",
        "",
    ]
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(_SEGMENTS, max_size=4), min_size=1, max_size=5))
def test_neverTheSecret(tree: Path, path: list[list[str]]) -> None:
    """
    Whatever mixture of dots, encodings and names a URL is made of, the
    answer is never a 500 and never holds the secret.
    """
    target = ("/" + "/".join("".join(segment) for segment in path)).encode()
    client = Client(static.File(str(tree)))
    response = client.request(target)
    assert response.status in (200, 301, 403, 404)
    assert SECRET not in response.raw
