"""
Reading HTTP/1.1 responses, for the client side of a proxy: the status line,
the header fields, and the body framing that follows from them (RFC 9112
sections 4, 5, 6.3, 7).

A L{ResponseReader} is fed the bytes a server sends and tells its receiver
about the head, each piece of the body and the body's end.  Anything that
could be read two ways (a Transfer-Encoding beside a Content-Length, two
different lengths, a bare LF inside chunked framing) is refused with
L{BadResponse}, so that a server's response cannot be split into two by a
proxy that reads it differently from the client.
"""

from __future__ import annotations

import re
from typing import Protocol

from twisted_web_re._wire.errors import WireError
from twisted_web_re._wire.framing import BodyDecoder, ChunkedDecoder, LengthDecoder
from twisted_web_re._wire.limits import Limits
from twisted_web_re._wire.parser import FIELD_LINE, connectionTokens

# RFC 9112 section 4: HTTP-version SP status-code SP [ reason-phrase ]; the
# space before an empty reason is often left out, and is not required here.
_STATUS_LINE = re.compile(
    rb"HTTP/1\.([0-9]) ([1-9][0-9][0-9])(?: ([\t \x21-\x7e\x80-\xff]*))?\r?\n"
)

_CONTENT_LENGTH = re.compile(rb"[0-9]{1,18}")

_NO_TOKENS: frozenset[bytes] = frozenset()

#: The limits on what a server may send: a larger head than a client's (some
#: applications set many cookies), and no limit on the body, which is
#: streamed, never held.
RESPONSE_LIMITS = Limits(
    maxRequestLine=8192,
    maxHeadSize=64 * 1024,
    maxHeaderCount=256,
    maxBodySize=None,
)

#: The body length of a response whose body runs until the connection closes.
UNTIL_CLOSE = -2


class BadResponse(Exception):
    """
    The server sent something that is not a valid HTTP/1.1 response, or it
    closed the connection before the response was complete.
    """


class ResponseHead:
    """
    A parsed, validated response head.

    @ivar version: C{b"HTTP/1.0"} or C{b"HTTP/1.1"}.
    @ivar code: the status code.
    @ivar reason: the reason phrase (possibly empty).
    @ivar headers: lower-cased field name to the list of its raw values.
    @ivar bodyLength: C{0} (no body), the Content-Length, C{-1} (chunked) or
        L{UNTIL_CLOSE}.
    @ivar keepAlive: whether the server lets the connection be reused.
    """

    __slots__ = ("bodyLength", "code", "headers", "keepAlive", "reason", "version")

    def __init__(
        self,
        version: bytes,
        code: int,
        reason: bytes,
        headers: dict[bytes, list[bytes]],
        bodyLength: int,
        keepAlive: bool,
    ) -> None:
        self.version = version
        self.code = code
        self.reason = reason
        self.headers = headers
        self.bodyLength = bodyLength
        self.keepAlive = keepAlive

    def __repr__(self) -> str:
        return f"<ResponseHead {self.code} {self.reason!r} body={self.bodyLength}>"


class ResponseReceiver(Protocol):
    """What a L{ResponseReader} reports to, in this order."""

    def responseHead(self, head: ResponseHead) -> None:
        """The final head arrived (interim 1xx heads are skipped, but 101)."""

    def responseBody(self, data: bytes) -> None:
        """The next piece of the body, transfer coding removed."""

    def responseEnd(self) -> None:
        """The body is complete."""


def parseResponseHead(
    buf: bytes, fieldsEnd: int, headEnd: int, method: bytes, limits: Limits
) -> ResponseHead:
    """
    Parse the complete head at C{buf[:headEnd]}, sent in answer to a request
    with C{method}.

    @raise BadResponse: it is malformed, too large, or framed ambiguously.
    """
    if headEnd > limits.maxHeadSize:
        raise BadResponse("response head too large")
    line = _STATUS_LINE.match(buf)
    if line is None:
        raise BadResponse("malformed status line")
    minor, code, reason = line.groups()
    version = b"HTTP/1.0" if minor == b"0" else b"HTTP/1.1"
    start = line.end()
    fields = FIELD_LINE.findall(buf, start, fieldsEnd)
    if len(fields) != buf.count(b"\n", start, fieldsEnd):
        raise BadResponse("malformed header field")
    if len(fields) > limits.maxHeaderCount:
        raise BadResponse("too many header fields")
    headers: dict[bytes, list[bytes]] = {}
    for name, value in fields:
        name = name.lower()
        values = headers.get(name)
        if values is None:
            headers[name] = [value]
        else:
            values.append(value)
    status = int(code)
    connection = headers.get(b"connection")
    tokens = connectionTokens(connection) if connection else _NO_TOKENS
    if version == b"HTTP/1.1":
        keepAlive = b"close" not in tokens
    else:
        keepAlive = b"keep-alive" in tokens and b"close" not in tokens
    bodyLength = _bodyLength(status, method, headers)
    if bodyLength == UNTIL_CLOSE:
        keepAlive = False
    return ResponseHead(version, status, reason or b"", headers, bodyLength, keepAlive)


