"""
Property tests: whatever frames (or bytes) a client sends after its preface,
L{HTTP2Connection.dataReceived} never raises, and the connection ends either
serving or closing with a GOAWAY.
"""

from __future__ import annotations

from _h2client import H2Client, processWith
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

from twisted_web_re import http
from twisted_web_re._protocols.http2engine import PREFACE


def _answer(request: http.Request) -> None:
    request.write(b"ok")
    request.finish()


_streamIds = st.sampled_from([1, 3, 5, 2, 7])
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
            (b":path", draw(st.sampled_from([b"/", b"x"]))),
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


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_frames(), max_size=20), st.integers(1, 50))
def test_anyFramesNeverRaise(frames: list[Frame], cut: int) -> None:
    """
    Valid frames in any order, cut into reads of any size, never raise out
    of C{dataReceived}: the connection serves them or ends with GOAWAY.
    """
    h2 = H2Client(processWith(_answer), connect=False)
    h2.server.makeConnection(h2.transport)
    data = PREFACE + bytes(SettingsFrame(0).serialize())
    data += b"".join(bytes(frame.serialize()) for frame in frames)
    for start in range(0, len(data), cut):
        h2.server.dataReceived(data[start : start + cut])
    h2.clock.advance(1000)
    _settled(h2)


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
