"""
A front request's body, as the personal server reads it: in pieces, each
asked for with C{readBody} (see L{twisted_web_re._distrib.relay}).

The body is either already stored (L{SpooledBody}: the front's Site read it
whole before rendering) or still arriving from the client (L{StreamedBody}:
the front's Site located the subscription from the head, and hands it each
piece as it arrives).  A streamed body is held back by the client's own
connection: once L{UPLOAD_BUFFER} bytes wait for the personal server, the
front stops reading its client until the personal server has taken them.
"""

from __future__ import annotations

from collections import deque
from typing import IO

from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from twisted_web_re._distrib.limits import UPLOAD_BUFFER
from twisted_web_re.iweb import IRequest


class SpooledBody:
    """
    A body stored whole by the front's Site.

    @ivar length: its length.
    """

    def __init__(self, content: IO[bytes], length: int) -> None:
        """
        @param content: the stored body, positioned at its start.
        @param length: its length.
        """
        self.length: int | None = length
        self._content = content
        self._left = length

    def read(self, size: int) -> bytes | Deferred[bytes]:
        """
        @param size: the most bytes wanted.
        @return: the next piece; C{b""} at the end.
        """
        data = self._content.read(min(size, self._left))
        self._left -= len(data)
        return data

    def close(self, reason: Failure | None = None) -> None:
        """Nothing more will be read."""


class StreamedBody:
    """
    A body still arriving from the front's client.

    @ivar length: its declared length, or L{None} when it is chunked.
    """

    def __init__(self, request: IRequest, length: int | None) -> None:
        """
        @param request: the front's request, paused and resumed with the
            personal server's reading.
        @param length: the declared length, or L{None}.
        """
        self.length = length
        self._request = request
        self._pieces: deque[bytes] = deque()
        self._held = 0
        self._ended = False
        self._closed = False
        self._paused = False
        self._reader: tuple[Deferred[bytes], int] | None = None

    @property
    def complete(self) -> bytes | None:
        """The whole body, once all of it arrived and none was read; else
        L{None}."""
        if self._ended and not self._closed:
            return b"".join(self._pieces)
        return None

    def received(self, data: bytes) -> None:
        """
        The next piece arrived from the client: give it to a waiting reader,
        or hold it, and stop reading the client while too much is held.
        """
        if self._closed or not data:
            return
        self._pieces.append(data)
        self._held += len(data)
        reader, self._reader = self._reader, None
        if reader is not None:
            d, size = reader
            d.callback(self._take(size))
        if self._held > UPLOAD_BUFFER and not self._paused:
            self._paused = True
            self._request.pauseUpload()  # type: ignore[attr-defined]

    def ended(self) -> None:
        """The whole body arrived: a waiting reader gets the end."""
        self._ended = True
        reader, self._reader = self._reader, None
        if reader is not None:
            reader[0].callback(self._take(reader[1]))

    def read(self, size: int) -> bytes | Deferred[bytes]:
        """
        @param size: the most bytes wanted.
        @return: the next piece, at once if some is held; a Deferred firing
            with it once it arrives; C{b""} at the end.
        @raise RuntimeError: a read is already waiting.
        """
        if self._pieces or self._ended:
            return self._take(size)
        if self._reader is not None:
            raise RuntimeError("a piece of the body is already awaited")
        d: Deferred[bytes] = Deferred()
        self._reader = (d, size)
        return d

    def close(self, reason: Failure | None = None) -> None:
        """
        Nothing more will be read: forget what is held, and fail a waiting
        reader with C{reason}.
        """
        self._closed = True
        self._pieces.clear()
        self._held = 0
        reader, self._reader = self._reader, None
        if reader is not None and reason is not None:
            reader[0].errback(reason)

    def _take(self, size: int) -> bytes:
        taken: list[bytes] = []
        want = size
        pieces = self._pieces
        while pieces and want > 0:
            piece = pieces.popleft()
            if len(piece) > want:
                pieces.appendleft(piece[want:])
                piece = piece[:want]
            taken.append(piece)
            want -= len(piece)
        data = b"".join(taken)
        self._held -= len(data)
        if self._paused and self._held <= UPLOAD_BUFFER // 2:
            self._paused = False
            # Resuming may deliver buffered pieces at once, into received().
            self._request.resumeUpload()  # type: ignore[attr-defined]
        return data


__all__ = ["SpooledBody", "StreamedBody"]
