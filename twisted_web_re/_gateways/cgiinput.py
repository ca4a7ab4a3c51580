"""
A CGI program's input: the request body, fed to it from its spool file
(L{ContentFeeder}) or as it arrives (L{CGIUpload}, slowed to the program's
pace by L{UploadThrottle}).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from twisted.internet.interfaces import IPullProducer, IPushProducer
from zope.interface import implementer

from twisted_web_re.server import Request

__all__ = ["BLOCK_SIZE", "CGIUpload", "ContentFeeder", "UploadThrottle"]

#: Bytes of a spooled request body written to a program's input at a time.
BLOCK_SIZE = 64 * 1024


class CGIUpload:
    """
    A request body that a L{CGIScript} takes as it arrives (with
    C{Site.locateBeforeBody}): piped to the program's input, or, when its
    length is unknown (chunked), spooled to C{request.content} so that the
    program can be told CONTENT_LENGTH.
    """

    def __init__(self, request: Request, spool: bool) -> None:
        """
        @param request: the request whose body it is.
        @param spool: spool the body rather than pipe it.
        """
        self.request = request
        self.spool = spool
        self._received: Callable[[bytes], None] | None = None
        self._complete: Callable[[], None] | None = None

    @property
    def piped(self) -> bool:
        """Whether a program takes the body (see L{pipeTo})."""
        return self._complete is not None

    def pipeTo(
        self, received: Callable[[bytes], None], complete: Callable[[], None]
    ) -> None:
        """
        Hand the body on to a program from now on.

        @param received: called with each next piece.
        @param complete: called once the whole body has arrived.
        """
        self._received = received
        self._complete = complete

    def received(self, data: bytes) -> None:
        """
        Hand on the next piece of the body.

        @raise BodyStorageError: a spooled body could not be stored.
        """
        if self._received is not None:
            self._received(data)
        elif self.spool:
            self.request.storeContent(data)

    def complete(self) -> None:
        """The whole body has arrived (piped to a program)."""
        if self._complete is not None:
            self._complete()


@implementer(IPullProducer)
class ContentFeeder:
    """
    Writes a complete request body, from its file, to a program's input a
    block at a time, as fast as the program reads it, then closes the input.
    """

    def __init__(
        self,
        content: IO[bytes],
        write: Callable[[bytes], None],
        close: Callable[[], None],
    ) -> None:
        """
        @param content: the body, at its start.
        @param write: write a block to the program's input.
        @param close: close the program's input.
        """
        self._content = content
        self._write = write
        self._close = close
        self._stopped = False

    def resumeProducing(self) -> None:
        """The input pipe drained: write the next block, or close it."""
        if self._stopped:
            return
        data = self._content.read(BLOCK_SIZE)
        if data:
            self._write(data)
            return
        self._stopped = True
        self._close()

    def stopProducing(self) -> None:
        """The input pipe is gone: write no more."""
        self._stopped = True


@implementer(IPushProducer)
class UploadThrottle:
    """
    Slows a streamed request body down to the pace at which the program reads
    its input: registered with the input pipe, it pauses the upload while the
    pipe's buffer is full.
    """

    def __init__(self, pauseUpload: Callable[[bool], None]) -> None:
        """
        @param pauseUpload: pause (C{True}) or resume (C{False}) the upload.
        """
        self._pauseUpload = pauseUpload

    def pauseProducing(self) -> None:
        """The program's input is full: stop reading the body."""
        self._pauseUpload(True)

    def resumeProducing(self) -> None:
        """The program's input drained: read the body again."""
        self._pauseUpload(False)

    def stopProducing(self) -> None:
        """The program's input is gone: the rest of the body is dropped."""
        self._pauseUpload(False)
