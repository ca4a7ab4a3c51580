"""
Tests for L{twisted_web_re._wire.parser}: finding, pre-checking and parsing
request heads.

Every head case is run three ways, the way a channel meets it: the whole head
in one piece, one byte at a time (so L{checkIncompleteHead} sees every
prefix), and followed by the next pipelined request, whose bytes must be left
where they are.
"""

from __future__ import annotations

import inspect

import pytest

from twisted_web_re._wire import errors
from twisted_web_re._wire.errors import (
    BadRequest,
    ContentTooLarge,
    ExpectationFailed,
    HeaderFieldsTooLarge,
    MisdirectedRequest,
    NotImplementedCoding,
    RequestTimeout,
    URITooLong,
    VersionNotSupported,
    WireError,
)
from twisted_web_re._wire.limits import DEFAULT_LIMITS, Limits
from twisted_web_re._wire.parser import (
    CHUNKED,
    NO_BODY,
    RequestHead,
    checkIncompleteHead,
    connectionTokens,
    findHeadEnd,
    parseHead,
    skipEmptyLines,
)

# -- raw request heads ---------------------------------------------------------

SIMPLE_GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
GET_WITH_QUERY = (
    b"GET /index.html?q=1&r=two HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
)
POST_WITH_LENGTH = (
    b"POST /submit HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\n"
)
POST_CHUNKED = (
    b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
)
OPTIONS_STAR = b"OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n"
CONNECT_AUTHORITY = b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
ABSOLUTE_FORM = b"GET http://example.com/path?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
LOWER_CASE_METHOD = b"get / HTTP/1.1\r\nHost: example.com\r\n\r\n"
EXTENSION_METHOD = b"PROPFIND /dav/ HTTP/1.1\r\nHost: example.com\r\n\r\n"
BARE_LF_HEAD = b"GET / HTTP/1.1\nHost: example.com\nAccept: */*\n\n"
MIXED_ENDINGS_HEAD = b"GET / HTTP/1.1\r\nHost: example.com\nAccept: */*\r\n\n"
HTTP10_NO_HOST = b"GET / HTTP/1.0\r\n\r\n"
HTTP12 = b"GET / HTTP/1.2\r\nHost: example.com\r\n\r\n"
MULTI_VALUED = (
    b"GET / HTTP/1.1\r\n"
    b"Host: example.com\r\n"
    b"Accept: text/html\r\n"
    b"X-Thing: one\r\n"
    b"accept: text/plain\r\n"
    b"ACCEPT:   */*  \r\n"
    b"\r\n"
)
PADDED_VALUES = (
    b"GET / HTTP/1.1\r\n"
    b"Host: example.com\r\n"
    b"X-Pad: \t padded  value \t\r\n"
    b"X-Empty:\r\n"
    b"X-Spaces:    \r\n"
    b"X-Latin: caf\xe9\r\n"
    b"X-Tight:tight\r\n"
    b"\r\n"
)
LEADING_EMPTY_LINES = b"\r\n\r\n" + SIMPLE_GET
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
TLS_CLIENT_HELLO = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 32

#: What follows the head under test in the "trailing" mode: the next
#: pipelined request, which parsing the first must leave untouched.
NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: example.com\r\n\r\n"

#: Small limits, so that boundary cases are quick to build and to feed.
SMALL = Limits(maxRequestLine=64, maxHeadSize=256, maxHeaderCount=5)


def request(
    headerLines: bytes = b"",
    version: bytes = b"HTTP/1.1",
    host: bytes | None = b"example.com",
    method: bytes = b"POST",
) -> bytes:
    """
    Build a request head with a Host field (unless C{host} is None) and the
    given extra CRLF-terminated header lines.
    """
    hostLine = b"" if host is None else b"Host: " + host + b"\r\n"
    return method + b" / " + version + b"\r\n" + hostLine + headerLines + b"\r\n"


# -- driving the parser the way a channel does ----------------------------------

MODES = ("whole", "bytewise", "trailing")


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """How the head is delivered: whole, a byte at a time, or with more after."""
    return str(request.param)


def feedHead(data: bytes, mode: str, limits: Limits = DEFAULT_LIMITS) -> RequestHead:
    """
    Deliver C{data} (one complete head) as C{mode} says, checking each
    incomplete prefix and parsing the head once it is complete.

    @return: the parsed head.
    @raise WireError: whatever the wire layer raises on the way.
    """
    trailing = NEXT_REQUEST if mode == "trailing" else b""
    stream = data + trailing
    if mode == "bytewise":
        pieces = [stream[i : i + 1] for i in range(len(stream))]
    else:
        pieces = [stream]
    buf = b""
    for index, piece in enumerate(pieces):
        buf += piece
        pos = skipEmptyLines(buf, 0)
        fieldsEnd, headEnd = findHeadEnd(buf, pos)
        if headEnd < 0:
            checkIncompleteHead(buf, pos, limits)
            continue
        head = parseHead(buf, pos, fieldsEnd, headEnd, limits)
        assert index == len(pieces) - 1, "head ended before all of it arrived"
        assert headEnd == len(data)
        assert buf[headEnd:] == trailing
        return head
    raise AssertionError("the head never completed")


