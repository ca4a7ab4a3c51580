"""
Answering a request for a file's bytes: its validators, then a 304 or 412
if a precondition fails, else the ranges asked for or the whole file, from
memory, read in one go, or streamed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO

from twisted_web_re._files.cache import CachedFile
from twisted_web_re._files.producer import FileProducer
from twisted_web_re._publish.conditional import (
    evaluatePreconditions,
    layoutRanges,
    selectRanges,
)
from twisted_web_re._publish.encoding import codedETag
from twisted_web_re.server import Request

__all__ = ["SMALL_FILE", "answerFile"]

#: Files up to this size are read in one go and sent with the response head;
#: larger ones stream.
SMALL_FILE = 64 * 1024

#: The request fields that can make a file's answer anything but the whole
#: file with a 200: preconditions (RFC 9110 section 13) and ranges (14.2).
_CONDITIONAL_FIELDS = frozenset(
    (
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
        b"range",
        b"if-range",
    )
)


def answerFile(
    request: Request,
    entry: CachedFile,
    opened: IO[bytes] | None,
    sender: Callable[
        [Request, bytes | None, Sequence[bytes | tuple[int, int]]],
        Callable[[int, int, int], int] | None,
    ],
) -> None:
    """
    Answer for the file: with its validators; then 304 or 412 if a
    precondition fails, else the ranges asked for, or the whole file.

    The decisions are the server's for a body returned whole (see
    L{twisted_web_re._publish.conditional}), made from the file's length
    alone; the body is then C{entry}'s data if C{opened} is C{None}, or
    else read from C{opened}: in one go and sent with the head if the
    file is small, streamed if not: by C{sender}'s way of sending a file's
    span, given the request, its coding and the body's pieces, if it has one
    (see L{FileProducer}).
    """
    size = entry.info.st_size
    coding = request.responseCoding()
    etag = entry.etag if coding is None else codedETag(entry.etag, coding)
    setField = _fieldSetter(request)
    setField(b"etag", etag)
    setField(b"last-modified", entry.lastModifiedHeader)
    requestHeaders = request.requestHeaders.lowered()
    pieces: tuple[bytes | tuple[int, int], ...] = ((0, size - 1),) if size else ()
    length = size
    conditional = not _CONDITIONAL_FIELDS.isdisjoint(requestHeaders)
    if conditional:
        status = evaluatePreconditions(
            request.method, requestHeaders, request.code, etag, entry.lastModified
        )
        if status is not None:
            if opened is not None:
                opened.close()
            request.setResponseCode(status)
            # A 304 states the length of the 200 it stands for (RFC 9110
            # section 8.6); a 412 has an empty body.
            request.setHeader(b"content-length", b"%d" % (size if status == 304 else 0))
            request.finish()
            return
    if coding is None and request.code == 200:
        setField(b"accept-ranges", b"bytes")
        plan = (
            selectRanges(
                request.method, requestHeaders, 200, etag, entry.lastModified, size
            )
            if conditional
            else None
        )
        if plan is not None:
            headers = request.responseHeaders
            layout = layoutRanges(
                plan, headers.getRawHeaders(b"content-type", [None])[-1]
            )
            request.setResponseCode(layout.status)
            for name in layout.removeHeaders:
                headers.removeHeader(name)
            for name, value in layout.setHeaders:
                request.setHeader(name, value)
            pieces, length = layout.pieces, layout.contentLength
    setField(b"content-length", b"%d" % length)
    if request.method == b"HEAD" or not pieces:
        if opened is not None:
            opened.close()
        request.finish()
        return
    if opened is None:
        data = entry.data
    elif size <= SMALL_FILE:
        with opened:
            # The length stated, not what a file growing meanwhile holds.
            data = opened.read(size)
    else:
        FileProducer(
            request,
            opened,
            pieces,
            request.reactor,
            sender(request, coding, pieces),
        ).start()
        return
    if len(pieces) == 1 and pieces[0] == (0, size - 1):
        request.finishWith(data)
    else:
        request.finishWith(
            b"".join(
                piece if isinstance(piece, bytes) else data[piece[0] : piece[1] + 1]
                for piece in pieces
            )
        )


def _fieldSetter(request: Request) -> Callable[[bytes, bytes], None]:
    """
    How L{answerFile} sets the fields it makes (an entity tag, a date,
    digits: nothing for C{setHeader} to check): straight into the response's
    fields when C{setHeader} is not overridden, else through C{setHeader}.
    """
    if type(request).setHeader is Request.setHeader and "setHeader" not in vars(
        request
    ):
        setLowered = request.responseHeaders.setLowered
        return lambda name, value: setLowered(name, [value])
    return request.setHeader
