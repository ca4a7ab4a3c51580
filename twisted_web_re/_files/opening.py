"""
Opening a file a URL names, safely: never blocking on a FIFO, never leaking
the descriptor of a directory, and refusing anything but a regular file.
"""

from __future__ import annotations

import os
import stat
from typing import IO

__all__ = ["openFile", "regularInfo"]

# Opening a FIFO or a device for reading can block the whole server until a
# writer appears; O_NONBLOCK makes the open return at once, and the file is
# then refused because it is not a regular file.  (O_NONBLOCK changes nothing
# for reads of a regular file.)
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def openFile(path: str) -> IO[bytes]:
    """
    Open C{path} for reading, without blocking on a FIFO.

    @raise OSError: it cannot be opened.
    @raise IsADirectoryError: it is a directory.
    """
    fd = os.open(path, _OPEN_FLAGS)
    try:
        return open(fd, "rb", buffering=0)
    except BaseException:
        # open() refuses a directory (and may fail otherwise) without closing
        # the descriptor it was given: every such request would leak one.
        os.close(fd)
        raise


def regularInfo(opened: IO[bytes]) -> os.stat_result:
    """
    Return the status of the open file C{opened}, closing it unless it is a
    regular file.

    @raise IsADirectoryError: it is a directory.
    @raise PermissionError: it is neither a regular file nor a directory (a
        FIFO, a device, a socket): nothing a URL should reach.
    @raise OSError: its status cannot be read (it is closed).
    """
    try:
        info = os.fstat(opened.fileno())
    except BaseException:
        opened.close()
        raise
    if not stat.S_ISREG(info.st_mode):
        opened.close()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(opened.name)
        raise PermissionError(opened.name)
    return info