# -- skipEmptyLines -------------------------------------------------------------


@pytest.mark.parametrize(
    ("buf", "pos", "expected"),
    [
        (b"GET / HTTP/1.1\r\n", 0, 0),
        (b"\r\nGET", 0, 2),
        (b"\r\n\r\n\r\nGET", 0, 6),
        (b"\n\nGET", 0, 2),
        (b"\r\n\n\r\nGET", 0, 5),
        (b"\r\n\r\n", 0, 4),
        (b"", 0, 0),
        (b"xx\r\nGET", 2, 4),
        (b"xx\r\nGET", 0, 0),
        (b"\r", 0, 0),
        (b"\r\n\r", 0, 2),
    ],
)
def test_skipEmptyLines(buf: bytes, pos: int, expected: int) -> None:
    """
    Empty lines (CRLF or bare LF) before a request line are skipped from the
    given offset; anything else, including a CR whose LF has not arrived, is
    left in place.
    """
    assert skipEmptyLines(buf, pos) == expected


# -- findHeadEnd ---------------------------------------------------------------


def test_findHeadEndCRLF() -> None:
    """
    A CRLF head ends after its CRLF empty line; the fields end just before it.
    """
    assert findHeadEnd(SIMPLE_GET, 0) == (len(SIMPLE_GET) - 2, len(SIMPLE_GET))


def test_findHeadEndBareLF() -> None:
    """
    A head whose lines all end in bare LF ends after its bare LF empty line.
    """
    assert findHeadEnd(BARE_LF_HEAD, 0) == (len(BARE_LF_HEAD) - 1, len(BARE_LF_HEAD))


@pytest.mark.parametrize(
    ("head", "blankLength"),
    [
        (b"GET / HTTP/1.1\r\nHost: a\n\r\n", 2),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\n", 1),
        (b"GET / HTTP/1.1\nHost: a\r\n\r\n", 2),
        (MIXED_ENDINGS_HEAD, 1),
    ],
)
def test_findHeadEndMixed(head: bytes, blankLength: int) -> None:
    """
    A head mixing CRLF and bare LF line endings ends after its empty line,
    whichever ending that empty line has.
    """
    assert findHeadEnd(head, 0) == (len(head) - blankLength, len(head))


def test_findHeadEndRequestLineOnly() -> None:
    """
    A head with no fields ends after the empty line that follows the request
    line; the fields end where the request line does.
    """
    assert findHeadEnd(HTTP10_NO_HOST, 0) == (16, 18)
    assert findHeadEnd(b"GET / HTTP/1.0\n\n", 0) == (15, 16)


def test_findHeadEndBareLFBeforeLaterCRLF() -> None:
    """
    A bare-LF empty line ends the head even when a CRLF empty line comes
    later in the buffer (in the body, or a later request).
    """
    head = b"GET / HTTP/1.1\nHost: a\n\n"
    buf = head + b"POST / HTTP/1.1\r\nHost: a\r\n\r\n"
    assert findHeadEnd(buf, 0) == (len(head) - 1, len(head))


def test_findHeadEndCRLFBeforeLaterBareLF() -> None:
    """
    A CRLF empty line ends the head even when a bare-LF empty line comes
    later in the buffer.
    """
    buf = SIMPLE_GET + b"body\n\nmore"
    assert findHeadEnd(buf, 0) == (len(SIMPLE_GET) - 2, len(SIMPLE_GET))


@pytest.mark.parametrize(
    "buf",
    [
        b"",
        b"GET / HTTP/1.1",
        b"GET / HTTP/1.1\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\n\r",
        b"GET / HTTP/1.1\nHost: a\n",
        b"GET / HTTP/1.1\r\nHost: a\r\r",
    ],
)
def test_findHeadEndIncomplete(buf: bytes) -> None:
    """
    Until the empty line has arrived whole, the head is reported incomplete.
    """
    assert findHeadEnd(buf, 0) == (-1, -1)


def test_findHeadEndFromOffset() -> None:
    """
    Searching from an offset finds the end of the head that starts there, not
    of an earlier one.
    """
    buf = SIMPLE_GET + NEXT_REQUEST
    assert findHeadEnd(buf, len(SIMPLE_GET)) == (len(buf) - 2, len(buf))


# -- checkIncompleteHead ------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        SIMPLE_GET,
        GET_WITH_QUERY,
        POST_CHUNKED,
        OPTIONS_STAR,
        CONNECT_AUTHORITY,
        ABSOLUTE_FORM,
        BARE_LF_HEAD,
        LOWER_CASE_METHOD,
        HTTP10_NO_HOST,
    ],
)
def test_checkIncompleteHeadAcceptsPrefixes(head: bytes) -> None:
    """
    No prefix of a valid request head is rejected while it is incomplete.
    """
    for end in range(len(head)):
        checkIncompleteHead(head[:end], 0, DEFAULT_LIMITS)


