"""
Conditional requests and byte ranges for any response whose body is complete,
or whose length at least is known.

Given the request's header fields and what the response would have been (its
status, validators and body, or only the body's length), these pure functions
say what to answer instead: 304 or 412 for a failed precondition (RFC 9110
section 13.2.2), or a 206 / 416 for a C{Range} request (RFC 9110 section 14).
They touch no Twisted, no clock and no I/O; the publishing layer and
L{twisted_web_re.static} apply their verdict.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from twisted_web_re._publish.headerparse import (
    etagMatchesStrongly,
    etagMatchesWeakly,
    formatContentRange,
    formatUnsatisfiedRange,
    parseETags,
    parseHTTPDate,
    parseRange,
)

#: The field advertising range support (RFC 9110 section 14.3), as a
#: C{(name, value)} pair: sent on every 200 response whose body is complete,
#: since L{applyRange} serves ranges of exactly those.
ACCEPT_RANGES: tuple[bytes, bytes] = (b"accept-ranges", b"bytes")

#: How many distinct ranges, after coalescing, one request may ask for; more
#: and the whole representation is sent with 200 instead.  Apache's MaxRanges
#: answers the same way (its default is 200); a client with a real use for
#: scattered ranges (PDF readers, resumable downloads) asks for a handful.
MAX_RANGES = 16

_SAFE_METHODS = (b"GET", b"HEAD")
# RFC 9110 section 13.2.1: these methods select no representation.
_UNCONDITIONAL_METHODS = (b"CONNECT", b"OPTIONS", b"TRACE")


def _singleDate(values: Sequence[bytes] | None) -> int | None:
    """
    Read a date-valued precondition field, or C{None} if it is to be ignored:
    absent, invalid, or sent more than once (RFC 9110 sections 13.1.3-4).
    """
    if values is None or len(values) != 1:
        return None
    return parseHTTPDate(values[0])


def _noneMatchHolds(etag: bytes | None, values: Sequence[bytes]) -> bool:
    """
    Evaluate C{If-None-Match} (RFC 9110 section 13.1.2) for a response that
    has a current representation: false if C{*} or a tag matches weakly.
    """
    if etag is None:
        return all(parseETags(value) is not None for value in values)
    return not etagMatchesWeakly(etag, list(values))


def evaluatePreconditions(
    method: bytes,
    requestHeaders: Mapping[bytes, Sequence[bytes]],
    status: int,
    etag: bytes | None,
    lastModified: int | None,
) -> int | None:
    """
    Evaluate the request's preconditions against the response it would get,
    in the order of RFC 9110 section 13.2.2.

      1. C{If-Match} (strong comparison; C{*} matches): false gives 412.
      2. Otherwise C{If-Unmodified-Since}: modified since gives 412.
      3. C{If-None-Match} (weak comparison; C{*} matches): a match gives 304
         for GET and HEAD, 412 for other methods.
      4. Otherwise, for GET and HEAD only, C{If-Modified-Since}: not modified
         since gives 304.

    Preconditions are evaluated only for a 2xx status (section 13.2.1: they
    are about the selected representation, which other statuses lack), and
    never for CONNECT, OPTIONS or TRACE.  A date field that is not a valid
    HTTP-date, or comes more than once, is ignored, as is a date field when
    C{lastModified} is C{None}.

    @param method: The request method, e.g. C{b"GET"}.
    @param requestHeaders: Lower-cased field names to their raw values, as in
        L{Headers.lowered <twisted_web_re.http_headers.Headers.lowered>}.
    @param status: The status the response would have without preconditions.
    @param etag: The selected representation's C{ETag} value, quotes
        included, if any, as it was before the method acted: for GET and HEAD
        the response's own; for a method that changes the resource, the
        validators of the state it changed, never the new ones.
    @param lastModified: The selected representation's C{Last-Modified} time
        in whole seconds since the epoch, if any, with the same proviso.
    @return: C{304} or C{412} to answer instead, or C{None} to answer as
        planned.
    """
    if not 200 <= status < 300 or method in _UNCONDITIONAL_METHODS:
        return None
    ifMatch = requestHeaders.get(b"if-match")
    if ifMatch:
        if not etagMatchesStrongly(etag, list(ifMatch)):
            return 412
    else:
        since = _singleDate(requestHeaders.get(b"if-unmodified-since"))
        if since is not None and lastModified is not None and lastModified > since:
            return 412
    ifNoneMatch = requestHeaders.get(b"if-none-match")
    if ifNoneMatch:
        if not _noneMatchHolds(etag, ifNoneMatch):
            return 304 if method in _SAFE_METHODS else 412
    elif method in _SAFE_METHODS:
        since = _singleDate(requestHeaders.get(b"if-modified-since"))
        if since is not None and lastModified is not None and lastModified <= since:
            return 304
    return None


@dataclass(frozen=True, slots=True)
class RangeResult:
    """
    The answer to a range request, replacing the planned 200 response.

    @ivar status: C{206} or C{416}.
    @ivar setHeaders: C{(lower-cased name, value)} fields to set, each
        replacing any field of that name.
    @ivar removeHeaders: Lower-cased names of fields to remove, because the
        new body no longer matches them (C{Content-Length} is always among
        them: the caller frames the new body).
    @ivar body: The new body: one range, a C{multipart/byteranges} payload,
        or nothing for 416.
    """

    status: int
    setHeaders: tuple[tuple[bytes, bytes], ...]
    removeHeaders: tuple[bytes, ...]
    body: bytes


def _ifRangeHolds(
    values: Sequence[bytes], etag: bytes | None, lastModified: int | None
) -> bool:
    """
    Evaluate C{If-Range} (RFC 9110 section 13.1.5): true only for a strong
    entity tag equal to C{etag}, or an HTTP-date equal to C{lastModified}.
    """
    if len(values) != 1:
        return False
    value = values[0].strip()
    if value.startswith((b'"', b"W/")):
        # A weak tag never matches: parseETags reports it as weak, and a weak
        # etag of ours keeps its W/ so it cannot equal a strong one.
        return etag is not None and parseETags(value) == [(False, etag)]
    date = parseHTTPDate(value)
    return date is not None and date == lastModified


def _satisfiable(
    specs: list[tuple[int | None, int | None]], length: int
) -> list[tuple[int, int]]:
    """
    Resolve range-specs against a body of C{length} (> 0) bytes into
    inclusive C{(start, end)} spans, in request order, dropping unsatisfiable
    ones and clipping the rest to the body (RFC 9110 section 14.1.1).
    """
    spans = []
    for first, last in specs:
        if first is None:
            # A suffix range: the last `last` bytes, or all of a shorter body.
            if last:
                spans.append((max(0, length - last), length - 1))
        elif first < length:
            spans.append((first, length - 1 if last is None else min(last, length - 1)))
    return spans


def _coalesce(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """
    Merge overlapping and adjacent spans (RFC 9110 section 14.2), keeping the
    order in which each merged span was first asked for (section 14.6).
    """
    merged: list[tuple[int, int, int]] = []
    for index, (start, end) in sorted(enumerate(spans), key=lambda item: item[1]):
        if merged and start <= merged[-1][1] + 1:
            lastStart, lastEnd, lastIndex = merged[-1]
            merged[-1] = (lastStart, max(lastEnd, end), min(lastIndex, index))
        else:
            merged.append((start, end, index))
    merged.sort(key=lambda span: span[2])
    return [(start, end) for start, end, _ in merged]


def _boundary(body: bytes) -> bytes:
    """
    Choose a random multipart boundary that does not occur in C{body}.
    """
    while True:
        boundary = secrets.token_hex(16).encode("ascii")
        if boundary not in body:
            return boundary


@dataclass(frozen=True, slots=True)
class RangePlan:
    """
    The byte ranges a request selects from a representation of known length.

    @ivar length: The representation's length in bytes (at least 1).
    @ivar spans: Inclusive C{(first, last)} positions, disjoint, in the order
        they are to be sent; empty when none is satisfiable (a 416 answer).
    """

    length: int
    spans: tuple[tuple[int, int], ...]


def selectRanges(
    method: bytes,
    requestHeaders: Mapping[bytes, Sequence[bytes]],
    status: int,
    etag: bytes | None,
    lastModified: int | None,
    length: int,
    maxRanges: int = MAX_RANGES,
) -> RangePlan | None:
    """
    Decide which byte ranges of a representation of C{length} bytes to send,
    without needing its content (RFC 9110 section 14.2).

    The rules are those of L{applyRange}, which is built on this: ranges apply
    only to a GET whose response would be 200 with a non-empty body, with
    exactly one valid C{Range: bytes=...} field and an C{If-Range} that holds
    if there is one; satisfiable ranges are clipped, and overlapping or
    adjacent ones merged; more than C{maxRanges} of them after merging and
    the C{Range} field is ignored.

    @param method: The request method.
    @param requestHeaders: Lower-cased field names to their raw values.
    @param status: The status the response would have.
    @param etag: The representation's C{ETag} value, quotes included, if any.
    @param lastModified: The representation's C{Last-Modified} time in whole
        seconds since the epoch, if any.
    @param length: The representation's length in bytes.
    @param maxRanges: The most distinct ranges served in one response.
    @return: The ranges to send (none: answer 416), or C{None} to send the
        whole representation with the planned 200.
    """
    if status != 200 or method != b"GET" or length <= 0:
        return None
    rangeValues = requestHeaders.get(b"range")
    if rangeValues is None or len(rangeValues) != 1:
        return None
    specs = parseRange(rangeValues[0])
    if specs is None:
        return None
    ifRange = requestHeaders.get(b"if-range")
    if ifRange is not None and not _ifRangeHolds(ifRange, etag, lastModified):
        return None
    spans = _coalesce(_satisfiable(specs, length))
    if len(spans) > maxRanges:
        return None
    return RangePlan(length, tuple(spans))


@dataclass(frozen=True, slots=True)
class RangeLayout:
    """
    The answer to a L{RangePlan}, with the body described rather than built,
    so that it can be copied from a file as well as sliced from bytes.

    @ivar status: C{206} or C{416}.
    @ivar setHeaders: C{(lower-cased name, value)} fields to set, each
        replacing any field of that name.
    @ivar removeHeaders: Lower-cased names of fields to remove, as in
        L{RangeResult}.
    @ivar pieces: The body, in order: C{bytes} to send as they are, and
        inclusive C{(first, last)} spans to copy from the representation.
    @ivar contentLength: The length of the body the pieces make.
    """

    status: int
    setHeaders: tuple[tuple[bytes, bytes], ...]
    removeHeaders: tuple[bytes, ...]
    pieces: tuple[bytes | tuple[int, int], ...]
    contentLength: int


def layoutRanges(
    plan: RangePlan, contentType: bytes | None, boundary: bytes | None = None
) -> RangeLayout:
    """
    Lay out the answer to C{plan}: a 416 with C{Content-Range: bytes
    */length}; a 206 with C{Content-Range} and the one span; or a 206 with a
    C{multipart/byteranges} body (RFC 9110 section 14.6), one part per span,
    each with C{Content-Type} (if C{contentType}) and C{Content-Range}.

    @param plan: What L{selectRanges} chose.
    @param contentType: The representation's C{Content-Type} value, if any.
    @param boundary: The multipart boundary; by default 32 random hex digits,
        which a body could contain only by a 1 in 2**128 chance.
    @return: The status, the header changes and the body's pieces.
    """
    spans, length = plan.spans, plan.length
    if not spans:
        return RangeLayout(
            416,
            ((b"content-range", formatUnsatisfiedRange(length)),),
            # The empty body is not the representation these described.
            (b"content-length", b"content-type"),
            (),
            0,
        )
    if len(spans) == 1:
        start, end = spans[0]
        return RangeLayout(
            206,
            ((b"content-range", formatContentRange(start, end, length)),),
            (b"content-length",),
            spans,
            end - start + 1,
        )
    if boundary is None:
        boundary = secrets.token_hex(16).encode("ascii")
    typeLine = b"" if contentType is None else b"Content-Type: " + contentType + b"\r\n"
    pieces: list[bytes | tuple[int, int]] = []
    delimiter = b"--" + boundary + b"\r\n" + typeLine + b"Content-Range: "
    for start, end in spans:
        pieces.append(
            (b"\r\n" if pieces else b"")
            + delimiter
            + formatContentRange(start, end, length)
            + b"\r\n\r\n"
        )
        pieces.append((start, end))
    pieces.append(b"\r\n--" + boundary + b"--\r\n")
    size = sum(
        len(piece) if isinstance(piece, bytes) else piece[1] - piece[0] + 1
        for piece in pieces
    )
    return RangeLayout(
        206,
        ((b"content-type", b"multipart/byteranges; boundary=" + boundary),),
        # Section 14.6: a multipart response has no Content-Range of its own.
        (b"content-length", b"content-range"),
        tuple(pieces),
        size,
    )


def applyRange(
    method: bytes,
    requestHeaders: Mapping[bytes, Sequence[bytes]],
    status: int,
    etag: bytes | None,
    lastModified: int | None,
    body: bytes,
    contentType: bytes | None,
    maxRanges: int = MAX_RANGES,
) -> RangeResult | None:
    """
    Answer a C{Range} request from a complete body (RFC 9110 section 14.2).

    Ranges apply only to a GET whose response would be 200 with a non-empty
    body, carrying exactly one valid C{Range: bytes=...} field and, if it has
    C{If-Range}, one that holds (a strong entity tag equal to C{etag}, or an
    HTTP-date equal to C{lastModified}; a weak tag never holds).  Then:

      - the satisfiable ranges are clipped to the body, and overlapping or
        adjacent ones merged, so the parts never add up to more than the body;
      - none left: 416 with C{Content-Range: bytes */length};
      - one: 206 with C{Content-Range} and that slice;
      - up to C{maxRanges}: 206 with a C{multipart/byteranges} body, parts in
        the order first asked for, each with C{Content-Type} (if
        C{contentType}) and C{Content-Range};
      - more: C{None}, serving the whole body rather than answering a request
        that looks like an amplification attack.

    @param method: The request method.
    @param requestHeaders: Lower-cased field names to their raw values.
    @param status: The status the response would have.
    @param etag: The response's C{ETag} value, quotes included, if any.
    @param lastModified: The response's C{Last-Modified} time in whole seconds
        since the epoch, if any.
    @param body: The complete body the response would have.
    @param contentType: The response's C{Content-Type} value, if any.
    @param maxRanges: The most distinct ranges served in one response.
    @return: The answer to send instead, or C{None} to send the planned 200.
    """
    plan = selectRanges(
        method, requestHeaders, status, etag, lastModified, len(body), maxRanges
    )
    if plan is None:
        return None
    layout = layoutRanges(
        plan, contentType, _boundary(body) if len(plan.spans) > 1 else None
    )
    return RangeResult(
        layout.status,
        layout.setHeaders,
        layout.removeHeaders,
        b"".join(
            piece if isinstance(piece, bytes) else body[piece[0] : piece[1] + 1]
            for piece in layout.pieces
        ),
    )
