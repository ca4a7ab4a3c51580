"""
Tests for L{twisted_web_re._wire.framing}: decoding request bodies framed by
Content-Length or by chunked transfer coding.

Every body case is run four ways: the whole body in one piece, one byte at a
time, and both again followed by the next pipelined request, whose bytes the
decoder must leave unconsumed.
"""

from __future__ import annotations

import pytest

from twisted_web_re._wire.errors import (
    BadRequest,
    ContentTooLarge,
    HeaderFieldsTooLarge,
    WireError,
)
from twisted_web_re._wire.framing import BodyDecoder, ChunkedDecoder, LengthDecoder
from twisted_web_re._wire.limits import DEFAULT_LIMITS, Limits

# -- raw chunked bodies ---------------------------------------------------------

HELLO_WORLD = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
UPPER_HEX = b"A\r\n0123456789\r\n0\r\n\r\n"
MIXED_HEX = b"1a\r\n" + b"z" * 26 + b"\r\n0\r\n\r\n"
LEADING_ZEROS = b"0005\r\nhello\r\n000\r\n\r\n"
FIFTEEN_DIGITS = b"000000000000005\r\nhello\r\n0\r\n\r\n"
EMPTY_BODY = b"0\r\n\r\n"
CRLF_IN_DATA = b"4\r\n\r\n\r\n\r\n0\r\n\r\n"
EXTENSIONS = b"5;name=value\r\nhello\r\n0;last\r\n\r\n"
EXTENSIONS_SPACED = b'5 ; a = "quoted \\"x\\" ;=" ; b\r\nhello\r\n0\r\n\r\n'
EXTENSIONS_MANY = b'5;a=1;b=2;c;d=""\r\nhello\r\n0\r\n\r\n'
EXTENSION_TAB = b"5\t;\tname\t=\tvalue\r\nhello\r\n0\r\n\r\n"
WITH_TRAILERS = (
    b"5\r\nhello\r\n0\r\nX-Checksum: abc123\r\nX-Other:  padded \r\nX-Empty:\r\n\r\n"
)

#: What follows the body under test in the trailing modes.
NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: example.com\r\n\r\n"

MODES = ("whole", "bytewise", "trailing", "trailing-bytewise")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """How the body is delivered: whole or a byte at a time, with or without
    the next request after it."""
    return str(request.param)


def decodeBody(decoder: BodyDecoder, data: bytes, mode: str) -> bytes:
    """
    Deliver C{data}, one complete body, to C{decoder} as C{mode} says, keeping
    unconsumed bytes in a buffer the way a channel does.

    @return: the decoded body.
    @raise WireError: whatever the decoder raises.
    """
    trailing = NEXT_REQUEST if mode.startswith("trailing") else b""
    stream = data + trailing
    if mode.endswith("bytewise"):
        pieces = [stream[i : i + 1] for i in range(len(stream))]
    else:
        pieces = [stream]
    buf = b""
    out: list[bytes] = []
    consumedTotal = 0
    for piece in pieces:
        buf += piece
        pos = decoder.decode(buf, 0, out)
        assert 0 <= pos <= len(buf)
        consumedTotal += pos
        buf = buf[pos:]
    assert decoder.done
    assert consumedTotal == len(data)
    assert buf == trailing
    assert all(out), "no empty pieces are produced"
    body = b"".join(out)
    assert decoder.received == len(body)
    return body


# -- LengthDecoder ----------------------------------------------------------------


@pytest.mark.parametrize("body", [b"x", b"hello", b"\r\n\r\n", bytes(range(256))])
def test_lengthDecoder(body: bytes, mode: str) -> None:
    """
    A Content-Length body is delivered exactly, and the bytes after it are
    left for the next request.
    """
    decoder = LengthDecoder(len(body))
    assert decodeBody(decoder, body, mode) == body


def test_lengthDecoderEmpty() -> None:
    """
    A zero-length body is done before any byte arrives and consumes nothing.
    """
    decoder = LengthDecoder(0)
    assert decoder.done
    out: list[bytes] = []
    assert decoder.decode(NEXT_REQUEST, 0, out) == 0
    assert out == []
    assert decoder.received == 0


def test_lengthDecoderProgress() -> None:
    """
    A partly received body counts the bytes so far and is not done until the
    last one.
    """
    decoder = LengthDecoder(10)
    out: list[bytes] = []
    assert decoder.decode(b"abcd", 0, out) == 4
    assert (decoder.received, decoder.done, out) == (4, False, [b"abcd"])
    assert decoder.decode(b"", 0, out) == 0
    assert decoder.decode(b"efghijklmn", 0, out) == 6
    assert (decoder.received, decoder.done) == (10, True)
    assert b"".join(out) == b"abcdefghij"