@pytest.mark.parametrize(
    "buf",
    [
        TLS_CLIENT_HELLO,
        TLS_CLIENT_HELLO[:3],
        b"GET\x00",
        b"\x00",
        b"GET\t/",
        b"GET / HTTP/1.1 extra",
        b"GET /\xff",
        b"GET / XTTP",
        b"GET / HTTP/1.1\rX",
    ],
)
def test_checkIncompleteHeadRejectsGarbageAtOnce(buf: bytes) -> None:
    """
    A first line that can no longer become a request line (a TLS handshake on
    the plain port, binary junk) is refused with 400 before any line end.
    """
    with pytest.raises(BadRequest):
        checkIncompleteHead(buf, 0, DEFAULT_LIMITS)


@pytest.mark.parametrize(
    "buf",
    [
        b"GET /\r\nHost: a",
        b"GET / HTTP/1.1 x\r\nHost: a",
        b"\x16\x03\x01\n\x00\x00",
        b"GET / HTTP/1.1\r\r\nHost: a",
    ],
)
def test_checkIncompleteHeadRejectsCompleteBadFirstLine(buf: bytes) -> None:
    """
    A complete first line that is no request line (an HTTP/0.9 request, junk
    with a line feed in it) is refused with 400 without waiting for the rest
    of the head.
    """
    with pytest.raises(BadRequest):
        checkIncompleteHead(buf, 0, DEFAULT_LIMITS)


def test_checkIncompleteHeadLongRequestLine() -> None:
    """
    A first line longer than the limit is refused with 414 before its end
    arrives.
    """
    buf = b"GET /" + b"a" * SMALL.maxRequestLine
    with pytest.raises(URITooLong):
        checkIncompleteHead(buf, 0, SMALL)


def test_checkIncompleteHeadLongCompleteRequestLine() -> None:
    """
    A complete first line longer than the limit is refused with 414 even
    though the rest of the head has not arrived.
    """
    buf = b"GET /" + b"a" * SMALL.maxRequestLine + b" HTTP/1.1\r\nHost: a"
    with pytest.raises(URITooLong):
        checkIncompleteHead(buf, 0, SMALL)


def test_checkIncompleteHeadLargeHead() -> None:
    """
    An unfinished head already larger than the limit is refused with 431.
    """
    buf = b"GET / HTTP/1.1\r\n" + b"X-Filler: aaaaaaaaaaaaaaaa\r\n" * 20
    assert len(buf) > SMALL.maxHeadSize
    with pytest.raises(HeaderFieldsTooLarge):
        checkIncompleteHead(buf, 0, SMALL)


def test_checkIncompleteHeadFromOffset() -> None:
    """
    Only the head starting at the offset is checked: bytes of an earlier,
    already handled request before it do not count against its limits.
    """
    earlier = b"x" * (SMALL.maxHeadSize * 2)
    checkIncompleteHead(earlier + b"GET / HTTP/1.1\r\nHost: a", len(earlier), SMALL)


def test_checkIncompleteHeadSplitEmptyLine() -> None:
    """
    An empty line before the request line whose CR has arrived but whose LF
    has not yet is not rejected (RFC 9112 section 2.2: a server SHOULD
    ignore at least one empty line before the request line).
    """
    buf = b"\r"
    checkIncompleteHead(buf, skipEmptyLines(buf, 0), DEFAULT_LIMITS)


def test_leadingEmptyLines(mode: str) -> None:
    """
    Empty lines before the request line are ignored, however the bytes are
    split (RFC 9112 section 2.2).
    """
    head = feedHead(LEADING_EMPTY_LINES, mode)
    assert (head.method, head.target) == (b"GET", b"/")


# -- parseHead: request lines ----------------------------------------------------


@pytest.mark.parametrize(
    ("data", "method", "target"),
    [
        (SIMPLE_GET, b"GET", b"/"),
        (GET_WITH_QUERY, b"GET", b"/index.html?q=1&r=two"),
        (POST_WITH_LENGTH, b"POST", b"/submit"),
        (OPTIONS_STAR, b"OPTIONS", b"*"),
        (CONNECT_AUTHORITY, b"CONNECT", b"example.com:443"),
        (ABSOLUTE_FORM, b"GET", b"http://example.com/path?x=1"),
        (LOWER_CASE_METHOD, b"get", b"/"),
        (EXTENSION_METHOD, b"PROPFIND", b"/dav/"),
        (BARE_LF_HEAD, b"GET", b"/"),
        (MIXED_ENDINGS_HEAD, b"GET", b"/"),
    ],
)
def test_validRequestLines(
    data: bytes, method: bytes, target: bytes, mode: str
) -> None:
    """
    Valid request lines in every request-target form parse to their method
    (case preserved: methods are case-sensitive) and target, as sent.
    """
    head = feedHead(data, mode)
    assert (head.method, head.target, head.version) == (method, target, b"HTTP/1.1")


