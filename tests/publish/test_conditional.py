"""
Tests for L{twisted_web_re._publish.conditional}: preconditions (RFC 9110 section
13.2.2) and byte ranges (RFC 9110 section 14) applied to complete bodies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twisted_web_re._publish.conditional import (
    ACCEPT_RANGES,
    MAX_RANGES,
    RangeResult,
    applyRange,
    evaluatePreconditions,
)
from twisted_web_re._publish.headerparse import (
    formatHTTPDate,
    parseContentRange,
    parseMediaType,
)

# -- the representation and request fields the tables use -------------------------

ETAG = b'"v1"'
WEAK_ETAG = b'W/"v1"'
MODIFIED = 784111777
SAME_DATE = formatHTTPDate(MODIFIED)
EARLIER_DATE = formatHTTPDate(MODIFIED - 1)
LATER_DATE = formatHTTPDate(MODIFIED + 1)
#: Every byte value, CR and LF included, so parts can only be told apart by
#: their Content-Range, never by searching the data.
BODY = bytes(range(256)) * 4
CONTENT_TYPE = b"application/octet-stream"

Fields = dict[bytes, list[bytes]]


def fields(*pairs: tuple[bytes, bytes]) -> Fields:
    """
    Build raw request fields as C{Headers._raw} holds them: lower-cased
    names to lists of values, repeated names adding values.
    """
    raw: Fields = {}
    for name, value in pairs:
        raw.setdefault(name.lower(), []).append(value)
    return raw


def ranged(
    rangeValue: bytes,
    *extra: tuple[bytes, bytes],
    body: bytes = BODY,
    contentType: bytes | None = CONTENT_TYPE,
    maxRanges: int = MAX_RANGES,
) -> RangeResult | None:
    """
    Apply C{Range: rangeValue} (and C{extra} fields) to a GET whose response
    would be 200 with C{body}, C{ETag: "v1"} and C{Last-Modified: MODIFIED}.
    """
    return applyRange(
        b"GET",
        fields((b"range", rangeValue), *extra),
        200,
        ETAG,
        MODIFIED,
        body,
        contentType,
        maxRanges=maxRanges,
    )


def header(result: RangeResult, name: bytes) -> bytes:
    """
    Return the value C{result} sets for field C{name}, which it must set once.
    """
    values = [value for setName, value in result.setHeaders if setName == name]
    assert len(values) == 1, result.setHeaders
    return values[0]


def multipartParts(result: RangeResult) -> list[tuple[Fields, bytes]]:
    """
    Split a C{multipart/byteranges} answer into its parts (RFC 9110 section
    14.6), checking the framing on the way.

    @return: Each part's fields (lower-cased names) and data, in order.
    """
    assert result.status == 206
    assert b"content-range" in result.removeHeaders
    mediaType = parseMediaType(header(result, b"content-type"))
    assert mediaType is not None
    assert mediaType[:2] == (b"multipart", b"byteranges")
    boundary = mediaType[2][b"boundary"]
    delimiter = b"--" + boundary
    opening, closing = delimiter + b"\r\n", b"\r\n" + delimiter + b"--\r\n"
    assert result.body.startswith(opening)
    assert result.body.endswith(closing)
    inner = result.body[len(opening) : -len(closing)]
    parts = []
    for part in inner.split(b"\r\n" + delimiter + b"\r\n"):
        head, separator, data = part.partition(b"\r\n\r\n")
        assert separator
        partFields: Fields = {}
        for line in head.split(b"\r\n"):
            name, colon, value = line.partition(b": ")
            assert colon
            partFields.setdefault(name.lower(), []).append(value)
        parts.append((partFields, data))
    return parts


def servedSpans(result: RangeResult, body: bytes) -> Iterator[tuple[int, int]]:
    """
    Yield the inclusive spans a 206 answer serves, checking that every piece
    of data is the slice of C{body} its Content-Range names.
    """
    if b"content-range" in dict(result.setHeaders):
        pieces = [(header(result, b"content-range"), result.body)]
    else:
        pieces = [
            (partFields[b"content-range"][0], data)
            for partFields, data in multipartParts(result)
        ]
    for contentRange, data in pieces:
        parsed = parseContentRange(contentRange)
        assert parsed is not None
        first, last, complete = parsed
        assert first is not None and last is not None
        assert complete == len(body)
        assert data == body[first : last + 1]
        yield first, last


# -- evaluatePreconditions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "pairs", "expected"),
    [
        # No preconditions at all.
        (b"GET", [], None),
        # Step 1, If-Match: strong comparison; * matches; a miss is 412.
        (b"GET", [(b"If-Match", ETAG)], None),
        (b"PUT", [(b"If-Match", ETAG)], None),
        (b"GET", [(b"If-Match", b'"v0", "v1"')], None),
        (b"GET", [(b"If-Match", b'"v0"'), (b"If-Match", ETAG)], None),
        (b"GET", [(b"If-Match", b"*")], None),
        (b"GET", [(b"If-Match", b'"v0"')], 412),
        (b"PUT", [(b"If-Match", b'"v0"')], 412),
        (b"GET", [(b"If-Match", WEAK_ETAG)], 412),
        (b"GET", [(b"If-Match", b"v1")], 412),
        # Step 1 decides alone: If-Unmodified-Since is not consulted.
        (b"PUT", [(b"If-Match", ETAG), (b"If-Unmodified-Since", EARLIER_DATE)], None),
        (b"PUT", [(b"If-Match", b'"v0"'), (b"If-Unmodified-Since", SAME_DATE)], 412),
        # Step 1 comes before step 3.
        (b"GET", [(b"If-Match", b'"v0"'), (b"If-None-Match", b'"v0"')], 412),
        # Step 2, If-Unmodified-Since: modified since the date is 412.
        (b"PUT", [(b"If-Unmodified-Since", SAME_DATE)], None),
        (b"PUT", [(b"If-Unmodified-Since", LATER_DATE)], None),
        (b"PUT", [(b"If-Unmodified-Since", EARLIER_DATE)], 412),
        (b"GET", [(b"If-Unmodified-Since", EARLIER_DATE)], 412),
        (b"PUT", [(b"If-Unmodified-Since", b"yesterday")], None),
        (
            b"PUT",
            [
                (b"If-Unmodified-Since", EARLIER_DATE),
                (b"If-Unmodified-Since", SAME_DATE),
            ],
            None,
        ),
        # Step 2 comes before step 3.
        (
            b"GET",
            [(b"If-Unmodified-Since", EARLIER_DATE), (b"If-None-Match", ETAG)],
            412,
        ),
        (b"GET", [(b"If-Unmodified-Since", SAME_DATE), (b"If-None-Match", ETAG)], 304),
        # Step 3, If-None-Match: weak comparison; a match is 304 for GET and
        # HEAD, 412 for other methods.
        (b"GET", [(b"If-None-Match", ETAG)], 304),
        (b"HEAD", [(b"If-None-Match", ETAG)], 304),
        (b"GET", [(b"If-None-Match", WEAK_ETAG)], 304),
        (b"GET", [(b"If-None-Match", b'"v0", "v1"')], 304),
        (b"GET", [(b"If-None-Match", b'"v0"'), (b"If-None-Match", ETAG)], 304),
        (b"GET", [(b"If-None-Match", b"*")], 304),
        (b"POST", [(b"If-None-Match", ETAG)], 412),
        (b"PUT", [(b"If-None-Match", b"*")], 412),
        (b"DELETE", [(b"If-None-Match", ETAG)], 412),
        (b"GET", [(b"If-None-Match", b'"v0"')], None),
        (b"GET", [(b"If-None-Match", b"garbage")], None),
        # If-None-Match present: If-Modified-Since is not consulted.
        (
            b"GET",
            [(b"If-None-Match", b'"v0"'), (b"If-Modified-Since", SAME_DATE)],
            None,
        ),
        # Step 4, If-Modified-Since, GET and HEAD only: not modified is 304.
        (b"GET", [(b"If-Modified-Since", SAME_DATE)], 304),
        (b"HEAD", [(b"If-Modified-Since", SAME_DATE)], 304),
        (b"GET", [(b"If-Modified-Since", LATER_DATE)], 304),
        (b"GET", [(b"If-Modified-Since", EARLIER_DATE)], None),
        (b"POST", [(b"If-Modified-Since", SAME_DATE)], None),
        (b"GET", [(b"If-Modified-Since", b"Sun, 32 Nov 1994 08:49:37 GMT")], None),
        (
            b"GET",
            [(b"If-Modified-Since", SAME_DATE), (b"If-Modified-Since", SAME_DATE)],
            None,
        ),
        # Methods that select no representation ignore every precondition.
        (b"OPTIONS", [(b"If-Match", b'"v0"')], None),
        (b"TRACE", [(b"If-None-Match", b"*")], None),
        (b"CONNECT", [(b"If-Unmodified-Since", EARLIER_DATE)], None),
    ],
)
def test_evaluatePreconditions(
    method: bytes, pairs: list[tuple[bytes, bytes]], expected: int | None
) -> None:
    """
    Preconditions are evaluated in the order of RFC 9110 section 13.2.2 with
    the comparison each field calls for, against a 200 response with a strong
    entity tag and a modification date.
    """
    assert evaluatePreconditions(method, fields(*pairs), 200, ETAG, MODIFIED) == (
        expected
    )


@pytest.mark.parametrize(
    ("method", "pairs", "expected"),
    [
        (b"GET", [(b"If-Match", b"*")], None),
        (b"GET", [(b"If-Match", ETAG)], 412),
        (b"GET", [(b"If-None-Match", b"*")], 304),
        (b"GET", [(b"If-None-Match", ETAG)], None),
        (b"GET", [(b"If-Modified-Since", SAME_DATE)], None),
        (b"PUT", [(b"If-Unmodified-Since", EARLIER_DATE)], None),
    ],
)
def test_evaluatePreconditionsWithoutValidators(
    method: bytes, pairs: list[tuple[bytes, bytes]], expected: int | None
) -> None:
    """
    A response with neither entity tag nor modification date matches only
    C{*} (it is a current representation), and date conditions are ignored.
    """
    assert evaluatePreconditions(method, fields(*pairs), 200, None, None) == expected


def test_evaluatePreconditionsWeakETag() -> None:
    """
    A weak entity tag never passes If-Match (strong comparison) but does
    match If-None-Match (weak comparison) in either form.
    """
    for value in (ETAG, WEAK_ETAG):
        assert (
            evaluatePreconditions(
                b"GET", fields((b"If-Match", value)), 200, WEAK_ETAG, MODIFIED
            )
            == 412
        )
        assert (
            evaluatePreconditions(
                b"GET", fields((b"If-None-Match", value)), 200, WEAK_ETAG, MODIFIED
            )
            == 304
        )


@pytest.mark.parametrize("status", [100, 199, 301, 304, 400, 404, 412, 500])
def test_evaluatePreconditionsNon2xx(status: int) -> None:
    """
    A response that would not be 2xx ignores every precondition (RFC 9110
    section 13.2.1): there is no selected representation to compare.
    """
    for pair in [
        (b"If-Match", b'"v0"'),
        (b"If-Unmodified-Since", EARLIER_DATE),
        (b"If-None-Match", b"*"),
        (b"If-Modified-Since", SAME_DATE),
    ]:
        assert (
            evaluatePreconditions(b"GET", fields(pair), status, ETAG, MODIFIED) is None
        )


@pytest.mark.parametrize("status", [200, 201, 204, 206, 299])
def test_evaluatePreconditionsAny2xx(status: int) -> None:
    """
    Every 2xx status has its preconditions evaluated.
    """
    assert (
        evaluatePreconditions(
            b"GET", fields((b"If-None-Match", ETAG)), status, ETAG, MODIFIED
        )
        == 304
    )


# -- applyRange: one range ---------------------------------------------------------


@pytest.mark.parametrize(
    ("rangeValue", "first", "last"),
    [
        (b"bytes=0-9", 0, 9),
        (b"bytes=0-0", 0, 0),
        (b"bytes=1000-", 1000, 1023),
        (b"bytes=-10", 1014, 1023),
        (b"bytes=-1024", 0, 1023),
        (b"bytes=-5000", 0, 1023),
        (b"bytes=1000-5000", 1000, 1023),
        (b"bytes=1023-1023", 1023, 1023),
        (b"bytes=0-" + b"9" * 40, 0, 1023),
        (b"Bytes=5-6", 5, 6),
    ],
)
def test_singleRange(rangeValue: bytes, first: int, last: int) -> None:
    """
    One satisfiable range is answered with 206, its Content-Range and that
    slice of the body; a suffix longer than the body is the whole body, and
    a last position beyond the end is clipped to it (RFC 9110 section 14.1.1).
    """
    result = ranged(rangeValue)
    assert result == RangeResult(
        206,
        ((b"content-range", b"bytes %d-%d/1024" % (first, last)),),
        (b"content-length",),
        BODY[first : last + 1],
    )


@pytest.mark.parametrize(
    ("rangeValue", "first", "last"),
    [
        (b"bytes=0-9,5-14", 0, 14),
        (b"bytes=0-9,10-19", 0, 19),
        (b"bytes=10-19,0-9", 0, 19),
        (b"bytes=0-9,20-29,5-25", 0, 29),
        (b"bytes=0-9,0-9", 0, 9),
        (b"bytes=-10,1000-", 1000, 1023),
        (b"bytes=2000-,0-0", 0, 0),
        (b"bytes=-0,5-5", 5, 5),
    ],
)
def test_rangesCoalescedIntoOne(rangeValue: bytes, first: int, last: int) -> None:
    """
    Overlapping and adjacent ranges are merged, and unsatisfiable ones
    dropped; what is left as a single range is sent as one, not as a
    multipart body (RFC 9110 sections 14.2 and 14.6).
    """
    result = ranged(rangeValue)
    assert result is not None
    assert header(result, b"content-range") == b"bytes %d-%d/1024" % (first, last)
    assert result.body == BODY[first : last + 1]


# -- applyRange: several ranges ----------------------------------------------------


def test_multipleRanges() -> None:
    """
    Several ranges are answered with 206 and a multipart/byteranges body
    whose parts carry the representation's Content-Type, their own
    Content-Range and their slice, in the order asked for (RFC 9110 section
    14.6); the response's Content-Length and Content-Range are removed.
    """
    result = ranged(b"bytes=500-509,0-9,-5")
    assert result is not None
    assert result.removeHeaders == (b"content-length", b"content-range")
    assert multipartParts(result) == [
        (
            {
                b"content-type": [CONTENT_TYPE],
                b"content-range": [b"bytes 500-509/1024"],
            },
            BODY[500:510],
        ),
        (
            {b"content-type": [CONTENT_TYPE], b"content-range": [b"bytes 0-9/1024"]},
            BODY[0:10],
        ),
        (
            {
                b"content-type": [CONTENT_TYPE],
                b"content-range": [b"bytes 1019-1023/1024"],
            },
            BODY[1019:],
        ),
    ]


def test_multipleRangesWithoutContentType() -> None:
    """
    Parts of a representation without a Content-Type carry only their
    Content-Range.
    """
    result = ranged(b"bytes=0-1,10-11", contentType=None)
    assert result is not None
    assert [partFields for partFields, _ in multipartParts(result)] == [
        {b"content-range": [b"bytes 0-1/1024"]},
        {b"content-range": [b"bytes 10-11/1024"]},
    ]


def test_coalescedPartsKeepRequestOrder() -> None:
    """
    A part made of merged ranges takes the place of the first of them in the
    request.
    """
    result = ranged(b"bytes=500-509,0-9,505-600,3-4")
    assert result is not None
    assert list(servedSpans(result, BODY)) == [(500, 600), (0, 9)]


def test_boundaryNotInBody(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    A boundary that occurs in the body is never used: another is drawn.
    """
    drawn = iter(["0123", "abcd"])
    monkeypatch.setattr("secrets.token_hex", lambda nbytes: next(drawn))
    body = b"xx0123xx" * 10
    result = ranged(b"bytes=0-1,10-11", body=body)
    assert result is not None
    assert header(result, b"content-type") == b"multipart/byteranges; boundary=abcd"
    assert list(servedSpans(result, body)) == [(0, 1), (10, 11)]


