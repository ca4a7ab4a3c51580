"""
Tests for L{twisted_web_re.http_headers.Headers}, the case-insensitive
multimap of header fields shared by requests and responses.
"""

from __future__ import annotations

from typing import Any

import pytest

from twisted_web_re.http_headers import Headers

# Values that could end a header line or the head early if they were sent.
BAD_VALUES = [
    b"a\r\nX-Injected: 1",
    b"a\nb",
    b"a\rb",
    b"a\x00b",
    "a\r\nX-Injected: 1",
    "a\x00",
]

# Names that are not HTTP tokens.
BAD_NAMES = [
    b"",
    b"Bad Name",
    b"Bad:Name",
    b"Bad\r\nName",
    b"Bad\x00",
    b"(paren)",
    "Na\u00efve",
    "tab\tname",
]


def test_caseInsensitive() -> None:
    """
    A header set under one spelling is found under any other.
    """
    headers = Headers()
    headers.setRawHeaders(b"Content-Type", [b"text/html"])
    assert headers.getRawHeaders(b"content-type") == [b"text/html"]
    assert headers.getRawHeaders(b"CONTENT-TYPE") == [b"text/html"]
    assert headers.getRawHeaders("cOnTeNt-TyPe") == ["text/html"]
    assert headers.hasHeader(b"CONTENT-type")
    assert headers.hasHeader("content-TYPE")


def test_strNameGivesStrValues() -> None:
    """
    Asking with a C{str} name gives C{str} values (decoded as UTF-8), asking
    with C{bytes} gives C{bytes}, whichever type they were stored as.
    """
    headers = Headers()
    headers.setRawHeaders("X-Text", ["caf\u00e9"])
    headers.setRawHeaders(b"X-Bytes", [b"caf\xc3\xa9"])
    assert headers.getRawHeaders(b"x-text") == [b"caf\xc3\xa9"]
    assert headers.getRawHeaders("x-text") == ["caf\u00e9"]
    assert headers.getRawHeaders("x-bytes") == ["caf\u00e9"]
    assert headers.getRawHeaders(b"x-bytes") == [b"caf\xc3\xa9"]


def test_undecodableBytesAsStrDoNotRaise() -> None:
    """
    Values that are not UTF-8 can still be read with a C{str} name, and the
    bytes survive a round trip.
    """
    headers = Headers({b"X-Latin": [b"caf\xe9"]})
    [text] = headers.getRawHeaders("x-latin")
    assert isinstance(text, str)
    assert text.encode("utf-8", "surrogateescape") == b"caf\xe9"


def test_setRawHeadersReplaces() -> None:
    """
    C{setRawHeaders} replaces every earlier value of the name.
    """
    headers = Headers()
    headers.setRawHeaders(b"X-A", [b"1", b"2"])
    headers.setRawHeaders(b"x-a", [b"3"])
    assert headers.getRawHeaders(b"X-A") == [b"3"]


def test_setRawHeadersTuple() -> None:
    """
    C{setRawHeaders} accepts a tuple of values.
    """
    headers = Headers()
    headers.setRawHeaders(b"X-A", (b"1", b"2"))
    assert headers.getRawHeaders(b"x-a") == [b"1", b"2"]


def test_addRawHeaderAppends() -> None:
    """
    C{addRawHeader} appends to the values of a name, creating it if absent.
    """
    headers = Headers()
    headers.addRawHeader(b"X-A", b"1")
    headers.addRawHeader("x-a", "2")
    headers.addRawHeader(b"X-a", b"3")
    assert headers.getRawHeaders(b"x-a") == [b"1", b"2", b"3"]


def test_getRawHeadersDefault() -> None:
    """
    C{getRawHeaders} returns C{None} for an absent name, or the default given.
    """
    headers = Headers()
    assert headers.getRawHeaders(b"missing") is None
    assert headers.getRawHeaders("missing") is None
    sentinel = object()
    assert headers.getRawHeaders(b"missing", sentinel) is sentinel
    assert headers.getRawHeaders(b"missing", []) == []


