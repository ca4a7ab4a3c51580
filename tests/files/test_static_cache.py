"""
Tests for L{static.FileCache}: a small file is read once and then served
from memory, and never served as it was once it changed in any way (written,
replaced by rename, removed, its permissions changed), nor once a path rule
refuses it (a link swapped to lead out of the tree).

The files here are made in the test, so their change time is now: each
test's cache has a clock far enough ahead that they count as settled (see
L{cache.RACY_SECONDS}), except where the test is about that.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from test_static import Client, write

from twisted_web_re import server, static
from twisted_web_re._files import cache as _cache

#: What every secret file holds: no response may contain it.
SECRET = b"TOP-SECRET-42"


def later() -> float:
    """A clock for which every file made in a test is settled."""
    return time.time() + 60


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths L{static.File} opens, in order."""
    opened: list[str] = []
    real = static._openFile

    def recording(path: str) -> IO[bytes]:
        opened.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(static, "_openFile", recording)
    yield opened


@pytest.fixture
def www(tmp_path: Path) -> Path:
    """A published directory, with a secret file beside it."""
    write(tmp_path / "secret.txt", SECRET)
    root = tmp_path / "www"
    write(root / "a.txt", b"first")
    write(root / "b.txt", b"second")
    write(root / "sub" / "c.txt", b"third")
    return root