def test_lengthDecoderFromOffset() -> None:
    """
    Decoding starts at the offset given and returns an offset into the same
    buffer.
    """
    decoder = LengthDecoder(5)
    out: list[bytes] = []
    buf = b"HEAD:hello" + NEXT_REQUEST
    assert decoder.decode(buf, 5, out) == 10
    assert out == [b"hello"]


def test_lengthDecoderDoneConsumesNothing() -> None:
    """
    Once the body is complete, further bytes are not consumed.
    """
    decoder = LengthDecoder(2)
    out: list[bytes] = []
    assert decoder.decode(b"ab", 0, out) == 2
    assert decoder.decode(b"cd", 0, out) == 0
    assert out == [b"ab"]


# -- ChunkedDecoder: valid bodies ----------------------------------------------


@pytest.mark.parametrize(
    ("data", "body"),
    [
        pytest.param(HELLO_WORLD, b"hello world", id="two-chunks"),
        pytest.param(UPPER_HEX, b"0123456789", id="upper-hex"),
        pytest.param(MIXED_HEX, b"z" * 26, id="multi-digit-hex"),
        pytest.param(LEADING_ZEROS, b"hello", id="leading-zeros"),
        pytest.param(FIFTEEN_DIGITS, b"hello", id="fifteen-digits"),
        pytest.param(EMPTY_BODY, b"", id="empty"),
        pytest.param(CRLF_IN_DATA, b"\r\n\r\n", id="crlf-in-data"),
        pytest.param(EXTENSIONS, b"hello", id="extensions"),
        pytest.param(EXTENSIONS_SPACED, b"hello", id="extensions-quoted"),
        pytest.param(EXTENSIONS_MANY, b"hello", id="extensions-many"),
        pytest.param(EXTENSION_TAB, b"hello", id="extensions-tab"),
        pytest.param(WITH_TRAILERS, b"hello", id="trailers"),
        pytest.param(
            b"100\r\n" + bytes(range(256)) + b"\r\n0\r\n\r\n",
            bytes(range(256)),
            id="binary",
        ),
    ],
)
def test_chunkedDecoder(data: bytes, body: bytes, mode: str) -> None:
    """
    A chunked body, with any chunk extensions and trailer fields, decodes to
    its data, however it is split, and the bytes after it are left for the
    next request.
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    assert decodeBody(decoder, data, mode) == body


def test_chunkedSplitAtEveryOffset() -> None:
    """
    A chunked body of large and small chunks, cut in two at any offset,
    decodes to its data, and leaves the next request's bytes after it.
    """
    data = b"".join(
        b"%x\r\n%s\r\n" % (len(part), part)
        for part in (bytes(range(200)), b"a", b"\r\n", bytes(range(256)) * 3)
    )
    body = bytes(range(200)) + b"a\r\n" + bytes(range(256)) * 3
    stream = data + b"0\r\n\r\n" + NEXT_REQUEST
    for cut in range(len(stream) + 1):
        decoder = ChunkedDecoder(DEFAULT_LIMITS)
        out: list[bytes] = []
        buf = b""
        for piece in (stream[:cut], stream[cut:]):
            buf += piece
            buf = buf[decoder.decode(buf, 0, out) :]
        assert decoder.done, cut
        assert b"".join(out) == body, cut
        assert buf == NEXT_REQUEST, cut


def test_chunkedTrailers(mode: str) -> None:
    """
    Trailer fields are kept, in order, as sent, with the whitespace around
    their values removed.
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    decodeBody(decoder, WITH_TRAILERS, mode)
    assert decoder.trailers == [
        (b"X-Checksum", b"abc123"),
        (b"X-Other", b"padded"),
        (b"X-Empty", b""),
    ]


def test_chunkedNoTrailers() -> None:
    """
    A body without trailer fields has none.
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    decodeBody(decoder, HELLO_WORLD, "whole")
    assert decoder.trailers == []


def test_chunkedFromOffset() -> None:
    """
    Decoding starts at the offset given and returns an offset into the same
    buffer, just past the body.
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    out: list[bytes] = []
    prefix = b"POST / HTTP/1.1\r\n\r\n"
    buf = prefix + HELLO_WORLD + NEXT_REQUEST
    assert decoder.decode(buf, len(prefix), out) == len(prefix) + len(HELLO_WORLD)
    assert b"".join(out) == b"hello world"