def test_getRawHeadersReturnsNewList() -> None:
    """
    Changing the list C{getRawHeaders} returned does not change the headers.
    """
    headers = Headers({b"X-A": [b"1"]})
    values = headers.getRawHeaders(b"x-a")
    assert values is not None
    values.append(b"2")
    assert headers.getRawHeaders(b"x-a") == [b"1"]


def test_hasHeaderAndRemoveHeader() -> None:
    """
    C{removeHeader} removes every value of a name, in any case; removing an
    absent name does nothing.
    """
    headers = Headers({b"X-A": [b"1", b"2"], b"X-B": [b"3"]})
    assert headers.hasHeader(b"x-a")
    headers.removeHeader("X-A")
    assert not headers.hasHeader(b"x-a")
    assert headers.getRawHeaders(b"x-a") is None
    headers.removeHeader(b"x-missing")
    assert headers.getRawHeaders(b"x-b") == [b"3"]


def test_getAllRawHeadersCanonicalNames() -> None:
    """
    C{getAllRawHeaders} yields each name in its conventional spelling with all
    its values.
    """
    headers = Headers()
    headers.setRawHeaders(b"content-type", [b"text/plain"])
    headers.setRawHeaders(b"X-FORWARDED-FOR", [b"1.2.3.4", b"5.6.7.8"])
    headers.setRawHeaders(b"etag", [b'"x"'])
    headers.setRawHeaders(b"www-authenticate", [b"Basic"])
    assert dict(headers.getAllRawHeaders()) == {
        b"Content-Type": [b"text/plain"],
        b"X-Forwarded-For": [b"1.2.3.4", b"5.6.7.8"],
        b"ETag": [b'"x"'],
        b"WWW-Authenticate": [b"Basic"],
    }


def test_getAllRawHeadersWhileChanging() -> None:
    """
    Headers may be removed while iterating over C{getAllRawHeaders}.
    """
    headers = Headers({b"A": [b"1"], b"B": [b"2"]})
    for name, _ in headers.getAllRawHeaders():
        headers.removeHeader(name)
    assert list(headers.getAllRawHeaders()) == []


def test_initialMapping() -> None:
    """
    A L{Headers} made from a mapping holds its names and values.
    """
    headers = Headers({b"X-A": [b"1"], "X-B": ["2", "3"]})
    assert headers.getRawHeaders(b"x-a") == [b"1"]
    assert headers.getRawHeaders(b"x-b") == [b"2", b"3"]


def test_copyIsIndependent() -> None:
    """
    Changing a copy does not change the original, and the reverse.
    """
    original = Headers({b"X-A": [b"1"]})
    copy = original.copy()
    assert copy == original
    copy.addRawHeader(b"x-a", b"2")
    copy.setRawHeaders(b"x-b", [b"new"])
    original.addRawHeader(b"x-c", b"orig")
    assert original.getRawHeaders(b"x-a") == [b"1"]
    assert not original.hasHeader(b"x-b")
    assert not copy.hasHeader(b"x-c")


def test_equality() -> None:
    """
    Headers are equal when the same names (in any case) hold the same values
    in the same order; they are not equal to other types.
    """
    assert Headers({b"X-A": [b"1", b"2"]}) == Headers({b"x-a": [b"1", b"2"]})
    assert Headers({"x-a": ["1"]}) == Headers({b"X-A": [b"1"]})
    assert Headers({b"X-A": [b"1", b"2"]}) != Headers({b"x-a": [b"2", b"1"]})
    assert Headers({b"X-A": [b"1"]}) != Headers({b"X-B": [b"1"]})
    assert Headers() == Headers()
    assert Headers() != {}
    assert Headers({b"X-A": [b"1"]}) != object()


def test_unhashable() -> None:
    """
    Headers are mutable, so they cannot be hashed.
    """
    with pytest.raises(TypeError):
        hash(Headers())


