"""
Tests for L{twisted_web_re._wire.serialise} (response heads, chunks, Date)
and L{twisted_web_re._wire.status} (reason phrases).
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest

from twisted_web_re._wire import serialise
from twisted_web_re._wire.serialise import (
    LAST_CHUNK,
    canonicalName,
    checkFieldName,
    checkFieldValue,
    checkReason,
    chunk,
    httpDate,
    statusLine,
)
from twisted_web_re._wire.status import NO_BODY_CODES, RESPONSES, reasonPhrase

# -- raw values -----------------------------------------------------------------

#: Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110 section 5.6.7.
RFC_EXAMPLE_TIME = 784111777
RFC_EXAMPLE_DATE = b"Sun, 06 Nov 1994 08:49:37 GMT"

IMF_FIXDATE = re.compile(
    rb"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} "
    rb"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
    rb"[0-9]{2}:[0-9]{2}:[0-9]{2} GMT"
)

INJECTIONS = [
    b"a\r\nSet-Cookie: x=1",
    b"a\nb",
    b"a\rb",
    b"a\x00b",
    b"\r\n",
    b"\n",
    b"\r",
    b"\x00",
]

BAD_NAMES = [
    b"",
    b"Content Type",
    b"Content-Type:",
    b"X-Foo\r\n",
    b"X-Foo\n",
    b"X\x00",
    b"X(Foo)",
    b"X/Foo",
    b"X\tFoo",
    b"caf\xe9",
    b'"quoted"',
]


# -- canonicalName -----------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "canonical"),
    [
        (b"content-type", b"Content-Type"),
        (b"content-length", b"Content-Length"),
        (b"etag", b"ETag"),
        (b"www-authenticate", b"WWW-Authenticate"),
        (b"x-foo-bar", b"X-Foo-Bar"),
        (b"te", b"TE"),
        (b"content-md5", b"Content-MD5"),
        (b"x-xss-protection", b"X-XSS-Protection"),
        (b"date", b"Date"),
        (b"server", b"Server"),
        (b"a", b"A"),
        (b"x--y", b"X--Y"),
        (b"x-1a", b"X-1a"),
    ],
)
def test_canonicalName(lower: bytes, canonical: bytes) -> None:
    """
    A lower-cased field name is sent in its conventional spelling: Title-Case
    per dash-separated part, with the well-known exceptions spelled as usual.
    """
    assert canonicalName(lower) == canonical
    assert canonicalName(lower) == canonical


def test_canonicalNameManyNames() -> None:
    """
    Canonical spelling stays right for more distinct names than are cached.
    """
    for i in range(5000):
        assert canonicalName(b"x-name-%d" % i) == b"X-Name-%d" % i


# -- checks on values the application supplies --------------------------------


@pytest.mark.parametrize(
    "name", [b"Content-Type", b"x-foo", b"X_Foo", b"!#$%&'*+-.^_`|~09azAZ"]
)
def test_checkFieldNameValid(name: bytes) -> None:
    """
    Any token is accepted as a field name.
    """
    checkFieldName(name)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_checkFieldNameInvalid(name: bytes) -> None:
    """
    A field name that is not a token (empty, with spaces, colons, CR, LF, NUL
    or separators) is refused with ValueError that shows it.
    """
    with pytest.raises(ValueError, match="header name"):
        checkFieldName(name)


@pytest.mark.parametrize(
    "value", [b"", b"text/html; charset=utf-8", b"a\tb", b"caf\xe9", b" padded "]
)
def test_checkFieldValueValid(value: bytes) -> None:
    """
    Field values without CR, LF or NUL are accepted.
    """
    checkFieldValue(value)


@pytest.mark.parametrize("value", INJECTIONS)
def test_checkFieldValueInvalid(value: bytes) -> None:
    """
    A field value with CR, LF or NUL, which could inject another header or
    end the head early, is refused with ValueError.
    """
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        checkFieldValue(value)


@pytest.mark.parametrize("reason", [b"OK", b"Not Found", b"", b"Caf\xe9\tOK", b"x:y"])
def test_checkReasonValid(reason: bytes) -> None:
    """
    A reason phrase of visible characters, spaces, tabs and obs-text is
    accepted.
    """
    checkReason(reason)


@pytest.mark.parametrize("reason", [*INJECTIONS, b"a\x7fb", b"a\x01b"])
def test_checkReasonInvalid(reason: bytes) -> None:
    """
    A reason phrase with CR, LF, NUL or other control characters is refused
    with ValueError.
    """
    with pytest.raises(ValueError, match="reason phrase"):
        checkReason(reason)


# -- status line, fields, chunks ------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason", "line"),
    [
        (200, b"OK", b"HTTP/1.1 200 OK\r\n"),
        (404, b"Not Found", b"HTTP/1.1 404 Not Found\r\n"),
        (599, b"", b"HTTP/1.1 599 \r\n"),
        (100, b"Continue", b"HTTP/1.1 100 Continue\r\n"),
    ],
)
def test_statusLine(code: int, reason: bytes, line: bytes) -> None:
    """
    The status line is HTTP/1.1, the three-digit code and the reason, ended by
    CRLF; an empty reason keeps the space before it (RFC 9112 section 4).
    """
    assert statusLine(code, reason) == line


@pytest.mark.parametrize(
    ("data", "framed"),
    [
        (b"hello", b"5\r\nhello\r\n"),
        (b"x" * 10, b"a\r\n" + b"x" * 10 + b"\r\n"),
        (b"x" * 255, b"ff\r\n" + b"x" * 255 + b"\r\n"),
        (b"\r\n", b"2\r\n\r\n\r\n"),
    ],
)
def test_chunk(data: bytes, framed: bytes) -> None:
    """
    Data is framed as one chunk: its length in hex, CRLF, the data, CRLF.
    """
    assert chunk(data) == framed


def test_lastChunk() -> None:
    """
    The last chunk is a zero size followed by an empty trailer section.
    """
    assert LAST_CHUNK == b"0\r\n\r\n"


# -- Date -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "date"),
    [
        (RFC_EXAMPLE_TIME, RFC_EXAMPLE_DATE),
        (RFC_EXAMPLE_TIME + 0.999, RFC_EXAMPLE_DATE),
        (0, b"Thu, 01 Jan 1970 00:00:00 GMT"),
        (951782400, b"Tue, 29 Feb 2000 00:00:00 GMT"),
        (4102444799, b"Thu, 31 Dec 2099 23:59:59 GMT"),
    ],
)
def test_httpDateExplicit(when: float, date: bytes) -> None:
    """
    An explicit time is formatted as an IMF-fixdate (RFC 9110 section 5.6.7),
    fractions of a second dropped.
    """
    assert httpDate(when) == date


def test_httpDateNow() -> None:
    """
    With no time given, the current time is formatted as an IMF-fixdate.
    """
    before = int(time.time())
    value = httpDate()
    after = int(time.time())
    assert IMF_FIXDATE.fullmatch(value)
    assert value in {httpDate(t) for t in range(before, after + 1)}


class _FakeClock:
    """A stand-in for the C{time} module with a settable C{time()}."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_httpDateCachedWithinSecond(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    The current date is formatted once a second and reused within it, and a
    new second gives a new date.
    """
    clock = _FakeClock(RFC_EXAMPLE_TIME + 0.1)
    calls: list[float] = []
    realFormat = serialise.formatdate

    def countingFormat(when: float, usegmt: bool = False) -> str:
        calls.append(when)
        return realFormat(when, usegmt=usegmt)

    monkeypatch.setattr(serialise, "time", SimpleNamespace(time=clock.time))
    monkeypatch.setattr(serialise, "formatdate", countingFormat)
    monkeypatch.setattr(serialise, "_dateCache", (0, b""))

    assert httpDate() == RFC_EXAMPLE_DATE
    clock.now = RFC_EXAMPLE_TIME + 0.9
    assert httpDate() == RFC_EXAMPLE_DATE
    assert len(calls) == 1

    clock.now = RFC_EXAMPLE_TIME + 1.0
    assert httpDate() == b"Sun, 06 Nov 1994 08:49:38 GMT"
    assert len(calls) == 2


def test_httpDateExplicitBypassesCache(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Formatting an explicit time neither uses nor disturbs the cached current
    date.
    """
    clock = _FakeClock(RFC_EXAMPLE_TIME)
    monkeypatch.setattr(serialise, "time", SimpleNamespace(time=clock.time))
    monkeypatch.setattr(serialise, "_dateCache", (0, b""))
    assert httpDate() == RFC_EXAMPLE_DATE
    assert httpDate(0) == b"Thu, 01 Jan 1970 00:00:00 GMT"
    assert httpDate() == RFC_EXAMPLE_DATE


# -- status codes and phrases -------------------------------------------------


@pytest.mark.parametrize(
    ("code", "phrase"),
    [
        (200, b"OK"),
        (404, b"Not Found"),
        (413, b"Content Too Large"),
        (414, b"URI Too Long"),
        (431, b"Request Header Fields Too Large"),
        (505, b"HTTP Version Not Supported"),
        (299, b"Unknown Status"),
    ],
)
def test_reasonPhrase(code: int, phrase: bytes) -> None:
    """
    Known codes have their RFC 9110 reason phrase; others a generic one.
    """
    assert reasonPhrase(code) == phrase


def test_everyPhraseIsAValidReason() -> None:
    """
    Every built-in reason phrase can be sent as one.
    """
    for code, phrase in RESPONSES.items():
        assert 100 <= code <= 599
        checkReason(phrase)


def test_noBodyCodes() -> None:
    """
    204 and 304 responses never carry a body.
    """
    assert {204, 304} <= NO_BODY_CODES
    assert 200 not in NO_BODY_CODES


def test_chunkOfNothingIsNothing() -> None:
    """
    Framing empty data gives no bytes at all: an empty chunk would end the body.
    """
    assert chunk(b"") == b""
