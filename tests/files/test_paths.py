"""
Tests for L{twisted_web_re._files.paths}: the one rule for whether a URL path
segment may name a file, which L{static.File}, L{twcgi.CGIDirectory} and
L{script.ResourceScriptDirectory} share; and for the same publishers, that
they refuse the same segments end to end.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from test_script import get, page, write

from twisted_web_re import script, static, twcgi
from twisted_web_re._files import paths


@pytest.mark.parametrize(
    ("segment", "dangerous"),
    [
        (b"..", True),
        (b".", True),
        (b"a/b", True),
        (b"/etc", True),
        (b"a\\b", True),
        (b"\\\\host\\share", True),
        (b"a\x00b", True),
        (b"...", False),
        (b"a..b", False),
        (b".env", False),
        (b"C:secret", False),
        (b"caf\xc3\xa9", False),
    ],
)
def test_isDangerous(segment: bytes, dangerous: bool) -> None:
    """
    A segment is dangerous when it could name something other than an entry
    of its directory: C{.}, C{..}, or one holding a separator or NUL.  On
    POSIX a colon is an ordinary character.
    """
    assert paths.isDangerous(segment, windows=False) is dangerous


@pytest.mark.parametrize("segment", [b"C:secret", b"file.txt::$DATA", b"c:"])
def test_isDangerousWindowsColon(segment: bytes) -> None:
    """
    On Windows a colon names a drive or an alternate data stream, so a
    segment holding one is dangerous there.
    """
    assert paths.isDangerous(segment, windows=True)


def test_staticReexports() -> None:
    """C{static.isDangerous} is the rule's own function, as before."""
    assert static.isDangerous is paths.isDangerous


@pytest.mark.parametrize(
    ("segment", "showHidden", "name"),
    [
        (b"notes.txt", False, "notes.txt"),
        (b"caf\xc3\xa9", False, "caf\u00e9"),
        (b"", False, None),
        (b"..", True, None),
        (b"a/b", True, None),
        (b"a\x00", True, None),
        (b".env", False, None),
        (b".env", True, ".env"),
        (b"\xff", False, None),
        (b"\xc0\xae\xc0\xae", False, None),
        (b"x" * paths.MAX_NAME_BYTES, False, "x" * paths.MAX_NAME_BYTES),
        (b"x" * (paths.MAX_NAME_BYTES + 1), False, None),
    ],
)
def test_nameOf(segment: bytes, showHidden: bool, name: str | None) -> None:
    """
    A segment names the file of its UTF-8 text, unless it is empty,
    dangerous, not UTF-8 (the overlong encoding of C{..} included), longer
    than a file name can be, or a dotfile that is not to be shown.
    """
    assert paths.nameOf(segment, showHidden=showHidden, windows=False) == name


@pytest.mark.parametrize(
    ("name", "showHidden", "publishable"),
    [
        ("notes.txt", False, True),
        (".env", False, False),
        (".env", True, True),
        (os.fsdecode(b"latin-\xe9"), True, False),
    ],
)
def test_isPublishable(name: str, showHidden: bool, publishable: bool) -> None:
    """
    A directory entry is published (listed) only if a URL could name it:
    not a hidden one unless shown, not one whose name is not UTF-8.
    """
    assert paths.isPublishable(name, showHidden=showHidden) is publishable


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """
    A directory C{root} holding a file, a link to it, and a link to a file
    beside C{root}.
    """
    root = tmp_path / "root"
    root.mkdir()
    (root / "in.txt").write_text("in")
    (tmp_path / "out.txt").write_text("out")
    (root / "link-in").symlink_to(root / "in.txt")
    (root / "link-out").symlink_to(tmp_path / "out.txt")
    (root / "link-root").symlink_to(root, target_is_directory=True)
    return root


@pytest.mark.parametrize(
    ("name", "found", "following"),
    [
        ("in.txt", True, True),
        ("link-in", True, True),
        ("link-root", True, True),
        ("link-out", False, True),
        ("missing", False, False),
    ],
)
def test_entryWithin(linked: Path, name: str, found: bool, following: bool) -> None:
    """
    An entry is found if it exists and, if it is a link, leads inside the
    root (the root itself included), or links are followed.
    """
    root = str(linked)
    expected = os.path.join(root, name)
    assert paths.entryWithin(root, name, root) == (expected if found else None)
    assert paths.entryWithin(root, name, root, followSymlinks=True) == (
        expected if following else None
    )


