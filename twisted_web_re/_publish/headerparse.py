"""
Typed header values: small parse/format functions over raw field values.

Each function takes and returns plain values.  Parsers never raise on peer data:
C{None} or an empty result means "absent or malformed", which RFC 9110 tells a
recipient to treat alike for these fields.  Formatters raise C{ValueError} when
the caller's value could not be sent without breaking the field's syntax.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import datetime
import re
import time
from collections.abc import Iterator, Mapping

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


_TOKEN_PATTERN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_TOKEN = re.compile(_TOKEN_PATTERN)
# RFC 9110 section 5.6.4: qdtext and quoted-pair.
_QUOTED_PATTERN = (
    rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
)
_QUOTED_PAIR = re.compile(rb"\\(.)", re.DOTALL)
_QUOTABLE = re.compile(rb"[\t \x21-\x7e\x80-\xff]*")


def _unquote(value: bytes) -> bytes:
    """
    Return the content of a token or quoted-string, quoted-pairs resolved.
    """
    if value[:1] != b'"':
        return value
    return _QUOTED_PAIR.sub(rb"\1", value[1:-1])


def _quote(value: bytes, always: bool = False) -> bytes:
    """
    Return C{value} as a token if it is one (and C{always} is false), else as a
    quoted-string.

    @raise ValueError: C{value} holds a control character (CR, LF, NUL...),
        which no field value may carry.
    """
    if not always and _TOKEN.fullmatch(value) is not None:
        return value
    if _QUOTABLE.fullmatch(value) is None:
        raise ValueError(f"cannot quote {value!r}")
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


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


def etagMatchesStrongly(etag: bytes | None, values: list[bytes]) -> bool:
    """
    Return whether C{etag} matches any tag in the C{If-Match} field values
    C{values} by strong comparison (RFC 9110 section 8.8.3.2), or they are C{*}.

    Strong comparison: both tags are strong and their opaque tags are equal.

    @param etag: The selected representation's entity tag, or C{None} if it
        has none (then only C{*}, "any current representation", matches).
    """
    for value in values:
        tags = parseETags(value)
        if tags is None:
            return True
        if etag is not None and (False, etag) in tags:
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


def parseAuthorization(value: bytes) -> tuple[bytes, bytes] | None:
    """
    Split an C{Authorization} (or C{Proxy-Authorization}) value into its scheme
    and credentials (RFC 9110 section 11.6.2).

    @return: C{(scheme, credentials)}: the scheme lower-cased (schemes are
        case-insensitive), the credentials (a token68 or auth-params) raw with
        surrounding whitespace removed, possibly empty; C{None} if the value
        does not start with a scheme token.
    """
    scheme, _, credentials = value.strip().partition(b" ")
    if _TOKEN.fullmatch(scheme) is None:
        return None
    return scheme.lower(), credentials.strip()


def parseBasicAuth(value: bytes) -> tuple[bytes, bytes] | None:
    """
    Parse an C{Authorization: Basic ...} value (RFC 7617).

    @return: C{(user, password)}, or C{None} if it is not valid Basic
        credentials.
    """
    parsed = parseAuthorization(value)
    if parsed is None or parsed[0] != b"basic":
        return None
    try:
        decoded = base64.b64decode(parsed[1], validate=True)
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(b":")
    if not sep:
        return None
    return user, password


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
    if _TOKEN.fullmatch(rawName) is None:
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


# -- byte ranges (RFC 9110 sections 14.1.1 and 14.4) -------------------------------

_RANGE_SPEC = re.compile(rb"([0-9]+)-([0-9]*)|-([0-9]+)")
_CONTENT_RANGE = re.compile(
    rb"bytes (?:([0-9]+)-([0-9]+)/([0-9]+|\*)|\*/([0-9]+))", re.IGNORECASE
)
#: Where byte positions saturate: far beyond any body served from memory, and
#: it keeps int() away from digit strings long enough to be refused or slow.
_FAR_POSITION = 10**18
_FAR_DIGITS = len(str(_FAR_POSITION)) - 1


def _position(digits: bytes) -> int:
    """
    Read a run of ASCII digits as a byte position, saturating at L{_FAR_POSITION}.
    """
    significant = digits.lstrip(b"0")
    if len(significant) > _FAR_DIGITS:
        return _FAR_POSITION
    return int(significant or b"0")


def parseRange(value: bytes) -> list[tuple[int | None, int | None]] | None:
    """
    Parse a C{Range} value of unit C{bytes} (RFC 9110 section 14.1.1).

    Positions beyond 10**18 are read as 10**18, which is beyond any body.

    @return: one pair per range-spec, in the order sent: C{(first, last)} for
        C{first-last}, C{(first, None)} for C{first-}, C{(None, length)} for
        the suffix range C{-length}; C{None} if the unit is not C{bytes} or
        the value is not a valid ranges-specifier, so that the field is
        ignored (section 14.2).
    """
    unit, sep, rangeSet = value.strip().partition(b"=")
    if not sep or unit.lower() != b"bytes":
        return None
    specs: list[tuple[int | None, int | None]] = []
    for element in rangeSet.split(b","):
        element = element.strip(b" \t")
        if not element:
            continue
        match = _RANGE_SPEC.fullmatch(element)
        if match is None:
            return None
        first, last, suffix = match.groups()
        if suffix is not None:
            specs.append((None, _position(suffix)))
            continue
        firstPos = _position(first)
        lastPos = _position(last) if last else None
        if lastPos is not None and lastPos < firstPos:
            return None
        specs.append((firstPos, lastPos))
    return specs or None


def formatContentRange(first: int, last: int, complete: int | None) -> bytes:
    """
    Build a C{Content-Range} value for the bytes C{first} to C{last} inclusive
    of a representation C{complete} bytes long (C{None}: length unknown).

    @raise ValueError: the range is empty, negative or outside the
        representation.
    """
    if not 0 <= first <= last or (complete is not None and last >= complete):
        raise ValueError(f"invalid range {first}-{last}/{complete}")
    length = b"*" if complete is None else b"%d" % (complete,)
    return b"bytes %d-%d/%s" % (first, last, length)


def formatUnsatisfiedRange(complete: int) -> bytes:
    """
    Build the C{Content-Range} value of a 416 answer, C{bytes */complete}
    (RFC 9110 section 15.5.17).

    @raise ValueError: C{complete} is negative.
    """
    if complete < 0:
        raise ValueError(f"invalid length {complete}")
    return b"bytes */%d" % (complete,)


def parseContentRange(value: bytes) -> tuple[int | None, int | None, int | None] | None:
    """
    Parse a C{Content-Range} value of unit C{bytes} (RFC 9110 section 14.4).

    @return: C{(first, last, complete)}, C{complete} C{None} when sent as
        C{*}; C{(None, None, complete)} for an unsatisfied-range
        C{*/complete}; C{None} if the value is invalid: another unit, bad
        syntax, C{last} before C{first}, or C{complete} not beyond C{last}.
    """
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if match is None:
        return None
    first, last, complete, unsatisfied = match.groups()
    if unsatisfied is not None:
        return None, None, _position(unsatisfied)
    firstPos, lastPos = _position(first), _position(last)
    completePos = None if complete == b"*" else _position(complete)
    if lastPos < firstPos or (completePos is not None and completePos <= lastPos):
        return None
    return firstPos, lastPos, completePos


# -- media types and parameters (RFC 9110 sections 5.6.6 and 8.3.1) ----------------

# Each parameter owns the whitespace after its ";" and after its value, so no
# two repetitions can share whitespace: backtracking stays linear (no ReDoS).
_PARAMETERS_PATTERN = (
    rb"(?:;[ \t]*(?:"
    + _TOKEN_PATTERN
    + rb"=(?:"
    + _TOKEN_PATTERN
    + rb"|"
    + _QUOTED_PATTERN
    + rb")[ \t]*)?)*"
)
_PARAMETER = re.compile(
    rb";[ \t]*(?:("
    + _TOKEN_PATTERN
    + rb")=("
    + _TOKEN_PATTERN
    + rb"|"
    + _QUOTED_PATTERN
    + rb")[ \t]*)?"
)
_MEDIA_TYPE = re.compile(
    rb"("
    + _TOKEN_PATTERN
    + rb")/("
    + _TOKEN_PATTERN
    + rb")[ \t]*("
    + _PARAMETERS_PATTERN
    + rb")"
)


def _parameters(section: bytes) -> list[tuple[bytes, bytes]]:
    """
    Split a section matching L{_PARAMETERS_PATTERN} into (lower-cased name,
    value as sent) pairs, in order.
    """
    return [
        (match.group(1).lower(), match.group(2))
        for match in _PARAMETER.finditer(section)
        if match.group(1) is not None
    ]


def parseMediaType(value: bytes) -> tuple[bytes, bytes, dict[bytes, bytes]] | None:
    """
    Parse a media type such as a C{Content-Type} value (RFC 9110 section 8.3.1).

    @return: C{(type, subtype, parameters)}: type, subtype and parameter names
        lower-cased (they are case-insensitive), parameter values unquoted
        with their case kept, the first of same-named parameters winning;
        C{None} if the value is not a media type.
    """
    match = _MEDIA_TYPE.fullmatch(value.strip())
    if match is None:
        return None
    parameters: dict[bytes, bytes] = {}
    for name, parameterValue in _parameters(match.group(3)):
        parameters.setdefault(name, _unquote(parameterValue))
    return match.group(1).lower(), match.group(2).lower(), parameters


def formatMediaType(
    mainType: bytes, subtype: bytes, parameters: Mapping[bytes, bytes] | None = None
) -> bytes:
    """
    Build a media type value, C{type/subtype; name=value}, quoting parameter
    values that are not tokens.

    @raise ValueError: the type, subtype or a parameter name is not a token, or
        a parameter value holds a control character.
    """
    for part in (mainType, subtype, *(parameters or ())):
        if _TOKEN.fullmatch(part) is None:
            raise ValueError(f"invalid media type part {part!r}")
    pieces = [mainType + b"/" + subtype]
    for name, parameterValue in (parameters or {}).items():
        pieces.append(name + b"=" + _quote(parameterValue))
    return b"; ".join(pieces)


# -- proactive negotiation (RFC 9110 section 12.5) ---------------------------------

_ACCEPT_ELEMENT = re.compile(
    rb"[ \t]*("
    + _TOKEN_PATTERN
    + rb"(?:/"
    + _TOKEN_PATTERN
    + rb")?)[ \t]*("
    + _PARAMETERS_PATTERN
    + rb")(?:,|\Z)"
)
# RFC 9110 section 12.4.2: at most three decimals, and never above 1.
_QVALUE = re.compile(rb"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")


def _skipElement(value: bytes, pos: int) -> int:
    """
    Return where the list element after a malformed one at C{pos} starts.
    """
    comma = value.find(b",", pos)
    return len(value) if comma == -1 else comma + 1


def _listMatches(
    values: list[bytes], element: re.Pattern[bytes]
) -> Iterator[re.Match[bytes]]:
    """
    Match C{element} against each member of comma-separated list values
    (RFC 9110 section 5.6.1), skipping empty members and malformed ones.
    """
    for value in values:
        pos = 0
        while pos < len(value):
            empty = _EMPTY_ELEMENT.match(value, pos)
            if empty is not None:
                pos = empty.end()
                continue
            match = element.match(value, pos)
            if match is None:
                pos = _skipElement(value, pos)
                continue
            pos = match.end()
            yield match


def parseAccept(values: list[bytes]) -> list[tuple[bytes, float, dict[bytes, bytes]]]:
    """
    Parse C{Accept}, C{Accept-Encoding}, C{Accept-Language} or
    C{Accept-Charset} field values: a list of elements with optional weights.

    Elements that are malformed, or whose weight is not a valid qvalue (RFC
    9110 section 12.4.2: C{0} to C{1} with at most three decimals), are
    ignored; the others are kept.

    @return: C{(value, q, parameters)} per element, in the order sent: the
        value (C{text/html}, C{gzip}, C{en-gb}, C{*}...) lower-cased, since
        all these are case-insensitive; q 1.0 when no weight is given; the
        other parameters (lower-cased names, unquoted values), the first of
        same-named ones winning.
    """
    elements: list[tuple[bytes, float, dict[bytes, bytes]]] = []
    for match in _listMatches(values, _ACCEPT_ELEMENT):
        quality: float | None = 1.0
        parameters: dict[bytes, bytes] = {}
        for name, parameterValue in _parameters(match.group(2)):
            if name != b"q":
                parameters.setdefault(name, _unquote(parameterValue))
            elif _QVALUE.fullmatch(parameterValue) is None:
                quality = None
                break
            else:
                quality = float(parameterValue)
        if quality is not None:
            elements.append((match.group(1).lower(), quality, parameters))
    return elements


# RFC 9110 section 8.4.1: recipients treat these old names as their modern ones.
_CODING_ALIASES = {b"x-gzip": b"gzip", b"x-compress": b"compress"}


def acceptsEncoding(values: list[bytes], coding: bytes) -> bool:
    """
    Return whether a response may use content coding C{coding} (C{identity}
    for none) given the request's C{Accept-Encoding} field values C{values}
    (RFC 9110 section 12.5.3).

      - No field (C{values} empty): any coding is acceptable.
      - A coding listed is acceptable unless its weight is 0; C{*} stands for
        every coding not listed; C{x-gzip} and C{x-compress} count as C{gzip}
        and C{compress}.  When a coding is listed twice, the first wins.
      - C{identity} is acceptable unless refused with q=0, directly or by
        C{*;q=0} without C{identity} listed.
      - Any other coding not covered by the list is not acceptable; so an
        empty field (or one of nothing but malformed elements) leaves only
        C{identity}.
    """
    if not values:
        return True
    wanted = coding.lower()
    wanted = _CODING_ALIASES.get(wanted, wanted)
    star: float | None = None
    for listed, quality, _ in parseAccept(values):
        listed = _CODING_ALIASES.get(listed, listed)
        if listed == wanted:
            return quality > 0
        if listed == b"*" and star is None:
            star = quality
    if star is not None:
        return star > 0
    return wanted == b"identity"


# -- Cache-Control (RFC 9111 section 5.2) ------------------------------------------

_DIRECTIVE = re.compile(
    rb"[ \t]*("
    + _TOKEN_PATTERN
    + rb")(?:=("
    + _TOKEN_PATTERN
    + rb"|"
    + _QUOTED_PATTERN
    + rb"))?[ \t]*(?:,|\Z)"
)
# RFC 9111 sections 5.2.2.4 and 5.2.2.7: senders quote these field-name lists
# even when a single name would be a token.
_QUOTED_DIRECTIVES = frozenset({b"no-cache", b"private"})


def parseCacheControl(values: list[bytes]) -> dict[bytes, bytes | None]:
    """
    Parse C{Cache-Control} field values into a directive-to-argument mapping.

    @return: directive names lower-cased (they are case-insensitive), each
        mapped to its unquoted argument or C{None} if it has none; malformed
        directives are skipped and the first of repeated directives wins.
    """
    directives: dict[bytes, bytes | None] = {}
    for match in _listMatches(values, _DIRECTIVE):
        name, argument = match.groups()
        directives.setdefault(
            name.lower(), None if argument is None else _unquote(argument)
        )
    return directives


def formatCacheControl(directives: Mapping[bytes, bytes | int | None]) -> bytes:
    """
    Build a C{Cache-Control} value such as C{no-cache, max-age=3600}.

    Arguments are sent as tokens when they can be (C{max-age=5}, as RFC 9111
    section 5.2 asks), and always quoted for C{no-cache} and C{private}.

    @param directives: directive name to argument: C{None} for none, an int
        for delta-seconds.
    @raise ValueError: a name is not a token, or an argument holds a control
        character.
    """
    pieces = []
    for name, argument in directives.items():
        if _TOKEN.fullmatch(name) is None:
            raise ValueError(f"invalid Cache-Control directive {name!r}")
        if argument is None:
            pieces.append(name)
            continue
        raw = b"%d" % (argument,) if isinstance(argument, int) else argument
        quoted = _quote(raw, always=name.lower() in _QUOTED_DIRECTIVES)
        pieces.append(name + b"=" + quoted)
    return b", ".join(pieces)