@pytest.mark.parametrize(
    ("data", "version"),
    [
        (SIMPLE_GET, b"HTTP/1.1"),
        (HTTP10_NO_HOST, b"HTTP/1.0"),
        (HTTP12, b"HTTP/1.1"),
        (b"GET / HTTP/1.9\r\nHost: a\r\n\r\n", b"HTTP/1.1"),
    ],
)
def test_versions(data: bytes, version: bytes, mode: str) -> None:
    """
    HTTP/1.0 and HTTP/1.1 are kept; a later 1.x minor version is treated as
    HTTP/1.1 (RFC 9110 section 2.5).
    """
    assert feedHead(data, mode).version == version


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
        b"GET / HTTP/0.9\r\nHost: a\r\n\r\n",
        b"GET / HTTP/3.0\r\nHost: a\r\n\r\n",
        HTTP2_PREFACE,
    ],
)
def test_unsupportedMajorVersion(data: bytes, mode: str) -> None:
    """
    A request with an HTTP major version other than 1 is answered 505.
    """
    with pytest.raises(VersionNotSupported):
        feedHead(data, mode)


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.x\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.10\r\nHost: a\r\n\r\n",
        b"GET / HTTP/11\r\nHost: a\r\n\r\n",
        b"GET / http/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTPS/1.1\r\nHost: a\r\n\r\n",
        b"GET /\r\nHost: a\r\n\r\n",
        b"GET\r\nHost: a\r\n\r\n",
        b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
        b" GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET\x00 / HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1\rHost: a\r\n\r\n",
    ],
)
def test_malformedRequestLine(data: bytes, mode: str) -> None:
    """
    A request line that is not method SP target SP HTTP/d.d is answered 400.
    """
    with pytest.raises(BadRequest):
        feedHead(data, mode)


@pytest.mark.parametrize(
    "data",
    [
        b"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET index.html HTTP/1.1\r\nHost: a\r\n\r\n",
        b"CONNECT http://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n",
        b"CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n",
        b"OPTIONS ** HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST ://x HTTP/1.1\r\nHost: a\r\n\r\n",
    ],
)
def test_invalidTargetForm(data: bytes, mode: str) -> None:
    """
    A target in a form the method does not allow (C{*} other than for
    OPTIONS, authority-form other than for CONNECT, a relative path) is
    answered 400 (RFC 9112 section 3.2).
    """
    with pytest.raises(BadRequest):
        feedHead(data, mode)


def test_requestLineAtLimit(mode: str) -> None:
    """
    A request line (method, target and version) of exactly the configured
    maximum length is accepted.
    """
    line = b"GET /" + b"a" * (SMALL.maxRequestLine - 14) + b" HTTP/1.1"
    assert len(line) == SMALL.maxRequestLine
    head = feedHead(line + b"\r\nHost: a\r\n\r\n", mode, SMALL)
    assert head.target == line[4:-9]


def test_requestLineOverLimit(mode: str) -> None:
    """
    A request line one byte longer than the configured maximum is answered
    414.
    """
    line = b"GET /" + b"a" * (SMALL.maxRequestLine - 13) + b" HTTP/1.1"
    assert len(line) == SMALL.maxRequestLine + 1
    with pytest.raises(URITooLong):
        feedHead(line + b"\r\nHost: a\r\n\r\n", mode, SMALL)


def test_requestLineFarOverLimit(mode: str) -> None:
    """
    A very long request-target is answered 414, not 431, even though the
    head is then also over its size limit.
    """
    data = b"GET /" + b"a" * (SMALL.maxHeadSize * 2) + b" HTTP/1.1\r\nHost: a\r\n\r\n"
    with pytest.raises(URITooLong):
        feedHead(data, mode, SMALL)


def test_malformedLongRequestLine(mode: str) -> None:
    """
    A garbled request line over the length limit earns 414 or 400, never
    anything else.
    """
    data = b"GET /" + b"a" * SMALL.maxRequestLine + b" HTTP/x\r\nHost: a\r\n\r\n"
    with pytest.raises((URITooLong, BadRequest)):
        feedHead(data, mode, SMALL)


# -- parseHead: header fields ---------------------------------------------------


def test_headersMultiValuedInOrder(mode: str) -> None:
    """
    Field names are lower-cased and every value of a repeated field is kept,
    in the order it arrived.
    """
    head = feedHead(MULTI_VALUED, mode)
    assert head.headers == {
        b"host": [b"example.com"],
        b"accept": [b"text/html", b"text/plain", b"*/*"],
        b"x-thing": [b"one"],
    }
    assert list(head.headers) == [b"host", b"accept", b"x-thing"]