def undated(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The header fields but C{Date}, which changes from second to second."""
    return [(name, value) for name, value in headers if name.lower() != b"date"]


def serving(root: Path, **bounds: int) -> tuple[Client, static.FileCache]:
    """A client of a site publishing C{root} with a settled cache."""
    fileCache = static.FileCache(clock=later, **bounds)
    return Client(static.File(str(root), fileCache=fileCache)), fileCache


def test_readOnce(www: Path, opens: list[str]) -> None:
    """
    A small file is opened for the first request only; later ones get the
    same bytes and validators from memory.
    """
    client, fileCache = serving(www)
    first = client.request(b"/a.txt")
    again = [client.request(b"/a.txt") for _ in range(3)]
    assert opens == ["a.txt"]
    assert len(fileCache) == 1 and fileCache.size == len(b"first")
    for response in again:
        assert response.status == 200 and response.body == b"first"
        assert undated(response.headers) == undated(first.headers)


def test_defaultCachePerTree(www: Path, opens: list[str]) -> None:
    """
    By default a File tree has a cache of its own, handed on to the Files
    it makes for its entries; C{fileCache=None} reads the file every time.
    """
    root = static.File(str(www))
    client = Client(root)
    client.request(b"/a.txt")
    assert isinstance(root.fileCache, static.FileCache)
    assert root.fileCache is not static.File(str(www))._cache()
    uncached = Client(static.File(str(www), fileCache=None))
    for _ in range(2):
        assert uncached.request(b"/a.txt").body == b"first"
    assert opens == ["a.txt", "a.txt", "a.txt"]


def mtimeKept(path: Path, content: bytes) -> None:
    """Write C{content} to C{path} in place, putting back its mtime."""
    info = path.stat()
    with open(path, "r+b") as f:
        f.write(content)
        f.truncate()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def replaced(path: Path, content: bytes) -> None:
    """Replace C{path} by renaming a new file with the same mtime over it."""
    info = path.stat()
    new = path.with_name(path.name + ".new")
    new.write_bytes(content)
    os.utime(new, ns=(info.st_atime_ns, info.st_mtime_ns))
    os.replace(new, path)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda path: write(path, b"changed!"), id="written"),
        pytest.param(lambda path: mtimeKept(path, b"FIRST"), id="same-size-mtime"),
        pytest.param(lambda path: replaced(path, b"FIRST"), id="renamed-over"),
    ],
)
def test_changedFileReadAgain(
    www: Path, opens: list[str], change: Callable[[Path], object]
) -> None:
    """
    A file changed after it was kept is read again for the next request,
    even when its size and modification time are as before (its inode or
    change time tell).
    """
    client = serving(www)[0]
    assert client.request(b"/a.txt").body == b"first"
    change(www / "a.txt")
    response = client.request(b"/a.txt")
    assert response.body == (www / "a.txt").read_bytes() != b"first"
    assert opens == ["a.txt", "a.txt"]
    assert client.request(b"/a.txt").body == response.body
    assert opens == ["a.txt", "a.txt"]


def test_removed(www: Path) -> None:
    """A kept file that is removed is 404 at once."""
    client = serving(www)[0]
    assert client.request(b"/a.txt").status == 200
    (www / "a.txt").unlink()
    assert client.request(b"/a.txt").status == 404


def test_permissionsChanged(www: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    A kept file whose permissions change is opened again, so that a file
    made unreadable is 403 at once (whoever the server runs as: the open is
    refused by hand where it is root).
    """
    client = serving(www)[0]
    assert client.request(b"/a.txt").status == 200
    real = static._openFile

    def asTheModeSays(path: str) -> IO[bytes]:
        if not os.stat(path).st_mode & 0o444:
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(static, "_openFile", asTheModeSays)
    (www / "a.txt").chmod(0)
    try:
        response = client.request(b"/a.txt")
    finally:
        (www / "a.txt").chmod(0o644)
    assert response.status == 403 and b"first" not in response.body


def test_linkSwappedOut(www: Path) -> None:
    """
    A link inside the tree whose file was kept, swapped (by rename, as
    C{ln -sfn} does) for one leading out of the tree, is refused at once:
    the path rules hold for every request, kept file or not.
    """
    (www / "link").symlink_to(www / "a.txt")
    client = serving(www)[0]
    assert client.request(b"/link").body == b"first"
    assert client.request(b"/link").body == b"first"
    (www / "link.new").symlink_to(www.parent / "secret.txt")
    os.replace(www / "link.new", www / "link")
    response = client.request(b"/link")
    assert response.status == 404 and SECRET not in response.body


def test_linkTargetChanged(www: Path) -> None:
    """
    A link inside the tree is served as its target is now: the target is
    compared with what was kept, not the link.
    """
    (www / "link").symlink_to(www / "a.txt")
    client = serving(www)[0]
    assert client.request(b"/link").body == b"first"
    replaced(www / "a.txt", b"FIRST")
    assert client.request(b"/link").body == b"FIRST"


def test_directorySwappedOut(www: Path) -> None:
    """
    A directory whose file was kept, replaced by a link leading out of the
    tree, is refused at once.
    """
    client = serving(www)[0]
    assert client.request(b"/sub/c.txt").body == b"third"
    outside = www.parent / "outside"
    write(outside / "c.txt", SECRET)
    (www / "sub").rename(www.parent / "old-sub")
    (www / "sub").symlink_to(outside, target_is_directory=True)
    response = client.request(b"/sub/c.txt")
    assert response.status == 404 and SECRET not in response.body


def test_recentlyChangedNotKept(www: Path, opens: list[str]) -> None:
    """
    A file changed less than L{cache.RACY_SECONDS} ago is read for every
    request: it could change again within the file system's clock tick,
    unseen by its status.
    """
    fileCache = static.FileCache()
    client = Client(static.File(str(www), fileCache=fileCache))
    for _ in range(2):
        assert client.request(b"/a.txt").body == b"first"
    assert opens == ["a.txt", "a.txt"] and len(fileCache) == 0
    fileCache.clock = lambda: os.stat(www / "a.txt").st_ctime + _cache.RACY_SECONDS
    client.request(b"/a.txt")
    client.request(b"/a.txt")
    assert opens == ["a.txt"] * 3 and len(fileCache) == 1


def test_bounds(www: Path, opens: list[str]) -> None:
    """
    The cache keeps no more files than C{maxEntries}, no more bytes than
    C{maxBytes} and no file larger than C{maxFileSize}, dropping the files
    kept first; every answer is right whatever was dropped.
    """
    client, fileCache = serving(www, maxEntries=2)
    for name in (b"a.txt", b"b.txt", b"sub/c.txt", b"a.txt"):
        assert client.request(b"/" + name).status == 200
    assert len(fileCache) == 2 and opens == ["a.txt", "b.txt", "c.txt", "a.txt"]
    client, fileCache = serving(www, maxBytes=len(b"first") + len(b"third"))
    for name in (b"a.txt", b"sub/c.txt", b"b.txt"):
        client.request(b"/" + name)
    assert fileCache.size <= len(b"first") + len(b"third")
    assert client.request(b"/b.txt").body == b"second"
    client, fileCache = serving(www, maxFileSize=5)
    client.request(b"/a.txt")
    client.request(b"/b.txt")
    assert len(fileCache) == 1 and client.request(b"/b.txt").body == b"second"
    with pytest.raises(ValueError):
        static.FileCache(maxBytes=-1)


def test_subclassOpeningItsOwnWay(www: Path) -> None:
    """
    A File subclass that opens files its own way (L{File.openForReading})
    is asked for every request, the cache bypassed.
    """
    calls: list[str] = []

    class Opening(static.File):
        def openForReading(self) -> IO[bytes]:
            calls.append(self.basename())
            return super().openForReading()

    client = Client(Opening(str(www), fileCache=static.FileCache(clock=later)))
    for _ in range(3):
        assert client.request(b"/a.txt").body == b"first"
    assert calls == ["a.txt"] * 3


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ((), 200, b"first"),
        (((b"range", b"bytes=1-2"),), 206, b"ir"),
        (((b"if-modified-since", b"Sat, 01 Jan 2050 00:00:00 GMT"),), 304, b""),
        (((b"if-match", b'"nope"'),), 412, b""),
    ],
)
def test_keptAnswersAlike(
    www: Path, headers: tuple[tuple[bytes, bytes], ...], status: int, body: bytes
) -> None:
    """
    A kept file answers conditional, range and HEAD requests exactly as a
    file read for the request does.
    """
    for method in (b"GET", b"HEAD"):
        client, fileCache = serving(www)
        uncached = Client(static.File(str(www), fileCache=None))
        client.request(b"/a.txt")
        assert len(fileCache) == 1
        kept = client.request(b"/a.txt", method, headers)
        fresh = uncached.request(b"/a.txt", method, headers)
        assert kept.status == fresh.status
        assert undated(kept.headers) == undated(fresh.headers)
        assert kept.body == fresh.body
        if method == b"GET":
            assert (kept.status, kept.body) == (status, body)


