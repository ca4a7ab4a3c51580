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

    def __post_init__(self) -> None:
        for name in (
            "maxRequestLine",
            "maxHeadSize",
            "maxHeaderCount",
            "maxUnsentOutput",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        if self.maxRequestLine > self.maxHeadSize:
            raise ValueError(
                f"maxRequestLine ({self.maxRequestLine}) exceeds maxHeadSize "
                f"({self.maxHeadSize})"
            )

    def replace(self, **changes: Any) -> Limits:
        """
        Return a copy with C{changes} applied, rejecting unknown names.

        @raise TypeError: if a name is not a limit.
        """
        return replace(self, **changes)


DEFAULT_LIMITS = Limits()
