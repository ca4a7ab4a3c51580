"""
Typed header values: small parse/format functions over raw field values.

Each function takes and returns plain values; none raises on peer data except
where its docstring says so (C{None} or an empty result means "absent or
malformed", which RFC 9110 tells a recipient to treat alike for these fields).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime
import re
import time

from twisted_web_re._wire.serialise import httpDate

_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            b"jan",
            b"feb",
            b"mar",
            b"apr",
            b"may",
            b"jun",
            b"jul",
            b"aug",
            b"sep",
            b"oct",
            b"nov",
            b"dec",
        ),
        start=1,
    )
}

# RFC 9110 section 5.6.7: IMF-fixdate, obsolete RFC 850 and asctime forms.
_IMF_FIXDATE = re.compile(
    rb"[A-Za-z]{3}, ([0-9]{2}) ([A-Za-z]{3}) ([0-9]{4}) "
    rb"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
_RFC850 = re.compile(
    rb"[A-Za-z]{6,9}, ([0-9]{2})-([A-Za-z]{3})-([0-9]{2}) "
    rb"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
_ASCTIME = re.compile(
    rb"[A-Za-z]{3} ([A-Za-z]{3}) ([ 0-9][0-9]) "
    rb"([0-9]{2}):([0-9]{2}):([0-9]{2}) ([0-9]{4})"
)


def parseHTTPDate(value: bytes) -> int | None:
    """
    Parse an HTTP date in any of the three forms RFC 9110 section 5.6.7 names.

    @return: seconds since the epoch, or C{None} if C{value} is not a date.
    """
    value = value.strip()
    match = _IMF_FIXDATE.fullmatch(value)
    if match is not None:
        day, month, year, hh, mm, ss = match.groups()
    else:
        match = _RFC850.fullmatch(value)
        if match is not None:
            day, month, year, hh, mm, ss = match.groups()
            # RFC 9110: a two-digit year more than 50 years ahead is in the past.
            century = time.gmtime().tm_year // 100 * 100
            full = century + int(year)
            if full > time.gmtime().tm_year + 50:
                full -= 100
            year = b"%d" % full
        else:
            match = _ASCTIME.fullmatch(value)
            if match is None:
                return None
            month, day, hh, mm, ss, year = match.groups()
    monthNumber = _MONTHS.get(month.lower())
    if monthNumber is None:
        return None
    try:
        parsed = datetime.datetime(
            int(year), monthNumber, int(day), int(hh), int(mm), int(ss)
        )
    except ValueError:
        return None
    return calendar.timegm(parsed.timetuple())


def formatHTTPDate(when: float | None = None) -> bytes:
    """
    Format C{when} (default: now) as an IMF-fixdate.
    """
    return httpDate(when)


# RFC 9110 section 5.6.1: a recipient accepts empty list elements.
_EMPTY_ELEMENT = re.compile(rb"[ \t]*,")
_ETAG = re.compile(rb'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def parseETags(value: bytes) -> list[tuple[bool, bytes]] | None:
    """
    Parse a list of entity tags (C{If-Match}, C{If-None-Match}).

    @return: C{(weak, opaqueTag)} pairs, the tag with its quotes; C{None} for
        C{*}; an empty list if the value is malformed.
    """
    stripped = value.strip()
    if stripped == b"*":
        return None
    tags: list[tuple[bool, bytes]] = []
    pos = 0
    while pos < len(stripped):
        empty = _EMPTY_ELEMENT.match(stripped, pos)
        if empty is not None:
            pos = empty.end()
            continue
        match = _ETAG.match(stripped, pos)
        if match is None or match.end() == pos:
            return []
        tags.append((match.group(1) is not None, match.group(2)))
        pos = match.end()
    return tags


def etagMatchesWeakly(etag: bytes, values: list[bytes]) -> bool:
    """
    Return whether C{etag} matches any tag in the C{If-None-Match} field values
    C{values} by weak comparison (RFC 9110 section 8.8.3.2), or they are C{*}.
    """
    opaque = etag[2:] if etag.startswith(b"W/") else etag
    for value in values:
        tags = parseETags(value)
        if tags is None:
            return True
        if any(tag == opaque for _, tag in tags):
            return True
    return False


def parseCookies(values: list[bytes]) -> dict[bytes, bytes]:
    """
    Parse C{Cookie} field values into a name-to-value mapping.

    Malformed pairs are skipped; the first of several same-named cookies wins
    (browsers send the most specific path first).
    """
    cookies: dict[bytes, bytes] = {}
    for value in values:
        for pair in value.split(b";"):
            name, sep, cookieValue = pair.partition(b"=")
            name = name.strip()
            if not sep or not name:
                continue
            cookieValue = cookieValue.strip()
            if len(cookieValue) >= 2 and cookieValue[:1] == cookieValue[-1:] == b'"':
                cookieValue = cookieValue[1:-1]
            cookies.setdefault(name, cookieValue)
    return cookies


def parseBasicAuth(value: bytes) -> tuple[bytes, bytes] | None:
    """
    Parse an C{Authorization: Basic ...} value (RFC 7617).

    @return: C{(user, password)}, or C{None} if it is not valid Basic
        credentials.
    """
    scheme, _, credentials = value.strip().partition(b" ")
    if scheme.lower() != b"basic":
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    return user, password


_COOKIE_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# RFC 6265 section 4.1.1: cookie-octet, optionally in double quotes.
_COOKIE_OCTETS = rb"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"
_COOKIE_VALUE = re.compile(rb'"' + _COOKIE_OCTETS + rb'"|' + _COOKIE_OCTETS)
_ATTRIBUTE_VALUE = re.compile(rb"[\x20-\x3a\x3c-\x7e]*")
_SAME_SITE = {b"lax": b"Lax", b"strict": b"Strict", b"none": b"None"}


def _asBytes(value: str | bytes | int, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (str, int)):
        return str(value).encode("utf-8")
    raise TypeError(f"cookie {what} must be str or bytes, not {value!r}")


def formatSetCookie(
    name: str | bytes,
    value: str | bytes,
    expires: str | bytes | None = None,
    domain: str | bytes | None = None,
    path: str | bytes | None = None,
    maxAge: str | bytes | int | None = None,
    comment: str | bytes | None = None,
    secure: bool | None = None,
    httpOnly: bool = False,
    sameSite: str | bytes | None = None,
) -> bytes:
    """
    Build a C{Set-Cookie} field value (RFC 6265 section 4.1).

    @raise ValueError: any part would break the cookie syntax or inject another
        attribute or header (a C{;}, CR, LF, a space in the value, ...).
    """
    rawName = _asBytes(name, "name")
    rawValue = _asBytes(value, "value")
    if _COOKIE_NAME.fullmatch(rawName) is None:
        raise ValueError(f"invalid cookie name {rawName!r}")
    if _COOKIE_VALUE.fullmatch(rawValue) is None:
        raise ValueError(f"invalid cookie value {rawValue!r}")
    parts = [rawName + b"=" + rawValue]
    for label, attribute in (
        (b"Expires", expires),
        (b"Domain", domain),
        (b"Path", path),
        (b"Max-Age", maxAge),
        (b"Comment", comment),
    ):
        if attribute is None:
            continue
        raw = _asBytes(attribute, label.decode())
        if _ATTRIBUTE_VALUE.fullmatch(raw) is None:
            raise ValueError(f"invalid cookie {label.decode()} {raw!r}")
        parts.append(label + b"=" + raw)
    if secure:
        parts.append(b"Secure")
    if httpOnly:
        parts.append(b"HttpOnly")
    if sameSite is not None:
        canonical = _SAME_SITE.get(_asBytes(sameSite, "SameSite").lower())
        if canonical is None:
            raise ValueError(f"SameSite must be Lax, Strict or None, not {sameSite!r}")
        parts.append(b"SameSite=" + canonical)
    return b"; ".join(parts)