def test_headersOptionalWhitespaceStripped(mode: str) -> None:
    """
    Spaces and tabs around a field value are removed; inside it they stay;
    obs-text bytes are kept; an empty value is an empty string.
    """
    head = feedHead(PADDED_VALUES, mode)
    assert head.headers[b"x-pad"] == [b"padded  value"]
    assert head.headers[b"x-empty"] == [b""]
    assert head.headers[b"x-spaces"] == [b""]
    assert head.headers[b"x-latin"] == [b"caf\xe9"]
    assert head.headers[b"x-tight"] == [b"tight"]


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(b"X-Long: one\r\n two\r\n", id="obs-fold-space"),
        pytest.param(b"X-Long: one\r\n\ttwo\r\n", id="obs-fold-tab"),
        pytest.param(b"X-Foo : bar\r\n", id="space-before-colon"),
        pytest.param(b"X-Foo\t: bar\r\n", id="tab-before-colon"),
        pytest.param(b"X-Foo: a\rb\r\n", id="bare-cr-in-value"),
        pytest.param(b"X-Foo: bar\r\r\n", id="cr-cr-lf"),
        pytest.param(b"X-Foo: a\x00b\r\n", id="nul-in-value"),
        pytest.param(b"X-Foo: a\x7fb\r\n", id="del-in-value"),
        pytest.param(b"X-Foo: a\x1bb\r\n", id="esc-in-value"),
        pytest.param(b"X-Foo\x00: bar\r\n", id="nul-in-name"),
        pytest.param(b"X-Foo bar\r\n", id="no-colon"),
        pytest.param(b": bar\r\n", id="empty-name"),
        pytest.param(b"X(Foo): bar\r\n", id="non-token-name"),
        pytest.param(b"X-F\xe9: bar\r\n", id="non-ascii-name"),
    ],
)
def test_malformedHeaderField(lines: bytes, mode: str) -> None:
    """
    Folded lines, whitespace before the colon, control characters (a bare
    CR, NUL, DEL) and non-token names are answered 400 (RFC 9112 section 5).
    """
    with pytest.raises(BadRequest):
        feedHead(request(lines), mode)


def test_whitespaceBeforeFirstHeader(mode: str) -> None:
    """
    A header line starting with whitespace right after the request line is
    answered 400 (RFC 9112 section 2.2).
    """
    with pytest.raises(BadRequest):
        feedHead(b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", mode)


def test_headerCountAtLimit(mode: str) -> None:
    """
    A head with exactly the configured maximum number of fields is accepted.
    """
    lines = b"".join(b"X-%d: v\r\n" % i for i in range(SMALL.maxHeaderCount - 1))
    head = feedHead(request(lines), mode, SMALL)
    assert sum(len(v) for v in head.headers.values()) == SMALL.maxHeaderCount


def test_headerCountOverLimit(mode: str) -> None:
    """
    A head with one field more than the configured maximum is answered 431.
    """
    lines = b"".join(b"X-%d: v\r\n" % i for i in range(SMALL.maxHeaderCount))
    with pytest.raises(HeaderFieldsTooLarge):
        feedHead(request(lines), mode, SMALL)


def test_headerCountDefaultLimit(mode: str) -> None:
    """
    The default limit on the number of fields rejects a head of 101 fields
    with 431 and accepts one of 100.
    """
    limit = DEFAULT_LIMITS.maxHeaderCount
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(limit))
    feedHead(request(fields[: fields.rfind(b"X-")]), mode)
    with pytest.raises(HeaderFieldsTooLarge):
        feedHead(request(fields), mode)


def test_headAtSizeLimit(mode: str) -> None:
    """
    A head of exactly the configured maximum size, empty line included, is
    accepted.
    """
    base = request(b"X-Fill: \r\n")
    data = request(b"X-Fill: " + b"a" * (SMALL.maxHeadSize - len(base)) + b"\r\n")
    assert len(data) == SMALL.maxHeadSize
    feedHead(data, mode, SMALL)


def test_headOverSizeLimit(mode: str) -> None:
    """
    A head one byte over the configured maximum size is answered 431.
    """
    base = request(b"X-Fill: \r\n")
    data = request(b"X-Fill: " + b"a" * (SMALL.maxHeadSize - len(base) + 1) + b"\r\n")
    assert len(data) == SMALL.maxHeadSize + 1
    with pytest.raises(HeaderFieldsTooLarge):
        feedHead(data, mode, SMALL)


# -- parseHead: Host ----------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        b"example.com",
        b"example.com:8080",
        b"example.com:",
        b"127.0.0.1",
        b"127.0.0.1:80",
        b"[::1]",
        b"[::1]:8080",
        b"[2001:db8::7]:443",
        b"xn--nxasmq6b.example",
        b"my_host-1.example",
        b"ex%41mple.com",
        b"",
    ],
)
def test_validHost(host: bytes, mode: str) -> None:
    """
    Any uri-host with an optional port is accepted as the Host, including an
    empty one (RFC 9110 section 7.2).
    """
    head = feedHead(request(host=host), mode)
    assert head.headers[b"host"] == [host]


@pytest.mark.parametrize(
    "host",
    [
        b"exa mple.com",
        b"example.com/path",
        b"user@example.com",
        b"example.com:80:80",
        b"example.com:http",
        b"[::1",
        b"::1",
        b"example.com\\x",
        b'"example.com"',
        b"caf\xe9.example",
        b"a<b>",
    ],
)
def test_invalidHost(host: bytes, mode: str) -> None:
    """
    A Host value that is not uri-host [":" port] is answered 400 (RFC 9112
    section 3.2).
    """
    with pytest.raises(BadRequest):
        feedHead(request(host=host), mode)


def test_missingHostHTTP11(mode: str) -> None:
    """
    An HTTP/1.1 request without Host is answered 400 (RFC 9112 section 3.2).
    """
    with pytest.raises(BadRequest):
        feedHead(request(host=None), mode)