def test_repr() -> None:
    """
    The repr names the class and shows the names and values.
    """
    text = repr(Headers({b"X-A": [b"1"]}))
    assert text.startswith("Headers(")
    assert "x-a" in text.lower()
    assert "1" in text


@pytest.mark.parametrize("value", BAD_VALUES)
def test_badValuesRejected(value: Any) -> None:
    """
    A value holding CR, LF or NUL raises C{ValueError}, through every way of
    storing a value, and nothing is stored.
    """
    headers = Headers()
    with pytest.raises(ValueError):
        headers.setRawHeaders(b"X-A", [value])
    with pytest.raises(ValueError):
        headers.addRawHeader(b"X-A", value)
    with pytest.raises(ValueError):
        Headers({b"X-A": [value]})
    assert not headers.hasHeader(b"x-a")


def test_badValueInListStoresNothing() -> None:
    """
    When one of several values is invalid, the earlier values of the name are
    kept unchanged.
    """
    headers = Headers({b"X-A": [b"old"]})
    with pytest.raises(ValueError):
        headers.setRawHeaders(b"X-A", [b"fine", b"bad\r\n"])
    assert headers.getRawHeaders(b"x-a") == [b"old"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_badNamesRejected(name: Any) -> None:
    """
    A name that is not an HTTP token raises C{ValueError}.
    """
    headers = Headers()
    with pytest.raises(ValueError):
        headers.setRawHeaders(name, [b"v"])
    with pytest.raises(ValueError):
        headers.addRawHeader(name, b"v")
    assert list(headers.getAllRawHeaders()) == []


@pytest.mark.parametrize("values", [b"single", "single"])
def test_bareStringAsValuesRejected(values: Any) -> None:
    """
    Passing one string where a list of values is expected raises C{TypeError}
    (it would otherwise be split into one value per character).
    """
    headers = Headers()
    with pytest.raises(TypeError):
        headers.setRawHeaders(b"X-A", values)
    with pytest.raises(TypeError):
        Headers({b"X-A": values})


@pytest.mark.parametrize("value", [1, None, 1.5])
def test_nonStringValueRejected(value: Any) -> None:
    """
    A value that is neither C{str} nor C{bytes} raises C{TypeError}.
    """
    with pytest.raises(TypeError):
        Headers().addRawHeader(b"X-A", value)
    with pytest.raises(TypeError):
        Headers().setRawHeaders(b"X-A", [value])


@pytest.mark.parametrize("name", [1, None])
def test_nonStringNameRejected(name: Any) -> None:
    """
    A name that is neither C{str} nor C{bytes} raises C{TypeError}.
    """
    with pytest.raises(TypeError):
        Headers().setRawHeaders(name, [b"v"])


def test_tabAndObsTextAllowed() -> None:
    """
    Horizontal tabs and bytes above 0x7f are valid in a value.
    """
    headers = Headers()
    headers.setRawHeaders(b"X-A", [b"a\tb\xff"])
    assert headers.getRawHeaders(b"x-a") == [b"a\tb\xff"]


def test_loweredViews() -> None:
    """
    L{Headers.lowered} and L{Headers.getLowered} read the fields by their
    lower-cased names, and L{Headers.fromLowered} wraps such a dict as it is.
    """
    headers = Headers({b"Content-Type": [b"text/plain"], b"X-A": [b"1", b"2"]})
    assert dict(headers.lowered()) == {
        b"content-type": [b"text/plain"],
        b"x-a": [b"1", b"2"],
    }
    assert headers.getLowered(b"x-a") == [b"1", b"2"]
    assert headers.getLowered(b"missing") is None
    fields = {b"host": [b"example.com"]}
    wrapped = Headers.fromLowered(fields)
    assert wrapped.getRawHeaders(b"Host") == [b"example.com"]
    wrapped.addRawHeader(b"Host", b"other")
    assert fields[b"host"] == [b"example.com", b"other"]
