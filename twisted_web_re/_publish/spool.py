"""
Where a request body is stored while it arrives, and what the server answers
when it cannot be stored (a full disk, a quota, a file size limit).

A failure to store a body is the server's, not the client's, but it happens
while the client is still sending: the channel answers it at once, stops
reading the body and closes the connection, as it does for a peer error.
"""

from __future__ import annotations

import errno
import tempfile
from io import BytesIO
from typing import IO

from twisted_web_re.iweb import RequestBodyError

#: C{errno} values meaning "no room": answered 507 Insufficient Storage (RFC
#: 4918 section 11.5).  Any other failure to store a body is answered 500.
NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class BodyStorageError(RequestBodyError):
    """
    A request body could not be stored.

    @ivar status: the status to answer with: 507 when there is no room, 500
        for any other failure.
    @ivar reason: a fixed explanation, safe to send to the client (it names
        no path and no system detail).
    @ivar problem: the system's explanation, for the server's log.
    """

    def __init__(self, status: int, reason: str, problem: str) -> None:
        super().__init__(status, reason, problem)
        self.status = status
        self.reason = reason
        self.problem = problem


def storageError(error: OSError) -> BodyStorageError:
    """
    Return the L{BodyStorageError} that C{error}, met while storing a request
    body, earns.
    """
    problem = f"[Errno {error.errno}] {error.strerror or error}"
    if error.errno in NO_ROOM_ERRNOS:
        return BodyStorageError(
            507, "the server has no room to store the request body", problem
        )
    return BodyStorageError(500, "the server could not store the request body", problem)


def openSpool(length: int | None, memoryLimit: int) -> IO[bytes]:
    """
    Return an empty file for a request body of C{length} bytes (C{None}:
    unknown): in memory up to C{memoryLimit} bytes, a temporary file beyond.

    @raise BodyStorageError: the temporary file could not be created.
    """
    try:
        if length is None:
            return tempfile.SpooledTemporaryFile(max_size=memoryLimit)
        if length > memoryLimit:
            return tempfile.TemporaryFile()
    except OSError as error:
        raise storageError(error) from None
    return BytesIO()


def spoolWrite(file: IO[bytes], data: bytes) -> None:
    """
    Add C{data} to C{file}, flushed, so that a full disk is known now, while
    the client is still sending, and not when the body is read back.

    @raise OSError: it could not be written.
    """
    file.write(data)
    file.flush()


def closeQuietly(file: IO[bytes]) -> None:
    """
    Close C{file}, releasing its descriptor (and a temporary file's space)
    even when the flush that closing does fails again for want of room.
    """
    try:
        file.close()
    except OSError:
        # The buffered data is lost; the descriptor is closed all the same.
        pass
