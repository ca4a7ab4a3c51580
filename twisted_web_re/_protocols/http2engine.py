"""
The C{h2} library's connection state machine, set up for a server with our
limits, and made to answer a malformed request with a stream error.

C{h2} treats every header-validation failure, and a body that disagrees with
its C{content-length}, as a connection error.  RFC 9113 section 8.1.1 makes
them stream errors: the request is reset with C{PROTOCOL_ERROR} and the other
streams on the connection go on.  L{ServerEngine} does that by catching the
error once the header block is decoded (so HPACK stays in step) and the
stream is open.  This leans on two private methods of C{h2}
(C{_receive_headers_frame}, C{_receive_data_frame});
L{H2_INTERNALS} says whether C{h2} still has them, and a test fails loudly
when it does not (the fallback is C{h2}'s own connection error).

It counts the streams it resets because of what the client sent (stream
errors, MadeYouReset, CVE-2025-8671), through a third private method
(C{_prepare_for_sending}), so that the connection can limit them.

It also splits the inbound byte stream at frame boundaries (L{FrameSplitter})
so that a client's GOAWAY can be taken by the connection rather than by C{h2},
which after any GOAWAY refuses to send the responses still in flight.
"""

from __future__ import annotations

from collections.abc import Iterator

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from h2.events import Event
from h2.exceptions import InvalidBodyLengthError, ProtocolError
from h2.settings import SettingCodes
from h2.stream import StreamState
from hyperframe.frame import Frame, RstStreamFrame, SettingsFrame

from twisted_web_re._wire.limits import Limits

#: The client connection preface (RFC 9113 section 3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

#: The frame type of GOAWAY (RFC 9113 section 6.8).
GOAWAY_TYPE = 0x7

#: The RFC's initial flow-control window, of the connection and each stream.
DEFAULT_WINDOW = 65535

#: Whether this C{h2} still has the private methods L{ServerEngine} extends.
H2_INTERNALS: dict[str, bool] = {
    name: callable(getattr(H2Connection, name, None))
    for name in (
        "_receive_headers_frame",
        "_receive_data_frame",
        "_prepare_for_sending",
    )
}

_OPEN_STATES = (StreamState.OPEN, StreamState.HALF_CLOSED_REMOTE)


class MalformedRequest(Event):
    """
    A request (its header block, or its body against its C{content-length})
    broke RFC 9113 section 8.1.1; its stream has been reset with
    C{PROTOCOL_ERROR}.

    @ivar stream_id: the stream reset.
    @ivar problem: what was wrong, for the log.
    """

    def __init__(self, streamId: int, problem: str) -> None:
        self.stream_id = streamId
        self.problem = problem


class ServerEngine(H2Connection):
    """
    C{h2}'s server-side connection, turning a malformed request into a
    stream error (see the module's docstring).

    @ivar provokedResets: RST_STREAM frames queued while handling received
        data, that is, streams reset because of what the client sent (a
        malformed request, a window overflowed, a frame on a stream it
        closed...), since the connection last took the count.
    """

    provokedResets = 0
    _receiving = False

    def receive_data(self, data: bytes) -> list[Event]:  # type: ignore[override]
        """See C{H2Connection.receive_data}; counts L{provokedResets}."""
        self._receiving = True
        try:
            return super().receive_data(data)
        finally:
            self._receiving = False

    def _prepare_for_sending(self, frames: list[Frame]) -> None:
        if self._receiving:
            for frame in frames:
                if isinstance(frame, RstStreamFrame):
                    self.provokedResets += 1
        super()._prepare_for_sending(frames)

    def _streamError(
        self, streamId: int, error: ProtocolError
    ) -> MalformedRequest | None:
        """
        Reset C{streamId} for C{error} if it is a malformed request on an
        open stream (not a state or framing error, which leave the stream
        closed): return the event saying so, or C{None} to let the connection
        error stand.
        """
        stream = self.streams.get(streamId)
        if stream is None or stream.state_machine.state not in _OPEN_STATES:
            return None
        self.reset_stream(streamId, ErrorCodes.PROTOCOL_ERROR)
        return MalformedRequest(streamId, str(error))

    def _receive_headers_frame(self, frame):  # type: ignore[no-untyped-def]
        try:
            return super()._receive_headers_frame(frame)
        except ProtocolError as error:
            event = self._streamError(frame.stream_id, error)
            if event is None:
                raise
            return [], [event]

    def _receive_data_frame(self, frame):  # type: ignore[no-untyped-def]
        try:
            return super()._receive_data_frame(frame)
        except InvalidBodyLengthError as error:
            event = self._streamError(frame.stream_id, error)
            if event is None:
                raise
            # The frame counted against the connection's window, and will
            # never be consumed: hand that back at once.
            self.acknowledge_received_data(
                frame.flow_controlled_length, frame.stream_id
            )
            return [], [event]


