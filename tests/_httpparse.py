"""
Test helpers for the channel tests: a strict parser of the raw bytes a server
wrote, and a L{Server} harness that runs one L{HTTPChannel} connection over a
L{StringTransport} with a L{MemoryReactorClock}.

The parser is deliberately strict (every line must end in CRLF, every framing
must be exact) so that an assertion on its result is also an assertion that
the server's output is well-formed HTTP/1.1.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport

from twisted_web_re import http

#: The address every test connection comes from.
PEER = IPv4Address("TCP", "127.0.0.1", 54321)

#: The address every test connection arrives on.
HOST = IPv4Address("TCP", "127.0.0.2", 8080)

_STATUS_LINE = re.compile(rb"(HTTP/1\.[01]) ([0-9]{3}) ([^\r\n]*)")
_DATE_LINE = re.compile(rb"\r\nDate: [^\r\n]*\r\n")


class Incomplete(ValueError):
    """The bytes end in the middle of a response."""


@dataclass
class Response:
    """
    One response as it appeared on the wire.

    @ivar framing: how the body was delimited: C{"length"}, C{"chunked"},
        C{"close"} (read to the end of the output) or C{"none"} (no body
        allowed: 1xx, 204, 304, or the answer to HEAD).
    """

    version: bytes
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    framing: str
    raw: bytes
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def values(self, name: bytes) -> list[bytes]:
        """Every value of header C{name} (case-insensitive), in order."""
        lower = name.lower()
        return [v for n, v in self.headers if n.lower() == lower]

    def header(self, name: bytes) -> bytes | None:
        """
        The single value of header C{name}, or C{None}.

        @raise AssertionError: the header was sent more than once.
        """
        found = self.values(name)
        assert len(found) <= 1, f"{name!r} sent {len(found)} times: {found!r}"
        return found[0] if found else None

    def connectionTokens(self) -> set[bytes]:
        """The lower-cased tokens of the C{Connection} header."""
        return {
            t.strip().lower() for v in self.values(b"connection") for t in v.split(b",")
        } - {b""}


def _readLine(data: bytes, pos: int) -> tuple[bytes, int]:
    end = data.find(b"\r\n", pos)
    if end < 0:
        if b"\n" in data[pos:]:
            raise ValueError(f"bare LF in response at {pos}: {data[pos:]!r}")
        raise Incomplete(f"no line end after {pos}")
    line = data[pos:end]
    if b"\n" in line or b"\r" in line:
        raise ValueError(f"bare CR or LF in line {line!r}")
    return line, end + 2


def _readChunked(data: bytes, pos: int) -> tuple[bytes, int, list[tuple[bytes, bytes]]]:
    body = []
    while True:
        line, pos = _readLine(data, pos)
        sizeText = line.split(b";", 1)[0].strip()
        if not re.fullmatch(rb"[0-9a-fA-F]+", sizeText):
            raise ValueError(f"bad chunk-size line {line!r}")
        size = int(sizeText, 16)
        if size == 0:
            break
        if len(data) < pos + size + 2:
            raise Incomplete("chunk data")
        body.append(data[pos : pos + size])
        if data[pos + size : pos + size + 2] != b"\r\n":
            raise ValueError("chunk data not followed by CRLF")
        pos += size + 2
    trailers = []
    while True:
        line, pos = _readLine(data, pos)
        if not line:
            break
        name, _, value = line.partition(b":")
        trailers.append((name, value.strip()))
    return b"".join(body), pos, trailers


def parseResponses(
    data: bytes, methods: Sequence[bytes] | None = None
) -> list[Response]:
    """
    Parse every response in C{data}, the whole output of a connection.

    @param methods: the method of each request answered by a final (non-1xx)
        response, in order, so that the answers to HEAD are known to have no
        body; by default every request is a GET.
    @raise ValueError: the output is not a sequence of well-formed responses.
    @raise Incomplete: the output ends in the middle of a response.
    """
    responses: list[Response] = []
    pos = 0
    final = 0
    while pos < len(data):
        start = pos
        line, pos = _readLine(data, pos)
        match = _STATUS_LINE.fullmatch(line)
        if match is None:
            raise ValueError(f"bad status line {line!r}")
        version, statusText, reason = match.groups()
        status = int(statusText)
        headers: list[tuple[bytes, bytes]] = []
        while True:
            line, pos = _readLine(data, pos)
            if not line:
                break
            name, colon, value = line.partition(b":")
            if not colon or not re.fullmatch(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                raise ValueError(f"bad header line {line!r}")
            headers.append((name, value.strip()))
        response = Response(version, status, reason, headers, b"", "none", b"")
        lengths = response.values(b"content-length")
        codings = response.values(b"transfer-encoding")
        if lengths and codings:
            raise ValueError("response has both Content-Length and Transfer-Encoding")
        if len(lengths) > 1:
            raise ValueError(f"several Content-Length headers: {lengths!r}")
        if status >= 200:
            method = methods[final] if methods is not None else b"GET"
            final += 1
        else:
            method = b"GET"
        if status < 200 or status in (204, 304) or method == b"HEAD":
            if codings:
                raise ValueError("bodiless response declares Transfer-Encoding")
        elif codings:
            if [c.strip().lower() for c in codings] != [b"chunked"]:
                raise ValueError(f"unexpected Transfer-Encoding {codings!r}")
            response.body, pos, response.trailers = _readChunked(data, pos)
            response.framing = "chunked"
        elif lengths:
            length = int(lengths[0])
            if len(data) < pos + length:
                raise Incomplete("Content-Length body")
            response.body = data[pos : pos + length]
            pos += length
            response.framing = "length"
        else:
            response.body = data[pos:]
            pos = len(data)
            response.framing = "close"
        response.raw = data[start:pos]
        responses.append(response)
    return responses


def withoutDate(data: bytes) -> bytes:
    """Return C{data} with every C{Date} header value blanked out."""
    return _DATE_LINE.sub(b"\r\nDate: -\r\n", data)


# -- the server harness ---------------------------------------------------------


def echo(request: http.Request) -> None:
    """
    Answer with C{METHOD URI} on the first line and the request body after it,
    written whole inside C{process()}.
    """
    request.setHeader(b"content-type", b"text/plain")
    assert request.content is not None
    request.write(request.method + b" " + request.uri + b"\n" + request.content.read())
    request.finish()


class Server:
    """
    One server connection driven by hand.

    @ivar requests: every request the channel made, in order.
    @ivar processed: every request whose C{process()} was called, in order.
    @ivar pending: requests the L{later} handler left unfinished.
    @ivar contentAtProcess: for each processed request, C{(position, bytes)} of
        its C{content} at the moment C{process()} was called.
    """

    def __init__(
        self,
        handler: Callable[[http.Request], Any] = echo,
        *,
        factoryClass: type[http.HTTPFactory] = http.HTTPFactory,
        transport: StringTransport | None = None,
        **factoryArgs: Any,
    ) -> None:
        self.clock = MemoryReactorClock()
        self.handler = handler
        self.requests: list[http.Request] = []
        self.processed: list[http.Request] = []
        self.pending: list[http.Request] = []
        self.contentAtProcess: list[tuple[int, bytes]] = []
        server = self

        class TestRequest(http.Request):
            def __init__(self, channel: Any, queued: object = None) -> None:
                super().__init__(channel, queued)
                server.requests.append(self)

            def process(self) -> None:
                server.processed.append(self)
                content = self.content
                assert content is not None
                position = content.tell()
                server.contentAtProcess.append((position, content.read()))
                content.seek(position)
                server.handler(self)

        class TestChannel(http.HTTPChannel):
            requestFactory = TestRequest

        self.factory = factoryClass(reactor=self.clock, **factoryArgs)
        self.factory.protocol = TestChannel
        self.channel: http.HTTPChannel = self.factory.buildProtocol(PEER)
        self.transport = transport or StringTransport(
            hostAddress=HOST, peerAddress=PEER
        )
        self.channel.makeConnection(self.transport)

    def later(self, request: http.Request) -> None:
        """A handler that leaves the request for the test to finish."""
        self.pending.append(request)

    def feed(self, data: bytes, *, bytewise: bool = False) -> None:
        """Deliver C{data} from the client, whole or one byte at a time."""
        if bytewise:
            for i in range(len(data)):
                self.channel.dataReceived(data[i : i + 1])
        else:
            self.channel.dataReceived(data)

    def feedPieces(self, pieces: Iterable[bytes]) -> None:
        """Deliver each of C{pieces} in its own C{dataReceived}."""
        for piece in pieces:
            self.channel.dataReceived(piece)

    def value(self) -> bytes:
        """Everything the server has written."""
        return self.transport.value()

    def responses(self, methods: Sequence[bytes] | None = None) -> list[Response]:
        """The responses written so far, parsed."""
        return parseResponses(self.value(), methods)

    @property
    def closed(self) -> bool:
        """Whether the server has started closing the connection."""
        return bool(self.transport.disconnecting)