def test_twoHostFields(mode: str) -> None:
    """
    A request with two Host fields is answered 400, even when they agree.
    """
    with pytest.raises(BadRequest):
        feedHead(request(b"Host: example.com\r\n"), mode)
    with pytest.raises(BadRequest):
        feedHead(request(b"HOST: other.example\r\n"), mode)


def test_missingHostHTTP10(mode: str) -> None:
    """
    An HTTP/1.0 request without Host is accepted.
    """
    head = feedHead(HTTP10_NO_HOST, mode)
    assert b"host" not in head.headers


def test_invalidHostHTTP10(mode: str) -> None:
    """
    An HTTP/1.0 request that does send Host must send a valid one.
    """
    with pytest.raises(BadRequest):
        feedHead(request(version=b"HTTP/1.0", host=b"a b"), mode)


# -- parseHead: body framing ------------------------------------------------------


def test_noBody(mode: str) -> None:
    """
    A request with neither Content-Length nor Transfer-Encoding has no body.
    """
    head = feedHead(SIMPLE_GET, mode)
    assert head.bodyLength == NO_BODY == 0


@pytest.mark.parametrize(
    "value", [b"5", b"0", b"  42  ", b"007", b"999999999999999999"]
)
def test_contentLength(value: bytes, mode: str) -> None:
    """
    A valid Content-Length gives the body length; surrounding whitespace and
    leading zeros are allowed, and an 18-digit length is accepted when no
    body limit is set.
    """
    limits = Limits(maxBodySize=None)
    head = feedHead(request(b"Content-Length: " + value + b"\r\n"), mode, limits)
    assert head.bodyLength == int(value)


@pytest.mark.parametrize(
    "value",
    [b"chunked", b"Chunked", b"CHUNKED", b" chunked ", b"chunked,", b", chunked"],
)
def test_chunked(value: bytes, mode: str) -> None:
    """
    Transfer-Encoding chunked (any case, with empty list members) frames the
    body as chunked.
    """
    head = feedHead(request(b"Transfer-Encoding: " + value + b"\r\n"), mode)
    assert head.bodyLength == CHUNKED


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        pytest.param(
            b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
            BadRequest,
            id="cl-and-te",
        ),
        pytest.param(
            b"Transfer-Encoding: chunked\r\nContent-Length: 0\r\n",
            BadRequest,
            id="te-and-cl-zero",
        ),
        pytest.param(
            b"Content-Length: 5\r\nContent-Length: 5\r\n",
            BadRequest,
            id="duplicate-equal-cl",
        ),
        pytest.param(
            b"Content-Length: 5\r\nContent-Length: 6\r\n",
            BadRequest,
            id="duplicate-different-cl",
        ),
        pytest.param(b"Content-Length: 5, 5\r\n", BadRequest, id="cl-list"),
        pytest.param(b"Content-Length: 5,5\r\n", BadRequest, id="cl-list-tight"),
        pytest.param(b"Content-Length: +5\r\n", BadRequest, id="cl-plus"),
        pytest.param(b"Content-Length: -1\r\n", BadRequest, id="cl-negative"),
        pytest.param(b"Content-Length:  5x\r\n", BadRequest, id="cl-trailing-junk"),
        pytest.param(b"Content-Length: 0x10\r\n", BadRequest, id="cl-hex"),
        pytest.param(b"Content-Length: 5 5\r\n", BadRequest, id="cl-inner-space"),
        pytest.param(b"Content-Length: 5.0\r\n", BadRequest, id="cl-decimal"),
        pytest.param(b"Content-Length: \r\n", BadRequest, id="cl-empty"),
        pytest.param(b"Content-Length: \xd9\xa5\r\n", BadRequest, id="cl-arabic"),
        pytest.param(b"Content-Length: 1_0\r\n", BadRequest, id="cl-underscore"),
        pytest.param(
            b"Content-Length: 1000000000000000000\r\n",
            ContentTooLarge,
            id="cl-19-digits",
        ),
        pytest.param(
            b"Content-Length: " + b"9" * 5000 + b"\r\n",
            ContentTooLarge,
            id="cl-5000-digits",
        ),
        pytest.param(
            b"Transfer-Encoding: chunked, chunked\r\n",
            BadRequest,
            id="te-chunked-twice",
        ),
        pytest.param(
            b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            BadRequest,
            id="te-chunked-twice-fields",
        ),
        pytest.param(b"Transfer-Encoding: gzip\r\n", BadRequest, id="te-gzip-alone"),
        pytest.param(
            b"Transfer-Encoding: chunked, gzip\r\n",
            BadRequest,
            id="te-chunked-not-last",
        ),
        pytest.param(
            b"Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
            BadRequest,
            id="te-chunked-not-last-fields",
        ),
        pytest.param(b"Transfer-Encoding: \r\n", BadRequest, id="te-empty"),
        pytest.param(b"Transfer-Encoding: ,\r\n", BadRequest, id="te-only-comma"),
        pytest.param(b"Transfer-Encoding: xchunked\r\n", BadRequest, id="te-xchunked"),
        pytest.param(
            b"Transfer-Encoding: chunked;q=1\r\n", BadRequest, id="te-chunked-param"
        ),
        pytest.param(
            b"Transfer-Encoding: gzip, chunked\r\n",
            NotImplementedCoding,
            id="te-gzip-chunked",
        ),
        pytest.param(
            b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
            NotImplementedCoding,
            id="te-gzip-chunked-fields",
        ),
    ],
)
def test_ambiguousFraming(lines: bytes, error: type[WireError], mode: str) -> None:
    """
    Every framing two parties could read two ways (RFC 9112 sections 6.1 and
    6.3) is refused, so no request can be smuggled past a proxy; an unknown
    coding before chunked is answered 501.
    """
    with pytest.raises(error):
        feedHead(request(lines), mode)


