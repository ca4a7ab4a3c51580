"""
Tests for the request body deadlines of an L{HTTP2Connection}'s streams:
the HTTP/1.1 channel's C{bodyTimeout} and C{bodyMinRate}, applied to each
stream alone, paused while the request itself paused its body; and for what
keeps a connection from being idle.
"""

from __future__ import annotations

from typing import Any

from _h2client import H2Client, processWith
from h2.errors import ErrorCodes
from hpack import Encoder
from hyperframe.frame import ContinuationFrame, HeadersFrame
from twisted.python.failure import Failure

from twisted_web_re import http
from twisted_web_re._wire.limits import DEFAULT_LIMITS, Limits

PENDING: list[http.Request] = []

#: A 10 s body timeout, then 100 bytes a second at least; no idle timeout
#: unless a test sets one.
LIMITS = DEFAULT_LIMITS.replace(bodyTimeout=10.0, bodyMinRate=100, h2IdleTimeout=None)


def _later(request: http.Request) -> None:
    PENDING.append(request)


def _client(limits: Limits = LIMITS, **kwargs: Any) -> H2Client:
    PENDING.clear()
    return H2Client(processWith(_later), limits=limits, **kwargs)


class _PausingRequest(http.Request):
    """A request that pauses its body as soon as its head arrives."""

    def gotLength(self, length: int | None) -> None:
        super().gotLength(length)
        self.pauseUpload()

    def process(self) -> None:
        PENDING.append(self)


class _StreamingRequest(http.Request):
    """A request that answers its head at once, before its body arrives."""

    def gotLength(self, length: int | None) -> None:
        super().gotLength(length)
        PENDING.append(self)
        self.write(b"started")


def test_headersWithoutBodyAnswered408(logged: list[dict[str, Any]]) -> None:
    """
    A request whose HEADERS came without END_STREAM and whose body never
    follows is answered 408 on its stream after C{bodyTimeout}, with one log
    line; the connection and its other streams go on.
    """
    h2 = _client()
    stuck = h2.request(b"/upload", b"POST", end=False)
    h2.clock.advance(9)
    h2.pump()
    assert h2.response(stuck).status is None
    h2.clock.advance(2)
    h2.pump()
    assert h2.response(stuck).status == 408
    assert h2.response(stuck).ended
    assert not h2.closed
    assert h2.server._streams == {}
    lines = [e for e in logged if "408" in str(e.get("status", ""))]
    assert len(lines) == 1
    other = h2.request(b"/next")
    PENDING[-1].finish()
    h2.pump()
    assert h2.response(other).status == 200


def test_bodyFasterThanMinRateGoesOn() -> None:
    """
    Past C{bodyTimeout}, a body arriving faster than C{bodyMinRate} is
    not cut: each byte received extends the deadline by 1/bodyMinRate s.
    """
    h2 = _client()
    stream = h2.request(b"/upload", b"POST", end=False)
    for _ in range(30):
        h2.sendBody(stream, b"x" * 200, end=False)
        h2.clock.advance(1)
        h2.pump()
    assert h2.response(stream).status is None
    h2.sendBody(stream, b"", end=True)
    assert PENDING and PENDING[-1].content is not None
    PENDING[-1].finish()
    h2.pump()
    assert h2.response(stream).status == 200


def test_bodySlowerThanMinRateAnswered408() -> None:
    """
    A body that keeps coming, but slower than C{bodyMinRate}, is answered
    408 once it falls behind: 10 s plus 1/100 s per byte received.
    """
    h2 = _client()
    stream = h2.request(b"/upload", b"POST", end=False)
    for _ in range(12):
        h2.sendBody(stream, b"x" * 10, end=False)
        h2.clock.advance(1)
        h2.pump()
    # 120 bytes: the deadline was 10 + 1.2 s.
    assert h2.response(stream).status == 408


def test_startedResponseResetWithCancel(logged: list[dict[str, Any]]) -> None:
    """
    When the response has started before the body stopped coming, the
    stream is reset with CANCEL at the deadline (no 408 can follow a
    response), its request told, one log line.
    """
    PENDING.clear()
    h2 = H2Client(_StreamingRequest, limits=LIMITS)
    stream = h2.request(b"/upload", b"POST", end=False)
    failures: list[Failure] = []
    PENDING[0].notifyFinish().addErrback(failures.append)
    assert h2.response(stream).status == 200
    h2.clock.advance(11)
    h2.pump()
    assert h2.response(stream).reset == ErrorCodes.CANCEL
    assert len(failures) == 1
    assert len([e for e in logged if "in time" in str(e.get("reason", ""))]) == 1
    assert not h2.closed


