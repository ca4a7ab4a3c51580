"""
L{server.Request.finishWith}: answering with the rest of the body in one
call sends exactly what C{write(body)} then C{finish()} send, whatever stands
in the one-step path's way; when nothing does, the stream is handed the head
and the whole body with its end.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from _stream import FakeStream
from twisted.internet.testing import StringTransport

from twisted_web_re import server
from twisted_web_re.resource import EncodingResourceWrapper, Resource
from twisted_web_re.server import NOT_DONE_YET, GzipEncoderFactory

_DATE = re.compile(rb"\r\nDate: [^\r]*")

Answer = Callable[[Any, bytes], None]


def viaFinishWith(request: Any, body: bytes) -> None:
    request.finishWith(body)


def viaWriteFinish(request: Any, body: bytes) -> None:
    request.write(body)
    request.finish()


class Answering(Resource):
    """
    Answers with C{body} by C{answer}, inside C{render} or afterwards (once
    C{process} returned, as a Deferred or a gateway does), after setting
    the status, a C{Content-Length} and writing a first part as told.
    """

    isLeaf = True

    def __init__(
        self,
        answer: Answer,
        body: bytes,
        later: bool,
        declared: bytes | None,
        first: bytes | None,
        code: int,
    ) -> None:
        super().__init__()
        self.answer = answer
        self.body = body
        self.later = later
        self.declared = declared
        self.first = first
        self.code = code
        self.pending: list[Any] = []
        self.finished: list[object] = []

    def render(self, request: Any) -> object:
        request.setResponseCode(self.code)
        request.setHeader(b"content-type", b"text/plain")
        request.addCookie(b"k", b"v")
        if self.declared is not None:
            request.setHeader(b"content-length", self.declared)
        request.notifyFinish().addBoth(self.finished.append)
        if self.first is not None:
            request.write(self.first)
        if self.later:
            self.pending.append(request)
        else:
            self.answer(request, self.body)
        return NOT_DONE_YET

    def answerNow(self) -> None:
        """Answer the request held back by a C{later} render."""
        self.answer(self.pending.pop(), self.body)


def exchange(
    answer: Answer,
    head: bytes = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    wrap: bool = False,
    requestFactory: Any = None,
    **kwargs: Any,
) -> tuple[bytes, list[object]]:
    """
    The bytes an L{Answering} resource sends for C{head} (the Date field
    removed), and what its C{notifyFinish} fired with.
    """
    kwargs = {
        "body": b"the body",
        "later": False,
        "declared": None,
        "first": None,
        "code": 200,
        **kwargs,
    }
    resource = Answering(answer, **kwargs)
    root: Any = resource
    if wrap:
        root = EncodingResourceWrapper(resource, [GzipEncoderFactory()])
    site = server.Site(root, logPath=None)
    if requestFactory is not None:
        site.requestFactory = requestFactory
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(head)
    if resource.later:
        resource.answerNow()
    return _DATE.sub(b"", transport.value()), resource.finished


def same(**kwargs: Any) -> bytes:
    """Check both ways give the same bytes and notifications; return them."""
    ours, ourFinish = exchange(viaFinishWith, **kwargs)
    theirs, theirFinish = exchange(viaWriteFinish, **kwargs)
    assert ours == theirs
    assert ourFinish == theirFinish == [None]
    return ours


GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
HEAD = b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n"
OLD = b"GET / HTTP/1.0\r\n\r\n"


@pytest.mark.parametrize(
    "later, head, declared, first",
    list(
        itertools.product(
            (False, True),
            (GET, HEAD, OLD),
            (None, b"8", b"3", b"20"),
            (None, b"pre-"),
        )
    ),
)
def test_sameAsWriteThenFinish(
    later: bool, head: bytes, declared: bytes | None, first: bytes | None
) -> None:
    """
    Inside C{render} or after it, for GET, HEAD and HTTP/1.0, with no
    length, the right one, one too short or too long, and with part of the
    body written first, a response finished with C{finishWith} is the
    response C{write} then C{finish} send, byte for byte.
    """
    same(later=later, head=head, declared=declared, first=first)


@pytest.mark.parametrize("later", (False, True))
@pytest.mark.parametrize("code", (204, 304, 404))
def test_sameForOtherStatuses(later: bool, code: int) -> None:
    """
    A 204, a 304 (which send no body) and a 404 are sent as C{write} then
    C{finish} send them.
    """
    same(later=later, code=code, declared=b"8")


@pytest.mark.parametrize("later", (False, True))
def test_sameWhenEncoded(later: bool) -> None:
    """
    A response a gzip encoder codes is coded as C{write} then C{finish}
    code it: the one step gives way to the encoder.
    """
    head = b"GET / HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip\r\n\r\n"
    sent = same(later=later, head=head, wrap=True, declared=b"8")
    assert b"Content-Encoding: gzip" in sent


def test_sameWhenWriteOverridden() -> None:
    """
    A request class overriding C{write} has its C{write} called: the body
    goes through it, as with C{write} then C{finish}.
    """
    seen: list[bytes] = []

    class Upper(server.Request):
        def write(self, data: bytes) -> None:
            seen.append(data)
            super().write(data.upper())

    sent = same(later=True, declared=b"8", requestFactory=Upper)
    assert sent.endswith(b"THE BODY")
    assert seen == [b"the body", b"the body"]


def test_finishedTwiceRefused() -> None:
    """
    On a request already finished, C{finishWith} raises as C{write} does,
    and sends nothing more.
    """
    stream = FakeStream(site=server.Site(Resource()))
    request: Any = server.Request(stream)
    stream.request = request
    request.finish()
    with pytest.raises(RuntimeError):
        request.finishWith(b"more")
    assert stream.body == b""


class Recording(FakeStream):
    """A stream recording each body write apart from the end."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.writes: list[bytes] = []
        self.last: list[bytes] = []

    def writeBody(self, data: bytes) -> None:
        self.writes.append(data)
        super().writeBody(data)

    def endResponse(self, last: bytes = b"") -> None:
        self.last.append(last)
        super().endResponse(last)


def test_wholeBodyWithTheEnd() -> None:
    """
    Once C{process} has returned, a response whose C{Content-Length} is its
    body's reaches the stream as its head and the whole body with the end,
    in one step; notifyFinish fires.
    """

    class Later(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> object:
            self.request = request
            return NOT_DONE_YET

    resource = Later()
    stream = Recording(site=server.Site(resource))
    stream.deliver(server.Request, b"GET", b"/")
    request = resource.request
    finished: list[object] = []
    request.notifyFinish().addCallback(finished.append)
    request.setHeader(b"content-length", b"5")
    request.finishWith(b"hello")
    assert stream.writes == []
    assert stream.last == [b"hello"]
    assert stream.headers[b"content-length"] == [b"5"]
    assert finished == [None]
    assert request.finished
