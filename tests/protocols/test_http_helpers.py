"""
Tests for the helpers C{twisted_web_re.http} offers under twisted.web.http's
names, for programs that parse URLs and dates themselves: C{parse_qs},
C{urlparse}, C{timegm}, C{stringToDatetime}, C{datetimeToString} and
C{datetimeToLogString}.

Each is compared with twisted.web.http's on a table and on generated input;
where ours deliberately differs (C{;} in a query, bytes that are not ASCII,
clearer errors), the test says so.
"""

from __future__ import annotations

import calendar
from urllib.parse import ParseResultBytes

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twisted.web import http as twisted_http

from twisted_web_re import http

HELPERS = [
    "parse_qs",
    "urlparse",
    "timegm",
    "stringToDatetime",
    "datetimeToString",
    "datetimeToLogString",
]


@pytest.mark.parametrize("name", HELPERS)
def test_helperNamed(name: str) -> None:
    """
    Each helper a twisted.web program imports from C{twisted.web.http} can be
    imported from C{twisted_web_re.http}, and is in its C{__all__}.
    """
    assert callable(getattr(http, name))
    assert name in http.__all__


# -- parse_qs --------------------------------------------------------------------------

QUERIES = [
    b"",
    b"a=1",
    b"a=1&b=2&a=3",
    b"a",
    b"a&b=1",
    b"a=",
    b"=1",
    b"a=1=2",
    b"&&a=1&&",
    b"a+b=c+d",
    b"a=%41%e9%zz%",
    b"a=\xe9\xff",
    b"%26=%3D",
]


@pytest.mark.parametrize("qs", QUERIES)
@pytest.mark.parametrize("keep", [0, 1])
def test_parseQsLikeTwistedWeb(qs: bytes, keep: int) -> None:
    """
    C{parse_qs} gives what twisted.web's does: values in order, C{+} as a
    space, C{%XX} decoded (a bad escape kept), fields without C{=} skipped,
    blank values kept only when asked.
    """
    assert http.parse_qs(qs, keep) == twisted_http.parse_qs(qs, keep)


@given(
    st.lists(
        st.tuples(
            st.binary(max_size=6).filter(lambda b: b";" not in b and b"&" not in b),
            st.sampled_from([b"", b"="]),
            st.binary(max_size=6).filter(lambda b: b";" not in b and b"&" not in b),
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_parseQsAnyQuery(fields: list[tuple[bytes, bytes, bytes]], keep: bool) -> None:
    """
    On any query without C{;}, C{parse_qs} agrees with twisted.web's.
    """
    qs = b"&".join(name + equals + value for name, equals, value in fields)
    assert http.parse_qs(qs, keep) == twisted_http.parse_qs(qs, keep)


def test_parseQsSemicolonIsPartOfValue() -> None:
    """
    A C{;} does not separate fields (twisted.web's does split on it): as in
    C{request.args} and every browser, C{a=1;b=2} is one field, so a query
    means the same to the program, the server and any proxy in front.
    """
    assert http.parse_qs(b"a=1;b=2") == {b"a": [b"1;b=2"]}
    assert twisted_http.parse_qs(b"a=1;b=2") == {b"a": [b"1"], b"b": [b"2"]}


def test_parseQsStrict() -> None:
    """
    With C{strict_parsing}, a field without C{=} raises a ValueError naming
    the field (twisted.web's says only "not enough values to unpack").
    """
    assert http.parse_qs(b"a=1&b=", 0, 1) == {b"a": [b"1"]}
    with pytest.raises(ValueError, match="b'oops'"):
        http.parse_qs(b"a=1&oops", 0, 1)


def test_parseQsRefusesText() -> None:
    """
    A query given as text raises a TypeError: which bytes it stands for is
    not known.
    """
    with pytest.raises(TypeError, match="bytes"):
        http.parse_qs("a=1")  # type: ignore[arg-type]


# -- urlparse --------------------------------------------------------------------------

URLS = [
    b"",
    b"/path;p?q=1#f",
    b"//host/p",
    b"HTTP://Example.COM:80/",
    b"http://u:p@[::1]:8080/a;b?c#d",
    b"mailto:someone@example.com",
    b"?only=query",
]


@pytest.mark.parametrize("url", URLS)
def test_urlparseLikeTwistedWeb(url: bytes) -> None:
    """
    C{urlparse} splits a URL into the same six byte strings as twisted.web's,
    as a C{ParseResultBytes}, so C{.port}, C{.hostname} and the rest work.
    """
    ours = http.urlparse(url)
    assert isinstance(ours, ParseResultBytes)
    assert ours == twisted_http.urlparse(url)


def test_urlparseKeepsEveryByte() -> None:
    """
    A byte that is not ASCII stays in its part (twisted.web's raises
    UnicodeDecodeError).
    """
    parsed = http.urlparse(b"http://example.com/caf\xe9?q=\xff#\x80")
    assert parsed.path == b"/caf\xe9"
    assert parsed.query == b"q=\xff"
    assert parsed.fragment == b"\x80"


@pytest.mark.parametrize("url", ["http://example.com/", None, 42])
def test_urlparseRefusesNonBytes(url: object) -> None:
    """
    A URL that is not bytes raises a TypeError naming what it was.
    """
    with pytest.raises(TypeError, match="bytes"):
        http.urlparse(url)  # type: ignore[arg-type]


# -- dates -----------------------------------------------------------------------------


@given(
    st.integers(1970, 9999),
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 61),
)
def test_timegmLikeTwistedWeb(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> None:
    """
    C{timegm(year, month, day, hour, minute, second)} gives the seconds since
    the epoch that twisted.web's and L{calendar.timegm} give.
    """
    fields = (year, month, day, hour, minute, second)
    assert http.timegm(*fields) == twisted_http.timegm(*fields)
    assert http.timegm(*fields) == calendar.timegm(fields)


def test_timegmBadMonth() -> None:
    """
    A month that does not exist raises a ValueError (twisted.web's fails an
    assertion).
    """
    with pytest.raises(ValueError, match="month"):
        http.timegm(2020, 13, 1, 0, 0, 0)


def test_timegmBeforeEpoch() -> None:
    """
    A year before 1970 raises a ValueError naming it, as twisted.web's does.
    """
    with pytest.raises(ValueError, match="1969"):
        http.timegm(1969, 12, 31, 23, 59, 59)
    with pytest.raises(ValueError):
        twisted_http.timegm(1969, 12, 31, 23, 59, 59)


@given(st.integers(0, 2**35))
def test_datesLikeTwistedWeb(seconds: int) -> None:
    """
    C{datetimeToString}, C{datetimeToLogString} and C{stringToDatetime} give
    what twisted.web's do, and a date read back is the time written.
    """
    written = http.datetimeToString(seconds)
    assert written == twisted_http.datetimeToString(seconds)
    assert http.datetimeToLogString(seconds) == twisted_http.datetimeToLogString(
        seconds
    )
    assert http.stringToDatetime(written) == seconds
