"""
Tests for the Files a tree keeps for its entries between requests
(L{twisted_web_re._files.children.ChildCache}): a hot URL reuses the File
made for it, but never once the entry changed in any way its status shows,
nor once a path rule refuses it, nor once the options the File was made
with changed on its parent.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from test_static import Client, write

from twisted_web_re import resource, static
from twisted_web_re._files.children import ChildCache

#: What the file outside the tree holds: no response may contain it.
SECRET = b"TOP-SECRET-42"


@pytest.fixture
def www(tmp_path: Path) -> Path:
    """A published directory, with a secret file beside it."""
    write(tmp_path / "secret.txt", SECRET)
    root = tmp_path / "www"
    write(root / "a.txt", b"first")
    write(root / "b.bin", b"second")
    write(root / "sub" / "c.txt", b"third")
    return root


def publish(www: Path) -> tuple[static.File, Client]:
    """The tree's root File and a client of it, its cache settled."""
    root = static.File(
        str(www), fileCache=static.FileCache(clock=lambda: time.time() + 60)
    )
    return root, Client(root)


def childOf(parent: static.File, name: bytes) -> resource.IResource:
    """What C{parent} gives for the URL segment C{name}."""
    return parent.getChild(name, None)  # type: ignore[arg-type]


def test_hotEntryReused(www: Path) -> None:
    """
    A second request for an entry gets the File made for the first, for a
    file and for a directory alike; other entries get their own.
    """
    root, client = publish(www)
    first = childOf(root, b"a.txt")
    assert isinstance(first, static.File)
    assert childOf(root, b"a.txt") is first
    directory = childOf(root, b"sub")
    assert childOf(root, b"sub") is directory
    assert childOf(directory, b"c.txt") is childOf(directory, b"c.txt")  # type: ignore[arg-type]
    assert childOf(root, b"b.bin") is not first
    for _ in range(2):
        assert client.request(b"/a.txt").body == b"first"
        assert client.request(b"/sub/c.txt").body == b"third"


def renamedOver(path: Path, content: bytes) -> None:
    """Replace C{path} by renaming a new file over it."""
    new = path.with_name(path.name + ".new")
    write(new, content)
    os.replace(new, path)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda path: write(path, b"changed!"), id="written"),
        pytest.param(lambda path: path.chmod(0o600), id="chmod"),
        pytest.param(lambda path: renamedOver(path, b"FIRST"), id="renamed-over"),
    ],
)
def test_changedEntryNewFile(www: Path, change: object) -> None:
    """
    An entry whose status changed (written, its mode changed, replaced by
    rename) gets a new File, and its new contents are served.
    """
    root, client = publish(www)
    first = childOf(root, b"a.txt")
    change(www / "a.txt")  # type: ignore[operator]
    assert childOf(root, b"a.txt") is not first
    assert client.request(b"/a.txt").body == (www / "a.txt").read_bytes()


def test_removedEntry(www: Path) -> None:
    """An entry removed after its File was kept is 404 at once."""
    root, client = publish(www)
    assert client.request(b"/a.txt").status == 200
    (www / "a.txt").unlink()
    assert childOf(root, b"a.txt") is root.childNotFound
    assert client.request(b"/a.txt").status == 404


def test_linkSwappedOut(www: Path) -> None:
    """
    A link whose File was kept, swapped for one leading out of the tree, is
    refused at once: the path rules run for every request before the kept
    File is looked for.
    """
    (www / "link").symlink_to(www / "a.txt")
    root, client = publish(www)
    for _ in range(2):
        assert client.request(b"/link").body == b"first"
    (www / "link.new").symlink_to(www.parent / "secret.txt")
    os.replace(www / "link.new", www / "link")
    assert childOf(root, b"link") is root.childNotFound
    response = client.request(b"/link")
    assert response.status == 404 and SECRET not in response.body


def test_directorySwappedOut(www: Path) -> None:
    """
    A directory whose File was kept, replaced by a link leading out of the
    tree, is refused at once, as is every name below it.
    """
    _root, client = publish(www)
    for _ in range(2):
        assert client.request(b"/sub/c.txt").body == b"third"
    outside = www.parent / "outside"
    write(outside / "c.txt", SECRET)
    (www / "sub").rename(www.parent / "old-sub")
    (www / "sub").symlink_to(outside, target_is_directory=True)
    response = client.request(b"/sub/c.txt")
    assert response.status == 404 and SECRET not in response.body


def test_fileSwappedForDirectory(www: Path) -> None:
    """A file replaced by a directory of the same name is served as one."""
    _root, client = publish(www)
    assert client.request(b"/a.txt").body == b"first"
    (www / "a.txt").unlink()
    write(www / "a.txt" / "index.html", b"<p>index</p>")
    assert client.request(b"/a.txt").status == 301
    assert client.request(b"/a.txt/").body == b"<p>index</p>"


def test_optionsChangedOnParent(www: Path) -> None:
    """
    Options changed on a File after it served its entries apply to the next
    request at once: a new default type, a processor for the entry's
    extension, new index names.
    """
    root, client = publish(www)
    assert (
        client.request(b"/b.bin").header(b"content-type") == b"application/octet-stream"
    )
    root.contentTypes.pop(".bin")
    root.defaultType = "text/x-new"
    assert client.request(b"/b.bin").header(b"content-type") == b"text/x-new"

    def processed(path: str, registry: static.Registry) -> resource.IResource:
        return static.Data(
            b"processed " + os.path.basename(path).encode(), "text/plain"
        )

    root.processors[".BIN"] = processed
    assert client.request(b"/b.bin").body == b"processed b.bin"
    del root.processors[".BIN"]
    write(www / "sub" / "start.txt", b"start page")
    assert client.request(b"/sub/").status == 200
    assert b"start page" not in client.request(b"/sub/").body
    root.indexNames = ["start.txt"]
    assert client.request(b"/sub/").body == b"start page"


def test_subclassMakesFreshFiles(www: Path) -> None:
    """
    A File subclass gets a new File for every request, as twisted.web makes
    them: its Files may keep what they learn of a request.
    """

    class Own(static.File):
        pass

    root = Own(str(www))
    first = childOf(root, b"a.txt")
    assert isinstance(first, Own)
    assert childOf(root, b"a.txt") is not first


def test_bounded() -> None:
    """
    A ChildCache keeps no more than C{maxEntries} entries, dropping those
    kept first; with no room it keeps nothing.
    """
    info = os.stat(".")
    children: ChildCache[str] = ChildCache(maxEntries=2)
    for name in ("a", "b", "c"):
        children.put(name, info, name.upper())
    assert len(children) == 2
    assert children.get("a", info) is None
    assert children.get("c", info) == "C"
    other = os.stat("..")
    assert children.get("c", other) is None and len(children) == 1
    empty: ChildCache[str] = ChildCache(maxEntries=0)
    empty.put("a", info, "A")
    assert len(empty) == 0