def test_boundaryIsRandom() -> None:
    """
    Each multipart answer draws a fresh boundary.
    """
    first, second = ranged(b"bytes=0-1,10-11"), ranged(b"bytes=0-1,10-11")
    assert first is not None and second is not None
    assert header(first, b"content-type") != header(second, b"content-type")


# -- applyRange: nothing satisfiable -----------------------------------------------


@pytest.mark.parametrize(
    "rangeValue",
    [
        b"bytes=1024-",
        b"bytes=1024-1024",
        b"bytes=2000-3000",
        b"bytes=-0",
        b"bytes=-0,5000-",
    ],
)
def test_unsatisfiable(rangeValue: bytes) -> None:
    """
    When no range overlaps the body the answer is 416 with Content-Range
    C{bytes */length} and no body (RFC 9110 sections 14.1.1 and 15.5.17).
    """
    assert ranged(rangeValue) == RangeResult(
        416,
        ((b"content-range", b"bytes */1024"),),
        (b"content-length", b"content-type"),
        b"",
    )


# -- applyRange: amplification -----------------------------------------------------


def test_manyDisjointRangesServeWholeBody() -> None:
    """
    A thousand single-byte ranges that cannot be merged are answered with
    the whole body (C{None}: the planned 200), not a thousand parts.
    """
    rangeValue = b"bytes=" + b",".join(b"%d-%d" % (i, i) for i in range(0, 1000, 2))
    assert ranged(rangeValue) is None


