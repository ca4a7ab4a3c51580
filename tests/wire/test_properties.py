"""
Property tests for the wire layer and the typed header values.

  1. However a valid request's bytes are split into pieces, feeding them in
     turn the way a channel does gives the same method, target, headers and
     body as parsing them whole.
  2. Arbitrary bytes fed to the head functions and to the chunked decoder
     either parse, need more, or raise a L{WireError}: never anything else.
  3. Formatting then parsing gives back what was formatted (dates, chunks,
     entity tags, cookies).

The number of examples comes from the Hypothesis profile chosen in
C{tests/conftest.py}.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from twisted_web_re._publish.headerparse import (
    formatSetCookie,
    parseCookies,
    parseETags,
    parseHTTPDate,
)
from twisted_web_re._wire.errors import WireError
from twisted_web_re._wire.framing import BodyDecoder, ChunkedDecoder, LengthDecoder
from twisted_web_re._wire.limits import DEFAULT_LIMITS, Limits
from twisted_web_re._wire.parser import (
    CHUNKED,
    RequestHead,
    checkIncompleteHead,
    findHeadEnd,
    parseHead,
    skipEmptyLines,
)
from twisted_web_re._wire.serialise import LAST_CHUNK, chunk, httpDate

# -- raw bytes the strategies are built from ---------------------------------------

TOKEN_CHARS = (
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
TARGET_CHARS = "".join(chr(c) for c in range(0x21, 0x7F))
#: Bytes a field value may hold: HTAB, SP, VCHAR and obs-text.
VALUE_BYTES = bytes([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)])
#: Bytes a cookie value may hold (RFC 6265 cookie-octet).
COOKIE_OCTETS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '",;\\')
#: Bytes an entity tag may hold (RFC 9110 etagc, ASCII part).
ETAG_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if c != 0x22)

#: Fields the request strategy sets itself, so the generated ones avoid them.
FRAMING_FIELDS = {
    b"host",
    b"content-length",
    b"transfer-encoding",
    b"connection",
    b"expect",
}

#: The start of the next pipelined request, sent after every generated one.
NEXT_REQUEST = b"GET /next HTTP/1.1\r\n"

#: Fragments that make the fuzzed input look enough like HTTP to reach deep
#: into the parser, mixed with arbitrary bytes.
HEAD_VOCABULARY = [
    b"GET",
    b"POST",
    b"OPTIONS",
    b"CONNECT",
    b" ",
    b"/",
    b"*",
    b"http://a/",
    b"a:1",
    b" HTTP/1.1",
    b" HTTP/1.0",
    b" HTTP/2.0",
    b"\r\n",
    b"\n",
    b"\r",
    b"\t",
    b"\x00",
    b"\xff",
    b":",
    b",",
    b"Host: ",
    b"Host:a",
    b"[::1]",
    b"Content-Length: ",
    b"Transfer-Encoding: ",
    b"chunked",
    b"gzip",
    b"Connection: ",
    b"close",
    b"keep-alive",
    b"Expect: ",
    b"100-continue",
    b"5",
    b"99999999999999999999",
    b"-1",
]

CHUNK_VOCABULARY = [
    b"0",
    b"5",
    b"a",
    b"F",
    b"fffffffffffffff",
    b"0000000000000001",
    b"\r\n",
    b"\n",
    b"\r",
    b";",
    b"=",
    b'"',
    b"\\",
    b" ",
    b"\t",
    b"ext",
    b"hello",
    b":",
    b"X-T",
    b"\x00",
]

SMALL = Limits(
    maxRequestLine=16,
    maxHeadSize=64,
    maxHeaderCount=3,
    maxBodySize=20,
    maxChunkLine=8,
)

# -- strategies -------------------------------------------------------------------

tokens = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=12).map(str.encode)
fieldNames = tokens.filter(lambda name: name.lower() not in FRAMING_FIELDS)
fieldValues = st.lists(st.sampled_from(VALUE_BYTES), max_size=20).map(
    lambda values: bytes(values).strip(b" \t")
)
optionalWhitespace = st.sampled_from([b"", b" ", b"\t", b"  ", b" \t "])
lineEndings = st.sampled_from([b"\r\n", b"\n"])
targets = st.text(alphabet=TARGET_CHARS, max_size=30).map(lambda t: b"/" + t.encode())
chunkExtensions = st.sampled_from(
    [b"", b";a", b";a=1", b' ; name = "quoted value"', b";x=y;z"]
)


@dataclass
class GeneratedRequest:
    """A request's bytes and what parsing them must give."""

    data: bytes
    method: bytes
    target: bytes
    version: bytes
    headers: dict[bytes, list[bytes]]
    body: bytes
    trailers: list[tuple[bytes, bytes]]


