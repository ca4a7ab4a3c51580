"""
Tests for streaming uploads: a L{Site} with C{locateBeforeBody} finds the
resource from the head, and an L{IStreamingUpload} resource refuses the body
or takes it piece by piece, with back-pressure.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from zope.interface import implementer

from twisted_web_re import resource, server

HEAD = b"POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: %d\r\n"
CHUNKED_HEAD = (
    b"POST /upload HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@implementer(resource.IStreamingUpload)
class Upload(resource.Resource):
    """Collects the body as it arrives; refuses when told to."""

    isLeaf = True

    def __init__(self, refuse: int | None = None) -> None:
        super().__init__()
        self.refuse = refuse
        self.started: list[int | None] = []
        self.pieces: list[bytes] = []
        self.pauseAfter: int | None = None

    def uploadStarted(self, request: Any, length: int | None) -> int | None:
        self.started.append(length)
        return self.refuse

    def uploadReceived(self, request: Any, data: bytes) -> None:
        self.pieces.append(data)
        if self.pauseAfter is not None and len(self.pieces) >= self.pauseAfter:
            request.pauseUpload()

    def render_POST(self, request: Any) -> bytes:
        return b"got %d bytes" % len(b"".join(self.pieces))


class Plain(resource.Resource):
    """An ordinary resource, which reads request.content."""

    isLeaf = True

    def render_POST(self, request: Any) -> bytes:
        return b"content " + request.content.read()


def connect(
    leaf: Any, locateBeforeBody: bool = True
) -> tuple[Any, StringTransport, Clock]:
    """Serve C{leaf} at /upload on a fake connection."""
    clock = Clock()
    root = resource.Resource()
    root.putChild(b"upload", leaf)
    site = server.Site(root, reactor=clock)
    site.locateBeforeBody = locateBeforeBody
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    return channel, transport, clock


def test_refusedBeforeBody() -> None:
    """
    A streaming resource that refuses the upload gets its status sent at
    once, before any of the body is read, and the connection closes.
    """
    upload = Upload(refuse=413)
    channel, transport, _ = connect(upload)
    channel.dataReceived(HEAD % 1000 + b"Expect: 100-continue\r\n\r\n")
    assert upload.started == [1000]
    assert transport.value().startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in transport.value()
    assert upload.pieces == []


def test_bodyStreamedInPieces() -> None:
    """
    The body reaches the resource piece by piece as it arrives (not spooled to
    request.content), and render runs once it is complete.
    """
    upload = Upload()
    channel, transport, _ = connect(upload)
    channel.dataReceived(HEAD % 10 + b"\r\n")
    channel.dataReceived(b"01234")
    assert upload.pieces == [b"01234"]
    assert transport.value() == b""
    channel.dataReceived(b"56789")
    assert upload.pieces == [b"01234", b"56789"]
    assert b"got 10 bytes" in transport.value()


def test_chunkedBodyStreamed() -> None:
    """
    A chunked upload is announced with length None and streamed the same way.
    """
    upload = Upload()
    channel, transport, _ = connect(upload)
    channel.dataReceived(CHUNKED_HEAD + b"3\r\nabc\r\n")
    assert upload.started == [None]
    assert upload.pieces == [b"abc"]
    channel.dataReceived(b"2\r\nde\r\n0\r\n\r\n")
    assert b"got 5 bytes" in transport.value()


def test_pauseStopsReadingAndTimer() -> None:
    """
    pauseUpload stops reading from the socket, holds back input already
    received, and suspends the body timeout; resumeUpload delivers the rest.
    """
    upload = Upload()
    upload.pauseAfter = 1
    channel, transport, clock = connect(upload)
    channel.dataReceived(HEAD % 6 + b"\r\nabc")
    assert transport.producerState == "paused"
    channel.dataReceived(b"def")
    assert upload.pieces == [b"abc"]
    clock.advance(3600)
    assert transport.value() == b""
    assert not transport.disconnecting
    upload.pauseAfter = None
    request = channel._request
    request.resumeUpload()
    assert transport.producerState == "producing"
    assert upload.pieces == [b"abc", b"def"]
    assert b"got 6 bytes" in transport.value()


def test_ordinaryResourceLocatedEarlyStillSpools() -> None:
    """
    A resource located before the body that does not stream gets the body in
    request.content, as usual.
    """
    channel, transport, _ = connect(Plain())
    channel.dataReceived(HEAD % 5 + b"\r\nhello")
    assert transport.value().endswith(b"content hello")


def test_defaultLocatesAfterBody() -> None:
    """
    Without locateBeforeBody, even a streaming resource is found only after
    the whole body (as twisted.web does) and the body goes to request.content.
    """
    upload = Upload(refuse=403)
    channel, transport, _ = connect(upload, locateBeforeBody=False)
    channel.dataReceived(HEAD % 5 + b"\r\nhello")
    assert upload.started == []
    assert b"got 0 bytes" in transport.value()


def test_locationErrorAnswers500() -> None:
    """
    A resource tree that raises while locating from the head gets a 500, and
    the body is not read.
    """

    class Broken(resource.Resource):
        def getChild(self, path: bytes, request: Any) -> Any:
            raise RuntimeError("boom")

    clock = Clock()
    site = server.Site(Broken(), reactor=clock)
    site.locateBeforeBody = True
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(HEAD % 5 + b"\r\n")
    assert transport.value().startswith(b"HTTP/1.1 500 ")
    assert b"boom" not in transport.value()


def test_abandonedMultipartReleasesFiles() -> None:
    """
    When the client goes away in the middle of a multipart upload, the form
    parser is closed, so its temporary files are released.
    """
    channel, _, _ = connect(Plain(), locateBeforeBody=False)
    body = (
        b"--XX\r\nContent-Disposition: form-data; name=f; filename=a.bin\r\n\r\n"
        + b"x" * 1000
    )
    channel.dataReceived(
        b"POST /upload HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Type: multipart/form-data; boundary=XX\r\n"
        b"Content-Length: 100000\r\n\r\n" + body
    )
    request = channel._request
    parser = request._formParser
    assert parser is not None
    channel.connectionLost(None)
    assert request._formParser is None
    with pytest.raises(RuntimeError):
        parser.feed(b"more")


def test_bodyFieldReplacesQueryArgument() -> None:
    """
    As in twisted.web, a form field replaces a query argument of the same
    name in request.args; other query arguments stay.
    """

    class Args(resource.Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            return repr(sorted(request.args.items())).encode()

    channel, transport, _ = connect(Args(), locateBeforeBody=False)
    channel.dataReceived(
        b"POST /upload?a=query&b=keep HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 6\r\n\r\na=body"
    )
    assert transport.value().endswith(b"[(b'a', [b'body']), (b'b', [b'keep'])]")


def test_streamedMultipartIsNotParsedAsForm() -> None:
    """
    A multipart POST taken by a streaming resource reaches it as raw bytes;
    the server does not also try to parse it into request.args (which would
    find nothing and answer 400).
    """
    upload = Upload()
    channel, transport, _ = connect(upload)
    body = b"--XX\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XX--\r\n"
    channel.dataReceived(
        b"POST /upload HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Type: multipart/form-data; boundary=XX\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    assert b"".join(upload.pieces) == body
    assert transport.value().startswith(b"HTTP/1.1 200 ")


def test_bodyKeepsFlowingWhileResponsesPushBack() -> None:
    """
    A body still arriving while its early response fills the client's
    connection (the transport pauses, then resumes the channel) is read in
    full: only new requests wait for the client to read.
    """

    @implementer(resource.IStreamingUpload)
    class Early(Upload):
        def uploadStarted(self, request: Any, length: int | None) -> int | None:
            request.write(b"early answer")
            return None

        def render_POST(self, request: Any) -> int:
            request.finish()
            return server.NOT_DONE_YET

    upload = Early()
    channel, transport, _ = connect(upload)
    channel.dataReceived(HEAD % 6 + b"\r\nabc")
    channel.pauseProducing()
    channel.dataReceived(b"def")
    channel.resumeProducing()
    assert b"".join(upload.pieces) == b"abcdef"
    assert transport.producerState == "producing"


def test_pausedOnLastPieceStillServesNextRequest() -> None:
    """
    An upload paused on its last piece (nothing left to resume for) does not
    leave the connection paused: the next request is answered.
    """
    upload = Upload()
    upload.pauseAfter = 1
    channel, transport, _ = connect(upload)
    channel.dataReceived(HEAD % 3 + b"\r\nabc")
    upload.pauseAfter = None
    channel.dataReceived(b"GET /upload HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert transport.value().count(b"HTTP/1.1 ") == 2


def test_formNotParsedUnlessAskedFor() -> None:
    """
    A form body the resource never asks about (via request.args or
    request.files) is not parsed, so it is never refused: a resource passing
    bodies through (a CGI script, say) gets even a huge urlencoded body.
    """
    channel, transport, _ = connect(Plain(), locateBeforeBody=False)
    body = b"&".join(b"f%d=v" % i for i in range(5000))
    channel.dataReceived(
        b"POST /upload HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    assert transport.value().startswith(b"HTTP/1.1 200 ")
    assert transport.value().endswith(b"content " + body)


def test_badFormRefusedWhenAskedFor() -> None:
    """
    A resource that reads request.args of a malformed multipart form gets the
    request answered 400 (not a 500), and one over the field limit 413.
    """

    class Args(resource.Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            return repr(request.args).encode()

    channel, transport, _ = connect(Args(), locateBeforeBody=False)
    body = b"--XX\r\nno disposition here\r\n\r\nv\r\n--XX--\r\n"
    channel.dataReceived(
        b"POST /upload HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Type: multipart/form-data; boundary=XX\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    assert transport.value().startswith(b"HTTP/1.1 400 ")
    channel, transport, _ = connect(Args(), locateBeforeBody=False)
    many = b"&".join(b"f%d=v" % i for i in range(5000))
    channel.dataReceived(
        b"POST /upload HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % len(many) + many
    )
    assert transport.value().startswith(b"HTTP/1.1 413 ")


def test_earlyAnswerDropsRestOfBody() -> None:
    """
    A streaming resource that finishes its response before the body has all
    arrived does not let the rest of the body be read as a request (request
    smuggling): the remainder is read and dropped, and the connection then
    serves the next real request.
    """

    @implementer(resource.IStreamingUpload)
    class Quick(Upload):
        def uploadReceived(self, request: Any, data: bytes) -> None:
            super().uploadReceived(request, data)
            if not request.finished:
                request.write(b"early")
                request.finish()

    upload = Quick()
    channel, transport, _ = connect(upload)
    smuggled = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
    channel.dataReceived(HEAD % (1 + len(smuggled)) + b"\r\nx")
    channel.dataReceived(smuggled)
    assert transport.value().count(b"HTTP/1.1 ") == 1
    assert b"smuggled" not in transport.value()
    channel.dataReceived(b"GET /upload HTTP/1.1\r\nHost: example.com\r\n\r\n")
    assert transport.value().count(b"HTTP/1.1 ") == 2


def test_uploadStartedRaisingAnswers500() -> None:
    """
    A streaming resource whose uploadStarted raises gets the request answered
    500; nothing escapes into the protocol.
    """

    @implementer(resource.IStreamingUpload)
    class Broken(Upload):
        def uploadStarted(self, request: Any, length: int | None) -> int | None:
            raise ValueError("boom")

    channel, transport, _ = connect(Broken())
    channel.dataReceived(HEAD % 3 + b"\r\n")
    assert transport.value().startswith(b"HTTP/1.1 500 ")