def test_rangeLimit() -> None:
    """
    Up to MAX_RANGES distinct ranges (16) are served as parts; one more and
    the whole body is served; the limit can be changed per call.
    """
    assert MAX_RANGES == 16
    spans = [(i * 10, i * 10 + 4) for i in range(MAX_RANGES + 1)]
    allowed = b"bytes=" + b",".join(b"%d-%d" % span for span in spans[:-1])
    result = ranged(allowed)
    assert result is not None
    assert list(servedSpans(result, BODY)) == spans[:-1]
    assert ranged(allowed + b",1000-1001") is None
    assert ranged(b"bytes=0-1,10-11", maxRanges=1) is None
    assert ranged(b"bytes=0-1,1-2", maxRanges=1) is not None


@pytest.mark.parametrize(
    "rangeValue",
    [
        b"bytes=" + b",".join([b"0-"] * 1000),
        b"bytes=" + b",".join([b"-1024"] * 1000),
        b"bytes=" + b",".join(b"%d-%d" % (i, i + 100) for i in range(924)),
        b"bytes=" + b",".join(b"%d-%d" % (i, i) for i in reversed(range(1024))),
    ],
)
def test_overlappingRangesCoalesced(rangeValue: bytes) -> None:
    """
    Many overlapping or adjacent ranges, in any order, collapse into one
    part: the answer is never larger than the body.
    """
    result = ranged(rangeValue)
    assert result is not None
    assert list(servedSpans(result, BODY)) == [(0, 1023)]
    assert result.body == BODY