def test_chunkedDoneFlag() -> None:
    """
    The body is done only once the empty line after the last chunk has
    arrived, not at the last chunk itself.
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    out: list[bytes] = []
    assert decoder.decode(b"5\r\nhello\r\n", 0, out) == 10
    assert not decoder.done
    assert decoder.decode(b"0\r\n", 0, out) == 3
    assert not decoder.done
    assert decoder.decode(b"\r", 0, out) == 0
    assert not decoder.done
    assert decoder.decode(b"\r\n", 0, out) == 2
    assert decoder.done


def test_chunkedDoneConsumesNothing() -> None:
    """
    Once the body is complete, further bytes are not consumed.
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    out: list[bytes] = []
    decoder.decode(EMPTY_BODY, 0, out)
    assert decoder.done
    assert decoder.decode(b"5\r\nhello\r\n", 0, out) == 0
    assert out == []


def test_chunkedWaitsForCompleteSizeLine() -> None:
    """
    A chunk-size line is not consumed until its CRLF has arrived.
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    out: list[bytes] = []
    assert decoder.decode(b"5;ext=1", 0, out) == 0
    assert decoder.decode(b"5;ext=1\r", 0, out) == 0
    assert decoder.decode(b"5;ext=1\r\nhel", 0, out) == 12
    assert out == [b"hel"]


def test_chunkedReceivedCountsDecodedBytes() -> None:
    """
    C{received} counts the body bytes decoded so far, not those a chunk-size
    line has announced but which have not arrived (the channel's minimum body
    rate is measured with it).
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    out: list[bytes] = []
    decoder.decode(b"a\r\nab", 0, out)
    assert b"".join(out) == b"ab"
    assert decoder.received == 2


