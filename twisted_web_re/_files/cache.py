"""
L{FileCache}: what serving a small file takes, kept between requests, so
that a hot file costs no C{open}, C{fstat}, C{read} or C{close}, and no
formatting of its validators.

An entry is never trusted on its own: each request compares it with the
file's status read then (the C{lstat} the URL's path rules make anyway, or a
C{stat}), and an entry whose file changed in any way the status shows (a new
inode, as when a file is replaced by rename; another size, modification or
change time; other permissions) is dropped and the file read again.  The
path rules themselves (see L{twisted_web_re._files.paths}) are applied to
every request before the cache is asked, so a link swapped to lead out of
the tree is refused as it would be without a cache.

The one change a status cannot show is a write within the same tick of the
file system's clock as the read that filled the entry (same size, same
times): contents are therefore kept only when the file's last change is
older than L{RACY_SECONDS}, as git does for its index.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import lru_cache

from twisted_web_re._publish.headerparse import formatHTTPDate

__all__ = ["RACY_SECONDS", "CachedFile", "FileCache", "statusKey"]

#: A file changed less than this many seconds before it was read may change
#: again without its status showing it: its contents are not kept.
RACY_SECONDS = 2.0

_StatusKey = tuple[int, int, int, int, int, int]


def statusKey(info: os.stat_result) -> _StatusKey:
    """
    Return what of a file's status says it is the same, unchanged file: its
    inode and device, size, modification and change times (to the
    nanosecond), and mode (type and permissions).
    """
    return (
        info.st_ino,
        info.st_dev,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
        info.st_mode,
    )


@lru_cache(maxsize=1024)
def _lastModified(seconds: int) -> bytes:
    """The C{Last-Modified} value for a time, formatted once per time."""
    return formatHTTPDate(seconds)


class CachedFile:
    """
    What is kept of one file.

    @ivar key: the L{statusKey} of the file when it was read.
    @ivar info: its status then.
    @ivar etag: its entity tag.
    @ivar lastModified: its modification time, whole seconds.
    @ivar lastModifiedHeader: the same, formatted as an HTTP date.
    @ivar data: its contents.
    """

    __slots__ = ("data", "etag", "info", "key", "lastModified", "lastModifiedHeader")

    def __init__(
        self,
        info: os.stat_result,
        etag: bytes,
        lastModifiedHeader: bytes,
        data: bytes,
    ) -> None:
        self.key = statusKey(info)
        self.info = info
        self.etag = etag
        self.lastModified = int(info.st_mtime)
        self.lastModifiedHeader = lastModifiedHeader
        self.data = data

    @classmethod
    def ofStatus(cls, info: os.stat_result, data: bytes = b"") -> CachedFile:
        """
        Return the entry of a file of status C{info}: its entity tag (its
        size and modification time to the nanosecond, so that it changes
        whenever either does) and C{Last-Modified}, with C{data}.
        """
        return cls(
            info,
            b'"%x-%x"' % (info.st_size, info.st_mtime_ns),
            _lastModified(int(info.st_mtime)),
            data,
        )


class FileCache:
    """
    A bounded cache of small files' contents and validators, shared by the
    L{twisted_web_re.static.File}s of one tree (see L{File.fileCache}).

    When full, the entries stored first are dropped first.

    @ivar maxEntries: the most files kept.
    @ivar maxBytes: the most bytes of contents kept, in all.
    @ivar maxFileSize: the largest file kept; larger files are read for each
        request (and stream).
    @ivar clock: returns the time now, in seconds since the epoch (the
        clock of files' change times).
    """

    def __init__(
        self,
        maxEntries: int = 1024,
        maxBytes: int = 8 * 1024 * 1024,
        maxFileSize: int = 64 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """
        @param maxEntries: see L{maxEntries}.
        @param maxBytes: see L{maxBytes}.
        @param maxFileSize: see L{maxFileSize}.
        @param clock: see L{clock}.
        @raise ValueError: a bound is negative.
        """
        if min(maxEntries, maxBytes, maxFileSize) < 0:
            raise ValueError("a FileCache's bounds cannot be negative")
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxFileSize = maxFileSize
        self.clock = clock
        self._entries: dict[str, CachedFile] = {}
        self._bytes = 0

    def __len__(self) -> int:
        """The number of files kept."""
        return len(self._entries)

    @property
    def size(self) -> int:
        """The bytes of contents kept."""
        return self._bytes

    def get(self, path: str, info: os.stat_result) -> CachedFile | None:
        """
        Return the entry for the file at C{path} if its status is still
        C{info}; else drop it, and return C{None}.

        @param info: the file's status, read now.
        """
        entry = self._entries.get(path)
        if entry is None:
            return None
        if entry.key == statusKey(info):
            return entry
        self.discard(path)
        return None

    def wants(self, info: os.stat_result) -> bool:
        """
        Return whether a file of status C{info} may be kept: small enough,
        and last changed long enough ago (see L{RACY_SECONDS}).
        """
        if info.st_size > self.maxFileSize or info.st_size > self.maxBytes:
            return False
        if not self.maxEntries:
            return False
        return self.clock() - info.st_ctime >= RACY_SECONDS

    def put(self, path: str, entry: CachedFile) -> None:
        """
        Keep C{entry} for the file at C{path}, dropping the oldest entries
        as the bounds require.
        """
        self.discard(path)
        entries = self._entries
        size = len(entry.data)
        while entries and (
            len(entries) >= self.maxEntries or self._bytes + size > self.maxBytes
        ):
            self.discard(next(iter(entries)))
        entries[path] = entry
        self._bytes += size

    def discard(self, path: str) -> None:
        """Forget the file at C{path}, if it is kept."""
        entry = self._entries.pop(path, None)
        if entry is not None:
            self._bytes -= len(entry.data)

    def clear(self) -> None:
        """Forget every file."""
        self._entries.clear()
        self._bytes = 0
