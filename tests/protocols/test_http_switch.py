"""
Switching protocols (RFC 9110 section 15.2.2, 7.8): after a C{101}, the
HTTP/1.1 channel hands the connection, and the bytes it already read past
the request, to another protocol, and passes it everything that follows.
"""

from __future__ import annotations

from typing import Any

import pytest
from _httpparse import Server
from twisted.internet.error import ConnectionDone
from twisted.internet.protocol import Protocol
from twisted.python.failure import Failure

from twisted_web_re import http

UPGRADE = (
    b"GET /chat HTTP/1.1\r\nHost: example.com\r\n"
    b"Connection: upgrade\r\nUpgrade: echo\r\n\r\n"
)


class Echo(Protocol):
    """Echoes what it receives; records its life."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.lost: list[Failure] = []
        self.made = False

    def connectionMade(self) -> None:
        self.made = True

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)
        self.transport.write(data)  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.lost.append(reason or Failure(ConnectionDone()))


def switchTo(echo: Echo) -> Any:
    """A handler that answers 101 and switches the channel to C{echo}."""

    def handler(request: http.Request) -> None:
        request.setResponseCode(101)
        request.setHeader(b"connection", b"upgrade")
        request.setHeader(b"upgrade", b"echo")
        request.write(b"")
        request.channel.switchProtocol(echo)
        request.finish()

    return handler


def test_switchToEchoAfter101() -> None:
    """
    After a 101, the client's bytes go to the new protocol: those sent in
    the same packet as the request first, then later ones; the 101 head
    precedes its answers, and no HTTP parsing happens any more.
    """
    server = Server()
    echo = Echo()
    server.handler = switchTo(echo)
    server.feed(UPGRADE + b"early GET / HTTP/1.1\r\n\r\n")
    assert echo.made
    server.feed(b"later")
    assert echo.received == [b"early GET / HTTP/1.1\r\n\r\n", b"later"]
    head, _, rest = server.value().partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Connection: upgrade" in head and b"Upgrade: echo" in head
    assert b"Content-Length" not in head and b"Transfer-Encoding" not in head
    assert rest == b"early GET / HTTP/1.1\r\n\r\nlater"
    assert len(server.processed) == 1
    assert not server.closed


def test_switchedConnectionLoss() -> None:
    """The connection's loss reaches the protocol switched to, once."""
    server = Server()
    echo = Echo()
    server.handler = switchTo(echo)
    server.feed(UPGRADE)
    server.channel.connectionLost(Failure(ConnectionDone()))
    assert len(echo.lost) == 1


def test_switchLaterFromDeferredAnswer() -> None:
    """
    A request answered later (outside the read that brought it) switches
    too, and the bytes the channel buffered meanwhile go to the protocol.
    """
    server = Server()
    server.handler = server.later
    server.feed(UPGRADE)
    server.feed(b"buffered")
    [request] = server.pending
    echo = Echo()
    switchTo(echo)(request)
    assert echo.received == [b"buffered"]


def test_switchRefusedWithout101() -> None:
    """Switching needs a committed 101 head: otherwise it is refused."""
    server = Server()
    server.handler = server.later
    server.feed(UPGRADE)
    [request] = server.pending
    with pytest.raises(RuntimeError):
        request.channel.switchProtocol(Echo())
    request.setResponseCode(200)
    request.write(b"x")
    with pytest.raises(RuntimeError):
        request.channel.switchProtocol(Echo())


def test_switchRefusedWhenIdle() -> None:
    """With no request being answered, there is nothing to switch after."""
    server = Server()
    with pytest.raises(RuntimeError):
        server.channel.switchProtocol(Echo())
