"""
Named limits on what a peer may send, and on what the server holds for it, with
their defaults.

Every limit on input is enforced by the wire layer and answered with the status
code named beside it.  A user overrides any of them with keyword arguments to
C{HTTPFactory}/C{Site}; C{doc/http.md} lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

#: Longest request line (method, target and version) in bytes: 414 beyond it.
#: 8 KiB is what nginx, Apache and h11-based servers allow by default.
MAX_REQUEST_LINE = 8192

#: Largest request head (request line and all header lines) in bytes: 431 beyond
#: it.  Equal to twisted.web's C{totalHeadersSize}.
MAX_HEAD_SIZE = 16384

#: Most header fields in one request head: 431 beyond it.  Apache's default;
#: twisted.web allows 500.
MAX_HEADER_COUNT = 100

#: Largest request body in bytes: 413 beyond it.  twisted.web has no limit.
MAX_BODY_SIZE = 100 * 1024 * 1024

#: Longest chunk-size line (size and extensions) in a chunked body: 400 beyond it.
MAX_CHUNK_LINE = 4096

#: Seconds an idle keep-alive connection is kept open (twisted.web's C{timeout}).
IDLE_TIMEOUT = 60.0

#: Seconds a whole request head may take to arrive once its first byte has: 408.
HEAD_TIMEOUT = 20.0

#: Seconds a request body may take before a minimum rate is required: 408.
BODY_TIMEOUT = 20.0

#: Once past C{BODY_TIMEOUT}, every further second must bring this many body
#: bytes on average (Apache's C{RequestReadTimeout body=20,MinRate=500}).
BODY_MIN_RATE = 500

#: Request bodies up to this size are kept in memory; larger ones are spooled to
#: a temporary file.
BODY_MEMORY_LIMIT = 256 * 1024

#: Bytes of responses to one read's pipelined requests held back to be sent
#: together; on reaching it they go to the transport at once, so that its
#: back-pressure stops further requests being answered for a client that does
#: not read.  A few times a socket's send buffer.
MAX_UNSENT_OUTPUT = 256 * 1024

# -- HTTP/2 flood guard (_wire/http2guard.py) ---------------------------------
# Budgets "per second" are token buckets holding one second's worth: a burst of
# that many frames, refilled at that rate.  Over any budget the connection is
# closed with GOAWAY ENHANCE_YOUR_CALM.

#: CONTINUATION frames allowed after one HEADERS frame (CVE-2024-27316 class:
#: endless CONTINUATIONs).  nghttp2's default since 1.61.0 (CVE-2024-28182);
#: h2 itself allows 64.  ENHANCE_YOUR_CALM beyond it.
H2_MAX_CONTINUATIONS = 8

#: Largest header block (HEADERS plus its CONTINUATIONs, payload bytes as they
#: arrive, before any is buffered): ENHANCE_YOUR_CALM beyond it.  Equal to the
#: SETTINGS_MAX_HEADER_LIST_SIZE h2 advertises by default (64 KiB), which h2
#: checks only once the whole block is buffered and decoded.
H2_MAX_HEADER_BLOCK_SIZE = 65536

#: RST_STREAM frames a client may send a second (rapid reset, CVE-2023-44487):
#: ENHANCE_YOUR_CALM beyond it.  Twice h2's SETTINGS_MAX_CONCURRENT_STREAMS, so
#: a browser cancelling all its streams on navigation is never refused;
#: nghttp2 (Apache, Node) allows a burst of 1000 then 33 a second.
H2_MAX_RESETS_PER_SECOND = 200

#: SETTINGS frames a second (CVE-2019-9515, each one owes an ACK): a client
#: sends one or two per connection.  ENHANCE_YOUR_CALM beyond it.
H2_MAX_SETTINGS_PER_SECOND = 10

#: Entries in one SETTINGS frame: nghttp2's C{max_settings} (CVE-2020-11080);
#: RFC 9113 defines six settings.  ENHANCE_YOUR_CALM beyond it.
H2_MAX_SETTINGS_ENTRIES = 32

#: PING frames a second (CVE-2019-9512, each one owes an ACK).
#: ENHANCE_YOUR_CALM beyond it.
H2_MAX_PINGS_PER_SECOND = 20

#: PRIORITY and PRIORITY_UPDATE frames a second (CVE-2019-9513 class:
#: reprioritising costs the server, the client nothing); Firefox sends a handful
#: per connection.  ENHANCE_YOUR_CALM beyond it.
H2_MAX_PRIORITIES_PER_SECOND = 100

#: Empty frames a second: DATA or HEADERS without payload nor END_STREAM, and
#: empty CONTINUATIONs (CVE-2019-9518).  ENHANCE_YOUR_CALM beyond it.
H2_MAX_EMPTY_FRAMES_PER_SECOND = 100

#: WINDOW_UPDATE frames a second with an increment under 1024 bytes (Tomcat's
#: C{overheadWindowUpdateThreshold}): a client opening windows a few bytes at a
#: time (CVE-2019-9511 class).  Large increments are not counted, so a client
#: with small windows downloading fast is never refused.  ENHANCE_YOUR_CALM.
H2_MAX_SMALL_WINDOW_UPDATES_PER_SECOND = 100
# -- HTTP/2 (core): the connection and its streams ---------------------------

#: Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS);
#: a stream beyond it is reset with REFUSED_STREAM (RFC 9113 section 5.1.2).
#: Apache's H2MaxSessionStreams and h2o's default are 100; nginx has 128.
H2_MAX_CONCURRENT_STREAMS = 100

#: Largest decoded request header list, as RFC 9113 section 6.5.2 counts it
#: (name, value and 32 bytes per field; SETTINGS_MAX_HEADER_LIST_SIZE): a
#: larger one ends the connection with GOAWAY ENHANCE_YOUR_CALM, since its
#: HPACK block cannot be skipped.  nginx allows 32 KiB (4 buffers of 8k).
H2_MAX_HEADER_LIST_SIZE = 32 * 1024

#: HPACK dynamic table the client's encoder may use (SETTINGS_HEADER_TABLE_SIZE):
#: a larger table size update is a COMPRESSION_ERROR.  The RFC's default,
#: as nginx and h2o keep it.
H2_HEADER_TABLE_SIZE = 4096

#: Largest frame payload a client may send (SETTINGS_MAX_FRAME_SIZE):
#: FRAME_SIZE_ERROR beyond it.  The RFC's minimum, as nginx advertises.
H2_MAX_FRAME_SIZE = 16384

#: Each stream's receive window (SETTINGS_INITIAL_WINDOW_SIZE): the request
#: body bytes held for a request that does not take them yet; a client sending
#: past it commits a FLOW_CONTROL_ERROR.  nginx's http2_body_preread_size is
#: 64 KiB.
H2_STREAM_WINDOW = 65535

#: The connection's receive window: request body bytes held for all its
#: streams together (h2o gives 16 MiB; 1 MiB keeps memory per connection low).
H2_CONNECTION_WINDOW = 1024 * 1024

#: Response bytes a stream holds waiting for the client's window before its
#: producer is paused.
H2_STREAM_BUFFER = 64 * 1024

#: Seconds a connection with no open stream is kept before GOAWAY NO_ERROR
#: and a close (nginx's http2_idle_timeout was 3 minutes).
H2_IDLE_TIMEOUT = 180.0

#: Seconds response data may wait for a client that never opens its window
#: (a slow-read attack): the stream is then reset with CANCEL, or, when the
#: connection's window is the one stuck, the connection ends with GOAWAY
#: ENHANCE_YOUR_CALM.  nginx's send_timeout is 60 s.
H2_SEND_TIMEOUT = 60.0

#: RST_STREAM frames a client may make the server send a second (MadeYouReset,
#: CVE-2025-8671): frames that are stream errors on a stream being served (a
#: window overflowed, a malformed request, a frame on a stream it closed...)
#: free its slot while its request is still being processed, as its own resets
#: would.  Counted like the client's own (a bucket of one second), with the
#: same budget, as Netty counts the resets it sends (CVE-2025-55163).
#: ENHANCE_YOUR_CALM beyond it.
H2_MAX_PROVOKED_RESETS_PER_SECOND = 200


@dataclass(frozen=True, slots=True)
class Limits:
    """
    The limits one server applies to its peers; immutable and shared.

    @ivar maxRequestLine: see L{MAX_REQUEST_LINE}.
    @ivar maxHeadSize: see L{MAX_HEAD_SIZE}.
    @ivar maxHeaderCount: see L{MAX_HEADER_COUNT}.
    @ivar maxBodySize: see L{MAX_BODY_SIZE}; C{None} means no limit.
    @ivar maxChunkLine: see L{MAX_CHUNK_LINE}.
    @ivar idleTimeout: see L{IDLE_TIMEOUT}; C{None} disables it.
    @ivar headTimeout: see L{HEAD_TIMEOUT}; C{None} disables it.
    @ivar bodyTimeout: see L{BODY_TIMEOUT}; C{None} disables body timing.
    @ivar bodyMinRate: see L{BODY_MIN_RATE}.
    @ivar bodyMemoryLimit: see L{BODY_MEMORY_LIMIT}.
    @ivar maxUnsentOutput: see L{MAX_UNSENT_OUTPUT}.
    @ivar h2MaxContinuations: see L{H2_MAX_CONTINUATIONS}.
    @ivar h2MaxHeaderBlockSize: see L{H2_MAX_HEADER_BLOCK_SIZE}.
    @ivar h2MaxResetsPerSecond: see L{H2_MAX_RESETS_PER_SECOND}.
    @ivar h2MaxSettingsPerSecond: see L{H2_MAX_SETTINGS_PER_SECOND}.
    @ivar h2MaxSettingsEntries: see L{H2_MAX_SETTINGS_ENTRIES}.
    @ivar h2MaxPingsPerSecond: see L{H2_MAX_PINGS_PER_SECOND}.
    @ivar h2MaxPrioritiesPerSecond: see L{H2_MAX_PRIORITIES_PER_SECOND}.
    @ivar h2MaxEmptyFramesPerSecond: see L{H2_MAX_EMPTY_FRAMES_PER_SECOND}.
    @ivar h2MaxSmallWindowUpdatesPerSecond: see
        L{H2_MAX_SMALL_WINDOW_UPDATES_PER_SECOND}.
    @ivar h2MaxConcurrentStreams: see L{H2_MAX_CONCURRENT_STREAMS}.
    @ivar h2MaxHeaderListSize: see L{H2_MAX_HEADER_LIST_SIZE}.
    @ivar h2HeaderTableSize: see L{H2_HEADER_TABLE_SIZE}.
    @ivar h2MaxFrameSize: see L{H2_MAX_FRAME_SIZE}.
    @ivar h2StreamWindow: see L{H2_STREAM_WINDOW}.
    @ivar h2ConnectionWindow: see L{H2_CONNECTION_WINDOW}.
    @ivar h2StreamBuffer: see L{H2_STREAM_BUFFER}.
    @ivar h2IdleTimeout: see L{H2_IDLE_TIMEOUT}; C{None} disables it.
    @ivar h2SendTimeout: see L{H2_SEND_TIMEOUT}; C{None} disables it.
    @ivar h2MaxProvokedResetsPerSecond: see
        L{H2_MAX_PROVOKED_RESETS_PER_SECOND}.
    """

    maxRequestLine: int = MAX_REQUEST_LINE
    maxHeadSize: int = MAX_HEAD_SIZE
    maxHeaderCount: int = MAX_HEADER_COUNT
    maxBodySize: int | None = MAX_BODY_SIZE
    maxChunkLine: int = MAX_CHUNK_LINE
    idleTimeout: float | None = IDLE_TIMEOUT
    headTimeout: float | None = HEAD_TIMEOUT
    bodyTimeout: float | None = BODY_TIMEOUT
    bodyMinRate: int = BODY_MIN_RATE
    bodyMemoryLimit: int = BODY_MEMORY_LIMIT
    maxUnsentOutput: int = MAX_UNSENT_OUTPUT
    # HTTP/2 flood guard
    h2MaxContinuations: int = H2_MAX_CONTINUATIONS
    h2MaxHeaderBlockSize: int = H2_MAX_HEADER_BLOCK_SIZE
    h2MaxResetsPerSecond: int = H2_MAX_RESETS_PER_SECOND
    h2MaxSettingsPerSecond: int = H2_MAX_SETTINGS_PER_SECOND
    h2MaxSettingsEntries: int = H2_MAX_SETTINGS_ENTRIES
    h2MaxPingsPerSecond: int = H2_MAX_PINGS_PER_SECOND
    h2MaxPrioritiesPerSecond: int = H2_MAX_PRIORITIES_PER_SECOND
    h2MaxEmptyFramesPerSecond: int = H2_MAX_EMPTY_FRAMES_PER_SECOND
    h2MaxSmallWindowUpdatesPerSecond: int = H2_MAX_SMALL_WINDOW_UPDATES_PER_SECOND
    h2MaxConcurrentStreams: int = H2_MAX_CONCURRENT_STREAMS
    h2MaxHeaderListSize: int = H2_MAX_HEADER_LIST_SIZE
    h2HeaderTableSize: int = H2_HEADER_TABLE_SIZE
    h2MaxFrameSize: int = H2_MAX_FRAME_SIZE
    h2StreamWindow: int = H2_STREAM_WINDOW
    h2ConnectionWindow: int = H2_CONNECTION_WINDOW
    h2StreamBuffer: int = H2_STREAM_BUFFER
    h2IdleTimeout: float | None = H2_IDLE_TIMEOUT
    h2SendTimeout: float | None = H2_SEND_TIMEOUT
    h2MaxProvokedResetsPerSecond: int = H2_MAX_PROVOKED_RESETS_PER_SECOND

    def __post_init__(self) -> None:
        for name in (
            "maxRequestLine",
            "maxHeadSize",
            "maxHeaderCount",
            "maxUnsentOutput",
            # HTTP/2 flood guard
            "h2MaxHeaderBlockSize",
            "h2MaxResetsPerSecond",
            "h2MaxSettingsPerSecond",
            "h2MaxSettingsEntries",
            "h2MaxPingsPerSecond",
            "h2MaxPrioritiesPerSecond",
            "h2MaxEmptyFramesPerSecond",
            "h2MaxSmallWindowUpdatesPerSecond",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        if not isinstance(self.h2MaxContinuations, int) or self.h2MaxContinuations < 0:
            raise ValueError(
                "h2MaxContinuations must be an int of 0 or more, not "
                f"{self.h2MaxContinuations!r}"
            )
        self._checkHTTP2()
        if self.maxRequestLine > self.maxHeadSize:
            raise ValueError(
                f"maxRequestLine ({self.maxRequestLine}) exceeds maxHeadSize "
                f"({self.maxHeadSize})"
            )

    def _checkHTTP2(self) -> None:
        """
        Refuse HTTP/2 limits outside what RFC 9113 sections 6.5.2 and 6.9
        allow.

        @raise ValueError: one is.
        """
        for name, low, high in (
            ("h2MaxConcurrentStreams", 1, 2**31 - 1),
            ("h2MaxHeaderListSize", 1, 2**31 - 1),
            ("h2HeaderTableSize", 0, 2**31 - 1),
            ("h2MaxFrameSize", 16384, 2**24 - 1),
            ("h2StreamWindow", 1, 2**31 - 1),
            ("h2ConnectionWindow", 65535, 2**31 - 1),
            ("h2StreamBuffer", 1, 2**31 - 1),
            ("h2MaxProvokedResetsPerSecond", 1, 2**31 - 1),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    f"{name} must be an int from {low} to {high}, not {value!r}"
                )

    def replace(self, **changes: Any) -> Limits:
        """
        Return a copy with C{changes} applied, rejecting unknown names.

        @raise TypeError: if a name is not a limit.
        """
        return replace(self, **changes)


DEFAULT_LIMITS = Limits()
