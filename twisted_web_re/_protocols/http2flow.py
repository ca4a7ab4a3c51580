"""
The outbound side of HTTP/2 flow control: response data held for each stream
until the client's windows (the stream's and the connection's) let it go,
sent a frame per stream in turn so that one large body cannot starve the
others, and the time each stream has waited for a window, so that a client
that never opens it (a slow-read attack) is found.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from h2.connection import H2Connection


class _Held:
    """
    What one stream holds to send.

    @ivar chunks: the data, oldest first; the first may be partly sent.
    @ivar offset: how much of the first chunk is sent.
    @ivar size: bytes held.
    @ivar end: whether the stream ends once they are sent.
    @ivar stalledSince: when the stream started waiting for a window with
        data to send, or C{None}.
    """

    __slots__ = ("chunks", "end", "offset", "size", "stalledSince")

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.offset = 0
        self.size = 0
        self.end = False
        self.stalledSince: float | None = None


class OutboundFlow:
    """
    Holds and sends the response data of every stream of one connection
    through its C{h2} engine, within the client's windows.

    It only hands data to the engine; the connection sends what the engine
    then has to send.
    """

    def __init__(
        self,
        engine: H2Connection,
        now: Callable[[], float],
        drained: Callable[[int], None],
    ) -> None:
        """
        @param engine: the connection's C{h2} engine.
        @param now: the current time.
        @param drained: called with a stream's id when some of the data it
            held has been sent, so that its producer may be resumed.
        """
        self._engine = engine
        self._now = now
        self._drained = drained
        self._held: dict[int, _Held] = {}
        self._resumed: set[int] | None = None

    def held(self, streamId: int) -> int:
        """Return the bytes C{streamId} holds unsent."""
        held = self._held.get(streamId)
        return 0 if held is None else held.size

    def window(self, streamId: int) -> int:
        """Return how much C{streamId} may send now."""
        try:
            return self._engine.local_flow_control_window(streamId)
        except Exception:
            return 0

    def send(self, streamId: int, data: bytes, end: bool) -> None:
        """
        Send C{data} on C{streamId}, and end the stream after it when C{end};
        what the windows do not allow now is held.
        """
        held = self._held.get(streamId)
        if held is None:
            if not data:
                if end:
                    self._engine.end_stream(streamId)
                return
            engine = self._engine
            if len(data) <= engine.max_outbound_frame_size and len(data) <= self.window(
                streamId
            ):
                # Nothing waits and the windows allow it all: one frame now.
                engine.send_data(streamId, data, end_stream=end)
                return
            held = self._held[streamId] = _Held()
        if data:
            held.chunks.append(data)
            held.size += len(data)
        held.end = held.end or end
        if held.size == len(data):
            # Nothing was waiting before this: send what the windows allow.
            self._push(streamId, held, None)

    def discard(self, streamId: int) -> int:
        """
        Forget what C{streamId} holds (it was reset): return how many bytes
        are dropped unsent.
        """
        held = self._held.pop(streamId, None)
        return 0 if held is None else held.size

    def resume(self) -> None:
        """
        A window opened (a WINDOW_UPDATE or SETTINGS arrived): send what the
        windows now allow, a frame per stream in turn.  The streams that sent
        some are told once all is sent, not between frames: a producer
        resumed while its stream still holds data the windows will let go in
        the next turn would add a write to it, past C{h2StreamBuffer}.
        """
        resumed = self._resumed = set()
        try:
            progress = True
            while progress and self._held:
                progress = False
                for streamId, held in list(self._held.items()):
                    before = held.size
                    if self._push(streamId, held, 1) or held.size != before:
                        progress = True
        finally:
            self._resumed = None
        for streamId in sorted(resumed):
            self._drained(streamId)

    def _push(self, streamId: int, held: _Held, frames: int | None) -> bool:
        """
        Send up to C{frames} frames (no limit for C{None}) of what C{held}
        holds for C{streamId}.

        @return: whether the stream is done (all sent, ended).
        """
        engine = self._engine
        chunks = held.chunks
        sent = 0
        while chunks and frames != 0:
            window = self.window(streamId)
            if window <= 0:
                break
            chunk = chunks[0]
            offset = held.offset
            size = min(window, engine.max_outbound_frame_size, len(chunk) - offset)
            if offset == 0 and size == len(chunk):
                piece = chunk
                chunks.popleft()
            else:
                piece = chunk[offset : offset + size]
                if offset + size == len(chunk):
                    chunks.popleft()
                    held.offset = 0
                else:
                    held.offset = offset + size
            held.size -= size
            sent += size
            engine.send_data(streamId, piece, end_stream=held.end and not chunks)
            if frames is not None:
                frames -= 1
        if sent:
            held.stalledSince = None
        if chunks:
            if held.stalledSince is None and self.window(streamId) <= 0:
                held.stalledSince = self._now()
            if sent:
                self._sent(streamId)
            return False
        del self._held[streamId]
        if held.end and not sent:
            engine.end_stream(streamId)
        if sent:
            self._sent(streamId)
        return True

    def _sent(self, streamId: int) -> None:
        """Some of C{streamId}'s data went: tell it, now or after L{resume}."""
        resumed = self._resumed
        if resumed is None:
            self._drained(streamId)
        else:
            resumed.add(streamId)

    def stalled(self, timeout: float) -> list[tuple[int, bool]]:
        """
        Return the streams whose data has waited for a window longer than
        C{timeout} seconds, each with whether the connection's window (rather
        than the stream's own) is the one closed.
        """
        deadline = self._now() - timeout
        connectionClosed = self._engine.outbound_flow_control_window <= 0
        return [
            (streamId, connectionClosed)
            for streamId, held in self._held.items()
            if held.stalledSince is not None and held.stalledSince <= deadline
        ]

    def oldestStall(self) -> float | None:
        """When the longest-waiting stream started waiting, or C{None}."""
        stalls = [
            h.stalledSince for h in self._held.values() if h.stalledSince is not None
        ]
        return min(stalls) if stalls else None
