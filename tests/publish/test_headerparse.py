"""
Tests for L{twisted_web_re._publish.headerparse}: typed parsing and formatting of
header values (dates, entity tags, cookies, credentials, byte ranges, media
types, negotiation lists, Cache-Control).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twisted_web_re._publish.headerparse import (
    acceptsEncoding,
    etagMatchesStrongly,
    etagMatchesWeakly,
    formatCacheControl,
    formatContentRange,
    formatHTTPDate,
    formatMediaType,
    formatSetCookie,
    formatUnsatisfiedRange,
    parseAccept,
    parseAuthorization,
    parseBasicAuth,
    parseCacheControl,
    parseContentRange,
    parseCookies,
    parseETags,
    parseHTTPDate,
    parseMediaType,
    parseRange,
)

# -- raw values -----------------------------------------------------------------

#: The example date of RFC 9110 section 5.6.7 in its three forms.
RFC_EXAMPLE_TIME = 784111777
IMF_FIXDATE = b"Sun, 06 Nov 1994 08:49:37 GMT"
RFC850_DATE = b"Sunday, 06-Nov-94 08:49:37 GMT"
ASCTIME_DATE = b"Sun Nov  6 08:49:37 1994"


def basic(credentials: bytes, scheme: bytes = b"Basic") -> bytes:
    """Build an Authorization value carrying C{credentials} in base64."""
    return scheme + b" " + base64.b64encode(credentials)


# -- parseHTTPDate / formatHTTPDate -------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        IMF_FIXDATE,
        RFC850_DATE,
        ASCTIME_DATE,
        b"  " + IMF_FIXDATE + b"  ",
        b"Sun, 06 nov 1994 08:49:37 GMT",
    ],
)
def test_parseHTTPDateForms(value: bytes) -> None:
    """
    All three date forms RFC 9110 section 5.6.7 names (IMF-fixdate, the
    obsolete RFC 850 form and asctime) parse to the same instant.
    """
    assert parseHTTPDate(value) == RFC_EXAMPLE_TIME


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"Thu, 01 Jan 1970 00:00:00 GMT", 0),
        (b"Tue, 29 Feb 2000 00:00:00 GMT", 951782400),
        (b"Thu Feb 29 00:00:00 2024", 1709164800),
        (b"Wed Nov 16 08:49:37 1994", RFC_EXAMPLE_TIME + 10 * 86400),
        (b"Saturday, 01-Jan-00 00:00:00 GMT", 946684800),
    ],
)
def test_parseHTTPDateValues(value: bytes, expected: int) -> None:
    """
    Dates parse to seconds since the epoch, UTC; a two-digit RFC 850 year
    is read in the current century unless that is more than 50 years ahead.
    """
    assert parseHTTPDate(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"yesterday",
        b"784111777",
        b"Sun, 06 Nov 1994 08:49:37",
        b"Sun, 06 Nov 1994 08:49:37 UTC",
        b"Sun, 06 Nov 1994 08:49:37 gmt",
        b"Sun, 06 Foo 1994 08:49:37 GMT",
        b"Sun, 6 Nov 1994 08:49:37 GMT",
        b"Sun, 06 Nov 94 08:49:37 GMT",
        b"Sun, 06 Nov 1994 8:49:37 GMT",
        b"Sun 06 Nov 1994 08:49:37 GMT",
        b"Sun, 06-Nov-1994 08:49:37 GMT",
        b"Sunday, 06-Nov-94 08:49:37",
        b"Sun Nov 6 08:49:37 1994",
        b"Sun Nov  6 08:49:37 94",
        b"Sun, 06 Nov 1994 08:49:37 GMT trailing",
        b"1994-11-06T08:49:37Z",
        b"\xff\xfe",
    ],
)
def test_parseHTTPDateGarbage(value: bytes) -> None:
    """
    Anything that is not one of the three date forms gives None.
    """
    assert parseHTTPDate(value) is None


@pytest.mark.parametrize(
    "value",
    [
        b"Sun, 32 Nov 1994 08:49:37 GMT",
        b"Sun, 00 Nov 1994 08:49:37 GMT",
        b"Sun, 31 Nov 1994 08:49:37 GMT",
        b"Sun, 29 Feb 1995 08:49:37 GMT",
        b"Sun, 06 Nov 1994 24:00:00 GMT",
        b"Sun, 06 Nov 1994 08:60:00 GMT",
        b"Sun, 06 Nov 1994 08:49:99 GMT",
        b"Sun Nov 99 08:49:37 1994",
        b"Sunday, 06-Nov-94 99:49:37 GMT",
    ],
)
def test_parseHTTPDateOutOfRange(value: bytes) -> None:
    """
    A date of the right shape naming a day, hour, minute or second that does
    not exist is not a date: None, so that a conditional request carrying it
    is treated as unconditional (RFC 9110 section 13.1.3), rather than being
    read as some other, real instant.
    """
    assert parseHTTPDate(value) is None


@pytest.mark.parametrize(
    "when", [0, RFC_EXAMPLE_TIME, 951782400, 1709164800, 2147483648, 4102444799]
)
def test_httpDateRoundTrip(when: int) -> None:
    """
    A formatted date parses back to the time it was made from.
    """
    assert parseHTTPDate(formatHTTPDate(when)) == when


def test_formatHTTPDate() -> None:
    """
    formatHTTPDate gives an IMF-fixdate, for the given time or for now.
    """
    assert formatHTTPDate(RFC_EXAMPLE_TIME) == IMF_FIXDATE
    now = parseHTTPDate(formatHTTPDate())
    assert now is not None and now > RFC_EXAMPLE_TIME


# -- parseETags / etagMatchesWeakly -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        (b'"abc"', [(False, b'"abc"')]),
        (b'W/"abc"', [(True, b'"abc"')]),
        (b'""', [(False, b'""')]),
        (b'W/""', [(True, b'""')]),
        (b'  "abc"  ', [(False, b'"abc"')]),
        (
            b'"a", W/"b" ,"c",W/"d"',
            [(False, b'"a"'), (True, b'"b"'), (False, b'"c"'), (True, b'"d"')],
        ),
        (b'"caf\xe9"', [(False, b'"caf\xe9"')]),
        (b'"a,b"', [(False, b'"a,b"')]),
        (b'"!#~"', [(False, b'"!#~"')]),
    ],
)
def test_parseETags(value: bytes, tags: list[tuple[bool, bytes]]) -> None:
    """
    Entity-tag lists parse to (weak, opaque-tag) pairs in order, the tag with
    its quotes (RFC 9110 section 8.8.3).
    """
    assert parseETags(value) == tags


@pytest.mark.parametrize("value", [b"*", b" * "])
def test_parseETagsStar(value: bytes) -> None:
    """
    C{*} (any current representation) is reported as None.
    """
    assert parseETags(value) is None


@pytest.mark.parametrize(
    "value",
    [
        b"abc",
        b'"abc',
        b'abc"',
        b'w/"abc"',
        b'W/ "abc"',
        b"W/abc",
        b'"a" "b"',
        b'"a"b',
        b'"a b"',
        b'"a"; "b"',
        b'"a\x00"',
        b'"a", *',
        b'"a", b',
    ],
)
def test_parseETagsMalformed(value: bytes) -> None:
    """
    A malformed list gives an empty list: nothing in it matches.
    """
    assert parseETags(value) == []


@pytest.mark.parametrize(
    ("value", "tags"),
    [
        (b'"a", , "b"', [(False, b'"a"'), (False, b'"b"')]),
        (b', "a"', [(False, b'"a"')]),
        (b'"a",', [(False, b'"a"')]),
    ],
)
def test_parseETagsEmptyListElements(
    value: bytes, tags: list[tuple[bool, bytes]]
) -> None:
    """
    Empty list elements are ignored (RFC 9110 section 5.6.1.2: a recipient
    MUST accept them).
    """
    assert parseETags(value) == tags


@pytest.mark.parametrize(
    ("etag", "values", "expected"),
    [
        (b'"x"', [b'"x"'], True),
        (b'W/"x"', [b'"x"'], True),
        (b'"x"', [b'W/"x"'], True),
        (b'W/"x"', [b'W/"x"'], True),
        (b'"x"', [b'"y"', b'"z", W/"x"'], True),
        (b'"x"', [b'"y"'], False),
        (b'"x"', [b'"X"'], False),
        (b'"x"', [b"*"], True),
        (b'W/"x"', [b" * "], True),
        (b'"x"', [], False),
        (b'"x"', [b"garbage"], False),
        (b'"x"', [b"x"], False),
        (b'"x"', [b'"x" junk'], False),
    ],
)
def test_etagMatchesWeakly(etag: bytes, values: list[bytes], expected: bool) -> None:
    """
    Weak comparison ignores the weakness of either tag and compares the opaque
    tags exactly; C{*} matches anything; a malformed list matches nothing
    (RFC 9110 section 8.8.3.2).
    """
    assert etagMatchesWeakly(etag, values) is expected


# -- parseCookies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "cookies"),
    [
        ([b"a=1; b=two"], {b"a": b"1", b"b": b"two"}),
        ([b'a="quoted value"'], {b"a": b"quoted value"}),
        ([b'a=""'], {b"a": b""}),
        ([b'a="'], {b"a": b'"'}),
        ([b"a; b=2"], {b"b": b"2"}),
        ([b"=x; b=2"], {b"b": b"2"}),
        ([b"a=1; a=2"], {b"a": b"1"}),
        ([b"a=1", b"a=2; b=3"], {b"a": b"1", b"b": b"3"}),
        ([b"  a = 1 ;b=2  ;  "], {b"a": b"1", b"b": b"2"}),
        ([b"a=b=c"], {b"a": b"b=c"}),
        ([b"a="], {b"a": b""}),
        ([b";;;"], {}),
        ([b""], {}),
        ([], {}),
        ([b"a=1;b=2"], {b"a": b"1", b"b": b"2"}),
    ],
)
def test_parseCookies(values: list[bytes], cookies: dict[bytes, bytes]) -> None:
    """
    Cookie pairs parse to a name-to-value mapping: quotes around a value are
    removed, whitespace is trimmed, pairs without C{=} or a name are skipped,
    and the first of same-named cookies wins, across fields too.
    """
    assert parseCookies(values) == cookies


# -- parseBasicAuth --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "credentials"),
    [
        (basic(b"user:pass"), (b"user", b"pass")),
        (basic(b"user:pass", b"basic"), (b"user", b"pass")),
        (basic(b"user:pass", b"BASIC"), (b"user", b"pass")),
        (basic(b"user:pa:ss"), (b"user", b"pa:ss")),
        (basic(b"user:"), (b"user", b"")),
        (basic(b":pass"), (b"", b"pass")),
        (basic(b"caf\xc3\xa9:x"), (b"caf\xc3\xa9", b"x")),
        (b"  " + basic(b"user:pass").replace(b" ", b"   ") + b"  ", (b"user", b"pass")),
    ],
)
def test_parseBasicAuth(value: bytes, credentials: tuple[bytes, bytes]) -> None:
    """
    Basic credentials decode to (user, password), split at the first colon;
    the scheme is case-insensitive (RFC 7617).
    """
    assert parseBasicAuth(value) == credentials


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"Basic",
        b"Basic ",
        basic(b"user:pass", b"Bearer"),
        basic(b"user:pass", b"Digest"),
        basic(b"user:pass", b"Basicx"),
        b"Basic !!!!",
        b"Basic dXNlcjpwYXN",
        b"Basic dXNl cjpwYXNz",
        basic(b"no-colon-here"),
        b"Bearer " + base64.b64encode(b"user:pass"),
    ],
)
def test_parseBasicAuthInvalid(value: bytes) -> None:
    """
    Another scheme, invalid base64, or credentials without a colon give None.
    """
    assert parseBasicAuth(value) is None


# -- formatSetCookie ---------------------------------------------------------------


def test_formatSetCookieMinimal() -> None:
    """
    A cookie with no attributes is just name=value; str and bytes both work.
    """
    assert formatSetCookie("sid", "abc") == b"sid=abc"
    assert formatSetCookie(b"sid", b"abc") == b"sid=abc"
    assert formatSetCookie("sid", "") == b"sid="
    assert formatSetCookie("sid", '"abc"') == b'sid="abc"'


def test_formatSetCookieEveryAttribute() -> None:
    """
    Every attribute appears in order, flags as bare words.
    """
    assert formatSetCookie(
        b"sid",
        b"abc",
        expires=b"Sun, 06 Nov 1994 08:49:37 GMT",
        domain="example.com",
        path=b"/app",
        maxAge=3600,
        comment="hello",
        secure=True,
        httpOnly=True,
        sameSite="lax",
    ) == (
        b"sid=abc; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Domain=example.com; "
        b"Path=/app; Max-Age=3600; Comment=hello; Secure; HttpOnly; SameSite=Lax"
    )


def test_formatSetCookieFlagsOff() -> None:
    """
    Secure and HttpOnly appear only when asked for.
    """
    assert formatSetCookie("a", "b", secure=False, httpOnly=False) == b"a=b"
    assert formatSetCookie("a", "b", secure=None) == b"a=b"
    assert formatSetCookie("a", "b", maxAge="0") == b"a=b; Max-Age=0"


@pytest.mark.parametrize(
    ("sameSite", "canonical"),
    [
        ("lax", b"Lax"),
        ("Lax", b"Lax"),
        (b"STRICT", b"Strict"),
        ("strict", b"Strict"),
        ("none", b"None"),
        (b"None", b"None"),
    ],
)
def test_formatSetCookieSameSite(sameSite: str | bytes, canonical: bytes) -> None:
    """
    SameSite is accepted in any case and sent in its canonical spelling.
    """
    assert formatSetCookie("a", "b", sameSite=sameSite) == b"a=b; SameSite=" + canonical


@pytest.mark.parametrize("sameSite", ["", "Foo", "lax; Secure", "Lax\r\n", "laxx"])
def test_formatSetCookieBadSameSite(sameSite: str) -> None:
    """
    A SameSite value other than Lax, Strict or None is refused.
    """
    with pytest.raises(ValueError, match="SameSite"):
        formatSetCookie("a", "b", sameSite=sameSite)


@pytest.mark.parametrize(
    "value",
    [
        "a;b",
        "x; Secure",
        "a\r\nSet-Cookie: evil=1",
        "a\nb",
        "a\rb",
        "a b",
        "a,b",
        "a\\b",
        'a"b',
        "a\x00b",
        "a\tb",
        "caf\xe9",
        '"abc',
        'abc"',
        '"',
    ],
)
def test_formatSetCookieBadValue(value: str) -> None:
    """
    A value that would add attributes, inject a header or break the
    cookie-value syntax of RFC 6265 section 4.1.1 (semicolons, CR, LF,
    spaces, commas, backslashes, stray or unbalanced quotes, non-ASCII) is
    refused.
    """
    with pytest.raises(ValueError, match="cookie value"):
        formatSetCookie("a", value)


@pytest.mark.parametrize(
    "name", ["", "a b", "a=b", "a;b", "a\r\nb", "a\x00", "a,b", "(a)", "caf\xe9"]
)
def test_formatSetCookieBadName(name: str) -> None:
    """
    A name that is not a token is refused.
    """
    with pytest.raises(ValueError, match="cookie name"):
        formatSetCookie(name, "b")


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("path", "/; Secure"),
        ("domain", "example.com\r\nSet-Cookie: evil=1"),
        ("expires", "Sun\n"),
        ("comment", "a;b"),
        ("maxAge", "1; HttpOnly"),
        ("path", "/\x00"),
        ("domain", "caf\xe9"),
    ],
)
def test_formatSetCookieBadAttribute(attribute: str, value: str) -> None:
    """
    An attribute value with a semicolon, CR, LF or other control character,
    which would add attributes or inject a header, is refused.
    """
    with pytest.raises(ValueError, match="invalid cookie"):
        kwargs: dict[str, Any] = {attribute: value}
        formatSetCookie("a", "b", **kwargs)


def test_formatSetCookieWrongType() -> None:
    """
    A value that is neither str nor bytes is a TypeError.
    """
    with pytest.raises(TypeError):
        formatSetCookie("a", 1.5)  # type: ignore[arg-type]


# -- etagMatchesStrongly -----------------------------------------------------------


@pytest.mark.parametrize(
    ("etag", "values", "expected"),
    [
        (b'"x"', [b'"x"'], True),
        (b'"x"', [b'"y", "x"'], True),
        (b'"x"', [b'"y"', b'"x"'], True),
        (b'"x"', [b'W/"x"'], False),
        (b'W/"x"', [b'"x"'], False),
        (b'W/"x"', [b'W/"x"'], False),
        (b'"x"', [b'"X"'], False),
        (b'"x"', [b"*"], True),
        (b'W/"x"', [b" * "], True),
        (None, [b"*"], True),
        (None, [b'"x"'], False),
        (b'"x"', [], False),
        (b'"x"', [b"garbage"], False),
        (b'"x"', [b'"x" junk'], False),
    ],
)
def test_etagMatchesStrongly(
    etag: bytes | None, values: list[bytes], expected: bool
) -> None:
    """
    Strong comparison (If-Match) matches only two strong tags with equal
    opaque tags; C{*} matches any current representation, even one without
    an entity tag; a malformed list matches nothing (RFC 9110 section 8.8.3.2).
    """
    assert etagMatchesStrongly(etag, values) is expected


# -- parseAuthorization ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (b"Basic dXNlcjpwYXNz", (b"basic", b"dXNlcjpwYXNz")),
        (b"Bearer  abc.def-ghi==  ", (b"bearer", b"abc.def-ghi==")),
        (
            b'Digest username="a", realm="b c"',
            (b"digest", b'username="a", realm="b c"'),
        ),
        (b"Negotiate", (b"negotiate", b"")),
        (b"  NTLM   abc ", (b"ntlm", b"abc")),
        (b"x-Custom_1 t", (b"x-custom_1", b"t")),
    ],
)
def test_parseAuthorization(value: bytes, parsed: tuple[bytes, bytes]) -> None:
    """
    Credentials split into the lower-cased scheme and the rest, kept raw
    (RFC 9110 section 11.6.2).
    """
    assert parseAuthorization(value) == parsed


@pytest.mark.parametrize(
    "value", [b"", b"   ", b"(x) abc", b'"Basic" abc', b"Ba/sic x", b"Basic\tabc"]
)
def test_parseAuthorizationInvalid(value: bytes) -> None:
    """
    A value that does not start with a scheme token gives None.
    """
    assert parseAuthorization(value) is None


# -- parseRange --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "specs"),
    [
        (b"bytes=0-499", [(0, 499)]),
        (b"bytes=500-999", [(500, 999)]),
        (b"bytes=-500", [(None, 500)]),
        (b"bytes=9500-", [(9500, None)]),
        (b"bytes=0-0,-1", [(0, 0), (None, 1)]),
        (b"bytes=500-600,601-999", [(500, 600), (601, 999)]),
        (b"bytes=5-5", [(5, 5)]),
        (b"bytes=-0", [(None, 0)]),
        (b"bytes=007-010", [(7, 10)]),
        (b"BYTES=0-1", [(0, 1)]),
        (b" bytes= 0-1 , 3-4 ", [(0, 1), (3, 4)]),
        (b"bytes=0-1,,\t2-3,", [(0, 1), (2, 3)]),
        (b"bytes=0-" + b"9" * 30, [(0, 10**18)]),
        (b"bytes=" + b"9" * 5000 + b"-", [(10**18, None)]),
        (b"bytes=" + b"0" * 5000 + b"1-2", [(1, 2)]),
    ],
)
def test_parseRange(
    value: bytes, specs: list[tuple[int | None, int | None]] | None
) -> None:
    """
    A bytes ranges-specifier parses to its range-specs in order: first-last,
    first- (last None), -suffix (first None); the unit is case-insensitive,
    empty list elements are skipped, and positions too long to matter
    saturate at 10**18 rather than being converted digit by digit.
    """
    assert parseRange(value) == specs


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"bytes",
        b"bytes=",
        b"bytes=,",
        b"items=0-1",
        b"bytes 0-1",
        b"bytes = 0-1",
        b"bytes=1",
        b"bytes=-",
        b"bytes=a-b",
        b"bytes=5-4",
        b"bytes=0-1,5-4",
        b"bytes=--1",
        b"bytes=1-2-3",
        b"bytes=0-1;x",
        b"bytes=1 -2",
        b"bytes=0-1,x",
        b"bytes=+1-2",
        b"bytes=0x1-2",
        b"bytes=\xff-1",
        b"bytes=\xd9\xa1-2",
    ],
)
def test_parseRangeInvalid(value: bytes) -> None:
    """
    Another unit or an invalid ranges-specifier (including a last-pos before
    its first-pos, or non-ASCII digits) gives None: the Range field is then
    ignored (RFC 9110 section 14.2).
    """
    assert parseRange(value) is None


# -- Content-Range -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "complete", "value"),
    [
        (0, 499, 1234, b"bytes 0-499/1234"),
        (5, 5, 6, b"bytes 5-5/6"),
        (0, 0, None, b"bytes 0-0/*"),
    ],
)
def test_formatContentRange(
    first: int, last: int, complete: int | None, value: bytes
) -> None:
    """
    formatContentRange writes bytes first-last/complete, C{*} for an unknown
    length, and parseContentRange reads it back.
    """
    assert formatContentRange(first, last, complete) == value
    assert parseContentRange(value) == (first, last, complete)


@pytest.mark.parametrize(
    ("first", "last", "complete"),
    [(5, 4, 10), (-1, 4, 10), (0, 10, 10), (0, 0, 0), (3, 9, 5)],
)
def test_formatContentRangeInvalid(first: int, last: int, complete: int) -> None:
    """
    A range that is reversed, negative or outside the representation is a
    local mistake: ValueError.
    """
    with pytest.raises(ValueError, match="invalid range"):
        formatContentRange(first, last, complete)


def test_formatUnsatisfiedRange() -> None:
    """
    The 416 form names only the current length; a negative length is refused.
    """
    assert formatUnsatisfiedRange(1234) == b"bytes */1234"
    assert formatUnsatisfiedRange(0) == b"bytes */0"
    assert parseContentRange(b"bytes */1234") == (None, None, 1234)
    with pytest.raises(ValueError, match="invalid length"):
        formatUnsatisfiedRange(-1)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (b"Bytes 1-1/2", (1, 1, 2)),
        (b"  bytes 1-1/2  ", (1, 1, 2)),
        (b"bytes 0-9/" + b"9" * 30, (0, 9, 10**18)),
    ],
)
def test_parseContentRangeLenient(
    value: bytes, parsed: tuple[int | None, int | None, int | None]
) -> None:
    """
    The unit is case-insensitive and surrounding whitespace is ignored.
    """
    assert parseContentRange(value) == parsed


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"bytes",
        b"bytes 5-4/10",
        b"bytes 0-10/10",
        b"bytes 0-9/5",
        b"bytes=0-1/2",
        b"items 0-1/2",
        b"bytes 0-1",
        b"bytes */*",
        b"bytes -1/2",
        b"bytes  0-1/2",
        b"bytes 0-1/2 x",
    ],
)
def test_parseContentRangeInvalid(value: bytes) -> None:
    """
    Another unit, bad syntax, a reversed range, or a complete length not
    beyond the last position gives None (RFC 9110 section 14.4).
    """
    assert parseContentRange(value) is None


# -- media types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (b"text/html", (b"text", b"html", {})),
        (b"Text/HTML; Charset=UTF-8", (b"text", b"html", {b"charset": b"UTF-8"})),
        (b'text/plain; charset="utf-8"', (b"text", b"plain", {b"charset": b"utf-8"})),
        (
            b'multipart/form-data; boundary="a b;c,d"',
            (b"multipart", b"form-data", {b"boundary": b"a b;c,d"}),
        ),
        (b'a/b; x="q\\"uo\\\\te"', (b"a", b"b", {b"x": b'q"uo\\te'})),
        (b"text/html ; a=1 ;b=2", (b"text", b"html", {b"a": b"1", b"b": b"2"})),
        (b"text/html;", (b"text", b"html", {})),
        (b"text/html;; ;a=1", (b"text", b"html", {b"a": b"1"})),
        (b"text/html; a=1; A=2", (b"text", b"html", {b"a": b"1"})),
        (b'text/html; a=""', (b"text", b"html", {b"a": b""})),
        (b"  text/html  ", (b"text", b"html", {})),
        (b"application/vnd.api+json", (b"application", b"vnd.api+json", {})),
        (b'a/b; x="caf\xe9"', (b"a", b"b", {b"x": b"caf\xe9"})),
    ],
)
def test_parseMediaType(
    value: bytes, parsed: tuple[bytes, bytes, dict[bytes, bytes]]
) -> None:
    """
    A media type parses to lower-cased type and subtype and its parameters:
    lower-cased names, unquoted values with their case kept, the first of
    same-named parameters winning (RFC 9110 sections 5.6.6 and 8.3.1).
    """
    assert parseMediaType(value) == parsed


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"text",
        b"text/",
        b"/html",
        b"text/html/x",
        b"text /html",
        b"text/ html",
        b"text/html; charset",
        b"text/html; charset = utf-8",
        b"text/html; a=b c",
        b'text/html; a="unterminated',
        b'text/html; a="x"y',
        b"text/html, text/plain",
        b"text/html; a=\x00",
        b'text/h"tml',
    ],
)
def test_parseMediaTypeInvalid(value: bytes) -> None:
    """
    Anything that is not type/subtype followed by well-formed parameters
    gives None.
    """
    assert parseMediaType(value) is None


def test_parseMediaTypeNoBacktrackingBlowUp() -> None:
    """
    A long run of empty parameters that fails only at its end is rejected
    at once, not after exponential backtracking.
    """
    assert parseMediaType(b"text/html" + b" ; \t" * 5000 + b"x") is None
    assert parseMediaType(b'a/b; x="' + b"\\a" * 5000) is None


@pytest.mark.parametrize(
    ("args", "value"),
    [
        ((b"text", b"html"), b"text/html"),
        ((b"text", b"html", {b"charset": b"utf-8"}), b"text/html; charset=utf-8"),
        (
            (b"multipart", b"form-data", {b"boundary": b"a b"}),
            b'multipart/form-data; boundary="a b"',
        ),
        ((b"a", b"b", {b"x": b'q"\\'}), b'a/b; x="q\\"\\\\"'),
        ((b"a", b"b", {b"x": b""}), b'a/b; x=""'),
        ((b"a", b"b", {b"x": b"1", b"y": b"2"}), b"a/b; x=1; y=2"),
    ],
)
def test_formatMediaType(args: tuple[Any, ...], value: bytes) -> None:
    """
    A media type is written type/subtype; name=value, values quoted (with
    quoted-pairs for quotes and backslashes) when they are not tokens.
    """
    assert formatMediaType(*args) == value


@pytest.mark.parametrize(
    "args",
    [
        (b"te xt", b"html"),
        (b"text", b""),
        (b"text", b"ht/ml"),
        (b"text", b"html", {b"a b": b"1"}),
        (b"text", b"html", {b"a": b"1\r\nX-Evil: 1"}),
        (b"text", b"html", {b"a": b"\x00"}),
    ],
)
def test_formatMediaTypeInvalid(args: tuple[Any, ...]) -> None:
    """
    A type, subtype or parameter name that is not a token, or a value holding
    a control character (header injection), is refused.
    """
    with pytest.raises(ValueError):
        formatMediaType(*args)


# -- parseAccept / acceptsEncoding -------------------------------------------------


@pytest.mark.parametrize(
    ("values", "elements"),
    [
        ([b"text/html"], [(b"text/html", 1.0, {})]),
        (
            [b"text/html;q=0.5, */*;q=0.1"],
            [(b"text/html", 0.5, {}), (b"*/*", 0.1, {})],
        ),
        ([b"text/html;level=1;q=0.7"], [(b"text/html", 0.7, {b"level": b"1"})]),
        ([b"gzip, deflate;Q=0"], [(b"gzip", 1.0, {}), (b"deflate", 0.0, {})]),
        (
            [b"en-GB, fr;q=0.8", b"de;q=0.5"],
            [(b"en-gb", 1.0, {}), (b"fr", 0.8, {}), (b"de", 0.5, {})],
        ),
        ([b"gzip;q=1.000"], [(b"gzip", 1.0, {})]),
        ([b"gzip;q=0.001"], [(b"gzip", 0.001, {})]),
        ([b"gzip;q=0."], [(b"gzip", 0.0, {})]),
        ([b"gzip;q=1."], [(b"gzip", 1.0, {})]),
        ([b"gzip ; q=0.3 "], [(b"gzip", 0.3, {})]),
        ([b"gzip , , br,"], [(b"gzip", 1.0, {}), (b"br", 1.0, {})]),
        (
            [b'text/html;a="x,y", br'],
            [(b"text/html", 1.0, {b"a": b"x,y"}), (b"br", 1.0, {})],
        ),
        ([b"TEXT/HTML"], [(b"text/html", 1.0, {})]),
        ([b"*"], [(b"*", 1.0, {})]),
        ([b""], []),
        ([], []),
    ],
)
def test_parseAccept(
    values: list[bytes], elements: list[tuple[bytes, float, dict[bytes, bytes]]]
) -> None:
    """
    Negotiation lists parse to (lower-cased value, q, other parameters) per
    element, in order, across field lines; q defaults to 1 and its name is
    case-insensitive (RFC 9110 sections 12.4.2 and 12.5).
    """
    assert parseAccept(values) == elements


@pytest.mark.parametrize(
    "weight",
    [
        b"q=1.5",
        b"q=2",
        b"q=-1",
        b"q=0.1234",
        b"q=abc",
        b'q="0.5"',
        b"q=1.001",
        b"q=",
        b"q=.5",
        b"q = 0.5",
    ],
)
def test_parseAcceptInvalidWeight(weight: bytes) -> None:
    """
    An element whose weight is not a qvalue (0 to 1, at most three decimals)
    is ignored; the rest of the list is kept.
    """
    assert parseAccept([b"gzip;" + weight + b", br;q=0.5"]) == [(b"br", 0.5, {})]


@pytest.mark.parametrize(
    "value",
    [b"garbage here, br;q=0.5", b"(x), br;q=0.5", b'a="unterminated, br;q=0.5'],
)
def test_parseAcceptMalformedElement(value: bytes) -> None:
    """
    A malformed element is skipped up to the next comma; later elements
    still count.
    """
    assert parseAccept([value]) == [(b"br", 0.5, {})]


@pytest.mark.parametrize(
    ("values", "coding", "expected"),
    [
        ([], b"gzip", True),
        ([], b"identity", True),
        ([b""], b"gzip", False),
        ([b""], b"identity", True),
        ([b"gzip"], b"gzip", True),
        ([b"gzip"], b"br", False),
        ([b"gzip"], b"identity", True),
        ([b"GZIP"], b"gzip", True),
        ([b"gzip"], b"GZip", True),
        ([b"x-gzip"], b"gzip", True),
        ([b"gzip"], b"x-gzip", True),
        ([b"gzip;q=0"], b"gzip", False),
        ([b"gzip;q=0.001"], b"gzip", True),
        ([b"*"], b"br", True),
        ([b"*;q=0"], b"br", False),
        ([b"*;q=0"], b"identity", False),
        ([b"*;q=0, identity"], b"identity", True),
        ([b"identity;q=0"], b"identity", False),
        ([b"identity;q=0, *"], b"identity", False),
        ([b"*;q=0, gzip"], b"gzip", True),
        ([b"gzip;q=0, *"], b"gzip", False),
        ([b"*;q=0, *"], b"br", False),
        ([b"br", b"gzip;q=0.5"], b"gzip", True),
        ([b"gzip, gzip;q=0"], b"gzip", True),
        ([b"gzip;q=5"], b"gzip", False),
        ([b"garbage!!("], b"gzip", False),
        ([b"garbage!!("], b"identity", True),
    ],
)
def test_acceptsEncoding(values: list[bytes], coding: bytes, expected: bool) -> None:
    """
    Content-coding acceptability follows RFC 9110 section 12.5.3: no field
    accepts anything; a listed coding is acceptable unless q=0; C{*} covers
    codings not listed; identity is acceptable unless refused; an empty or
    unusable field leaves only identity.
    """
    assert acceptsEncoding(values, coding) is expected


# -- Cache-Control -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "directives"),
    [
        ([b"no-cache"], {b"no-cache": None}),
        (
            [b"max-age=3600, must-revalidate"],
            {b"max-age": b"3600", b"must-revalidate": None},
        ),
        ([b'private="set-cookie, x-foo"'], {b"private": b"set-cookie, x-foo"}),
        ([b"Max-Age=5"], {b"max-age": b"5"}),
        ([b"max-age=5, MAX-AGE=10"], {b"max-age": b"5"}),
        ([b"no-store", b"max-age=0"], {b"no-store": None, b"max-age": b"0"}),
        ([b"max-age=5 junk, no-store"], {b"no-store": None}),
        ([b"max-age = 5, public"], {b"public": None}),
        ([b'a="unterminated, b'], {b"b": None}),
        ([b" , ,no-store,"], {b"no-store": None}),
        ([b'a="x\\"y"'], {b"a": b'x"y'}),
        ([b""], {}),
        ([], {}),
    ],
)
def test_parseCacheControl(
    values: list[bytes], directives: dict[bytes, bytes | None]
) -> None:
    """
    Directives parse to lower-cased names and unquoted arguments (None when
    absent); malformed ones are skipped and the first of repeated ones wins
    (RFC 9111 section 5.2).
    """
    assert parseCacheControl(values) == directives


@pytest.mark.parametrize(
    ("directives", "value"),
    [
        ({b"no-store": None}, b"no-store"),
        ({b"max-age": 3600, b"public": None}, b"max-age=3600, public"),
        ({b"max-age": b"5"}, b"max-age=5"),
        ({b"no-cache": b"Set-Cookie"}, b'no-cache="Set-Cookie"'),
        ({b"Private": b"a, b"}, b'Private="a, b"'),
        ({b"ext": b"a b"}, b'ext="a b"'),
        ({b"ext": b"tok"}, b"ext=tok"),
        ({}, b""),
    ],
)
def test_formatCacheControl(
    directives: dict[bytes, bytes | int | None], value: bytes
) -> None:
    """
    Directives are joined with commas, arguments as tokens where possible,
    quoted when they must be and always for no-cache and private.
    """
    assert formatCacheControl(directives) == value


@pytest.mark.parametrize(
    "directives",
    [{b"bad name": None}, {b"": None}, {b"x": b"a\r\nSet-Cookie: a=b"}],
)
def test_formatCacheControlInvalid(directives: dict[bytes, bytes | None]) -> None:
    """
    A directive name that is not a token, or an argument that would break
    the field (CR, LF), is refused.
    """
    with pytest.raises(ValueError):
        formatCacheControl(directives)


# -- properties --------------------------------------------------------------------

#: Pieces that the parsers give meaning to, so generated values get past the
#: first check more often than random bytes would.
FRAGMENTS = [
    b"bytes",
    b"=",
    b"-",
    b",",
    b" ",
    b"\t",
    b"0",
    b"1",
    b"9",
    b"*",
    b"/",
    b";",
    b"q",
    b"0.5",
    b'"',
    b"\\",
    b"text",
    b"W/",
    b"\xff",
    b"\x00",
]
fieldValues = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(FRAGMENTS), max_size=40).map(b"".join),
)

SINGLE_VALUE_PARSERS: list[Callable[[bytes], object]] = [
    parseHTTPDate,
    parseETags,
    parseAuthorization,
    parseBasicAuth,
    parseRange,
    parseContentRange,
    parseMediaType,
]
LIST_PARSERS: list[Callable[[list[bytes]], object]] = [
    parseAccept,
    parseCacheControl,
    parseCookies,
    lambda values: acceptsEncoding(values, b"gzip"),
    lambda values: etagMatchesStrongly(b'"x"', values),
    lambda values: etagMatchesWeakly(b'"x"', values),
]


@given(fieldValues)
def test_parsersNeverRaise(value: bytes) -> None:
    """
    Every parser answers any single field value without raising.
    """
    for parse in SINGLE_VALUE_PARSERS:
        parse(value)


@given(st.lists(fieldValues, max_size=4))
def test_listParsersNeverRaise(values: list[bytes]) -> None:
    """
    Every parser of list-valued fields answers any field lines without
    raising, and weights it reports are qvalues.
    """
    for parse in LIST_PARSERS:
        parse(values)
    assert all(0.0 <= q <= 1.0 for _, q, _ in parseAccept(values))


TOKEN_ALPHABET = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
tokens = st.text(TOKEN_ALPHABET, min_size=1, max_size=10).map(str.encode)
quotableValues = st.binary(max_size=20).map(
    lambda raw: bytes(b for b in raw if b == 0x09 or (b >= 0x20 and b != 0x7F))
)


@given(tokens, tokens, st.dictionaries(tokens, quotableValues, max_size=4))
def test_mediaTypeRoundTrip(
    mainType: bytes, subtype: bytes, parameters: dict[bytes, bytes]
) -> None:
    """
    A formatted media type parses back to what it was made from.
    """
    assert parseMediaType(formatMediaType(mainType, subtype, parameters)) == (
        mainType,
        subtype,
        parameters,
    )


@given(st.dictionaries(tokens, st.one_of(st.none(), quotableValues), max_size=5))
def test_cacheControlRoundTrip(directives: dict[bytes, bytes | None]) -> None:
    """
    A formatted Cache-Control value parses back to what it was made from.
    """
    assert parseCacheControl([formatCacheControl(directives)]) == directives


@given(st.integers(0, 10**15), st.integers(0, 10**15), st.integers(1, 10**15))
def test_contentRangeRoundTrip(first: int, size: int, extra: int) -> None:
    """
    A formatted Content-Range parses back to what it was made from.
    """
    last = first + size
    assert parseContentRange(formatContentRange(first, last, last + extra)) == (
        first,
        last,
        last + extra,
    )
