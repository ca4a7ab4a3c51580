"""
Property tests: whatever frames (or bytes) a client sends after its preface,
on a connection made directly or by an h2c upgrade, with the flood guard
screening every byte and responses in flight (held for windows, finished
later) when the client resets their streams, L{HTTP2Connection.dataReceived}
never raises, nothing is logged as an unhandled error, and the connection
ends either serving or closing with a GOAWAY.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager

from _h2client import H2Client, processWith
from h2.config import H2Configuration
from h2.connection import H2Connection
from hpack import Encoder
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.logger import LogEvent, globalLogPublisher

from twisted_web_re import http
from twisted_web_re._protocols.http2engine import PREFACE
from twisted_web_re.http_headers import Headers


def _answer(request: http.Request) -> None:
    """
    Answer by path: C{/big} with more than a window holds (the response is
    in flight while frames arrive), C{/later} with part now and the rest a
    second later, anything else with a short body at once.
    """
    if request.path == b"/big":
        request.write(b"x" * 150_000)
        request.finish()
    elif request.path == b"/later":
        request.write(b"part")
        gone: list[object] = []
        request.notifyFinish().addErrback(gone.append)
        request.channel.reactor.callLater(1, _finishLater, request, gone)
    else:
        request.write(b"ok")
        request.finish()


def _finishLater(request: http.Request, gone: list[object]) -> None:
    """Finish, unless given up meanwhile (as applications check)."""
    if not gone:
        request.write(b"rest")
        request.finish()


@contextmanager
def _noUnhandledErrors() -> Iterator[None]:
    """Fail if anything logs an unhandled error (a traceback) meanwhile."""
    events: list[LogEvent] = []
    globalLogPublisher.addObserver(events.append)
    try:
        yield
    finally:
        globalLogPublisher.removeObserver(events.append)
    failures = [e for e in events if "log_failure" in e]
    assert failures == [], failures[0]["log_failure"].getTraceback()


_streamIds = st.sampled_from([1, 3, 5, 2, 7])
_paths = st.sampled_from([b"/", b"x", b"/big", b"/later"])
_flags = st.sets(st.sampled_from(["END_STREAM", "END_HEADERS", "ACK"]))


@st.composite
def _frames(draw: st.DrawFn) -> Frame:
    kind = draw(st.integers(0, 8))
    sid = draw(_streamIds)
    flags = draw(_flags)
    frame: Frame
    if kind == 0:
        fields = [(b":method", draw(st.sampled_from([b"GET", b"POST", b"HEAD"])))]
        fields += [
            (b":scheme", b"http"),
            (b":path", draw(_paths)),
        ]
        if draw(st.booleans()):
            fields.append(
                (b"content-length", draw(st.sampled_from([b"0", b"3", b"x"])))
            )
        frame = HeadersFrame(sid, data=Encoder().encode(fields))
        flags = flags - {"ACK"}
    elif kind == 1:
        frame = DataFrame(sid, data=draw(st.binary(max_size=40)))
        flags = flags & {"END_STREAM"}
    elif kind == 2:
        frame = WindowUpdateFrame(
            draw(st.sampled_from([0, sid])),
            window_increment=draw(st.integers(0, 2**31 - 1)),
        )
        flags = set()
    elif kind == 3:
        frame = RstStreamFrame(sid, error_code=draw(st.integers(0, 20)))
        flags = set()
    elif kind == 4:
        frame = SettingsFrame(0)
        if "ACK" not in flags:
            frame.settings = {draw(st.integers(1, 8)): draw(st.integers(0, 2**24))}
        flags = flags & {"ACK"}
    elif kind == 5:
        frame = PingFrame(0, opaque_data=b"12345678")
        flags = flags & {"ACK"}
    elif kind == 6:
        frame = PriorityFrame(sid, depends_on=draw(_streamIds))
        flags = set()
    elif kind == 7:
        frame = ContinuationFrame(sid, data=draw(st.binary(max_size=20)))
        flags = flags & {"END_HEADERS"}
    else:
        frame = GoAwayFrame(0, last_stream_id=0, error_code=draw(st.integers(0, 2)))
        flags = set()
    for flag in flags:
        frame.flags.add(flag)
    return frame


def _settled(h2: H2Client) -> None:
    """The connection is either still serving, or closing after GOAWAY."""
    assert not h2.server._closing or h2.closed


def _feed(h2: H2Client, frames: list[Frame], cut: int) -> None:
    """
    Send the preface, SETTINGS and C{frames} in reads of C{cut} bytes, then
    let every timer run.
    """
    data = PREFACE + bytes(SettingsFrame(0).serialize())
    data += b"".join(bytes(frame.serialize()) for frame in frames)
    with _noUnhandledErrors():
        for start in range(0, len(data), cut):
            h2.server.dataReceived(data[start : start + cut])
        for _ in range(5):
            h2.clock.advance(60)
    _settled(h2)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_frames(), max_size=20), st.integers(1, 50))
def test_anyFramesNeverRaise(frames: list[Frame], cut: int) -> None:
    """
    Valid frames in any order, cut into reads of any size, never raise out
    of C{dataReceived}: the connection serves them or ends with GOAWAY.
    """
    h2 = H2Client(processWith(_answer), connect=False)
    h2.server.makeConnection(h2.transport)
    _feed(h2, frames, cut)


def _upgradeSettings() -> bytes:
    """An C{HTTP2-Settings} value as an h2 client sends it."""
    client = H2Connection(H2Configuration(client_side=True))
    return client.initiate_upgrade_connection()


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(_frames(), max_size=20),
    st.integers(1, 50),
    _paths,
    st.sampled_from([b"valid", b"", b"!!", base64.urlsafe_b64encode(b"\0" * 7)]),
)
def test_upgradedConnectionAnyFramesNeverRaise(
    frames: list[Frame], cut: int, path: bytes, settingsValue: bytes
) -> None:
    """
    On a connection that came by C{Upgrade: h2c} (its request answered as
    stream 1, with a valid C{HTTP2-Settings} or not), any frames that follow
    never raise: the connection serves them or ends with GOAWAY.
    """
    if settingsValue == b"valid":
        settingsValue = _upgradeSettings()
    headers = Headers({b"host": [b"example.com"], b"upgrade": [b"h2c"]})
    h2 = H2Client(
        processWith(_answer),
        connect=False,
        upgrade=(settingsValue, b"GET", path, headers),
    )
    with _noUnhandledErrors():
        h2.server.makeConnection(h2.transport)
    _feed(h2, frames, cut)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.tuples(_paths, st.booleans()), min_size=1, max_size=8),
    st.lists(st.tuples(st.integers(0, 7), st.integers(0, 20)), max_size=10),
    st.lists(_frames(), max_size=10),
    st.integers(1, 50),
)
def test_resetsMidResponseNeverRaise(
    requests: list[tuple[bytes, bool]],
    resets: list[tuple[int, int]],
    frames: list[Frame],
    cut: int,
) -> None:
    """
    A client that opens streams (some with a body still to come), resets
    some of them while their responses are in flight (held for a window,
    or finished later), and sends any frames after, never makes the
    connection raise or log an unhandled error.
    """
    encoder = Encoder()
    opened: list[Frame] = []
    for index, (path, ended) in enumerate(requests):
        fields = [
            (b":method", b"GET" if ended else b"POST"),
            (b":scheme", b"http"),
            (b":path", path),
            (b":authority", b"example.com"),
        ]
        frame = HeadersFrame(2 * index + 1, data=encoder.encode(fields))
        frame.flags.add("END_HEADERS")
        if ended:
            frame.flags.add("END_STREAM")
        opened.append(frame)
    cancelled: list[Frame] = [
        RstStreamFrame(2 * (index % len(requests)) + 1, error_code=code)
        for index, code in resets
    ]
    h2 = H2Client(processWith(_answer), connect=False)
    h2.server.makeConnection(h2.transport)
    _feed(h2, opened + cancelled + frames, cut)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=300))
def test_randomBytesAfterPrefaceNeverRaise(junk: bytes) -> None:
    """Random bytes after the preface never raise out of C{dataReceived}."""
    h2 = H2Client(processWith(_answer), connect=False)
    h2.server.makeConnection(h2.transport)
    h2.server.dataReceived(PREFACE + junk)
    h2.clock.advance(1000)
    _settled(h2)
    if h2.server._closing:
        assert h2.transport.value()