@st.composite
def chunkedBodies(
    draw: st.DrawFn, body: bytes
) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """
    Frame C{body} as chunks of random sizes, with random extensions and
    trailer fields.

    @return: the framed bytes and the trailer fields sent.
    """
    cuts = sorted(
        set(draw(st.lists(st.integers(1, max(len(body) - 1, 1)), max_size=6)))
    )
    bounds = [0, *[cut for cut in cuts if cut < len(body)], len(body)]
    framed = b""
    for start, end in pairwise(bounds):
        piece = body[start:end]
        if not piece:
            continue
        size = b"%x" % len(piece)
        if draw(st.booleans()):
            size = size.upper()
        size = b"0" * draw(st.integers(0, 2)) + size
        framed += size + draw(chunkExtensions) + b"\r\n" + piece + b"\r\n"
    framed += b"0" + draw(chunkExtensions) + b"\r\n"
    trailers = draw(st.lists(st.tuples(fieldNames, fieldValues), max_size=3))
    for name, value in trailers:
        framed += name + b":" + draw(optionalWhitespace) + value + b"\r\n"
    return framed + b"\r\n", trailers


@st.composite
def requests(draw: st.DrawFn, leadingEmptyLines: bool = False) -> GeneratedRequest:
    """
    A valid request: a token method, an origin-form target, generated header
    fields with a Host among them, mixed line endings, and no body, a
    Content-Length body or (for HTTP/1.1) a chunked body.
    """
    method = draw(tokens)
    target = draw(targets)
    version = draw(st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"]))
    fields = draw(st.lists(st.tuples(fieldNames, fieldValues), max_size=8))
    fields.insert(draw(st.integers(0, len(fields))), (b"Host", b"example.com"))
    kinds = ["none", "length"] + (["chunked"] if version == b"HTTP/1.1" else [])
    kind = draw(st.sampled_from(kinds))
    body = b"" if kind == "none" else draw(st.binary(max_size=200))
    trailers: list[tuple[bytes, bytes]] = []
    framed = body
    if kind == "length":
        fields.append((b"Content-Length", b"%d" % len(body)))
    elif kind == "chunked":
        fields.append((b"Transfer-Encoding", b"chunked"))
        framed, trailers = draw(chunkedBodies(body))
    head = b""
    if leadingEmptyLines:
        head += b"".join(draw(st.lists(lineEndings, min_size=1, max_size=3)))
    head += method + b" " + target + b" " + version + draw(lineEndings)
    headers: dict[bytes, list[bytes]] = {}
    for name, value in fields:
        head += name + b":" + draw(optionalWhitespace) + value
        head += draw(optionalWhitespace) + draw(lineEndings)
        headers.setdefault(name.lower(), []).append(value)
    head += draw(lineEndings)
    return GeneratedRequest(
        head + framed, method, target, version, headers, body, trailers
    )


def splits(data: bytes) -> st.SearchStrategy[list[bytes]]:
    """Ways to cut C{data} into consecutive pieces."""
    return st.lists(st.integers(0, len(data)), max_size=12).map(
        lambda cuts: [
            data[start:end]
            for start, end in zip(
                [0, *sorted(cuts)], [*sorted(cuts), len(data)], strict=True
            )
        ]
    )


def everySplitPoint(data: bytes) -> list[list[bytes]]:
    """The two-piece splits of C{data} at every offset."""
    return [[data[:cut], data[cut:]] for cut in range(len(data) + 1)]


fuzzedHeads = st.lists(
    st.sampled_from(HEAD_VOCABULARY) | st.binary(max_size=3), max_size=40
).map(b"".join)
fuzzedChunks = st.lists(
    st.sampled_from(CHUNK_VOCABULARY) | st.binary(max_size=3), max_size=40
).map(b"".join)
limitChoices = st.sampled_from([DEFAULT_LIMITS, SMALL])


# -- driving the wire layer the way a channel does ---------------------------------


@dataclass
class Parsed:
    """What a channel learns from one request's bytes."""

    head: RequestHead | None
    body: bytes
    done: bool
    trailers: list[tuple[bytes, bytes]]
    leftover: bytes


def decoderFor(head: RequestHead, limits: Limits) -> BodyDecoder:
    """The body decoder a channel would choose for C{head}."""
    if head.bodyLength == CHUNKED:
        return ChunkedDecoder(limits)
    return LengthDecoder(head.bodyLength)


def feed(pieces: list[bytes], limits: Limits = DEFAULT_LIMITS) -> Parsed:
    """
    Feed C{pieces} in turn, keeping unconsumed bytes in a buffer, parsing the
    head once it is complete and then decoding the body from what follows.

    @raise WireError: whatever the wire layer raises.
    """
    buf = b""
    head: RequestHead | None = None
    decoder: BodyDecoder | None = None
    out: list[bytes] = []
    for piece in pieces:
        buf += piece
        if head is None:
            pos = skipEmptyLines(buf, 0)
            fieldsEnd, headEnd = findHeadEnd(buf, pos)
            if headEnd < 0:
                checkIncompleteHead(buf, pos, limits)
                continue
            assert pos <= fieldsEnd <= headEnd <= len(buf)
            head = parseHead(buf, pos, fieldsEnd, headEnd, limits)
            buf = buf[headEnd:]
            decoder = decoderFor(head, limits)
        assert decoder is not None
        consumed = decoder.decode(buf, 0, out)
        assert 0 <= consumed <= len(buf)
        buf = buf[consumed:]
    trailers = decoder.trailers if isinstance(decoder, ChunkedDecoder) else []
    return Parsed(
        head,
        b"".join(out),
        decoder is not None and decoder.done,
        trailers,
        buf,
    )


def headSummary(head: RequestHead | None) -> tuple[object, ...] | None:
    """The parts of a head two parses must agree on."""
    if head is None:
        return None
    return (
        head.method,
        head.target,
        head.version,
        head.headers,
        head.bodyLength,
        head.keepAlive,
        head.expectContinue,
    )


# -- 1. any split parses the same ------------------------------------------------


@given(st.data())
def test_anySplitParsesTheSame(data: st.DataObject) -> None:
    """
    A valid request split into any pieces, fed in turn, parses to the same
    method, target, headers, body and trailers as when fed whole, and those
    are the ones that were sent; the next request's bytes are left alone.
    """
    generated = data.draw(requests())
    stream = generated.data + NEXT_REQUEST
    whole = feed([stream])
    split = feed(data.draw(splits(stream)))

    assert whole.head is not None
    assert whole.head.method == generated.method
    assert whole.head.target == generated.target
    assert whole.head.version == generated.version
    assert whole.head.headers == generated.headers
    assert whole.body == generated.body
    assert whole.trailers == generated.trailers
    assert whole.done
    assert whole.leftover == NEXT_REQUEST

    assert headSummary(split.head) == headSummary(whole.head)
    assert split.body == whole.body
    assert split.trailers == whole.trailers
    assert split.done
    assert split.leftover == NEXT_REQUEST


@given(requests())
def test_byteAtATimeParsesTheSame(generated: GeneratedRequest) -> None:
    """
    A valid request fed one byte at a time parses as when fed whole.
    """
    stream = generated.data + NEXT_REQUEST
    whole = feed([stream])
    bytewise = feed([stream[i : i + 1] for i in range(len(stream))])
    assert headSummary(bytewise.head) == headSummary(whole.head)
    assert (bytewise.body, bytewise.trailers, bytewise.leftover) == (
        whole.body,
        whole.trailers,
        whole.leftover,
    )


@given(requests(leadingEmptyLines=True))
def test_leadingEmptyLinesAnySplit(generated: GeneratedRequest) -> None:
    """
    Empty lines before the request line are ignored however the bytes are
    split, even between an empty line's CR and its LF (RFC 9112 section 2.2).
    """
    stream = generated.data + NEXT_REQUEST
    whole = feed([stream])
    assert whole.head is not None and whole.head.target == generated.target
    for pieces in everySplitPoint(stream[:8]):
        pieces[-1] += stream[8:]
        assert headSummary(feed(pieces).head) == headSummary(whole.head)


# -- 2. arbitrary bytes: parse, need more, or a wire error ---------------------------


@given(fuzzedHeads, limitChoices)
def test_headFunctionsOnlyRaiseWireErrors(data: bytes, limits: Limits) -> None:
    """
    Whatever bytes arrive, the head functions either parse them, report that
    more are needed, or raise a wire error; nothing else escapes.
    """
    try:
        pos = skipEmptyLines(data, 0)
        assert 0 <= pos <= len(data)
        fieldsEnd, headEnd = findHeadEnd(data, pos)
        if headEnd < 0:
            assert fieldsEnd == -1
            checkIncompleteHead(data, pos, limits)
        else:
            assert pos <= fieldsEnd < headEnd <= len(data)
            head = parseHead(data, pos, fieldsEnd, headEnd, limits)
            assert isinstance(head, RequestHead)
            assert head.bodyLength >= CHUNKED
    except WireError as error:
        assert error.status in {400, 413, 414, 417, 431, 501, 505}


@given(st.binary(max_size=200), limitChoices)
def test_headFunctionsOnlyRaiseWireErrorsOnRandomBytes(
    data: bytes, limits: Limits
) -> None:
    """
    Entirely random bytes, too, only ever parse, need more, or raise a wire
    error.
    """
    try:
        feed([data], limits)
    except WireError:
        pass


def headOutcome(pieces: list[bytes], limits: Limits) -> tuple[object, ...]:
    """
    Feed C{pieces} to the head functions only, the way a channel does.

    @return: C{("head", summary, headEnd)}, C{("more",)} or
        C{("error", errorClass)}.
    """
    buf = b""
    try:
        for piece in pieces:
            buf += piece
            pos = skipEmptyLines(buf, 0)
            fieldsEnd, headEnd = findHeadEnd(buf, pos)
            if headEnd < 0:
                checkIncompleteHead(buf, pos, limits)
                continue
            head = parseHead(buf, pos, fieldsEnd, headEnd, limits)
            return ("head", headSummary(head), headEnd)
    except WireError as error:
        return ("error", type(error))
    return ("more",)


@given(st.data(), limitChoices)
def test_splitHeadNeverChangesTheOutcome(data: st.DataObject, limits: Limits) -> None:
    """
    Fuzzed heads fed in pieces give what they give when fed whole: a head
    that parses whole parses the same in pieces (nothing is refused early
    that would be accepted), one refused whole is refused in pieces, and one
    incomplete whole is incomplete or already refused in pieces.
    """
    stream = data.draw(fuzzedHeads)
    whole = headOutcome([stream], limits)
    split = headOutcome(data.draw(splits(stream)), limits)
    if whole[0] == "head":
        assert split == whole
    elif whole[0] == "error":
        assert split[0] == "error"
    else:
        assert split[0] in {"more", "error"}


@given(requests(), limitChoices, st.data())
def test_validRequestPrefixesNeverRefused(
    generated: GeneratedRequest, limits: Limits, data: st.DataObject
) -> None:
    """
    Whatever the limits, a request head is refused in pieces exactly when it
    is refused whole, and with the same status.
    """
    whole = headOutcome([generated.data], limits)
    split = headOutcome(data.draw(splits(generated.data)), limits)
    if whole[0] == "head":
        assert split == whole
    else:
        assert whole[0] == "error"
        assert split == whole


@given(st.data(), limitChoices)
def test_chunkedDecoderOnlyRaisesWireErrors(
    data: st.DataObject, limits: Limits
) -> None:
    """
    Whatever bytes arrive as a chunked body, in whatever pieces, the decoder
    consumes within the buffer, produces no more than it consumed, and either
    finishes, waits for more, or raises a wire error.
    """
    stream = data.draw(fuzzedChunks | st.binary(max_size=100))
    pieces = data.draw(splits(stream))
    decoder = ChunkedDecoder(limits)
    buf = b""
    out: list[bytes] = []
    try:
        for piece in pieces:
            buf += piece
            before = sum(map(len, out))
            consumed = decoder.decode(buf, 0, out)
            assert 0 <= consumed <= len(buf)
            assert sum(map(len, out)) - before <= consumed
            buf = buf[consumed:]
    except WireError as error:
        assert error.status in {400, 413, 431}
        return
    if decoder.done:
        assert decoder.decode(buf + b"more", 0, out) == 0


# -- 3. format, then parse --------------------------------------------------------


@given(st.integers(min_value=0, max_value=253402300799))
def test_httpDateRoundTrip(when: int) -> None:
    """
    Any time from 1970 to the end of year 9999, formatted as an HTTP date,
    parses back to itself.
    """
    assert parseHTTPDate(httpDate(when)) == when


@given(st.floats(min_value=0, max_value=4102444799.999, allow_nan=False))
def test_httpDateRoundTripFractional(when: float) -> None:
    """
    A time with a fraction of a second formats to its whole second: the
    fraction is dropped, never rounded up into the next second.
    """
    assert parseHTTPDate(httpDate(when)) == int(when)


@given(st.lists(st.binary(min_size=1, max_size=300), max_size=8), st.data())
def test_chunkRoundTrip(pieces: list[bytes], data: st.DataObject) -> None:
    """
    Data framed with chunk() and LAST_CHUNK decodes back to itself, however
    the framed bytes are split, and nothing after them is consumed.
    """
    stream = b"".join(chunk(piece) for piece in pieces) + LAST_CHUNK + NEXT_REQUEST
    decoder = ChunkedDecoder(Limits(maxBodySize=None))
    buf = b""
    out: list[bytes] = []
    for piece in data.draw(splits(stream)):
        buf += piece
        buf = buf[decoder.decode(buf, 0, out) :]
    assert decoder.done
    assert b"".join(out) == b"".join(pieces)
    assert buf == NEXT_REQUEST
    assert decoder.trailers == []


etags = st.tuples(
    st.booleans(), st.text(alphabet=ETAG_CHARS, max_size=12).map(str.encode)
)


@given(st.lists(etags, min_size=1, max_size=5), st.sampled_from([b",", b", ", b" , "]))
def test_etagListRoundTrip(tags: list[tuple[bool, bytes]], separator: bytes) -> None:
    """
    A list of entity tags, written out, parses back to the same tags.
    """
    value = separator.join(
        (b"W/" if weak else b"") + b'"' + t + b'"' for weak, t in tags
    )
    assert parseETags(value) == [(weak, b'"' + t + b'"') for weak, t in tags]


@given(
    tokens,
    st.text(alphabet=COOKIE_OCTETS, max_size=20),
    st.booleans(),
)
def test_cookieRoundTrip(name: bytes, value: str, quoted: bool) -> None:
    """
    A cookie formatted for Set-Cookie comes back with the same name and value
    when the browser returns it in a Cookie field.
    """
    raw = ('"' + value + '"') if quoted else value
    pair = formatSetCookie(name, raw)
    assert parseCookies([pair]) == {name: value.encode()}
    withAttributes = formatSetCookie(name, raw, path="/", secure=True, httpOnly=True)
    assert parseCookies([withAttributes])[name] == value.encode()
