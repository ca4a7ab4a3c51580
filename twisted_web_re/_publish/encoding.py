"""
Content codings applied to response bodies as they are written: gzip.
"""

from __future__ import annotations

import re
import zlib

from zope.interface import Interface, implementer

from twisted_web_re._publish.headerparse import acceptsEncoding
from twisted_web_re.iweb import IRequest

__all__ = ["GzipEncoderFactory", "IEncoderFactory", "IRequestEncoder", "codedETag"]

# Media types that are already compressed: gzipping them again costs CPU and
# saves nothing.
_INCOMPRESSIBLE = re.compile(
    rb"(image/(?!svg)|video/|audio/|application/(zip|gzip|x-gzip|x-bzip2|x-xz"
    rb"|zstd|x-7z-compressed|pdf|wasm|octet-stream\b))",
    re.IGNORECASE,
)


def codedETag(etag: bytes, coding: bytes) -> bytes:
    """
    Return the entity tag of C{etag}'s representation content-coded with
    C{coding}: C{"v1"} gzipped is C{"v1-gzip"}, C{W/"v1"} is C{W/"v1-gzip"}.

    Each coding of a resource is a representation of its own, with its own
    validator (RFC 9110 section 8.8.3): were both to share one, a cache that
    holds the plain body could be told by a 304 that it may serve it to a
    client expecting gzip.  A value that is not a quoted entity tag is
    returned unchanged.
    """
    if len(etag) < 2 or not etag.endswith(b'"'):
        return etag
    return etag[:-1] + b"-" + coding.strip().lower() + b'"'


class IEncoderFactory(Interface):
    """
    Chooses, per request, whether and how to encode the response body.
    """

    def encoderForRequest(request: IRequest) -> IRequestEncoder | None:
        """Return an encoder for request's response, or None for none."""


class IRequestEncoder(Interface):
    """
    Encodes one response body, piece by piece.
    """

    def encode(data: bytes) -> bytes:
        """Return the encoded form of the next piece of the body (maybe empty)."""

    def finish() -> bytes:
        """Return the last encoded bytes, once the body is complete."""


@implementer(IEncoderFactory)
class GzipEncoderFactory:
    """
    Gzip-encodes responses for clients that accept gzip.

    @ivar compressLevel: the zlib compression level, 1 (fast) to 9 (small).
    """

    compressLevel = 9

    def __init__(self, compressLevel: int | None = None) -> None:
        if compressLevel is not None:
            self.compressLevel = compressLevel

    def encoderForRequest(self, request: IRequest) -> _GzipEncoder | None:
        """
        Return a gzip encoder if the client accepts gzip (RFC 9110 section
        12.5.3) and the response is not already coded; the response then says
        C{Content-Encoding: gzip} and C{Vary: Accept-Encoding}, and loses any
        Content-Length it had (the encoded length is set if it becomes known).
        """
        headers = request.responseHeaders
        vary = headers.getRawHeaders(b"vary", [])
        if not any(b"accept-encoding" in v.lower() or b"*" in v for v in vary):
            headers.addRawHeader(b"vary", b"Accept-Encoding")
        accepted = request.requestHeaders.getRawHeaders(b"accept-encoding")
        if accepted is None or not acceptsEncoding(accepted, b"gzip"):
            return None
        if headers.hasHeader(b"content-encoding"):
            return None
        contentType = headers.getRawHeaders(b"content-type", [b""])[-1]
        if _INCOMPRESSIBLE.match(contentType):
            return None
        headers.setRawHeaders(b"content-encoding", [b"gzip"])
        headers.removeHeader(b"content-length")
        return _GzipEncoder(self.compressLevel)


@implementer(IRequestEncoder)
class _GzipEncoder:
    """Compresses one body into the gzip format, streaming."""

    def __init__(self, compressLevel: int) -> None:
        self._compressor = zlib.compressobj(compressLevel, zlib.DEFLATED, 16 + 15)

    def encode(self, data: bytes) -> bytes:
        """Compress the next piece; zlib may hold it back until more comes."""
        return self._compressor.compress(data)

    def finish(self) -> bytes:
        """Flush what zlib holds and the gzip trailer."""
        return self._compressor.flush()