def test_pausedBodyNotTimed() -> None:
    """
    While the request itself has paused its body, the deadline does not
    run (the server, not the client, is slow); it runs again on resume from
    where it stood.
    """
    h2 = _client()
    stream = h2.request(b"/upload", b"POST", end=False)
    request = h2.server._streams[stream].request
    assert request is not None
    h2.clock.advance(3)
    request.pauseUpload()  # type: ignore[attr-defined]
    h2.sendBody(stream, b"x" * 100, end=False)
    h2.clock.advance(1000)
    h2.pump()
    assert h2.response(stream).status is None
    request.resumeUpload()  # type: ignore[attr-defined]
    h2.pump()
    # 3 s were used before the pause, 1 s is added for 100 bytes: 8 s left.
    h2.clock.advance(7.5)
    h2.pump()
    assert h2.response(stream).status is None
    h2.clock.advance(1)
    h2.pump()
    assert h2.response(stream).status == 408


def test_bodyTimeoutNoneDisables() -> None:
    """With C{bodyTimeout=None}, a body may take any time."""
    h2 = _client(limits=LIMITS.replace(bodyTimeout=None))
    stream = h2.request(b"/upload", b"POST", end=False)
    h2.clock.advance(10_000)
    h2.pump()
    assert h2.response(stream).status is None
    assert h2.clock.getDelayedCalls() == []


def test_timerGoneOnceBodyEnded() -> None:
    """
    A body that ended in time leaves no timer behind, whatever time the
    request then takes to be answered.
    """
    h2 = _client()
    stream = h2.request(b"/upload", b"POST", body=b"abc")
    assert h2.clock.getDelayedCalls() == []
    h2.clock.advance(1000)
    PENDING[0].finish()
    h2.pump()
    assert h2.response(stream).status == 200


def test_allStreamsEachStuckOnTheClient() -> None:
    """
    A client holding every stream it may open without ever sending their
    bodies has each answered 408 at its deadline; the connection, then
    idle, is closed after the idle timeout.
    """
    h2 = _client(limits=LIMITS.replace(h2IdleTimeout=30.0))
    streams = [h2.request(b"/%d" % i, b"POST", end=False) for i in range(100)]
    h2.clock.advance(11)
    h2.pump()
    assert all(h2.response(s).status == 408 for s in streams)
    assert not h2.closed
    h2.clock.advance(31)
    h2.pump()
    assert h2.closed


def test_streamsWaitingOnTheServerAreNotIdle() -> None:
    """
    A connection whose streams all wait for the server (requests being
    processed, or with their bodies paused by the request) is not idle:
    it stays open past the idle timeout, and closes only once it has been
    idle that long after the last answer.
    """
    PENDING.clear()
    h2 = H2Client(_PausingRequest, limits=LIMITS.replace(h2IdleTimeout=30.0))
    paused = h2.request(b"/paused", b"POST", end=False)
    h2.server.requestFactory = processWith(_later)
    h2.request(b"/slow")
    h2.clock.advance(100)
    h2.pump()
    assert not h2.closed
    PENDING[-1].finish()
    request = h2.server._streams[paused].request
    assert request is not None
    request.resumeUpload()  # type: ignore[attr-defined]
    h2.sendBody(paused, b"", end=True)
    PENDING[-1].finish()
    h2.pump()
    assert h2.server._streams == {}
    h2.clock.advance(29)
    h2.pump()
    assert not h2.closed
    h2.clock.advance(2)
    h2.pump()
    assert h2.closed


class _AnsweringEarly(http.Request):
    """A request that answers whole as soon as its head arrives."""

    def gotLength(self, length: int | None) -> None:
        super().gotLength(length)
        self.write(b"early")
        self.finish()


