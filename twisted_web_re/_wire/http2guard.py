"""
A guard against HTTP/2 floods: it reads the 9-byte header of every frame a
client sends, before the C{h2} library sees the frame, and stops the
connection as soon as the client goes over a limit.

The C{h2} library lets these through, or stops them only once the harm is done:
    - a frame longer than the advertised SETTINGS_MAX_FRAME_SIZE is refused by
      C{h2} only after all of it is buffered (up to 16 MiB);
    - a header block is buffered frame by frame up to 64 CONTINUATIONs before
      any limit applies, and its size is checked only once decoded;
    - RST_STREAM, SETTINGS, PING, PRIORITY, empty frames and tiny WINDOW_UPDATEs
      are answered (or processed) however many a client sends.

The guard is sans-IO: it is given bytes and the time, and answers with a
L{GuardVerdict} (the HTTP/2 error code for the GOAWAY, and one line for the
log) or C{None}.  It reads only frame headers, plus the 4-byte increment of a
WINDOW_UPDATE; payloads are skipped without being copied.  Every decision is
taken on the byte that completes a frame header (or an increment), so however
the stream is split the verdict comes at the same byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from struct import Struct

from h2.errors import ErrorCodes

from twisted_web_re._wire.limits import DEFAULT_LIMITS, Limits

#: What a client sends first on every HTTP/2 connection (RFC 9113 section 3.4).
CLIENT_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

#: SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 section 6.5.2), the least
#: a server may advertise.
DEFAULT_MAX_FRAME_SIZE = 16384

#: A WINDOW_UPDATE opening a window by less than this many bytes is counted
#: against L{Limits.h2MaxSmallWindowUpdatesPerSecond} (Tomcat's
#: C{overheadWindowUpdateThreshold}).
SMALL_WINDOW_INCREMENT = 1024

# Frame types (RFC 9113 section 6; PRIORITY_UPDATE is RFC 9218 section 7.1).
_DATA = 0x0
_HEADERS = 0x1
_PRIORITY = 0x2
_RST_STREAM = 0x3
_SETTINGS = 0x4
_PUSH_PROMISE = 0x5
_PING = 0x6
_WINDOW_UPDATE = 0x8
_CONTINUATION = 0x9
_PRIORITY_UPDATE = 0x10

# Flags.
_END_STREAM = 0x1
_END_HEADERS = 0x4

# Length (24 bits, as 16 + 8), type, flags, reserved bit and stream id.
_FRAME_HEADER = Struct(">HBBBL")
_FRAME_HEADER_SIZE = 9
_INCREMENT_SIZE = 4
_SETTING_SIZE = 6


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """
    Why a connection must be closed.

    @ivar errorCode: the HTTP/2 error code to send in GOAWAY, an
        L{h2.errors.ErrorCodes} member.
    @ivar problem: one line for the log, naming the limit and the attack.
    """

    errorCode: int
    problem: str


class Budget:
    """
    A token bucket: C{perSecond} tokens at most, refilled at C{perSecond} a
    second, one spent per frame.

    A bucket rather than a window: constant memory and work per frame whatever
    the client sends, and an exact bound (at most C{perSecond * (1 + t)} frames
    in any C{t} seconds), where a fixed window lets twice the limit through
    across its edge and a sliding one keeps a timestamp per frame.
    """

    __slots__ = ("_last", "_perSecond", "_tokens")

    def __init__(self, perSecond: int) -> None:
        self._perSecond = perSecond
        self._tokens = float(perSecond)
        self._last: float | None = None

    def spend(self, now: float) -> bool:
        """
        Spend a token at time C{now}.

        @return: C{False} if none was left.
        """
        if self._last is None:
            self._last = now
        elif now > self._last:
            self._tokens = min(
                self._perSecond, self._tokens + (now - self._last) * self._perSecond
            )
            self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def _calm(problem: str) -> GuardVerdict:
    return GuardVerdict(ErrorCodes.ENHANCE_YOUR_CALM, problem)


class FrameGuard:
    """
    Counts the frames of one HTTP/2 connection as its bytes arrive.

    Feed it every byte the client sends, in order and in any pieces, with
    L{scan}.  A verdict is final: once given, L{scan} returns it again for any
    later bytes, and the connection is to be closed with GOAWAY.

    @ivar verdict: the verdict given, or C{None} while the client keeps within
        the limits.
    """

    def __init__(
        self,
        limits: Limits = DEFAULT_LIMITS,
        *,
        maxFrameSize: int = DEFAULT_MAX_FRAME_SIZE,
        preface: bool = True,
    ) -> None:
        """
        @param limits: the C{h2} fields of these are applied.
        @param maxFrameSize: the SETTINGS_MAX_FRAME_SIZE the server advertises;
            a longer frame is a FRAME_SIZE_ERROR (RFC 9113 section 4.2).
        @param preface: C{True} (the usual case) if the bytes start with the
            24-byte client preface, which the guard then checks and skips;
            C{False} if they start at the first frame.
        @raise ValueError: if C{maxFrameSize} is outside the range RFC 9113
            section 6.5.2 allows.
        """
        if not DEFAULT_MAX_FRAME_SIZE <= maxFrameSize <= 2**24 - 1:
            raise ValueError(f"maxFrameSize out of range: {maxFrameSize!r}")
        self.verdict: GuardVerdict | None = None
        self._limits = limits
        self._maxFrameSize = maxFrameSize
        self._preface = CLIENT_PREFACE if preface else b""
        # Bytes of a frame header, or of a WINDOW_UPDATE's increment, split
        # across reads.
        self._partial = bytearray()
        self._readingIncrement = False
        self._skip = 0
        # The stream of the open header block (RFC 9113 section 4.3), or 0.
        self._blockStream = 0
        self._blockSize = 0
        self._continuations = 0
        self._resets = Budget(limits.h2MaxResetsPerSecond)
        self._settings = Budget(limits.h2MaxSettingsPerSecond)
        self._pings = Budget(limits.h2MaxPingsPerSecond)
        self._priorities = Budget(limits.h2MaxPrioritiesPerSecond)
        self._empty = Budget(limits.h2MaxEmptyFramesPerSecond)
        self._smallWindowUpdates = Budget(limits.h2MaxSmallWindowUpdatesPerSecond)

    def scan(self, data: bytes, now: float) -> GuardVerdict | None:
        """
        Account for the next bytes from the client.

        Never raises, whatever the bytes.

        @param data: the bytes that follow those already scanned.
        @param now: the time in seconds (the reactor's C{seconds()}).
        @return: the verdict if the client went over a limit or broke the
            framing (now or before), else C{None}: pass C{data} on to C{h2}.
        """
        if self.verdict is not None:
            return self.verdict
        pos = 0
        end = len(data)
        if self._preface:
            pos = min(len(self._preface), end)
            if data[:pos] != self._preface[:pos]:
                return self._give(
                    GuardVerdict(
                        ErrorCodes.PROTOCOL_ERROR,
                        "the connection does not start with the HTTP/2 preface",
                    )
                )
            self._preface = self._preface[pos:]
        partial = self._partial
        while pos < end:
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
            elif self._readingIncrement:
                taken = data[pos : pos + _INCREMENT_SIZE - len(partial)]
                partial += taken
                pos += len(taken)
                if len(partial) < _INCREMENT_SIZE:
                    break
                increment = int.from_bytes(partial, "big") & 0x7FFFFFFF
                partial.clear()
                self._readingIncrement = False
                if increment < SMALL_WINDOW_INCREMENT and not (
                    self._smallWindowUpdates.spend(now)
                ):
                    return self._give(
                        _calm(
                            "more than "
                            f"{self._limits.h2MaxSmallWindowUpdatesPerSecond} "
                            "WINDOW_UPDATE frames a second opening windows by "
                            f"under {SMALL_WINDOW_INCREMENT} bytes "
                            "(CVE-2019-9511 class)"
                        )
                    )
            else:
                if partial or end - pos < _FRAME_HEADER_SIZE:
                    taken = data[pos : pos + _FRAME_HEADER_SIZE - len(partial)]
                    partial += taken
                    pos += len(taken)
                    if len(partial) < _FRAME_HEADER_SIZE:
                        break
                    high, low, kind, flags, streamId = _FRAME_HEADER.unpack(partial)
                    partial.clear()
                else:
                    high, low, kind, flags, streamId = _FRAME_HEADER.unpack_from(
                        data, pos
                    )
                    pos += _FRAME_HEADER_SIZE
                verdict = self._frame(
                    (high << 8) | low, kind, flags, streamId & 0x7FFFFFFF, now
                )
                if verdict is not None:
                    return self._give(verdict)
        return None

    @property
    def headerBlockOpen(self) -> bool:
        """
        Whether a header block was opened (HEADERS without END_HEADERS) and
        not yet ended by a CONTINUATION: until it is, the client may send no
        other frame (RFC 9113 section 6.10).
        """
        return self._blockStream != 0

    def _give(self, verdict: GuardVerdict) -> GuardVerdict:
        self.verdict = verdict
        return verdict

    def _frame(
        self, length: int, kind: int, flags: int, streamId: int, now: float
    ) -> GuardVerdict | None:
        """
        Account for one frame from its header, and arrange for its payload to
        be skipped (or its increment read).

        @return: the verdict it earns, if any.
        """
        limits = self._limits
        self._skip = length
        # RFC 9113 section 4.2: refused before a byte of it is read.
        if length > self._maxFrameSize:
            return GuardVerdict(
                ErrorCodes.FRAME_SIZE_ERROR,
                f"a frame of {length} bytes, over the advertised "
                f"SETTINGS_MAX_FRAME_SIZE of {self._maxFrameSize}",
            )
        if self._blockStream:
            # RFC 9113 section 6.10: a header block is only ever continued.
            if kind != _CONTINUATION or streamId != self._blockStream:
                return GuardVerdict(
                    ErrorCodes.PROTOCOL_ERROR,
                    f"a frame of type {kind:#x} on stream {streamId} inside "
                    f"the header block of stream {self._blockStream}",
                )
            return self._continuation(length, flags, now)
        if kind == _DATA:
            if length == 0 and not flags & _END_STREAM:
                return self._emptyFrame(now)
        elif kind == _HEADERS:
            return self._headers(length, flags, streamId, now)
        elif kind == _RST_STREAM:
            if not self._resets.spend(now):
                return _calm(
                    f"more than {limits.h2MaxResetsPerSecond} RST_STREAM frames "
                    "a second (rapid reset, CVE-2023-44487)"
                )
        elif kind == _SETTINGS:
            if length > limits.h2MaxSettingsEntries * _SETTING_SIZE:
                return _calm(
                    f"a SETTINGS frame of {length} bytes: more than "
                    f"{limits.h2MaxSettingsEntries} entries (CVE-2020-11080)"
                )
            if not self._settings.spend(now):
                return _calm(
                    f"more than {limits.h2MaxSettingsPerSecond} SETTINGS frames "
                    "a second (settings flood, CVE-2019-9515)"
                )
        elif kind == _PING:
            if not self._pings.spend(now):
                return _calm(
                    f"more than {limits.h2MaxPingsPerSecond} PING frames a second "
                    "(ping flood, CVE-2019-9512)"
                )
        elif kind in (_PRIORITY, _PRIORITY_UPDATE):
            if not self._priorities.spend(now):
                return _calm(
                    f"more than {limits.h2MaxPrioritiesPerSecond} PRIORITY frames "
                    "a second (CVE-2019-9513 class)"
                )
        elif kind == _WINDOW_UPDATE:
            # Any other length is h2's FRAME_SIZE_ERROR to give.
            if length == _INCREMENT_SIZE:
                self._skip = 0
                self._readingIncrement = True
        elif kind == _CONTINUATION:
            return GuardVerdict(
                ErrorCodes.PROTOCOL_ERROR,
                f"a CONTINUATION frame on stream {streamId} outside a header block",
            )
        elif kind == _PUSH_PROMISE:
            # RFC 9113 section 8.4: a client cannot push.
            return GuardVerdict(
                ErrorCodes.PROTOCOL_ERROR, "a PUSH_PROMISE frame from a client"
            )
        return None

    def _headers(
        self, length: int, flags: int, streamId: int, now: float
    ) -> GuardVerdict | None:
        """
        Account for a HEADERS frame, which may open a header block.
        """
        if streamId == 0:
            # RFC 9113 section 6.2.
            return GuardVerdict(
                ErrorCodes.PROTOCOL_ERROR, "a HEADERS frame on stream 0"
            )
        if length > self._limits.h2MaxHeaderBlockSize:
            return self._blockTooLarge(length)
        if not flags & _END_HEADERS:
            self._blockStream = streamId
            self._blockSize = length
            self._continuations = 0
        if length == 0 and not flags & _END_STREAM:
            return self._emptyFrame(now)
        return None

    def _continuation(self, length: int, flags: int, now: float) -> GuardVerdict | None:
        """
        Account for a CONTINUATION frame of the open header block.
        """
        limits = self._limits
        self._continuations += 1
        if self._continuations > limits.h2MaxContinuations:
            return _calm(
                f"more than {limits.h2MaxContinuations} CONTINUATION frames in "
                f"the header block of stream {self._blockStream} "
                "(CONTINUATION flood, CVE-2024-27316)"
            )
        self._blockSize += length
        if self._blockSize > limits.h2MaxHeaderBlockSize:
            return self._blockTooLarge(self._blockSize)
        if flags & _END_HEADERS:
            self._blockStream = 0
        if length == 0:
            return self._emptyFrame(now)
        return None

    def _blockTooLarge(self, size: int) -> GuardVerdict:
        return _calm(
            f"a header block of {size} bytes or more, over "
            f"{self._limits.h2MaxHeaderBlockSize} (CVE-2024-27316 class)"
        )

    def _emptyFrame(self, now: float) -> GuardVerdict | None:
        if self._empty.spend(now):
            return None
        return _calm(
            f"more than {self._limits.h2MaxEmptyFramesPerSecond} empty frames a "
            "second (CVE-2019-9518)"
        )
