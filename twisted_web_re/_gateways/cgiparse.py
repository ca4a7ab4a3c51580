"""
Parsing the head of a CGI program's response (RFC 3875 section 6): the
header fields it prints before its body.  Sans-IO: bytes in, a parsed head or
a L{MalformedCGIResponse} out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: The most a CGI response head may take, its empty line included.  The
#: precedent is the request side: servers cap request heads at tens of KiB
#: (Apache's LimitRequestFieldSize is 8 KiB a line; ours is 64 KiB in all).
HEAD_LIMIT = 64 * 1024

# RFC 9110 section 5.1: a field name is a token.
_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# A field value: no control character but HTAB.  A bare CR or a NUL would let
# the script break the response head the server writes.
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 3875 section 6.3.3: "Status:" status-code SP reason-phrase; the reason
# is optional here, as every server accepts "Status: 404".
_STATUS = re.compile(rb"([0-9]{3})(?: ([\t \x21-\x7e\x80-\xff]*))?")
# RFC 3986 section 3.1: an absolute URI starts with its scheme and a colon.
_SCHEME = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*:")

# The fields that are the server's own to write (framing, persistence, the
# hop-by-hop fields of RFC 9110 section 7.6.1, Date and Server): a script's
# values for them are dropped.
_SERVER_FIELDS = frozenset(
    {
        b"connection",
        b"date",
        b"keep-alive",
        b"proxy-connection",
        b"server",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# RFC 3875 section 6.3: each CGI field may appear at most once.
_SINGLE_FIELDS = frozenset({b"status", b"location", b"content-type", b"content-length"})


class MalformedCGIResponse(ValueError):
    """
    A CGI program's output does not start with a usable response head.
    """


@dataclass(frozen=True, slots=True)
class CGIResponseHead:
    """
    The response head a CGI program printed.

    @ivar status: the code of its C{Status} field, or C{None} if it gave none.
    @ivar reason: the reason phrase of its C{Status} field, if it gave one.
    @ivar location: the value of its C{Location} field, or C{None}.
    @ivar fields: every other field to send, in order, names lower-cased:
        its C{Content-Type} among them, but not the fields the server writes
        itself (framing, hop-by-hop fields, C{Date}, C{Server}).
    """

    status: int | None
    reason: bytes | None
    location: bytes | None
    fields: tuple[tuple[bytes, bytes], ...]

    @property
    def localRedirect(self) -> bool:
        """
        Whether the head asks the server to answer with another of its own
        URLs (RFC 3875 section 6.2.2): a C{Location} that is a path and no
        C{Status}.
        """
        location = self.location
        return location is not None and location[:1] == b"/" and self.status is None

    @property
    def clientRedirect(self) -> bool:
        """
        Whether the head sends the client elsewhere (RFC 3875 section 6.2.3):
        a C{Location} that is an absolute URI.
        """
        location = self.location
        return location is not None and _SCHEME.match(location) is not None


class CGIHeadParser:
    """
    Finds and parses the response head at the start of a CGI program's
    output, fed in pieces of any size.

    Lines end with LF, or CR LF (RFC 3875 section 7.2 allows both); the head
    ends at the first empty line.  Each line is checked as soon as it is
    complete, so a bad head is refused without waiting for its end.
    """

    def __init__(self, limit: int = HEAD_LIMIT) -> None:
        """
        @param limit: the most bytes the head may take, its empty line
            included.
        """
        self._limit = limit
        self._buffer = b""
        self._consumed = 0
        self._status: int | None = None
        self._reason: bytes | None = None
        self._location: bytes | None = None
        self._fields: list[tuple[bytes, bytes]] = []
        self._seen: set[bytes] = set()

    def feed(self, data: bytes) -> tuple[CGIResponseHead, bytes] | None:
        """
        Take the next piece of the output.

        @return: C{None} while the head is incomplete; then the head and what
            followed it in C{data}, the start of the body.
        @raise MalformedCGIResponse: the head is malformed, or longer than
            the limit.
        """
        buffer = self._buffer + data if self._buffer else data
        start = 0
        while True:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            if self._consumed + end + 1 - start > self._limit:
                raise MalformedCGIResponse(
                    f"response head longer than {self._limit} bytes"
                )
            line = buffer[start:end]
            self._consumed += end + 1 - start
            start = end + 1
            if line[-1:] == b"\r":
                line = line[:-1]
            if not line:
                return self._head(), buffer[start:]
            self._line(line)
        rest = buffer[start:]
        if self._consumed + len(rest) > self._limit:
            raise MalformedCGIResponse(f"response head longer than {self._limit} bytes")
        self._buffer = rest
        return None

    def close(self) -> None:
        """
        The output ended before the head did.

        @raise MalformedCGIResponse: always, saying whether anything at all
            was written.
        """
        if not self._consumed and not self._buffer:
            raise MalformedCGIResponse("no output at all, so no response head")
        raise MalformedCGIResponse("output ended before the end of the response head")

    def _line(self, line: bytes) -> None:
        """Check and record one header line."""
        name, colon, value = line.partition(b":")
        if not colon:
            raise MalformedCGIResponse(f"header line without a colon: {line[:80]!r}")
        if _NAME.fullmatch(name) is None:
            raise MalformedCGIResponse(f"invalid header name {name[:80]!r}")
        value = value.strip(b" \t")
        if _BAD_VALUE.search(value) is not None:
            raise MalformedCGIResponse(
                f"control character in the value of {name[:80]!r}"
            )
        name = name.lower()
        if name in _SINGLE_FIELDS:
            if name in self._seen:
                raise MalformedCGIResponse(f"more than one {name.decode()} field")
            self._seen.add(name)
        if name == b"status":
            match = _STATUS.fullmatch(value)
            if match is None or not 200 <= int(match.group(1)) <= 599:
                raise MalformedCGIResponse(f"invalid status {value[:80]!r}")
            self._status = int(match.group(1))
            self._reason = match.group(2) or None
        elif name == b"location":
            if not value:
                raise MalformedCGIResponse("empty Location field")
            self._location = value
        elif name == b"content-length" and not value.isdigit():
            raise MalformedCGIResponse(f"invalid Content-Length {value[:80]!r}")
        elif name not in _SERVER_FIELDS:
            self._fields.append((name, value))

    def _head(self) -> CGIResponseHead:
        """The head, now that its empty line has arrived."""
        if not self._seen & {b"status", b"location", b"content-type"}:
            # RFC 3875 section 6.3: at least one CGI field is required.
            raise MalformedCGIResponse("no Content-Type, Status or Location field")
        return CGIResponseHead(
            self._status, self._reason, self._location, tuple(self._fields)
        )
