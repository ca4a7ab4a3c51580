"""
Framing HTTP/1.1 responses (RFC 9112 sections 6 and 9): the parser's other
half.

A L{ResponseWriter} is told about the request (its version, its method,
whether its client lets the connection persist) and the response head, and
decides how the body is delimited: C{Content-Length}, chunked, or the close
of the connection; it writes the C{Connection} field to match, and turns body
data into bytes.  It does no I/O: its caller sends what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from twisted_web_re._wire.parser import connectionTokens
from twisted_web_re._wire.serialise import (
    CANONICAL_NAMES,
    LAST_CHUNK,
    canonicalName,
    chunk,
    httpDate,
    statusLine,
)
from twisted_web_re._wire.status import NO_BODY_CODES

# Fields the writer writes itself from its own decisions about framing and
# persistence; the application's values for them are read, not copied.
_MANAGED = frozenset({b"content-length", b"transfer-encoding", b"connection"})

# A 304 names the validators and caching fields of the 200 it stands for, but
# not the representation's metadata (RFC 9110 section 15.4.5).
_MANAGED_304 = _MANAGED | {b"content-type", b"content-encoding"}

_STATUS_LINES: dict[tuple[int, bytes], bytes] = {}

# What follows a whole body's length on a connection that closes after it,
# and on an HTTP/1.0 one that stays open.
_LENGTH_CLOSE = b"\r\nConnection: close\r\n\r\n"
_LENGTH_KEEP_ALIVE = b"\r\nConnection: keep-alive\r\n\r\n"

#: The interim response that lets a client send the body it holds back.
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _statusLine(code: int, reason: bytes) -> bytes:
    """Return the status line for C{code} and C{reason}, cached."""
    line = _STATUS_LINES.get((code, reason))
    if line is None:
        line = statusLine(code, reason)
        if len(_STATUS_LINES) < 512:
            _STATUS_LINES[(code, reason)] = line
    return line


def errorResponse(status: int, reason: bytes, body: bytes, server: bytes) -> bytes:
    """
    Return a whole plain-text response that closes the connection: what a
    server sends when it cannot trust the connection any more.

    @param server: the C{Server} field's value.
    """
    return (
        b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Content-Length: %d\r\nConnection: close\r\nDate: %s\r\n"
        b"Server: %s\r\n\r\n%s" % (status, reason, len(body), httpDate(), server, body)
    )


class ResponseWriter:
    """
    Frames one response after another on one connection.

    Call L{reset} for each request, L{commit} with the response head, then
    L{head} once the caller knows whether the whole body is at hand, L{body}
    for each piece of body, and L{end}.

    @ivar keepAlive: whether the connection may carry another request after
        this response; cleared when the framing or the application forbids it.
    @ivar chunked: whether the body is sent with chunked coding.
    @ivar code: the status code of the committed response head.
    @ivar pending: whether a committed head waits for L{head} or L{whole}.
    @ivar sent: body bytes framed so far (none for a response that has no
        body, and none past a declared C{Content-Length}).
    @ivar problem: set when the application broke the framing it asked for
        (an invalid C{Content-Length}, a body longer or shorter than it):
        what went wrong, for the caller to log once and clear.
    """

    __slots__ = (
        "_bodyAllowed",
        "_connection",
        "_declared",
        "_head",
        "_lengthLeft",
        "_method",
        "_serverLine",
        "_version",
        "chunked",
        "code",
        "keepAlive",
        "pending",
        "problem",
        "sent",
    )

    def __init__(self, server: bytes) -> None:
        """
        @param server: the C{Server} field's value, sent unless the
            application sets its own.
        """
        self._serverLine = b"\r\nServer: " + server + b"\r\n"
        self.problem: str | None = None
        self.sent = 0
        self._head: bytes | None = None
        self._bodyAllowed = True
        self._lengthLeft: int | None = None
        self._declared: int | None = None
        self._connection: list[bytes] | None = None
        self.reset(b"HTTP/1.1", b"GET", True)

    def reset(self, version: bytes, method: bytes, keepAlive: bool) -> None:
        """
        Start on the response to a new request.

        @param version: the request's version, C{b"HTTP/1.1"} or C{b"HTTP/1.0"}.
        @param method: the request's method.
        @param keepAlive: whether the client lets the connection persist.
        """
        self._version = version
        self._method = method
        self.keepAlive = keepAlive
        # The rest of the response's state is set by commit().
        self.code = 0
        self.pending = False
        self.chunked = False

    def commit(
        self,
        code: int,
        reason: bytes,
        fields: Mapping[bytes, list[bytes]],
        cookies: Sequence[bytes],
    ) -> None:
        """
        Take the response head now: every field but the framing is written
        out at once, so later changes to C{fields} have no effect.  A head
        committed again before L{head} replaces the first.

        @param fields: the response's fields, by lower-cased name.
        @param cookies: C{Set-Cookie} values to add.
        """
        self.code = code
        self.chunked = False
        self.sent = 0
        self._lengthLeft = None
        self._bodyAllowed = (
            code >= 200 and code not in NO_BODY_CODES and self._method != b"HEAD"
        )
        line = _STATUS_LINES.get((code, reason))
        head = line or _statusLine(code, reason)
        managed = _MANAGED if code != 304 else _MANAGED_304
        connection = declared = None
        for name, values in fields.items():
            if name in managed:
                if name == b"content-length":
                    declared = values
                elif name == b"connection":
                    connection = values
                continue
            canonical = CANONICAL_NAMES.get(name) or canonicalName(name)
            for value in values:
                head += canonical + b": " + value + b"\r\n"
        for cookie in cookies:
            head += b"Set-Cookie: " + cookie + b"\r\n"
        if b"date" not in fields:
            if b"server" not in fields:
                head += b"Date: " + httpDate() + self._serverLine
            else:
                head += b"Date: " + httpDate() + b"\r\n"
        elif b"server" not in fields:
            head += self._serverLine[2:]
        self._head = head
        self.pending = True
        self._connection = connection
        self._declared = None
        if declared is not None:
            if len(declared) == 1 and declared[0].isdigit():
                self._declared = int(declared[0])
            else:
                self.problem = f"invalid response Content-Length {declared!r} ignored"

    def head(self, knownLength: int | None) -> bytes:
        """
        Choose the framing and return the whole head, blank line included.

        @param knownLength: the length of the whole body, when the caller
            has all of it; C{None} when more may follow.
        """
        head = self._head
        assert head is not None, "no response head committed"
        self._head = None
        self.pending = False
        code = self.code
        declared = self._declared
        framing = b""
        if self._bodyAllowed:
            if declared is not None:
                framing = b"Content-Length: %d\r\n" % declared
                self._lengthLeft = declared
            elif knownLength is not None:
                framing = b"Content-Length: %d\r\n" % knownLength
            elif self._version == b"HTTP/1.1":
                framing = b"Transfer-Encoding: chunked\r\n"
                self.chunked = True
            else:
                # RFC 9112 section 6.3: without a length, the close ends it.
                self.keepAlive = False
        elif declared is not None:
            if code >= 200 and code != 204:
                framing = b"Content-Length: %d\r\n" % declared
        elif knownLength and code >= 200 and code not in NO_BODY_CODES:
            # A HEAD answered by writing the body GET would send.
            framing = b"Content-Length: %d\r\n" % knownLength

        keepAlive = self.keepAlive
        connection = self._connection
        if connection is not None:
            tokens = connectionTokens(connection)
            if b"close" in tokens:
                keepAlive = self.keepAlive = False
            value = b", ".join(connection)
            if not keepAlive and b"close" not in tokens:
                value += b", close"
            framing += b"Connection: " + value + b"\r\n"
        elif not keepAlive:
            framing += b"Connection: close\r\n"
        elif self._version == b"HTTP/1.0":
            framing += b"Connection: keep-alive\r\n"
        return head + framing + b"\r\n"

    def tunnelHead(self) -> bytes:
        """
        Return the committed head of a 2xx answer to C{CONNECT}, whole: the
        connection becomes a tunnel, so it goes without framing fields
        (RFC 9110 section 9.3.6) and without C{Connection}.
        """
        head = self._head
        assert head is not None, "no response head committed"
        self._head = None
        self.pending = False
        self._bodyAllowed = False
        return head + b"\r\n"

    def whole(self, body: bytes) -> bytes:
        """
        Return the head, C{body} and the body's end: a whole response, for
        a caller that has all of its body at once.
        """
        length = len(body)
        declared = self._declared
        if (
            self._bodyAllowed
            and (declared is None or declared == length)
            and self._connection is None
        ):
            # The common case, framed by the body's own length with nothing
            # to check and no Connection field from the application: what
            # head(), body() and end() would return, without going through
            # them.
            head = self._head
            assert head is not None, "no response head committed"
            self._head = None
            self.pending = False
            if declared is not None:
                self._lengthLeft = 0
            self.sent += length
            keepAlive = self.keepAlive
            if keepAlive and self._version == b"HTTP/1.1":
                return head + b"Content-Length: %d\r\n\r\n" % length + body
            end = _LENGTH_KEEP_ALIVE if keepAlive else _LENGTH_CLOSE
            return head + b"Content-Length: %d" % length + end + body
        out = self.head(length)
        if body and self._bodyAllowed:
            if self._lengthLeft is None:
                # Framed by the length just written: nothing to check.
                self.sent += length
                out += body
            else:
                out += self.body(body)
        if self._lengthLeft:
            out += self.end()
        return out

    def body(self, data: bytes) -> bytes:
        """
        Return C{data} framed for the wire: nothing when the response has no
        body (a HEAD, a 304), a chunk when chunked, and no more than the
        declared C{Content-Length} allows (the excess is dropped, the
        connection will close, and L{problem} says so).
        """
        if not self._bodyAllowed:
            return b""
        left = self._lengthLeft
        if left is not None:
            if len(data) > left:
                self.problem = (
                    "wrote more than its Content-Length; "
                    "the excess is dropped and the connection closed"
                )
                data = data[:left]
                self.keepAlive = False
            self._lengthLeft = left - len(data)
        self.sent += len(data)
        if self.chunked:
            return chunk(data)
        return data

    def rawAllowance(self, count: int) -> int:
        """
        Return how many of the next C{count} body bytes may go to the wire
        as they are, not through L{body}: none unless the head is out, the
        body is framed by its declared C{Content-Length} (not chunked) and
        allowed; then no more than that length leaves.  Count what was
        sent with L{sentRaw}.
        """
        left = self._lengthLeft
        if self.pending or self.chunked or not self._bodyAllowed or left is None:
            return 0
        return min(count, left)

    def sentRaw(self, count: int) -> None:
        """
        Count C{count} body bytes sent as they are (no more than
        L{rawAllowance} allowed).
        """
        assert self._lengthLeft is not None
        self._lengthLeft -= count
        self.sent += count

    def end(self) -> bytes:
        """
        Return what ends the body: the last chunk, or nothing.  A body short
        of its declared length cannot be ended on a connection that goes on,
        so L{keepAlive} is cleared and L{problem} says so.
        """
        if self._lengthLeft:
            self.problem = (
                f"finished {self._lengthLeft} bytes short of its Content-Length; "
                "closing the connection"
            )
            self.keepAlive = False
        if self.chunked:
            return LAST_CHUNK
        return b""