def test_multipartSizeBounded() -> None:
    """
    However the ranges overlap, a multipart answer is at most the body plus a
    modest overhead per part.
    """
    rangeValue = b"bytes=" + b",".join(
        b"%d-%d" % (start, start + length)
        for start in range(0, 1024, 64)
        for length in range(0, 60, 3)
    )
    result = ranged(rangeValue)
    assert result is not None
    parts = list(servedSpans(result, BODY))
    assert len(parts) == 16
    assert len(result.body) <= len(BODY) + len(parts) * (100 + len(CONTENT_TYPE))


# -- applyRange: when ranges do not apply ------------------------------------------


@pytest.mark.parametrize("method", [b"HEAD", b"POST", b"PUT", b"get"])
def test_onlyGET(method: bytes) -> None:
    """
    Range is defined only for GET (RFC 9110 section 14.2): other methods,
    HEAD included, get the planned response.
    """
    assert (
        applyRange(
            method, fields((b"range", b"bytes=0-9")), 200, ETAG, MODIFIED, BODY, None
        )
        is None
    )


@pytest.mark.parametrize("status", [201, 203, 204, 206, 301, 304, 404, 412, 500])
def test_only200(status: int) -> None:
    """
    Only a 200 response is replaced by a range answer.
    """
    assert (
        applyRange(
            b"GET", fields((b"range", b"bytes=0-9")), status, ETAG, MODIFIED, BODY, None
        )
        is None
    )