def _bodyLength(code: int, method: bytes, headers: dict[bytes, list[bytes]]) -> int:
    """
    Decide how a response body is framed (RFC 9112 section 6.3).

    @raise BadResponse: the framing is ambiguous or invalid.
    """
    if method == b"HEAD" or code < 200 or code in (204, 304):
        return 0
    codings = headers.get(b"transfer-encoding")
    lengths = headers.get(b"content-length")
    if codings is not None:
        if lengths is not None:
            # Section 6.3 item 3: a sign of smuggling or splitting; refused
            # rather than guessed at.
            raise BadResponse("both Transfer-Encoding and Content-Length")
        names = [n.strip().lower() for v in codings for n in v.split(b",")]
        names = [n for n in names if n]
        if names == [b"chunked"]:
            return -1
        if names and names[-1] == b"chunked":
            raise BadResponse("unsupported transfer coding")
        return UNTIL_CLOSE
    if lengths is None:
        return UNTIL_CLOSE
    if len(lengths) == 1:
        value = lengths[0]
        if value.isdigit() and len(value) <= 18:
            return int(value)
    values = {v.strip() for value in lengths for v in value.split(b",")}
    if len(values) != 1:
        raise BadResponse("conflicting Content-Length values")
    value = values.pop()
    if _CONTENT_LENGTH.fullmatch(value) is None:
        raise BadResponse("invalid Content-Length")
    return int(value)


class ResponseReader:
    """
    Reads one response to one request, byte stream in, events out.

    @ivar head: the final head, once it has arrived.
    @ivar done: whether the whole response has been read.
    @ivar leftover: after a C{101} head, the bytes that followed it (the
        switched protocol's first bytes); bytes after a complete response
        are kept here too (a server sending them is not reused).
    """

    def __init__(
        self,
        method: bytes,
        receiver: ResponseReceiver,
        limits: Limits = RESPONSE_LIMITS,
    ) -> None:
        self._method = method
        self._receiver = receiver
        self._limits = limits
        self._buffer = b""
        self._decoder: BodyDecoder | None = None
        self.head: ResponseHead | None = None
        self.done = False
        self.leftover = b""

    def feed(self, data: bytes) -> None:
        """
        Read the next bytes the server sent.

        @raise BadResponse: the response is invalid.
        """
        if self.done:
            self.leftover += data
            return
        if self.head is None:
            data = self._readHead(self._buffer + data)
            if self.head is None or (not data and not self.done):
                return
            if self.done:
                self.leftover += data
                return
        self._readBody(data)

    def _readHead(self, buf: bytes) -> bytes:
        """Read heads from C{buf}; return what follows the final one."""
        limits = self._limits
        while True:
            crlf = buf.find(b"\n\r\n")
            lf = buf.find(b"\n\n", 0, crlf + 2 if crlf >= 0 else len(buf))
            if lf >= 0:
                fieldsEnd, headEnd = lf + 1, lf + 2
            elif crlf >= 0:
                fieldsEnd, headEnd = crlf + 1, crlf + 3
            else:
                if len(buf) > limits.maxHeadSize:
                    raise BadResponse("response head too large")
                if len(buf) >= 5 and not buf.startswith(b"HTTP/"):
                    raise BadResponse("malformed status line")
                self._buffer = buf
                return b""
            head = parseResponseHead(buf, fieldsEnd, headEnd, self._method, limits)
            buf = buf[headEnd:]
            if 100 <= head.code < 200 and head.code != 101:
                # RFC 9110 section 15.2: interim responses are not the answer.
                continue
            self._buffer = b""
            self.head = head
            self._receiver.responseHead(head)
            if head.code == 101:
                self.done = True
                return buf
            if head.bodyLength == -1:
                self._decoder = ChunkedDecoder(limits)
            elif head.bodyLength >= 0:
                self._decoder = LengthDecoder(head.bodyLength)
            if self._decoder is not None and self._decoder.done:
                self._finish()
            return buf

    def _readBody(self, data: bytes) -> None:
        """Pass on the body bytes in C{data}."""
        decoder = self._decoder
        if decoder is None:
            if data:
                self._receiver.responseBody(data)
            return
        if self._buffer:
            data = self._buffer + data
        out: list[bytes] = []
        try:
            used = decoder.decode(data, 0, out)
        except WireError as error:
            raise BadResponse(f"invalid chunked body: {error}") from None
        for piece in out:
            if piece:
                self._receiver.responseBody(piece)
        if decoder.done:
            self._buffer = b""
            self.leftover = data[used:]
            self._finish()
        else:
            # An incomplete chunk-size line or trailer waits for more bytes.
            self._buffer = data[used:]

    def _finish(self) -> None:
        self.done = True
        self._receiver.responseEnd()

    def connectionClosed(self) -> None:
        """
        The server closed the connection: that ends a body framed by the
        close.

        @raise BadResponse: the response was not complete.
        """
        if self.done:
            return
        if self.head is not None and self._decoder is None:
            self._finish()
            return
        if self.head is None:
            raise BadResponse("connection closed before a complete response head")
        raise BadResponse("connection closed in the middle of the body")