def test_drainedBodyHasTheBodyDeadline(logged: list[dict[str, Any]]) -> None:
    """
    A stream answered before its body ended has the rest of its body read
    and dropped within the body's deadline, as on HTTP/1.1: a client that
    stops sending it has the stream reset with C{NO_ERROR} (the answer it
    got stands) at the deadline, freeing its slot, with one log line.
    """
    h2 = H2Client(_AnsweringEarly, limits=LIMITS)
    stream = h2.request(b"/upload", b"POST", end=False)
    assert h2.response(stream).body == b"early"
    assert h2.response(stream).ended
    h2.sendBody(stream, b"x" * 100, end=False)
    # 10 s, and 1 s for the 100 bytes.
    h2.clock.advance(10.5)
    h2.pump()
    assert h2.response(stream).reset is None
    assert h2.server.engine.open_inbound_streams == 1
    h2.clock.advance(1)
    h2.pump()
    assert h2.response(stream).reset == ErrorCodes.NO_ERROR
    assert h2.server.engine.open_inbound_streams == 0
    assert len([e for e in logged if "drain" in str(e.get("log_format", ""))]) == 1
    assert not h2.closed
    assert h2.clock.getDelayedCalls() == []


def test_drainedBodyEndingInTimeLeavesNoTimer() -> None:
    """
    The rest of a body dropped after its answer, ending in time, ends its
    stream normally and leaves no timer behind.
    """
    h2 = H2Client(_AnsweringEarly, limits=LIMITS)
    stream = h2.request(b"/upload", b"POST", end=False)
    h2.sendBody(stream, b"x" * 100, end=True)
    assert h2.server.engine.open_inbound_streams == 0
    assert h2.clock.getDelayedCalls() == []
    h2.clock.advance(100)
    h2.pump()
    assert h2.response(stream).reset is None


def _openHeaderBlock(h2: H2Client, streamId: int) -> bytes:
    """
    Send a HEADERS frame without END_HEADERS on C{streamId}; return the rest
    of its header block, for a CONTINUATION.
    """
    block = Encoder().encode(
        [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":path", b"/"),
            (b":authority", b"example.com"),
        ]
    )
    frame = HeadersFrame(streamId, block[:4], flags=["END_STREAM"])
    h2.server.dataReceived(frame.serialize())
    return block[4:]


def test_headerBlockLeftOpenClosedAtHeadTimeout(
    logged: list[dict[str, Any]],
) -> None:
    """
    A client that opens a header block (HEADERS without END_HEADERS) and
    then sends nothing more is given C{headTimeout}, as an HTTP/1.1 request
    head is: then GOAWAY C{ENHANCE_YOUR_CALM}, one log line, and a close.
    (No other frame may come inside a header block, so the connection
    cannot go on.)  A request already in flight keeps the connection from
    being idle, so the idle timeout would not end it.
    """
    h2 = _client(limits=LIMITS.replace(headTimeout=5.0))
    h2.request(b"/pending")
    _openHeaderBlock(h2, 3)
    h2.clock.advance(4.9)
    h2.pump()
    assert not h2.closed
    h2.clock.advance(0.2)
    h2.pump()
    assert h2.closed
    goaway = h2.goaway()
    assert goaway is not None and goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
    assert len([e for e in logged if "header block" in str(e.get("problem", ""))]) == 1


def test_headerBlockEndedInTimeGoesOn() -> None:
    """
    A header block ended by its CONTINUATION within C{headTimeout} is a
    request like any other; the deadline is gone with the block.
    """
    h2 = _client(limits=LIMITS.replace(headTimeout=5.0))
    rest = _openHeaderBlock(h2, 1)
    h2.clock.advance(4)
    h2.server.dataReceived(
        ContinuationFrame(1, rest, flags=["END_HEADERS"]).serialize()
    )
    assert [request.uri for request in PENDING] == [b"/"]
    assert h2.clock.getDelayedCalls() == []
    h2.clock.advance(100)
    assert not h2.closed


class _PausingThenAnswering(http.Request):
    """A request that pauses its body, and is answered by the test."""

    def gotLength(self, length: int | None) -> None:
        super().gotLength(length)
        self.pauseUpload()
        PENDING.append(self)


def test_bodyAllHeldWhenAnsweredIsNotDrained(logged: list[dict[str, Any]]) -> None:
    """
    A body that had all arrived (held while the request paused it) when the
    response ended is not drained: nothing is waited for, nothing reset.
    """
    PENDING.clear()
    h2 = H2Client(_PausingThenAnswering, limits=LIMITS)
    stream = h2.request(b"/upload", b"POST", body=b"x" * 100)
    PENDING[0].write(b"done")
    PENDING[0].finish()
    h2.pump()
    assert h2.response(stream).ended
    assert h2.clock.getDelayedCalls() == []
    assert h2.server._draining == {}
    h2.clock.advance(100)
    h2.pump()
    assert h2.response(stream).reset is None
    assert not [e for e in logged if "drain" in str(e.get("log_format", ""))]
