"""
L{ChildCache}: the L{twisted_web_re.static.File}s a tree made for its
entries, kept between requests, so that a hot URL costs no new File.

It keeps no decision of the path rules: each request still applies them all
(the segment's checks, the C{lstat}, the link's target) before the cache is
asked, and an entry is used only while the entry's status is the one it was
made for: a file written, replaced, removed, its permissions changed, or a
link swapped gets a new File (and its contents are checked again by
L{twisted_web_re._files.cache.FileCache} in any case).
"""

from __future__ import annotations

import os
from typing import Generic, TypeVar

from twisted_web_re._files.cache import statusKey

__all__ = ["ChildCache"]

_Child = TypeVar("_Child")


class ChildCache(Generic[_Child]):
    """
    A bounded map from an entry's path to the File made for it and the
    status it had then, shared by the Files of one tree.  When full, the
    entries stored first are dropped first.

    @ivar maxEntries: the most entries kept.
    """

    def __init__(self, maxEntries: int = 1024) -> None:
        """
        @param maxEntries: see L{maxEntries}.
        """
        self.maxEntries = maxEntries
        self._entries: dict[str, tuple[tuple[int, ...], _Child]] = {}

    def __len__(self) -> int:
        """The number of entries kept."""
        return len(self._entries)

    def get(self, path: str, info: os.stat_result) -> _Child | None:
        """
        Return the File kept for C{path} if its status is still C{info}
        (by L{statusKey}); else drop it and return C{None}.

        @param info: the entry's status (C{lstat}), read now.
        """
        entry = self._entries.get(path)
        if entry is None:
            return None
        if entry[0] == statusKey(info):
            return entry[1]
        del self._entries[path]
        return None

    def put(self, path: str, info: os.stat_result, child: _Child) -> None:
        """
        Keep C{child}, made for C{path} when its status was C{info},
        dropping the oldest entries as the bound requires.
        """
        entries = self._entries
        entries.pop(path, None)
        while entries and len(entries) >= self.maxEntries:
            del entries[next(iter(entries))]
        if self.maxEntries:
            entries[path] = (statusKey(info), child)
