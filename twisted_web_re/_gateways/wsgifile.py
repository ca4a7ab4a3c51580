"""
File bodies of WSGI responses: L{FileWrapper}, the C{wsgi.file_wrapper} an
application returns, and L{FileSender}, which sends a wrapped regular file
from the reactor thread a block at a time as the client takes it.
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from twisted.internet.interfaces import IDelayedCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from twisted_web_re._files.producer import BLOCK_SIZE, TURN_BUDGET
from twisted_web_re._gateways.reactor import Scheduler
from twisted_web_re.server import Request

__all__ = ["FileBody", "FileSender", "FileWrapper", "Outcome", "fileBody"]

_log = Logger()


class Outcome(enum.Enum):
    """How a response body that did not fail ended."""

    #: All of it was produced: the response is finished.
    COMPLETE = "complete"
    #: A file body ended before its length: the response is cut, never
    #: finished as if whole.
    CUT = "cut"


class FileWrapper:
    """
    C{wsgi.file_wrapper}: return C{FileWrapper(file)} to send a file as the
    response body.

    A wrapped regular file (one with a C{fileno()}) is sent from the reactor
    thread, from the file's current position, a block at a time as the client
    takes it, without a thread hop per block; the rest of the file is the
    response's C{Content-Length}, unless the application declared one, which
    then limits how much is sent.  Anything else is iterated in the worker
    thread, like any response.  Either way C{close()} closes the file, in a
    worker thread.

    @ivar filelike: the wrapped file-like object.
    @ivar blksize: the size of each read when iterated.
    """

    def __init__(self, filelike: Any, blksize: int = 8192) -> None:
        """
        @param filelike: the file, or any object with C{read(size)} (and
            perhaps C{close()}, C{fileno()} and C{tell()}).
        @param blksize: the size of each read when iterated.
        """
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self) -> Iterator[bytes]:
        """Yield the file's content, C{blksize} bytes at a time."""
        read = self.filelike.read
        size = self.blksize
        while True:
            data = read(size)
            if not data:
                return
            yield data

    def close(self) -> None:
        """Close the wrapped file, if it can be closed."""
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


@dataclass
class FileBody:
    """
    A response body to be read from a file descriptor in the reactor thread.

    @ivar wrapper: the L{FileWrapper} the application returned, to be closed
        (in a worker thread) once sent.
    @ivar fd: the descriptor, positioned where sending starts.
    @ivar left: how many bytes remain to be sent.
    """

    wrapper: FileWrapper
    fd: int
    left: int


def fileBody(result: object, declared: int | None) -> FileBody | None:
    """
    If C{result} is a L{FileWrapper} of a regular file, position the file's
    descriptor and return what to send from it (no more than C{declared}
    bytes, the response's declared length, if any); else C{None}.  Called in
    the worker thread.
    """
    if type(result) is not FileWrapper:
        return None
    filelike = result.filelike
    try:
        fd = filelike.fileno()
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        offset = filelike.tell()
        os.lseek(fd, offset, os.SEEK_SET)
    except (AttributeError, TypeError, ValueError, OSError):
        return None
    left = max(info.st_size - offset, 0)
    if declared is not None:
        left = min(left, declared)
    return FileBody(result, fd, left)


class FileSender:
    """
    Sends a L{FileBody} to a request in the reactor thread: a block at a
    time until it is sent, the connection pushes back, or a turn's budget
    is spent (then it carries on in the next turn).
    """

    def __init__(
        self,
        body: FileBody,
        request: Request,
        reactor: Scheduler,
        isPaused: Callable[[], bool],
        sent: Callable[[Outcome | Failure], None],
    ) -> None:
        """
        @param body: what to send.
        @param request: the request it answers.
        @param reactor: the reactor for the next turn.
        @param isPaused: whether the connection pushes back now.
        @param sent: called once, when the body is sent, cut (the file
            shrank) or failed (reading it raised).
        """
        self.body = body
        self._request = request
        self._reactor = reactor
        self._isPaused = isPaused
        self._sent = sent
        self._later: IDelayedCall | None = None

    def pump(self) -> None:
        """Send blocks until done, pushed back, or this turn's budget is spent."""
        body = self.body
        request = self._request
        written = 0
        end: Outcome | Failure
        try:
            while body.left:
                if self._isPaused():
                    return
                if written >= TURN_BUDGET:
                    self._later = self._reactor.callLater(0, self._pumpLater)
                    return
                data = os.read(body.fd, min(BLOCK_SIZE, body.left))
                if not data:
                    _log.warn(
                        "{file!r} shrank while it was sent to {request!r}; "
                        "the response is cut",
                        file=body.wrapper.filelike,
                        request=request,
                    )
                    end = Outcome.CUT
                    break
                body.left -= len(data)
                written += len(data)
                request.write(data)
            else:
                end = Outcome.COMPLETE
        except OSError:
            end = Failure()
        self._sent(end)

    def resume(self) -> None:
        """The connection takes more: carry on, unless a turn is pending."""
        if self._later is None:
            self.pump()

    def cancel(self) -> None:
        """Send no more (the client went away)."""
        later, self._later = self._later, None
        if later is not None and later.active():
            later.cancel()

    def _pumpLater(self) -> None:
        self._later = None
        self.pump()