def test_noRange() -> None:
    """
    Without a Range field (If-Range alone means nothing) the planned
    response stands.
    """
    assert applyRange(b"GET", {}, 200, ETAG, MODIFIED, BODY, None) is None
    assert (
        applyRange(b"GET", fields((b"if-range", ETAG)), 200, ETAG, MODIFIED, BODY, None)
        is None
    )


@pytest.mark.parametrize("rangeValue", [b"bytes=5-4", b"items=0-1", b"bytes=x", b""])
def test_invalidRangeIgnored(rangeValue: bytes) -> None:
    """
    An invalid Range field is ignored (RFC 9110 section 14.2).
    """
    assert ranged(rangeValue) is None


def test_repeatedRangeIgnored() -> None:
    """
    Range is a single value; sent twice, it is invalid and ignored.
    """
    result = applyRange(
        b"GET",
        fields((b"range", b"bytes=0-1"), (b"range", b"bytes=2-3")),
        200,
        ETAG,
        MODIFIED,
        BODY,
        None,
    )
    assert result is None


@pytest.mark.parametrize("rangeValue", [b"bytes=-5", b"bytes=0-", b"bytes=0-0,1-1"])
def test_emptyBody(rangeValue: bytes) -> None:
    """
    An empty body has no range to send, whatever was asked: the planned 200
    (with its empty body) is sent.
    """
    assert ranged(rangeValue, body=b"") is None