def test_chunkedReceivedGrows() -> None:
    """
    C{received} grows with every chunk and equals the body length at the end.
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    out: list[bytes] = []
    decoder.decode(b"5\r\nhello\r\n", 0, out)
    assert decoder.received == 5
    decoder.decode(b"6\r\n world\r\n0\r\n\r\n", 0, out)
    assert decoder.received == 11


# -- ChunkedDecoder: malformed bodies ----------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"g\r\nhello\r\n0\r\n\r\n", id="non-hex-size"),
        pytest.param(b"\r\nhello\r\n0\r\n\r\n", id="empty-size"),
        pytest.param(b"-5\r\nhello\r\n0\r\n\r\n", id="negative-size"),
        pytest.param(b"+5\r\nhello\r\n0\r\n\r\n", id="plus-size"),
        pytest.param(b"0x5\r\nhello\r\n0\r\n\r\n", id="0x-prefix"),
        pytest.param(b" 5\r\nhello\r\n0\r\n\r\n", id="space-before-size"),
        pytest.param(b"5 \r\nhello\r\n0\r\n\r\n", id="space-after-size"),
        pytest.param(b"5 5\r\nhello\r\n0\r\n\r\n", id="space-in-size"),
        pytest.param(b"0000000000000005\r\nhello\r\n0\r\n\r\n", id="16-digits"),
        pytest.param(b"5\r\nhelloX\r\n0\r\n\r\n", id="data-too-long"),
        pytest.param(b"5\r\nhello0\r\n\r\n", id="missing-crlf-after-data"),
        pytest.param(b"5\r\nhello\n0\r\n\r\n", id="bare-lf-after-data"),
        pytest.param(b"5\r\nhello\r0\r\n\r\n", id="bare-cr-after-data"),
        pytest.param(b"5\nhello\r\n0\r\n\r\n", id="bare-lf-size-line"),
        pytest.param(b"5\r\nhello\r\n0\n\r\n", id="bare-lf-last-chunk"),
        pytest.param(b"5\r\nhello\r\n0\r\n\n", id="bare-lf-end-of-trailers"),
        pytest.param(b"0\r\nX-A: b\n\r\n", id="bare-lf-trailer-field"),
        pytest.param(b"5\r\r\nhello\r\n0\r\n\r\n", id="cr-cr-lf-size-line"),
        pytest.param(b"5;\r\nhello\r\n0\r\n\r\n", id="empty-extension"),
        pytest.param(b"5;=x\r\nhello\r\n0\r\n\r\n", id="extension-no-name"),
        pytest.param(b"5;a=\r\nhello\r\n0\r\n\r\n", id="extension-no-value"),
        pytest.param(b'5;a="open\r\nhello\r\n0\r\n\r\n', id="extension-open-quote"),
        pytest.param(b"5;a=b c\r\nhello\r\n0\r\n\r\n", id="extension-space-value"),
        pytest.param(b"5;a\x00\r\nhello\r\n0\r\n\r\n", id="extension-nul"),
        pytest.param(b"5,6\r\nhello\r\n0\r\n\r\n", id="comma-size"),
        pytest.param(b"0\r\nNo colon\r\n\r\n", id="trailer-no-colon"),
        pytest.param(b"0\r\nX-A : b\r\n\r\n", id="trailer-space-before-colon"),
        pytest.param(b"0\r\nX-A: b\r\n folded\r\n\r\n", id="trailer-obs-fold"),
        pytest.param(b"0\r\nX-A: a\x00b\r\n\r\n", id="trailer-nul"),
        pytest.param(b"0\r\nX-A: a\rb\r\n\r\n", id="trailer-bare-cr"),
        pytest.param(b"0\r\n: b\r\n\r\n", id="trailer-empty-name"),
    ],
)
def test_chunkedMalformed(data: bytes, mode: str) -> None:
    """
    Malformed chunk-size lines, chunk data not followed by CRLF, bare LF line
    endings anywhere in the framing, and malformed trailer fields are all
    answered 400 (RFC 9112 section 7.1): a bare LF inside body framing is a
    request-smuggling vector.
    """
    with pytest.raises(BadRequest):
        decodeBody(ChunkedDecoder(DEFAULT_LIMITS), data, mode)


def test_chunkedRejectsBadDataEndAtOnce() -> None:
    """
    A wrong byte where the CRLF after chunk data belongs is refused as soon as
    it arrives, without waiting for a second byte.
    """
    decoder = ChunkedDecoder(DEFAULT_LIMITS)
    out: list[bytes] = []
    decoder.decode(b"5\r\nhello", 0, out)
    with pytest.raises(BadRequest):
        decoder.decode(b"X", 0, out)


SHORT_LINES = Limits(maxChunkLine=32)


def test_chunkSizeLineTooLong(mode: str) -> None:
    """
    A chunk-size line (with extensions) longer than the limit is answered 400.
    """
    data = b"5;ext=" + b"a" * SHORT_LINES.maxChunkLine + b"\r\nhello\r\n0\r\n\r\n"
    with pytest.raises(BadRequest):
        decodeBody(ChunkedDecoder(SHORT_LINES), data, mode)


def test_chunkSizeLineTooLongBeforeLineEnd() -> None:
    """
    An over-long chunk-size line is refused before its end arrives, so a
    peer cannot make the server buffer an endless line.
    """
    decoder = ChunkedDecoder(SHORT_LINES)
    with pytest.raises(BadRequest):
        decoder.decode(b"5;ext=" + b"a" * SHORT_LINES.maxChunkLine, 0, [])


def test_chunkSizeLineWithinLimit(mode: str) -> None:
    """
    Chunk extensions that keep the size line within the limit are accepted.
    """
    ext = b";e=" + b"a" * (SHORT_LINES.maxChunkLine - 10)
    data = b"5" + ext + b"\r\nhello\r\n0\r\n\r\n"
    assert decodeBody(ChunkedDecoder(SHORT_LINES), data, mode) == b"hello"


@pytest.mark.parametrize(
    "sizeLine",
    [
        b"5;e=" + b"a" * (SHORT_LINES.maxChunkLine - 4),
        b"000000000000005;e=" + b"a" * (SHORT_LINES.maxChunkLine - 18),
        b'5;e="' + b"a" * (SHORT_LINES.maxChunkLine - 6) + b'"',
    ],
)
def test_chunkSizeLineAtLimit(sizeLine: bytes, mode: str) -> None:
    """
    A chunk-size line whose size and extensions are exactly the configured
    maximum length is accepted (the limit counts size and extensions, not the
    CRLF).
    """
    assert len(sizeLine) == SHORT_LINES.maxChunkLine
    data = sizeLine + b"\r\nhello\r\n0\r\n\r\n"
    assert decodeBody(ChunkedDecoder(SHORT_LINES), data, mode) == b"hello"


def test_chunkSizeLineOverLimit(mode: str) -> None:
    """
    A chunk-size line whose size and extensions are one byte over the
    configured maximum is answered 400.
    """
    sizeLine = b"5;e=" + b"a" * (SHORT_LINES.maxChunkLine - 3)
    assert len(sizeLine) == SHORT_LINES.maxChunkLine + 1
    data = sizeLine + b"\r\nhello\r\n0\r\n\r\n"
    with pytest.raises(BadRequest):
        decodeBody(ChunkedDecoder(SHORT_LINES), data, mode)


SMALL_BODY = Limits(maxBodySize=10)


def test_chunkedAtBodyLimit(mode: str) -> None:
    """
    A chunked body of exactly the limit is accepted.
    """
    data = b"5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n"
    assert decodeBody(ChunkedDecoder(SMALL_BODY), data, mode) == b"helloworld"


def test_chunkedOverBodyLimit(mode: str) -> None:
    """
    A chunked body whose chunks together exceed the limit is answered 413.
    """
    data = b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"
    with pytest.raises(ContentTooLarge):
        decodeBody(ChunkedDecoder(SMALL_BODY), data, mode)


def test_chunkedOverBodyLimitBeforeData() -> None:
    """
    A chunk announced larger than the limit is refused at its size line,
    before its data is read.
    """
    with pytest.raises(ContentTooLarge):
        ChunkedDecoder(SMALL_BODY).decode(b"fffffffffffffff\r\n", 0, [])


def test_chunkedHugeSizeWithoutLimit() -> None:
    """
    With no body limit, a huge chunk size is read as a number and awaited.
    """
    decoder = ChunkedDecoder(Limits(maxBodySize=None))
    out: list[bytes] = []
    assert decoder.decode(b"fffffffffffffff\r\nabc", 0, out) == 20
    assert out == [b"abc"]
    assert not decoder.done


SMALL_TRAILERS = Limits(maxHeadSize=64, maxRequestLine=32, maxHeaderCount=3)


def test_trailerSectionTooLarge(mode: str) -> None:
    """
    A trailer section larger than the head size limit is answered 431.
    """
    data = b"0\r\nX-Big: " + b"a" * SMALL_TRAILERS.maxHeadSize + b"\r\n\r\n"
    with pytest.raises(HeaderFieldsTooLarge):
        decodeBody(ChunkedDecoder(SMALL_TRAILERS), data, mode)


def test_trailerSectionTooLargeBeforeLineEnd() -> None:
    """
    An over-long trailer line is refused before its end arrives.
    """
    data = b"0\r\nX-Big: " + b"a" * SMALL_TRAILERS.maxHeadSize
    with pytest.raises(HeaderFieldsTooLarge):
        ChunkedDecoder(SMALL_TRAILERS).decode(data, 0, [])


def test_trailerSectionManySmallLines(mode: str) -> None:
    """
    Many small trailer lines that together exceed the size limit are
    answered 431 too.
    """
    limits = Limits(maxHeadSize=64, maxRequestLine=32, maxHeaderCount=100)
    data = b"0\r\n" + b"X-A: b\r\n" * 20 + b"\r\n"
    with pytest.raises(HeaderFieldsTooLarge):
        decodeBody(ChunkedDecoder(limits), data, mode)


def test_trailerSectionAtSizeLimit(mode: str) -> None:
    """
    A trailer section (fields and the empty line ending it) of exactly the
    head size limit is accepted.
    """
    size = SMALL_TRAILERS.maxHeadSize
    section = b"X-Big: " + b"a" * (size - 11) + b"\r\n\r\n"
    assert len(section) == size
    decoder = ChunkedDecoder(SMALL_TRAILERS)
    decodeBody(decoder, b"0\r\n" + section, mode)
    assert decoder.trailers == [(b"X-Big", b"a" * (size - 11))]


def test_trailerSectionOverSizeLimit(mode: str) -> None:
    """
    A trailer section one byte over the head size limit is answered 431.
    """
    size = SMALL_TRAILERS.maxHeadSize
    section = b"X-Big: " + b"a" * (size - 10) + b"\r\n\r\n"
    assert len(section) == size + 1
    with pytest.raises(HeaderFieldsTooLarge):
        decodeBody(ChunkedDecoder(SMALL_TRAILERS), b"0\r\n" + section, mode)


def test_trailerCountAtLimit(mode: str) -> None:
    """
    Exactly the maximum number of trailer fields is accepted.
    """
    data = b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
    decoder = ChunkedDecoder(SMALL_TRAILERS)
    decodeBody(decoder, data, mode)
    assert decoder.trailers == [(b"A", b"1"), (b"B", b"2"), (b"C", b"3")]


def test_trailerCountOverLimit(mode: str) -> None:
    """
    One trailer field more than the maximum number is answered 431.
    """
    data = b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n"
    with pytest.raises(HeaderFieldsTooLarge):
        decodeBody(ChunkedDecoder(SMALL_TRAILERS), data, mode)


def test_decoderErrorsAreWireErrors() -> None:
    """
    Every error a decoder raises belongs to the wire error family.
    """
    for error in (BadRequest, ContentTooLarge, HeaderFieldsTooLarge):
        assert issubclass(error, WireError)
