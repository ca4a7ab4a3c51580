"""
Decoding request bodies: by Content-Length, or chunked (RFC 9112 sections 6, 7).

A decoder is fed the connection's buffer and an offset, and says how far it
consumed, which body bytes it found and whether the body has ended; bytes after
the end of the body are never consumed.
"""

from __future__ import annotations

import enum
import re

from twisted_web_re._wire.errors import (
    BadRequest,
    ContentTooLarge,
    HeaderFieldsTooLarge,
)
from twisted_web_re._wire.limits import Limits

_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"

# RFC 9112 section 7.1: chunk-size [ chunk-ext ] CRLF, where
# chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ).
# CRLF is required here: a bare LF inside body framing is a smuggling vector.
_CHUNK_LINE = re.compile(
    rb"([0-9A-Fa-f]{1,15})((?:[ \t]*;[ \t]*"
    + _TOKEN
    + rb"(?:[ \t]*=[ \t]*(?:"
    + _TOKEN
    + rb"|"
    + _QUOTED
    + rb"))?)*)\r\n"
)

_TRAILER_LINE = re.compile(
    rb"(" + _TOKEN + rb"):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*\r\n"
)


class BodyDecoder:
    """
    The interface both decoders share.

    @ivar done: whether the whole body has been decoded.
    @ivar received: body bytes decoded so far.
    """

    done: bool = False
    received: int = 0

    def decode(self, buf: bytes, pos: int, out: list[bytes]) -> int:
        """
        Decode body bytes from C{buf[pos:]}, appending them to C{out}.

        @return: the offset just past what was consumed.
        @raise WireError: the body is malformed or too large.
        """
        raise NotImplementedError


class LengthDecoder(BodyDecoder):
    """Decodes a body of a known length."""

    __slots__ = ("done", "received", "remaining")

    def __init__(self, length: int) -> None:
        self.remaining = length
        self.received = 0
        self.done = length == 0

    def decode(self, buf: bytes, pos: int, out: list[bytes]) -> int:
        """See L{BodyDecoder.decode}."""
        available = len(buf) - pos
        if available <= 0 or self.done:
            return pos
        take = min(available, self.remaining)
        out.append(buf[pos : pos + take] if pos or take < len(buf) else buf)
        self.remaining -= take
        self.received += take
        self.done = self.remaining == 0
        return pos + take


class _Chunk(enum.Enum):
    """
    Where a chunked decoder is (RFC 9112 section 7.1):

        SIZE --(size > 0)--> DATA --(size bytes)--> DATA_END --(CRLF)--> SIZE
        SIZE --(size = 0)--> TRAILER --(empty line)--> DONE
    """

    SIZE = "size"
    DATA = "data"
    DATA_END = "data-end"
    TRAILER = "trailer"
    DONE = "done"


class ChunkedDecoder(BodyDecoder):
    """
    Decodes a chunked body, with chunk extensions (checked, then ignored) and
    trailer fields (checked, counted against the head limits, and kept).

    @ivar trailers: the trailer fields received, as C{(name, value)} pairs.
    """

    __slots__ = (
        "_announced",
        "_limits",
        "_remaining",
        "_state",
        "_trailerBytes",
        "done",
        "received",
        "trailers",
    )

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._state = _Chunk.SIZE
        self._remaining = 0
        self._trailerBytes = 0
        self._announced = 0
        self.received = 0
        self.done = False
        self.trailers: list[tuple[bytes, bytes]] = []

    def decode(self, buf: bytes, pos: int, out: list[bytes]) -> int:
        """See L{BodyDecoder.decode}."""
        end = len(buf)
        while pos < end:
            state = self._state
            if state is _Chunk.DATA:
                take = min(end - pos, self._remaining)
                out.append(buf[pos : pos + take])
                pos += take
                self.received += take
                self._remaining -= take
                if not self._remaining:
                    self._state = _Chunk.DATA_END
            elif state is _Chunk.SIZE:
                lineEnd = buf.find(b"\n", pos)
                maxLine = self._limits.maxChunkLine
                if lineEnd < 0:
                    # The limit counts size and extensions, not the CRLF.
                    if end - pos - (buf[end - 1] == 0x0D) > maxLine:
                        raise BadRequest("chunk-size line too long")
                    return pos
                if lineEnd - 1 - pos > maxLine:
                    raise BadRequest("chunk-size line too long")
                match = _CHUNK_LINE.fullmatch(buf, pos, lineEnd + 1)
                if match is None:
                    raise BadRequest("malformed chunk-size line")
                size = int(match.group(1), 16)
                pos = lineEnd + 1
                self._announced += size
                maxBody = self._limits.maxBodySize
                if maxBody is not None and self._announced > maxBody:
                    raise ContentTooLarge("request body too large")
                if size:
                    self._remaining = size
                    self._state = _Chunk.DATA
                else:
                    self._state = _Chunk.TRAILER
            elif state is _Chunk.DATA_END:
                if end - pos < 2:
                    if buf[pos : pos + 1] != b"\r":
                        raise BadRequest("chunk data not followed by CRLF")
                    return pos
                if buf[pos : pos + 2] != b"\r\n":
                    raise BadRequest("chunk data not followed by CRLF")
                pos += 2
                self._state = _Chunk.SIZE
            elif state is _Chunk.TRAILER:
                pos = self._trailer(buf, pos)
                if self._state is _Chunk.TRAILER:
                    return pos
            else:
                return pos
        return pos

    def _trailer(self, buf: bytes, pos: int) -> int:
        """Consume complete trailer lines at C{pos}; return the new offset."""
        limits = self._limits
        while True:
            lineEnd = buf.find(b"\n", pos)
            if lineEnd < 0:
                if self._trailerBytes + len(buf) - pos > limits.maxHeadSize:
                    raise HeaderFieldsTooLarge("trailer section too large")
                return pos
            self._trailerBytes += lineEnd + 1 - pos
            if self._trailerBytes > limits.maxHeadSize:
                raise HeaderFieldsTooLarge("trailer section too large")
            if lineEnd == pos + 1 and buf[pos] == 0x0D:
                self._state = _Chunk.DONE
                self.done = True
                return lineEnd + 1
            match = _TRAILER_LINE.fullmatch(buf, pos, lineEnd + 1)
            if match is None:
                raise BadRequest("malformed trailer field")
            if len(self.trailers) >= limits.maxHeaderCount:
                raise HeaderFieldsTooLarge("too many trailer fields")
            self.trailers.append((match.group(1), match.group(2)))
            pos = lineEnd + 1
