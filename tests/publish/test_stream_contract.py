"""
The publishing layer over the stream contract alone: L{server.Site} and
L{server.Request} answer through a L{FakeStream}, with no HTTP/1.1 bytes, so
what they hand any protocol (head, body, end) is checked once for every
protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _stream import FakeStream
from twisted.internet.defer import Deferred
from twisted.internet.error import ConnectionDone
from twisted.internet.interfaces import IPushProducer
from twisted.internet.task import Clock
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re import server, static
from twisted_web_re.iweb import IStream, IStreamRequest
from twisted_web_re.resource import Resource


class Hello(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"content-type", b"text/plain")
        request.addCookie(b"seen", b"yes")
        return b"hello"


class Later(Resource):
    """Answers with a Deferred the test fires."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.pending: Deferred[bytes] = Deferred()

    def render_GET(self, request: Any) -> Deferred[bytes]:
        return self.pending


@implementer(IPushProducer)
class Pieces:
    """A streaming producer writing its pieces when resumed, then finishing."""

    def __init__(self, request: Any, pieces: list[bytes]) -> None:
        self.request = request
        self.pieces = list(pieces)
        self.stopped = False

    def resumeProducing(self) -> None:
        while self.pieces:
            self.request.write(self.pieces.pop(0))
        self.request.unregisterProducer()
        self.request.finish()

    def pauseProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        self.stopped = True


class Streamed(Resource):
    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.producer: Pieces | None = None

    def render_GET(self, request: Any) -> object:
        request.setHeader(b"content-type", b"text/plain")
        self.producer = Pieces(request, [b"one ", b"two"])
        request.registerProducer(self.producer, True)
        return server.NOT_DONE_YET


class Echo(Resource):
    isLeaf = True

    def render_POST(self, request: Any) -> bytes:
        return b"got " + request.content.read()


def site(root: Resource) -> server.Site:
    """A site over C{root}, with its timers on a clock that never runs."""
    return server.Site(root, reactor=Clock())


def serve(root: Resource, method: bytes, target: bytes, **kw: Any) -> FakeStream:
    """Deliver one request to a site over C{root} through a L{FakeStream}."""
    s = site(root)
    stream = FakeStream(site=s)
    stream.deliver(s.requestFactory, method, target, **kw)
    return stream


def test_doubleProvidesTheContract() -> None:
    """The double and the server's request provide the two sides."""
    stream = FakeStream(site=site(Hello()))
    assert IStream.providedBy(stream)
    request = stream.deliver(server.Request, b"GET", b"/")
    assert IStreamRequest.providedBy(request)


def test_plainResourceWholeAtEnd() -> None:
    """
    A resource that returns bytes is handed to the stream as one head and
    the whole body with the end, so the protocol can send its length.
    """
    stream = serve(Hello(), b"GET", b"/")
    assert stream.code == 200
    assert len(stream.heads) == 1
    assert stream.headers[b"content-type"] == [b"text/plain"]
    assert stream.heads[-1][3] == [b"seen=yes"]
    assert stream.body == b"hello"
    assert stream.ended
    assert stream.request is not None and stream.request.sentLength == 5


def test_headGetsNoBody() -> None:
    """A HEAD request is answered with the head, and no body counted."""
    stream = serve(Hello(), b"HEAD", b"/")
    assert stream.code == 200
    assert stream.body == b""
    assert stream.ended


def test_missingChild404() -> None:
    """A URL that names nothing is answered 404 through the stream."""
    root = Resource()
    stream = serve(root, b"GET", b"/nothing")
    assert stream.code == 404
    assert stream.ended


def test_deferredRender() -> None:
    """
    A resource answering with a Deferred commits nothing until it fires;
    then the stream gets the head, the body and the end.
    """
    resource = Later()
    stream = serve(resource, b"GET", b"/")
    assert stream.heads == [] and not stream.ended
    resource.pending.callback(b"at last")
    assert stream.code == 200
    assert stream.body == b"at last"
    assert stream.ended


def test_deferredAbandoned() -> None:
    """
    When the stream is given up before a Deferred answer, the request
    learns it, and nothing more reaches the stream.
    """
    resource = Later()
    stream = serve(resource, b"GET", b"/")
    lost: list[Failure] = []
    assert stream.request is not None
    stream.request.notifyFinish().addErrback(lost.append)  # type: ignore[attr-defined]
    stream.lose(Failure(ConnectionDone()))
    assert len(lost) == 1
    assert not stream.ended


def test_notDoneYetWithProducer() -> None:
    """
    NOT_DONE_YET with a streaming producer: the producer is registered with
    the stream, and what it writes reaches the stream as body, then the end.
    """
    resource = Streamed()
    stream = serve(resource, b"GET", b"/")
    assert stream.producer is not None
    producer, streaming = stream.producer
    assert producer is resource.producer and streaming
    assert stream.heads == [] or not stream.ended
    producer.resumeProducing()
    assert stream.code == 200
    assert stream.body == b"one two"
    assert stream.ended
    assert stream.producer is None


def test_staticFile(tmp_path: Path) -> None:
    """
    A static.File is served through the stream: its type and length in the
    head, its bytes as the body, then the end.
    """
    (tmp_path / "note.txt").write_bytes(b"file contents\n")
    root = static.File(str(tmp_path))
    stream = serve(root, b"GET", b"/note.txt")
    producer = stream.producer
    for _ in range(10):
        if stream.ended or producer is None:
            break
        producer[0].resumeProducing()
        producer = stream.producer
    assert stream.code == 200
    assert stream.headers[b"content-type"][0].startswith(b"text/plain")
    assert stream.headers[b"content-length"] == [b"14"]
    assert stream.body == b"file contents\n"
    assert stream.ended


def test_uploadBody() -> None:
    """
    A body fed through the contract in pieces is the request's content when
    the resource renders.
    """
    stream = serve(
        Echo(),
        b"POST",
        b"/",
        headers={b"content-type": [b"application/octet-stream"]},
        body=b"payload bytes",
    )
    assert stream.code == 200
    assert stream.body == b"got payload bytes"
    assert stream.ended


def test_errorPageReplacesUnsentHead() -> None:
    """
    A resource that writes and then fails inside render: the head it
    committed is replaced by the 500 page's before anything is sent.
    """

    class Broken(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            request.write(b"partial")
            raise RuntimeError("boom")

    stream = serve(Broken(), b"GET", b"/")
    assert stream.code == 500
    assert b"partial" not in stream.body
    assert stream.ended