# -- applyRange: If-Range ----------------------------------------------------------


@pytest.mark.parametrize(
    ("ifRange", "applies"),
    [
        ([ETAG], True),
        ([b"  " + ETAG + b" "], True),
        ([SAME_DATE], True),
        ([b"Sunday, 06-Nov-94 08:49:37 GMT"], True),
        ([b'"v0"'], False),
        ([WEAK_ETAG], False),
        ([b'"v1", "v2"'], False),
        ([b"*"], False),
        ([EARLIER_DATE], False),
        ([LATER_DATE], False),
        ([b"garbage"], False),
        ([b""], False),
        ([ETAG, ETAG], False),
    ],
)
def test_ifRange(ifRange: list[bytes], applies: bool) -> None:
    """
    If-Range lets the range apply only when it holds: a strong entity tag
    equal to the response's, or a date exactly equal to its modification
    date (RFC 9110 section 13.1.5); otherwise the whole body is sent.
    """
    result = ranged(b"bytes=0-9", *[(b"if-range", value) for value in ifRange])
    assert (result is not None) is applies


@pytest.mark.parametrize(
    ("etag", "lastModified", "ifRange"),
    [
        (WEAK_ETAG, MODIFIED, WEAK_ETAG),
        (WEAK_ETAG, MODIFIED, ETAG),
        (None, MODIFIED, ETAG),
        (ETAG, None, SAME_DATE),
    ],
)
def test_ifRangeWithoutStrongValidator(
    etag: bytes | None, lastModified: int | None, ifRange: bytes
) -> None:
    """
    A response with only a weak entity tag, or without the validator If-Range
    names, never satisfies If-Range.
    """
    result = applyRange(
        b"GET",
        fields((b"range", b"bytes=0-9"), (b"if-range", ifRange)),
        200,
        etag,
        lastModified,
        BODY,
        None,
    )
    assert result is None


# -- values ------------------------------------------------------------------------


def test_acceptRanges() -> None:
    """
    The Accept-Ranges field to advertise is C{bytes} (RFC 9110 section 14.3).
    """
    assert ACCEPT_RANGES == (b"accept-ranges", b"bytes")


