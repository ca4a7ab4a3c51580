"""
Tests for L{twisted_web_re._headerparse}: typed parsing and formatting of
header values (dates, entity tags, cookies, Basic credentials).
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from twisted_web_re._headerparse import (
    etagMatchesWeakly,
    formatHTTPDate,
    formatSetCookie,
    parseBasicAuth,
    parseCookies,
    parseETags,
    parseHTTPDate,
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
