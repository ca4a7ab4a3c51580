"""
Reading responses (the client side of the proxy): heads, every framing, and
the shapes that could be read two ways, which are refused.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twisted_web_re._wire.response import BadResponse, ResponseHead, ResponseReader


class Recorder:
    """Records what a reader reports."""

    def __init__(self) -> None:
        self.head: ResponseHead | None = None
        self.body: list[bytes] = []
        self.ended = 0

    def responseHead(self, head: ResponseHead) -> None:
        self.head = head

    def responseBody(self, data: bytes) -> None:
        self.body.append(data)

    def responseEnd(self) -> None:
        self.ended += 1


def read(
    data: bytes, method: bytes = b"GET", step: int = 0
) -> tuple[Recorder, ResponseReader]:
    recorder = Recorder()
    reader = ResponseReader(method, recorder)
    if step:
        for i in range(0, len(data), step):
            reader.feed(data[i : i + step])
    else:
        reader.feed(data)
    return recorder, reader


CASES = [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", b"hello", True),
    (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nhe\r\n3;x=1\r\nllo\r\n0\r\nT: v\r\n\r\n",
        b"hello",
        True,
    ),
    (b"HTTP/1.1 204 No Content\r\n\r\n", b"", True),
    (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", b"", True),
    (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"ok",
        True,
    ),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok", False),
    (
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"ok",
        False,
    ),
]


@pytest.mark.parametrize("data, body, keepAlive", CASES)
@pytest.mark.parametrize("step", [0, 1, 3])
def test_framings(data: bytes, body: bytes, keepAlive: bool, step: int) -> None:
    """A response framed any valid way is read whole, however it is split."""
    recorder, reader = read(data, step=step)
    assert b"".join(recorder.body) == body
    assert recorder.ended == 1 and reader.done
    assert recorder.head is not None and recorder.head.keepAlive is keepAlive


def test_headNoBody() -> None:
    """The response to a HEAD has no body, whatever its Content-Length says."""
    recorder, _reader = read(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", b"HEAD")
    assert recorder.ended == 1 and recorder.body == []


def test_untilClose() -> None:
    """A body without length runs until the close, and cannot be reused."""
    recorder, reader = read(b"HTTP/1.1 200 OK\r\n\r\nabc")
    assert recorder.ended == 0
    reader.connectionClosed()
    assert recorder.ended == 1 and b"".join(recorder.body) == b"abc"
    assert recorder.head is not None and not recorder.head.keepAlive


def test_switching() -> None:
    """After a 101 the bytes that follow are the new protocol's, kept aside."""
    recorder, reader = read(b"HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\n\x81\x00")
    assert recorder.head is not None and recorder.head.code == 101
    assert reader.leftover == b"\x81\x00" and recorder.ended == 0


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
        b"garbage garbage\r\n\r\n",
        b"HTTP/2 200\r\n\r\n",
    ],
)
def test_refused(data: bytes) -> None:
    """Framing that could be read two ways, or a malformed head, is refused."""
    with pytest.raises(BadResponse):
        read(data)


def test_closedEarly() -> None:
    """A close before the head, or within a framed body, is an error."""
    _, reader = read(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")
    with pytest.raises(BadResponse):
        reader.connectionClosed()
    _, reader = read(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(BadResponse):
        reader.connectionClosed()


def test_headTooLarge() -> None:
    """A head larger than 64 KiB is refused before it ends."""
    with pytest.raises(BadResponse):
        read(b"HTTP/1.1 200 OK\r\n" + b"X: " + b"a" * 70000)


@given(st.binary(max_size=200))
def test_garbageRaisesOnlyBadResponse(data: bytes) -> None:
    """Arbitrary bytes raise nothing but BadResponse."""
    try:
        read(data)
    except BadResponse:
        pass
