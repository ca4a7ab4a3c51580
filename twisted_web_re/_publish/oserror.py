"""
What an operating-system error met while answering a request tells the
client: that the thing asked for is not there (404), that it may not be had
(403), or that the server cannot have it right now (503, with
C{Retry-After}, and a log line for the operator).

The last is everything else: a process out of descriptors (C{EMFILE}), a
system out of open-file slots (C{ENFILE}) or memory, a disk error.  None of
these says anything about the file, so claiming it is missing would be a lie
that caches and crawlers remember; and the server serves it again as soon as
the cause is gone, since nothing about the failure is kept.
"""

from __future__ import annotations

import errno

from twisted.logger import Logger

from twisted_web_re.iweb import IRequest
from twisted_web_re.resource import ErrorPage

_log = Logger()

#: Errors saying that a name leads to no file: it does not exist, a path
#: runs through a file, a chain of symbolic links loops, or the name is too
#: long for the file system to hold.  No retry can find a file there.
_MISSING = frozenset({errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG})

#: Errors saying that the file may not be had: permissions, or a file that is
#: no file to read (a socket, a device without its driver).
_FORBIDDEN = frozenset({errno.EACCES, errno.EPERM, errno.ENXIO, errno.ENODEV})

#: Errors saying that the server, not the file, is short of something it
#: needs to start a program: descriptors, memory, processes.
_EXHAUSTED = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN, errno.ENOBUFS}
)

#: Seconds a client is asked to wait before asking again after a 503: long
#: enough for connections to end and give their descriptors back.
RETRY_AFTER = 5


def isMissing(error: OSError) -> bool:
    """
    Whether C{error} says that no file is there (see L{_MISSING}), by its
    code or, for one made without a code, by its class.
    """
    return error.errno in _MISSING or isinstance(
        error, (FileNotFoundError, NotADirectoryError)
    )


def isForbidden(error: OSError) -> bool:
    """
    Whether C{error} says that the file may not be had (see L{_FORBIDDEN}),
    by its code or, for one made without a code, by its class.
    """
    return error.errno in _FORBIDDEN or isinstance(error, PermissionError)


def isExhausted(error: OSError) -> bool:
    """
    Whether C{error} says that the server ran short of descriptors, memory
    or processes (see L{_EXHAUSTED}), rather than anything about what it
    was asked to open or run.
    """
    return error.errno in _EXHAUSTED


class ServiceUnavailable(ErrorPage):
    """
    A 503 page asking the client to come back in L{retryAfter} seconds.

    @ivar retryAfter: the C{Retry-After} value, in seconds.
    """

    def __init__(
        self,
        message: str = "The server cannot answer this request right now.",
        retryAfter: int = RETRY_AFTER,
    ) -> None:
        super().__init__(503, "Service Unavailable", message)
        self.retryAfter = retryAfter

    def render(self, request: IRequest) -> bytes:
        """Answer 503 with C{Retry-After} and the page."""
        request.setHeader(b"retry-after", b"%d" % self.retryAfter)
        return super().render(request)


def unavailable(error: OSError, path: str) -> ServiceUnavailable:
    """
    Log, in one line, that C{path} could not be had because of C{error},
    and return the 503 page to answer with.

    @param path: the file or directory the server was opening.
    """
    _log.error(
        "Cannot open {path}: {error} (answered 503)",
        path=path,
        error=f"[Errno {error.errno}] {error.strerror}",
    )
    return ServiceUnavailable()
