"""
The limit: what the reactor itself can do, measured beside the servers.

L{CannedReply} is the least an HTTP/1.1 server on Twisted's reactor can do per
request: it parses nothing, counts the ends of request heads (C{CRLF CRLF}) in
what it reads, and writes one canned hello-world response for each.  Served on
the same epoll reactor as the real servers, its figures are the ceiling for
them: the time between theirs and its is the servers' own work.

It is only correct for requests without bodies (the benchmarks' GETs) and
never closes a connection itself, so it serves the keep-alive and pipelined
loads only.
"""

from __future__ import annotations

from servers import BODY
from twisted.internet.protocol import Factory, Protocol

RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
    % (len(BODY), BODY)
)
"""The one response, sent for every request."""

END = b"\r\n\r\n"
"""What ends a request head (RFC 9112 section 2.1)."""


def countRequestEnds(carry: bytes, data: bytes) -> tuple[int, bytes]:
    """
    Count the request heads that end in C{data}.

    Ends are counted as they would be in the whole stream read so far, left
    to right and without overlapping, however the stream is cut into reads.

    @param carry: what the previous call returned (C{b""} at first): at most
        C{len(END) - 1} bytes read after the last end.
    @param data: the bytes just read.
    @return: the number of heads ended, and the carry for the next read.
    """
    seen = carry + data
    ended = start = 0
    while (found := seen.find(END, start)) >= 0:
        ended += 1
        start = found + len(END)
    return ended, seen[max(start, len(seen) - len(END) + 1) :]


class CannedReply(Protocol):
    """
    One connection: a canned response for every request head received.
    """

    _carry = b""

    def dataReceived(self, data: bytes) -> None:
        """
        Answer every request whose head ends in C{data}.
        """
        ended, self._carry = countRequestEnds(self._carry, data)
        if ended:
            self.transport.write(RESPONSE * ended)  # type: ignore[union-attr]


def limitFactory() -> Factory:
    """
    @return: a factory of L{CannedReply} connections.
    """
    return Factory.forProtocol(CannedReply)