def test_entryWithinCannotTell(linked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    When the file system cannot say whether the entry is there (out of
    memory, say), the error is raised for the caller to answer 503, rather
    than taken for "not found".
    """

    def failing(path: str) -> os.stat_result:
        raise OSError(errno.ENOMEM, "Cannot allocate memory", path)

    monkeypatch.setattr(os, "lstat", failing)
    with pytest.raises(OSError):
        paths.entryWithin(str(linked), "in.txt", str(linked))


# -- the three publishers refuse alike --------------------------------------------


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    """
    A directory of resource scripts (which are also files for L{static.File}
    and programs for L{twcgi.CGIDirectory}), with a script whose name holds
    a backslash, one whose name is not UTF-8, a dotfile, and links to a
    script outside.
    """
    root = tmp_path / "scripts"
    root.mkdir()
    write(root / "a.rpy", page(b"a"))
    write(root / "back\\slash", page(b"backslash"))
    write(root / ".hidden", page(b"hidden"))
    write(tmp_path / "outside.rpy", page(b"outside"))
    (root / "link-out").symlink_to(tmp_path / "outside.rpy")
    (root / "link-in").symlink_to(root / "a.rpy")
    with open(os.path.join(os.fsencode(root), b"latin-\xe9"), "w") as f:
        f.write(page(b"latin"))
    return root


REFUSED = [
    b"/..",
    b"/%2e%2e/outside.rpy",
    b"/%2E%2E%2Foutside.rpy",
    b"/x%2F..%2F..%2Foutside.rpy",
    b"/back%5Cslash",
    b"/..%5Coutside.rpy",
    b"/a.rpy%00",
    b"/.hidden",
    b"/latin-%E9",
    b"/%C0%AE%C0%AE/outside.rpy",
    b"/link-out",
    b"/" + b"x" * 300,
]


@pytest.mark.parametrize("path", REFUSED)
def test_resourceScriptDirectoryRefusesWhatStaticRefuses(
    scripts: Path, path: bytes
) -> None:
    """
    L{script.ResourceScriptDirectory} answers 404 to every segment a
    L{static.File} refuses (C{..} however encoded, slashes and backslashes,
    NUL, dotfiles, names that are not UTF-8, links leading out of the
    directory), and runs no script for them; so does L{twcgi.CGIDirectory}.
    """
    directory = script.ResourceScriptDirectory(str(scripts), static.Registry())
    response = get(directory, path)
    assert response.status == 404
    assert b"outside" not in response.body and b"latin" not in response.body
    assert get(static.File(str(scripts)), path).status == 404
    assert get(twcgi.CGIDirectory(str(scripts)), path).status == 404


def test_resourceScriptDirectoryLinkInside(scripts: Path) -> None:
    """A link to a script inside the directory runs that script."""
    directory = script.ResourceScriptDirectory(str(scripts), static.Registry())
    assert get(directory, b"/link-in").body == b"a"


def test_resourceScriptDirectoryFollowSymlinks(scripts: Path) -> None:
    """
    With C{followSymlinks}, a link leading out of the directory is followed,
    in subdirectories too.
    """
    (scripts / "sub").mkdir()
    (scripts / "sub" / "up").symlink_to(scripts.parent / "outside.rpy")
    directory = script.ResourceScriptDirectory(
        str(scripts), static.Registry(), followSymlinks=True
    )
    assert get(directory, b"/link-out").body == b"outside"
    assert get(directory, b"/sub/up").body == b"outside"
    closed = script.ResourceScriptDirectory(str(scripts), static.Registry())
    assert get(closed, b"/sub/up").status == 404


def test_resourceScriptDirectoryCannotTell(
    scripts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    When the file system cannot say whether the script is there, the client
    is asked to retry (503) rather than told it is missing.
    """

    def failing(path: str) -> os.stat_result:
        raise OSError(errno.ENOMEM, "Cannot allocate memory", path)

    directory = script.ResourceScriptDirectory(str(scripts), static.Registry())
    monkeypatch.setattr(os, "lstat", failing)
    assert get(directory, b"/a.rpy").status == 503
