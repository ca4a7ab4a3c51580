"""
The personal server's side of a relay, against a fake front: the response
goes as one head then pieces, with at most a window of them in flight.
"""

from __future__ import annotations

from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.task import Clock

from twisted_web_re._distrib.limits import PIECE_SIZE, WINDOW
from twisted_web_re._distrib.stream import RelayStream
from twisted_web_re._distrib.wire import RequestState
from twisted_web_re.http_headers import Headers
from twisted_web_re.resource import Resource
from twisted_web_re.server import Site


class FakeFront:
    """Records each call; each answer waits until the test fires it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...], Deferred[None]]] = []

    def callRemote(self, name: str, *args: object) -> Deferred[None]:
        d: Deferred[None] = Deferred()
        self.calls.append((name, args, d))
        return d


class Producer:
    """A push producer that counts pauses and resumes."""

    paused = False

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False

    def stopProducing(self) -> None:
        pass


def makeStream(version: int | None = 1) -> tuple[RelayStream, FakeFront]:
    front = FakeFront()
    address = IPv4Address("TCP", "127.0.0.1", 1)
    state = RequestState(
        b"GET",
        b"/",
        b"HTTP/1.1",
        [],
        [],
        Headers(),
        address,
        address,
        False,
        b"",
        0,
        front,
        version,  # type: ignore[arg-type]
    )
    return RelayStream(state, Site(Resource()), Clock()), front


def test_headThenPiecesWithinWindow() -> None:
    """
    The head goes once, whole, before the body; the body goes in pieces;
    a push producer is paused once a window of pieces is unacknowledged and
    resumed once half of them are.
    """
    stream, front = makeStream()
    producer = Producer()
    stream.writeHead(200, b"OK", {b"x-a": [b"1", b"2"]}, [b"c=1"])
    stream.registerProducer(producer, True)
    stream.writeBody(b"x" * (PIECE_SIZE * WINDOW + 1))
    names = [name for name, _, _ in front.calls]
    assert names == ["head"] + ["body"] * (WINDOW + 1)
    assert front.calls[0][1] == (200, b"OK", [(b"x-a", [b"1", b"2"])], [b"c=1"])
    assert all(len(args[0]) <= PIECE_SIZE for _, args, _ in front.calls[1:])  # type: ignore[arg-type]
    assert producer.paused
    for _, _, d in front.calls[: WINDOW // 2 + 2]:
        d.callback(None)
    assert not producer.paused


def test_wholeBodyGetsLength() -> None:
    """A response ended whole is sent with its Content-Length, then the end."""
    stream, front = makeStream()
    stream.writeHead(200, b"OK", {}, [])
    stream.endResponse(b"hello")
    assert [name for name, _, _ in front.calls] == ["head", "body", "end"]
    assert front.calls[0][1][2] == [(b"content-length", [b"5"])]


def test_twistedWebFront() -> None:
    """
    To a twisted.web front (no relay version), the response goes as
    twisted.web's own calls.
    """
    stream, front = makeStream(None)
    stream.writeHead(404, b"Not Found", {b"x-a": [b"1"]}, [])
    stream.endResponse(b"gone")
    assert [(n, a) for n, a, _ in front.calls] == [
        ("setResponseCode", (404, b"Not Found")),
        ("setHeader", (b"x-a", b"1")),
        ("setHeader", (b"content-length", b"4")),
        ("write", (b"gone",)),
        ("finish", ()),
    ]
