"""
Streaming a response body out of an open file, a block at a time, with
back-pressure: the producer behind large static files and C{.asis} bodies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING

from twisted.internet.interfaces import IDelayedCall, IPushProducer, IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

if TYPE_CHECKING:
    from twisted_web_re.http import Request

_log = Logger()

#: The size of each read from a streamed file.
BLOCK_SIZE = 64 * 1024

#: Bytes a streamed response writes in one reactor turn, at most, before it
#: lets the other connections have their turn.
TURN_BUDGET = 16 * BLOCK_SIZE


@implementer(IPushProducer)
class FileProducer:
    """
    Writes a response body made of literal pieces and spans of an open file,
    a block at a time, stopping while the connection pushes back, so that no
    more than a block or two of the file is ever in memory.
    """

    def __init__(
        self,
        request: Request,
        opened: IO[bytes],
        pieces: Sequence[bytes | tuple[int, int]],
        reactor: IReactorTime,
        sendFile: Callable[[int, int, int], int] | None = None,
    ) -> None:
        """
        @param request: the request whose body this writes, and finishes (or
            cuts, with C{abortConnection}, if the file fails or shrinks).
        @param opened: the file, open for reading; closed when done.
        @param pieces: the body: bytes written as they are, and inclusive
            C{(first, last)} byte spans of the file.
        @param reactor: the reactor whose turns the writing is spread over.
        @param sendFile: given C{(fd, offset, count)}, sends up to C{count}
            bytes of the body straight from C{opened}'s descriptor and says
            how many it sent, as C{HTTPChannel.sendFileRegion} does: 0 when
            it cannot now (the bytes are then read and written), or a
            negative number when the socket is full and this producer was
            paused until it has room.  C{None} to read and write every
            block.
        """
        self._request = request
        self._file = opened
        self._pieces = iter(pieces)
        self._reactor = reactor
        self._left = 0
        self._offset = 0
        self._moved = False
        self._sendFile = sendFile
        self._paused = False
        self._running = False
        self._stopped = False
        self._later: IDelayedCall | None = None

    def start(self) -> None:
        """
        Register with the request and write the first block, which goes out
        with the response head; the rest follows in later reactor turns.
        """
        self._request.registerProducer(self, True)
        self._produce(BLOCK_SIZE)

    def _produce(self, budget: int) -> None:
        """
        Write until paused, stopped, done, or C{budget} bytes are written (then
        carry on in the next reactor turn).
        """
        self._running = True
        written = 0
        try:
            while not self._paused and not self._stopped:
                if not self._left:
                    piece = next(self._pieces, None)
                    if piece is None:
                        self._finish()
                        return
                    if isinstance(piece, bytes):
                        written += len(piece)
                        self._request.write(piece)
                    else:
                        self._file.seek(piece[0])
                        self._offset = piece[0]
                        self._left = piece[1] - piece[0] + 1
                    continue
                if written >= budget:
                    self._later = self._reactor.callLater(0, self._continue)
                    return
                if self._sendFile is not None:
                    sent = self._sendFile(self._file.fileno(), self._offset, self._left)
                    if sent > 0:
                        self._offset += sent
                        self._left -= sent
                        written += sent
                        self._moved = True
                        continue
                    if sent < 0 and self._paused:
                        # The socket is full; the connection resumes this
                        # producer when it has room.
                        return
                if self._moved:
                    # sendfile reads at an offset, leaving the file's own
                    # position behind.
                    self._file.seek(self._offset)
                    self._moved = False
                data = self._file.read(min(BLOCK_SIZE, self._left))
                if not data:
                    _log.warn(
                        "{file!r} shrank while it was served to {request!r}; "
                        "the response is cut",
                        file=self._file,
                        request=self._request,
                    )
                    self._cut()
                    return
                self._left -= len(data)
                self._offset += len(data)
                written += len(data)
                self._request.write(data)
        except OSError:
            _log.failure("Reading {file!r} failed", file=self._file)
            self._cut()
        finally:
            self._running = False

    def _continue(self) -> None:
        self._later = None
        self._produce(TURN_BUDGET)

    def _finish(self) -> None:
        """The body is written (or the file ended early): end the response."""
        self.stopProducing()
        self._request.unregisterProducer()
        self._request.finish()

    def _cut(self) -> None:
        """
        The rest of the body will never come: drop the connection, so that
        the client cannot take the part sent for the whole (a chunked or
        gzip-coded response would otherwise end as if complete).
        """
        self.stopProducing()
        self._request.unregisterProducer()
        self._request.abortConnection()

    def pauseProducing(self) -> None:
        """The connection's buffer is full: stop reading."""
        self._paused = True

    def resumeProducing(self) -> None:
        """The connection's buffer drained: carry on."""
        self._paused = False
        if not self._running and self._later is None and not self._stopped:
            self._produce(TURN_BUDGET)

    def stopProducing(self) -> None:
        """The response is over (or the client gone): close the file."""
        self._stopped = True
        later, self._later = self._later, None
        if later is not None and later.active():
            later.cancel()
        self._file.close()