def test_keptFileEndsWithTheResponse(www: Path) -> None:
    """
    A kept file reaches the connection with the end of the response, in one
    step, not as a body write then an end.
    """
    client, _ = serving(www)
    client.request(b"/a.txt")
    channel: Any = client.channel
    writes: list[bytes] = []
    ends: list[bytes] = []
    writeBody, endResponse = channel.writeBody, channel.endResponse

    def recordingWriteBody(data: bytes) -> None:
        writes.append(data)
        writeBody(data)

    def recordingEndResponse(last: bytes = b"") -> None:
        ends.append(last)
        endResponse(last)

    channel.writeBody = recordingWriteBody
    channel.endResponse = recordingEndResponse
    kept = client.request(b"/a.txt")
    assert (kept.status, kept.body) == (200, b"first")
    assert writes == []
    assert ends == [b"first"]


def test_keptFileThroughOverriddenSetHeader(www: Path) -> None:
    """
    A request class overriding C{setHeader} and C{write} sees the file's
    fields set and its body written through them, and its client gets what
    a plain request's does.
    """
    names: list[bytes] = []
    bodies: list[bytes] = []

    class Recording(server.Request):
        def setHeader(self, name: bytes | str, value: bytes | str) -> None:
            names.append(name if isinstance(name, bytes) else name.encode())
            super().setHeader(name, value)

        def write(self, data: bytes) -> None:
            bodies.append(data)
            super().write(data)

    plain, _ = serving(www)
    client, fileCache = serving(www)
    client.channel.requestFactory = Recording  # type: ignore[assignment]
    for _ in range(2):
        names.clear()
        bodies.clear()
        got = client.request(b"/a.txt")
        expected = plain.request(b"/a.txt")
        assert {b"etag", b"last-modified", b"accept-ranges", b"content-length"} <= set(
            names
        )
        assert bodies == [b"first"]
        assert got.status == expected.status
        assert undated(got.headers) == undated(expected.headers)
        assert got.body == expected.body
    assert len(fileCache) == 1