@pytest.mark.parametrize(
    "lines",
    [
        b"Transfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    ],
)
def test_transferEncodingInHTTP10(lines: bytes, mode: str) -> None:
    """
    Transfer-Encoding in an HTTP/1.0 request is faulty framing: 400 (RFC 9112
    section 6.1).
    """
    with pytest.raises(BadRequest):
        feedHead(request(lines, version=b"HTTP/1.0"), mode)


def test_contentLengthOverLimit(mode: str) -> None:
    """
    A Content-Length over the body limit is answered 413 before any body is
    read; one exactly at the limit is accepted.
    """
    limits = Limits(maxBodySize=1000)
    head = feedHead(request(b"Content-Length: 1000\r\n"), mode, limits)
    assert head.bodyLength == 1000
    with pytest.raises(ContentTooLarge):
        feedHead(request(b"Content-Length: 1001\r\n"), mode, limits)


def test_contentLengthDefaultLimit(mode: str) -> None:
    """
    The default body limit refuses a declared body one byte over it with 413.
    """
    limit = DEFAULT_LIMITS.maxBodySize
    assert limit is not None
    lines = b"Content-Length: %d\r\n" % (limit + 1)
    with pytest.raises(ContentTooLarge):
        feedHead(request(lines), mode)


# -- parseHead: connection persistence and expectations --------------------------


@pytest.mark.parametrize(
    ("version", "lines", "keepAlive"),
    [
        (b"HTTP/1.1", b"", True),
        (b"HTTP/1.0", b"", False),
        (b"HTTP/1.1", b"Connection: close\r\n", False),
        (b"HTTP/1.1", b"Connection: Close\r\n", False),
        (b"HTTP/1.1", b"Connection: keep-alive,close\r\n", False),
        (b"HTTP/1.1", b"Connection: close, keep-alive\r\n", False),
        (b"HTTP/1.1", b"Connection: Upgrade\r\nConnection: CLOSE\r\n", False),
        (b"HTTP/1.1", b"Connection: Upgrade, TE\r\n", True),
        (b"HTTP/1.1", b"Connection: closed\r\n", True),
        (b"HTTP/1.1", b"Connection: \r\n", True),
        (b"HTTP/1.0", b"Connection: Keep-Alive\r\n", True),
        (b"HTTP/1.0", b"Connection: keep-alive\r\n", True),
        (b"HTTP/1.0", b"Connection: foo , keep-alive\r\n", True),
        (b"HTTP/1.0", b"Connection: foo\r\nConnection: keep-alive\r\n", True),
        (b"HTTP/1.0", b"Connection: keep-alive\r\nConnection: close\r\n", False),
        (b"HTTP/1.0", b"Connection: keep-alive-ish\r\n", False),
        (b"HTTP/1.0", b"Connection: close\r\n", False),
    ],
)
def test_keepAlive(version: bytes, lines: bytes, keepAlive: bool, mode: str) -> None:
    """
    HTTP/1.1 persists unless a Connection token says close; HTTP/1.0 closes
    unless a Connection token says keep-alive (RFC 9112 section 9.3).
    Connection is a comma-separated list of case-insensitive tokens, possibly
    spread over several fields.
    """
    assert feedHead(request(lines, version=version), mode).keepAlive is keepAlive


def test_connectionTokens() -> None:
    """
    Connection values are split on commas into lower-cased, trimmed tokens,
    empty members dropped.
    """
    assert connectionTokens([b"keep-alive,close", b" Upgrade ,, TE"]) == {
        b"keep-alive",
        b"close",
        b"upgrade",
        b"te",
    }
    assert connectionTokens([b"", b" , "]) == set()


@pytest.mark.parametrize(
    ("version", "lines", "expected"),
    [
        (b"HTTP/1.1", b"", False),
        (b"HTTP/1.1", b"Expect: 100-continue\r\n", True),
        (b"HTTP/1.1", b"Expect: 100-Continue\r\n", True),
        (b"HTTP/1.1", b"Expect:  100-continue \r\n", True),
        (b"HTTP/1.2", b"Expect: 100-continue\r\n", True),
        (b"HTTP/1.0", b"Expect: 100-continue\r\n", False),
        (b"HTTP/1.0", b"", False),
    ],
)
def test_expectContinue(
    version: bytes, lines: bytes, expected: bool, mode: str
) -> None:
    """
    An HTTP/1.1 client sending C{Expect: 100-continue} (any case) waits for
    100 Continue; the same expectation from HTTP/1.0 is ignored (RFC 9110
    section 10.1.1).
    """
    lines += b"Content-Length: 5\r\n"
    head = feedHead(request(lines, version=version), mode)
    assert head.expectContinue is expected


@pytest.mark.parametrize(
    "value",
    [b"something-else", b"100-continue, foo", b"200-ok", b"100-continue=1"],
)
def test_otherExpectation(value: bytes, mode: str) -> None:
    """
    Any expectation other than 100-continue is answered 417.
    """
    with pytest.raises(ExpectationFailed):
        feedHead(request(b"Expect: " + value + b"\r\n"), mode)


# -- the RequestHead value ---------------------------------------------------------


def test_requestHeadFields(mode: str) -> None:
    """
    A parsed head exposes everything the channel needs, and its repr names the
    request.
    """
    head = feedHead(POST_WITH_LENGTH, mode)
    assert isinstance(head, RequestHead)
    assert head.method == b"POST"
    assert head.target == b"/submit"
    assert head.version == b"HTTP/1.1"
    assert head.headers == {b"host": [b"example.com"], b"content-length": [b"5"]}
    assert head.bodyLength == 5
    assert head.keepAlive is True
    assert head.expectContinue is False
    assert "POST" in repr(head) and "/submit" in repr(head)


def test_parseHeadAtOffset() -> None:
    """
    A head that starts part-way into the buffer, after an earlier request,
    parses the same as on its own.
    """
    buf = SIMPLE_GET + GET_WITH_QUERY + NEXT_REQUEST
    pos = len(SIMPLE_GET)
    fieldsEnd, headEnd = findHeadEnd(buf, pos)
    assert headEnd == pos + len(GET_WITH_QUERY)
    head = parseHead(buf, pos, fieldsEnd, headEnd, DEFAULT_LIMITS)
    assert head.target == b"/index.html?q=1&r=two"
    assert head.headers == {b"host": [b"example.com"], b"accept": [b"*/*"]}


# -- the error family -------------------------------------------------------------

ERROR_STATUSES = [
    (WireError, 400),
    (BadRequest, 400),
    (RequestTimeout, 408),
    (ContentTooLarge, 413),
    (URITooLong, 414),
    (ExpectationFailed, 417),
    (MisdirectedRequest, 421),
    (HeaderFieldsTooLarge, 431),
    (NotImplementedCoding, 501),
    (VersionNotSupported, 505),
]


@pytest.mark.parametrize(("errorClass", "status"), ERROR_STATUSES)
def test_errorStatus(errorClass: type[WireError], status: int) -> None:
    """
    Every wire error carries the status the server answers it with, and the
    fixed reason it was given.
    """
    error = errorClass("a reason")
    assert isinstance(error, WireError)
    assert error.status == status
    assert errorClass.status == status
    assert error.reason == "a reason"
    assert str(error) == "a reason"


def test_errorFamilyComplete() -> None:
    """
    Every wire error class the errors module defines has its status checked.
    """
    defined = {
        value
        for value in vars(errors).values()
        if inspect.isclass(value) and issubclass(value, WireError)
    }
    assert defined == {errorClass for errorClass, _ in ERROR_STATUSES}


@pytest.mark.parametrize(
    "data",
    [
        request(host=b"evil<script>"),
        request(b"X-Evil<script>: 1\r\n"),
        request(b"Content-Length: <script>\r\n"),
        request(b"Transfer-Encoding: <script>\r\n"),
        request(b"Expect: <script>\r\n"),
        b"GET /<script> HTTP/9.9\r\n\r\n",
    ],
)
def test_errorReasonsDoNotEchoPeer(data: bytes) -> None:
    """
    The reason of an error never repeats what the peer sent, so it can be sent
    back as a response body without risk.
    """
    with pytest.raises(WireError) as info:
        feedHead(data, "whole")
    assert "script" not in info.value.reason


def test_contentLengthLeadingZeros() -> None:
    """
    Leading zeros do not make a Content-Length invalid or large (RFC 9110
    section 8.6: 1*DIGIT).
    """
    head = parseHead(
        *_headArgs(
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0000000000000000005\r\n\r\n"
        )
    )
    assert head.bodyLength == 5


def test_contentLengthHugeWithoutLimit() -> None:
    """
    Without a body limit, a length beyond any storable body is refused as
    invalid rather than parsed.
    """
    limits = DEFAULT_LIMITS.replace(maxBodySize=None)
    data = b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + b"9" * 40 + b"\r\n\r\n"
    fieldsEnd, headEnd = findHeadEnd(data, 0)
    with pytest.raises(BadRequest):
        parseHead(data, 0, fieldsEnd, headEnd, limits)


def _headArgs(data: bytes) -> tuple[bytes, int, int, int, Limits]:
    fieldsEnd, headEnd = findHeadEnd(data, 0)
    return data, 0, fieldsEnd, headEnd, DEFAULT_LIMITS