def test_rangeResultIsFrozenAndSlotted() -> None:
    """
    A RangeResult is an immutable value.
    """
    result = RangeResult(206, (), (), b"")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = 200  # type: ignore[misc]
    assert not hasattr(result, "__dict__")


# -- properties --------------------------------------------------------------------

rangeSpecs = st.one_of(
    st.tuples(st.integers(0, 400), st.integers(0, 400)).map(
        lambda pair: (min(pair), max(pair))
    ),
    st.tuples(st.integers(0, 400), st.none()),
    st.tuples(st.none(), st.integers(0, 400)),
)


def formatSpec(spec: tuple[int | None, int | None]) -> bytes:
    """
    Write one range-spec.
    """
    first, last = spec
    return (
        (b"" if first is None else b"%d" % first)
        + b"-"
        + (b"" if last is None else b"%d" % last)
    )


def requestedIndexes(
    specs: list[tuple[int | None, int | None]], length: int
) -> set[int]:
    """
    The positions of a body of C{length} bytes that C{specs} ask for.
    """
    wanted: set[int] = set()
    for first, last in specs:
        if first is None:
            wanted.update(range(max(0, length - (last or 0)), length if last else 0))
        else:
            wanted.update(
                range(first, length if last is None else min(last + 1, length))
            )
    return wanted


def runs(indexes: set[int]) -> int:
    """
    Count the maximal runs of consecutive positions in C{indexes}.
    """
    return sum(1 for index in indexes if index - 1 not in indexes)


@given(st.binary(max_size=300), st.lists(rangeSpecs, min_size=1, max_size=24))
def test_rangesServeExactlyWhatWasAsked(
    body: bytes, specs: list[tuple[int | None, int | None]]
) -> None:
    """
    For any body and valid Range field, the answer is the planned 200 (only
    for an empty body or too many distinct ranges), a 416 (only when nothing
    asked for exists), or a 206 whose parts, placed by their Content-Range,
    are exactly the body's bytes that were asked for, each sent once.
    """
    rangeValue = b"bytes=" + b",".join(formatSpec(spec) for spec in specs)
    result = ranged(rangeValue, body=body)
    wanted = requestedIndexes(specs, len(body))
    if result is None:
        assert not body or runs(wanted) > MAX_RANGES
        return
    if result.status == 416:
        assert not wanted
        assert header(result, b"content-range") == b"bytes */%d" % len(body)
        return
    assert result.status == 206
    served = list(servedSpans(result, body))
    indexes = [index for first, last in served for index in range(first, last + 1)]
    assert len(indexes) == len(set(indexes))
    assert set(indexes) == wanted
    assert len(served) == runs(wanted)


conditionalNames = st.sampled_from(
    [
        b"range",
        b"if-range",
        b"if-match",
        b"if-none-match",
        b"if-modified-since",
        b"if-unmodified-since",
    ]
)
fieldValues = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([ETAG, WEAK_ETAG, b"*", SAME_DATE, EARLIER_DATE, b"bytes=0-5"]),
)


@given(
    st.sampled_from([b"GET", b"HEAD", b"POST"]),
    st.dictionaries(conditionalNames, st.lists(fieldValues, min_size=1, max_size=2)),
    st.sampled_from([200, 206, 404]),
    st.sampled_from([None, ETAG, WEAK_ETAG]),
    st.sampled_from([None, MODIFIED]),
    st.binary(max_size=50),
)
def test_neverRaises(
    method: bytes,
    requestHeaders: Fields,
    status: int,
    etag: bytes | None,
    lastModified: int | None,
    body: bytes,
) -> None:
    """
    Whatever the peer sends in these fields, both functions answer without
    raising, with a status they are allowed to give.
    """
    assert evaluatePreconditions(
        method, requestHeaders, status, etag, lastModified
    ) in (None, 304, 412)
    result = applyRange(
        method, requestHeaders, status, etag, lastModified, body, CONTENT_TYPE
    )
    assert result is None or result.status in (206, 416)