def newEngine(limits: Limits) -> ServerEngine:
    """
    Make a server-side C{h2} connection enforcing C{limits} from the first
    frame (not only once the client acknowledges our SETTINGS).

    C{h2} is given a concurrent-stream limit above the one advertised: it
    answers a stream beyond its limit with a connection error, where RFC 9113
    section 5.1.2 asks for C{REFUSED_STREAM}, which the connection sends at
    the advertised limit itself.
    """
    config = H2Configuration(
        client_side=False,
        header_encoding=None,
        # The response fields come from Headers, which has validated them,
        # and the stream drops the connection-specific ones itself.
        validate_outbound_headers=False,
        normalize_outbound_headers=False,
        # Its only inbound normalisation joins the cookie fields, which
        # requestHead does as it reads the fields (one pass, not two).
        normalize_inbound_headers=False,
    )
    engine = ServerEngine(config)
    settings = engine.local_settings
    settings.max_concurrent_streams = 2 * limits.h2MaxConcurrentStreams + 1
    settings.max_header_list_size = limits.h2MaxHeaderListSize
    settings.header_table_size = limits.h2HeaderTableSize
    settings.max_frame_size = limits.h2MaxFrameSize
    settings.initial_window_size = limits.h2StreamWindow
    settings.enable_push = 0
    settings.acknowledge()
    engine.max_inbound_frame_size = limits.h2MaxFrameSize
    engine.decoder.max_header_list_size = limits.h2MaxHeaderListSize
    engine.decoder.max_allowed_table_size = limits.h2HeaderTableSize
    return engine


def settingsFrame(limits: Limits) -> bytes:
    """
    Return our SETTINGS frame, as advertised to the client: what
    L{newEngine}'s engine enforces, with the concurrent-stream limit the
    connection applies.
    """
    frame = SettingsFrame(0)
    frame.settings = {
        SettingCodes.MAX_CONCURRENT_STREAMS: limits.h2MaxConcurrentStreams,
        SettingCodes.MAX_HEADER_LIST_SIZE: limits.h2MaxHeaderListSize,
        SettingCodes.HEADER_TABLE_SIZE: limits.h2HeaderTableSize,
        SettingCodes.MAX_FRAME_SIZE: limits.h2MaxFrameSize,
        SettingCodes.INITIAL_WINDOW_SIZE: limits.h2StreamWindow,
        SettingCodes.ENABLE_PUSH: 0,
    }
    return bytes(frame.serialize())


class FrameTooLarge(Exception):
    """
    A frame header announced a payload longer than SETTINGS_MAX_FRAME_SIZE
    (a FRAME_SIZE_ERROR, RFC 9113 section 4.2).
    """


class FrameSplitter:
    """
    Finds frame boundaries in the inbound bytes after the preface, passing
    everything through but GOAWAY frames, which it holds until whole and
    hands out apart.

    It refuses a frame longer than allowed as soon as its header arrives:
    C{h2} checks the length only once it holds the whole frame, so a client
    announcing 16 MiB would have it buffer 16 MiB first.
    """

    def __init__(self, maxFrameSize: int) -> None:
        """
        @param maxFrameSize: the largest frame payload allowed.
        """
        self._maxFrameSize = maxFrameSize
        self._held = b""
        self._skip = 0
        self._goaway: bytearray | None = None
        self._goawayLeft = 0
        self._goawayStream = 0

    def split(self, data: bytes) -> Iterator[bytes | tuple[int, bytes]]:
        """
        Yield C{data} as pieces for C{h2} (bytes) and whole GOAWAY frames
        (C{(streamId, payload)}), in their order.  A frame header cut by the
        end of C{data} is held back until the rest of it arrives.

        @raise FrameTooLarge: a frame is longer than allowed.
        """
        if self._held:
            data = self._held + data
            self._held = b""
        pos = start = 0
        end = len(data)
        while pos < end:
            goaway = self._goaway
            if goaway is not None:
                take = min(self._goawayLeft, end - pos)
                goaway += data[pos : pos + take]
                self._goawayLeft -= take
                pos = start = pos + take
                if not self._goawayLeft:
                    self._goaway = None
                    yield (self._goawayStream, bytes(goaway))
                continue
            if self._skip:
                take = min(self._skip, end - pos)
                self._skip -= take
                pos += take
                continue
            if end - pos < 9:
                self._held = bytes(data[pos:])
                break
            length = int.from_bytes(data[pos : pos + 3], "big")
            if length > self._maxFrameSize:
                raise FrameTooLarge(f"a frame of {length} bytes")
            if data[pos + 3] == GOAWAY_TYPE:
                if pos > start:
                    yield data[start:pos]
                self._goawayStream = (
                    int.from_bytes(data[pos + 5 : pos + 9], "big") & 0x7FFFFFFF
                )
                pos = start = pos + 9
                if length:
                    self._goaway = bytearray()
                    self._goawayLeft = length
                else:
                    yield (self._goawayStream, b"")
                continue
            pos += 9
            self._skip = length
        if pos > start:
            yield data[start:pos]
