"""
L{Headers}: the case-insensitive multimap of raw HTTP header fields.

Values are stored as raw bytes, in order.  Names and values may be given as
C{bytes} or C{str}; a C{str} name gets C{str} values back, decoded as UTF-8,
and a C{str} value is stored encoded as UTF-8.  Every value stored through the
public API is checked so that it cannot inject a header or end the head early.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import AnyStr, TypeVar, overload

from twisted_web_re._wire.serialise import BAD_VALUE, canonicalName, checkFieldName

_T = TypeVar("_T")

_BAD_VALUE = BAD_VALUE.search

_nameCache: dict[str | bytes, bytes] = {}
_NAME_CACHE_SIZE = 2048


def _lowerName(name: str | bytes) -> bytes:
    """
    Return the lower-cased bytes form of a header name, checking it is a token.

    @raise ValueError: C{name} is not a valid field name.
    @raise TypeError: C{name} is neither C{bytes} nor C{str}.
    """
    lower = _nameCache.get(name)
    if lower is not None:
        return lower
    if isinstance(name, str):
        raw = name.encode("iso-8859-1")
    elif isinstance(name, bytes):
        raw = name
    else:
        raise TypeError(f"header name must be bytes or str, not {name!r}")
    checkFieldName(raw)
    lower = raw.lower()
    if len(_nameCache) < _NAME_CACHE_SIZE:
        _nameCache[name] = lower
    return lower


def _encodeValue(value: str | bytes) -> bytes:
    """
    Return C{value} as checked bytes.

    @raise ValueError: it holds CR, LF or NUL.
    @raise TypeError: it is neither C{bytes} nor C{str}.
    """
    if type(value) is not bytes:
        if isinstance(value, str):
            value = value.encode("utf-8")
        elif isinstance(value, bytes):
            value = bytes(value)
        else:
            raise TypeError(f"header value must be bytes or str, not {value!r}")
    if _BAD_VALUE(value) is not None:
        raise ValueError(f"header value {value!r} contains CR, LF or NUL")
    return value


class Headers:
    """
    A case-insensitive mapping of header names to lists of raw values.

    Equal when the same names hold the same values in the same order.
    """

    __slots__ = ("_raw",)

    def __init__(
        self,
        rawHeaders: Mapping[AnyStr, Sequence[AnyStr]] | None = None,
    ) -> None:
        self._raw: dict[bytes, list[bytes]] = {}
        if rawHeaders is not None:
            for name, values in rawHeaders.items():
                self.setRawHeaders(name, values)

    @classmethod
    def fromLowered(cls, fields: dict[bytes, list[bytes]]) -> Headers:
        """
        Wrap a dict of lower-cased names to values already validated (by the
        wire layer's parser), without copying or checking it again: the
        headers then own the dict.
        """
        headers = cls.__new__(cls)
        headers._raw = fields
        return headers

    def lowered(self) -> Mapping[bytes, list[bytes]]:
        """
        Return the fields as a mapping of lower-cased names to their values
        in order, for code that reads many fields per request.  It is the
        headers' own storage, not a copy: read it, and change the headers
        through their methods only.
        """
        return self._raw

    def setLowered(self, name: bytes, values: list[bytes]) -> None:
        """
        Set the field C{name}, given in lower-case bytes, to C{values}, as
        L{setRawHeaders} does but without its checks: for values the caller
        made itself and knows to be safe in a head (digits, a date, an entity
        tag it built).  The headers own C{values} from then on.
        """
        self._raw[name] = values

    def getLowered(self, name: bytes) -> list[bytes] | None:
        """
        Return the values of the field C{name}, given already in lower-case
        bytes, or C{None}: L{getRawHeaders} without converting the name or
        copying the list (which must not be changed).
        """
        return self._raw.get(name)

    def __repr__(self) -> str:
        return f"Headers({self._raw!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._raw == other._raw
        return NotImplemented

    def __hash__(self) -> int:
        raise TypeError("Headers are mutable and cannot be hashed")

    def copy(self) -> Headers:
        """
        Return an independent copy: changing one does not change the other.
        """
        return Headers.fromLowered({k: list(v) for k, v in self._raw.items()})

    def hasHeader(self, name: str | bytes) -> bool:
        """
        Return whether any value is stored for C{name}.
        """
        return _lowerName(name) in self._raw

    def removeHeader(self, name: str | bytes) -> None:
        """
        Remove every value of C{name}; removing an absent name does nothing.
        """
        self._raw.pop(_lowerName(name), None)

    def setRawHeaders(
        self, name: str | bytes, values: Sequence[str] | Sequence[bytes]
    ) -> None:
        """
        Replace every value of C{name} with C{values}.

        @param values: a list or tuple of values (not a single string).
        @raise TypeError: C{values} is a single string or holds non-strings.
        @raise ValueError: a name or value could break the message head.
        """
        kind = type(values)
        if (kind is not list and kind is not tuple) and (
            isinstance(values, (str, bytes)) or not isinstance(values, Iterable)
        ):
            raise TypeError(
                f"header values for {name!r} must be a list, not {values!r}"
            )
        self._raw[_lowerName(name)] = [_encodeValue(v) for v in values]

    def _setOne(self, name: str | bytes, value: str | bytes) -> None:
        """Set C{name} to the single C{value}: L{setRawHeaders}' fast path."""
        lower = _nameCache.get(name)
        if lower is None:
            lower = _lowerName(name)
        # CR, LF and NUL looked for byte by byte (memchr), quicker than the
        # regular expression for the short values set one at a time;
        # _encodeValue refuses them.
        if type(value) is not bytes or 13 in value or 10 in value or 0 in value:
            value = _encodeValue(value)
        self._raw[lower] = [value]

    def addRawHeader(self, name: str | bytes, value: str | bytes) -> None:
        """
        Append C{value} to the values of C{name}.

        @raise ValueError: the name or value could break the message head.
        """
        lower = _lowerName(name)
        raw = _encodeValue(value)
        values = self._raw.get(lower)
        if values is None:
            self._raw[lower] = [raw]
        else:
            values.append(raw)

    def addLowered(self, fields: Iterable[tuple[bytes, bytes]]) -> None:
        """
        Append each C{(name, value)} of C{fields}, as L{addRawHeader} does,
        for fields already checked and their names lower-cased by the
        caller's parser (a gateway's): they are not checked again.
        """
        raw = self._raw
        for name, value in fields:
            values = raw.get(name)
            if values is None:
                raw[name] = [value]
            else:
                values.append(value)

    @overload
    def getRawHeaders(self, name: bytes) -> list[bytes] | None: ...

    @overload
    def getRawHeaders(self, name: str) -> list[str] | None: ...

    @overload
    def getRawHeaders(self, name: bytes, default: _T) -> list[bytes] | _T: ...

    @overload
    def getRawHeaders(self, name: str, default: _T) -> list[str] | _T: ...

    def getRawHeaders(
        self, name: str | bytes, default: object = None
    ) -> list[bytes] | list[str] | object:
        """
        Return a new list of the values of C{name}, or C{default} if it has none.

        The values are C{bytes} when C{name} is C{bytes}, and C{str} (decoded as
        UTF-8, undecodable bytes escaped) when C{name} is C{str}.
        """
        values = self._raw.get(_lowerName(name))
        if values is None:
            return default
        if isinstance(name, str):
            return [v.decode("utf-8", "surrogateescape") for v in values]
        return list(values)

    def getAllRawHeaders(self) -> Iterator[tuple[bytes, list[bytes]]]:
        """
        Iterate over C{(name, values)} for every stored name, the name in its
        conventional spelling (C{Content-Type}).
        """
        for name, values in list(self._raw.items()):
            yield canonicalName(name), values
