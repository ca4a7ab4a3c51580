"""
Tests for the limits an L{HTTP2Connection} applies to its client, and for
how a connection and its streams end: resets, GOAWAY either way, graceful
shutdown, idle and slow-read timeouts.
"""

from __future__ import annotations

from typing import Any

from _h2client import H2Client, processWith
from h2.errors import ErrorCodes
from h2.events import RemoteSettingsChanged
from h2.settings import SettingCodes
from hpack import Encoder
from hyperframe.frame import GoAwayFrame, HeadersFrame, WindowUpdateFrame
from twisted.python.failure import Failure

from twisted_web_re import http
from twisted_web_re._protocols.http2engine import H2_INTERNALS
from twisted_web_re._wire.limits import DEFAULT_LIMITS
from twisted_web_re.http_headers import Headers

PENDING: list[http.Request] = []


def _later(request: http.Request) -> None:
    PENDING.append(request)


def _client(**kwargs: Any) -> H2Client:
    PENDING.clear()
    return H2Client(processWith(_later), **kwargs)


def test_h2StillHasWhatTheEngineExtends() -> None:
    """
    The h2 methods extended to make malformed requests stream errors exist:
    if h2 changes, this fails rather than falling back silently.
    """
    assert all(H2_INTERNALS.values()), H2_INTERNALS


def test_settingsAdvertised() -> None:
    """Our SETTINGS name every limit, and no server push."""
    h2 = _client()
    changed = next(e for e in h2.events if isinstance(e, RemoteSettingsChanged))
    values = {k: v.new_value for k, v in changed.changed_settings.items()}
    assert values[SettingCodes.MAX_CONCURRENT_STREAMS] == 100
    assert (
        values[SettingCodes.MAX_HEADER_LIST_SIZE] == DEFAULT_LIMITS.h2MaxHeaderListSize
    )
    assert values[SettingCodes.HEADER_TABLE_SIZE] == 4096
    assert values[SettingCodes.MAX_FRAME_SIZE] == 16384
    assert values[SettingCodes.ENABLE_PUSH] == 0


def test_concurrentStreamsBeyondLimitRefused(logged: list[dict[str, Any]]) -> None:
    """
    A stream beyond the concurrent-stream limit is reset with REFUSED_STREAM;
    the connection and the streams within the limit go on.
    """
    h2 = _client(limits=DEFAULT_LIMITS.replace(h2MaxConcurrentStreams=2))
    # The client does not know the limit yet if it ignores SETTINGS.
    h2.client.remote_settings.max_concurrent_streams = 10
    h2.client.remote_settings.acknowledge()
    streams = [h2.request(b"/%d" % i) for i in range(3)]
    assert h2.response(streams[2]).reset == ErrorCodes.REFUSED_STREAM
    assert not h2.closed
    assert len(PENDING) == 2
    PENDING[0].finish()
    h2.pump()
    fourth = h2.request(b"/4")
    assert h2.response(fourth).reset is None
    assert len(PENDING) == 3
    assert any("too many concurrent" in str(e.get("problem")) for e in logged)


def _rawHeaders(streamId: int, fields: list[tuple[bytes, bytes]]) -> bytes:
    frame = HeadersFrame(streamId)
    frame.data = Encoder().encode(fields)
    frame.flags.add("END_HEADERS")
    frame.flags.add("END_STREAM")
    return bytes(frame.serialize())


def test_headerListTooLargeEndsTheConnection() -> None:
    """
    A header list beyond the advertised size ends the connection with
    GOAWAY ENHANCE_YOUR_CALM (its HPACK block cannot be skipped), from the
    first request on.
    """
    limits = DEFAULT_LIMITS.replace(h2MaxHeaderListSize=1000, h2MaxFrameSize=65536)
    h2 = _client(limits=limits)
    h2.client.max_outbound_frame_size = 65536
    h2.client.config.validate_outbound_headers = False
    h2.request(headers=[(b"x-big", b"v" * 2000)])
    goaway = h2.goaway()
    assert goaway is not None
    assert goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
    assert h2.closed
    assert PENDING == []


def test_frameTooLargeEndsTheConnection() -> None:
    """
    A frame header announcing more than our SETTINGS_MAX_FRAME_SIZE ends the
    connection with FRAME_SIZE_ERROR at once, before its payload arrives.
    """
    h2 = _client()
    h2.send(b"\x00\x80\x00\x00\x00\x00\x00\x00\x01" + b"\x00" * 100)
    goaway = h2.goaway()
    assert goaway is not None and goaway.error_code == ErrorCodes.FRAME_SIZE_ERROR
    assert h2.closed


def test_tableSizeBeyondSettingEndsTheConnection() -> None:
    """
    An HPACK dynamic table size update beyond our SETTINGS_HEADER_TABLE_SIZE
    is a COMPRESSION_ERROR.
    """
    h2 = _client()
    encoder = Encoder()
    encoder.header_table_size = 8192
    frame = HeadersFrame(1)
    frame.data = encoder.encode([(b":method", b"GET"), (b":path", b"/")])
    frame.flags.add("END_HEADERS")
    frame.flags.add("END_STREAM")
    h2.send(bytes(frame.serialize()))
    goaway = h2.goaway()
    assert goaway is not None
    assert goaway.error_code in (
        ErrorCodes.COMPRESSION_ERROR,
        ErrorCodes.PROTOCOL_ERROR,
    )
    assert h2.closed


def test_clientResetAbandonsTheRequest() -> None:
    """
    A stream the client resets fails its request's C{notifyFinish}, and
    nothing more is sent for it.
    """
    h2 = _client()
    stream = h2.request()
    request = PENDING[0]
    failures: list[Failure] = []
    request.notifyFinish().addErrback(failures.append)
    request.write(b"partial")
    h2.pump()
    h2.client.reset_stream(stream, ErrorCodes.CANCEL)
    h2.pump()
    assert len(failures) == 1
    before = len(h2.transport.value())
    request.write(b"more")
    assert len(h2.transport.value()) == before
    assert h2.logged == [request]


def test_connectionLostAbandonsEveryStream() -> None:
    """Losing the connection fails every open stream's request."""
    h2 = _client()
    h2.request(b"/1")
    h2.request(b"/2")
    failures: list[Failure] = []
    for request in PENDING:
        request.notifyFinish().addErrback(failures.append)
    closed = h2.server.notifyClosed()
    fired: list[object] = []
    closed.addCallback(fired.append)
    h2.server.connectionLost(Failure(ConnectionError("gone")))
    assert len(failures) == 2
    assert fired == [None]


def test_clientGoAwayLetsStreamsFinish() -> None:
    """
    After the client's GOAWAY NO_ERROR, streams in flight are answered, new
    ones refused, and the connection closes once none is left.
    """
    h2 = _client()
    stream = h2.request()
    h2.send(bytes(GoAwayFrame(0, last_stream_id=0, error_code=0).serialize()))
    assert not h2.closed
    PENDING[0].write(b"done")
    PENDING[0].finish()
    h2.pump()
    assert h2.response(stream).body == b"done"
    assert h2.closed


def test_shutDownSendsGoAwayThenCloses() -> None:
    """
    C{shutDown} sends GOAWAY NO_ERROR at once, lets a stream in flight
    finish, refuses new ones, and closes once it has.
    """
    h2 = _client()
    stream = h2.request()
    done = h2.server.shutDown(30)
    h2.pump()
    goaway = h2.goaway()
    assert goaway is not None and goaway.error_code == ErrorCodes.NO_ERROR
    assert goaway.last_stream_id == stream
    late = h2.request(b"/late")
    assert h2.response(late).reset == ErrorCodes.REFUSED_STREAM
    PENDING[0].write(b"ok")
    PENDING[0].finish()
    h2.pump()
    assert h2.response(stream).body == b"ok"
    assert h2.closed
    fired: list[object] = []
    done.addCallback(fired.append)
    h2.server.connectionLost(None)
    assert fired == [None]


def test_shutDownBeforeConnected() -> None:
    """
    A connection told to shut down before it is connected (it became HTTP/2
    while the server was stopping) sends its SETTINGS, then GOAWAY NO_ERROR
    at once, takes no request, and closes.
    """
    h2 = _client(connect=False)
    done = h2.server.shutDown(5)
    fired: list[object] = []
    done.addCallback(fired.append)
    h2.connect()
    goaway = h2.goaway()
    assert goaway is not None and goaway.error_code == ErrorCodes.NO_ERROR
    assert goaway.last_stream_id == 0
    assert h2.closed
    assert PENDING == []
    h2.server.connectionLost(None)
    assert fired == [None]


def test_shutDownBeforeUpgradeAnswersItsRequest() -> None:
    """
    An h2c Upgrade completed while the server stops still has its request
    answered, as stream 1, before the connection closes.
    """
    h2 = _client(connect=False, upgrade=(b"AAIAAAAA", b"GET", b"/up", Headers()))
    h2.server.shutDown(5)
    h2.client.initiate_upgrade_connection()
    h2.server.makeConnection(h2.transport)
    h2.pump()
    goaway = h2.goaway()
    assert goaway is not None and goaway.last_stream_id == 1
    assert not h2.closed
    PENDING[0].write(b"answered")
    PENDING[0].finish()
    h2.pump()
    assert h2.response(1).body == b"answered"
    assert h2.closed


def test_shutDownDeadline() -> None:
    """At the deadline, streams still open are given up and it closes."""
    h2 = _client()
    h2.request()
    failures: list[Failure] = []
    PENDING[0].notifyFinish().addErrback(failures.append)
    h2.server.shutDown(5)
    h2.clock.advance(4)
    assert not h2.closed
    h2.clock.advance(2)
    assert h2.closed
    assert len(failures) == 1


def test_idleTimeout() -> None:
    """An idle connection gets GOAWAY NO_ERROR and is closed."""
    h2 = _client(limits=DEFAULT_LIMITS.replace(h2IdleTimeout=10.0))
    h2.request()
    PENDING[0].finish()
    h2.pump()
    h2.clock.advance(9)
    assert not h2.closed
    h2.clock.advance(2)
    h2.pump()
    assert h2.closed
    goaway = h2.goaway()
    assert goaway is not None and goaway.error_code == ErrorCodes.NO_ERROR


def test_slowReadStreamReset(logged: list[dict[str, Any]]) -> None:
    """
    A stream whose data waits for a window that never opens is reset after
    the send timeout, with one log line; the connection goes on.
    """
    h2 = _client(limits=DEFAULT_LIMITS.replace(h2SendTimeout=30.0))
    h2.autoAcknowledge = False
    # The connection's window is wide open: only the stream's is stuck.
    h2.client.increment_flow_control_window(1_000_000)
    stream = h2.request()
    failures: list[Failure] = []
    PENDING[0].notifyFinish().addErrback(failures.append)
    PENDING[0].write(b"x" * 100_000)
    h2.pump()
    h2.clock.advance(31)
    h2.pump()
    assert h2.response(stream).reset == ErrorCodes.CANCEL
    assert not h2.closed
    assert len(failures) == 1
    assert len([e for e in logged if "window stayed" in e.get("log_format", "")]) == 1


def test_slowReadConnectionClosed() -> None:
    """
    When the connection's window is the one stuck, the connection ends with
    GOAWAY after the send timeout.
    """
    h2 = _client(limits=DEFAULT_LIMITS.replace(h2SendTimeout=30.0))
    h2.autoAcknowledge = False
    h2.client.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 1_000_000})
    h2.pump()
    h2.request()
    PENDING[0].write(b"x" * 100_000)
    h2.pump()
    h2.clock.advance(31)
    h2.pump()
    assert h2.closed
    goaway = h2.goaway()
    assert goaway is not None and goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM


def test_badPrefaceClosed() -> None:
    """Bytes that are not the client preface end the connection."""
    h2 = _client(connect=False)
    h2.server.makeConnection(h2.transport)
    h2.server.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert h2.closed


def test_upgradedRequestAnsweredOnStreamOne() -> None:
    """
    After an h2c upgrade the request that asked is answered as stream 1,
    once the client's preface arrives.
    """
    from twisted_web_re.http_headers import Headers

    headers = Headers({b"host": [b"example.com"], b"connection": [b"Upgrade"]})
    h2 = H2Client(
        processWith(_later),
        connect=False,
        upgrade=(b"AAMAAABkAAQAAP__", b"GET", b"/up", headers),
    )
    PENDING.clear()
    h2.client.initiate_upgrade_connection()
    h2.server.makeConnection(h2.transport)
    h2.pump()
    assert [r.uri for r in PENDING] == [b"/up"]
    assert PENDING[0].getHeader(b"host") == b"example.com"
    PENDING[0].write(b"upgraded")
    PENDING[0].finish()
    h2.pump()
    assert h2.response(1).body == b"upgraded"


def test_pingFloodEndsTheConnection(logged: list[dict[str, Any]]) -> None:
    """
    A client sending PINGs faster than the flood guard's budget (CVE-2019-9512)
    gets GOAWAY ENHANCE_YOUR_CALM and is disconnected, with one log line.
    """
    h2 = _client()
    ping = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"\x00" * 8
    h2.send(ping * (DEFAULT_LIMITS.h2MaxPingsPerSecond + 1))
    goaway = h2.goaway()
    assert goaway is not None and goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
    assert h2.closed
    problems = [e for e in logged if "PING" in str(e.get("problem", ""))]
    assert len(problems) == 1


def test_continuationFloodEndsTheConnection() -> None:
    """
    A header block spread over more CONTINUATION frames than the guard allows
    (the CVE-2024-27316 class) ends the connection before h2 buffers it.
    """
    h2 = _client()
    headers = HeadersFrame(1, data=b"")
    frames = headers.serialize()
    continuation = b"\x00\x00\x00\x09\x00\x00\x00\x00\x01"
    frames += continuation * (DEFAULT_LIMITS.h2MaxContinuations + 1)
    h2.send(frames)
    goaway = h2.goaway()
    assert goaway is not None and goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
    assert h2.closed
    assert PENDING == []


def _overflowWindow(streamId: int) -> bytes:
    """A WINDOW_UPDATE taking C{streamId}'s window past 2**31-1."""
    return bytes(WindowUpdateFrame(streamId, window_increment=2**31 - 1).serialize())


def test_provokedResetsOverTheLimitEndTheConnection(
    logged: list[dict[str, Any]],
) -> None:
    """
    MadeYouReset (CVE-2025-8671): a client that makes the server reset its
    streams (here each request's window overflowed, which earns a
    FLOW_CONTROL_ERROR reset while the request is being processed) more
    often than C{h2MaxProvokedResetsPerSecond} gets GOAWAY ENHANCE_YOUR_CALM
    and one log line; the client's own resets are not needed for it.
    """
    limits = DEFAULT_LIMITS.replace(h2MaxProvokedResetsPerSecond=20)
    h2 = _client(limits=limits)
    for _ in range(21):
        stream = h2.request()
        h2.send(_overflowWindow(stream))
        if h2.closed:
            break
        assert h2.response(stream).reset == ErrorCodes.FLOW_CONTROL_ERROR
    goaway = h2.goaway()
    assert goaway is not None
    assert goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM
    assert h2.closed
    assert len(PENDING) == 21
    assert len([e for e in logged if "CVE-2025-8671" in str(e.get("problem"))]) == 1


def test_provokedResetsWithinTheLimitGoOn() -> None:
    """
    Resets provoked at or under C{h2MaxProvokedResetsPerSecond} (a burst of
    that many, then that many a second) leave the connection serving.
    """
    limits = DEFAULT_LIMITS.replace(h2MaxProvokedResetsPerSecond=20)
    h2 = _client(limits=limits)
    for _second in range(3):
        for _ in range(20):
            stream = h2.request()
            h2.send(_overflowWindow(stream))
            assert h2.response(stream).reset == ErrorCodes.FLOW_CONTROL_ERROR
        h2.clock.advance(1)
    assert not h2.closed
    assert h2.goaway() is None


def test_malformedRequestsCountAsProvokedResets() -> None:
    """
    Malformed requests, each reset with PROTOCOL_ERROR on its own stream,
    count against the same budget.
    """
    limits = DEFAULT_LIMITS.replace(h2MaxProvokedResetsPerSecond=5)
    h2 = _client(limits=limits)
    h2.client.config.validate_outbound_headers = False
    h2.client.config.normalize_outbound_headers = False
    for _ in range(5):
        stream = h2.request(headers=[(b"X-Upper", b"1")])
        assert h2.response(stream).reset == ErrorCodes.PROTOCOL_ERROR
    assert not h2.closed
    h2.request(headers=[(b"X-Upper", b"1")])
    goaway = h2.goaway()
    assert goaway is not None
    assert goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM


def test_refusedStreamsCountAsProvokedResets() -> None:
    """
    Streams refused beyond the concurrent limit (a client ignoring our
    SETTINGS) count against the same budget.
    """
    limits = DEFAULT_LIMITS.replace(
        h2MaxConcurrentStreams=1, h2MaxProvokedResetsPerSecond=5
    )
    h2 = _client(limits=limits)
    h2.client.remote_settings.max_concurrent_streams = 100
    h2.client.remote_settings.acknowledge()
    h2.request(b"/kept")
    for _ in range(5):
        stream = h2.request()
        assert h2.response(stream).reset == ErrorCodes.REFUSED_STREAM
    assert not h2.closed
    h2.request()
    goaway = h2.goaway()
    assert goaway is not None
    assert goaway.error_code == ErrorCodes.ENHANCE_YOUR_CALM


def test_requestResetInTheSameReadIsNotServed(logged: list[dict[str, Any]]) -> None:
    """
    A request whose stream the client resets in the same read as its
    HEADERS (rapid reset, the frames arriving together) is never processed,
    and nothing raises or is logged as an error; the connection goes on.
    """
    h2 = H2Client(processWith(_answerAtOnce))
    streamId = h2.client.get_next_available_stream_id()
    h2.client.send_headers(
        streamId,
        [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":path", b"/"),
            (b":authority", b"example.com"),
        ],
        end_stream=True,
    )
    h2.client.reset_stream(streamId, ErrorCodes.CANCEL)
    h2.pump()
    assert ANSWERED == []
    assert not h2.closed
    assert [e for e in logged if "log_failure" in e] == []
    other = h2.request(b"/other")
    assert h2.response(other).status == 200


def test_bodyAndResetInTheSameRead() -> None:
    """
    DATA with END_STREAM then RST_STREAM in one read: the request is given
    up, not processed, and the connection's window is given back.
    """
    PENDING.clear()
    h2 = H2Client(processWith(_later))
    streamId = h2.request(b"/up", b"POST", end=False)
    h2.client.send_data(streamId, b"x" * 1000, end_stream=True)
    h2.client.reset_stream(streamId, ErrorCodes.CANCEL)
    h2.pump()
    assert PENDING == []
    assert h2.server._streams == {}
    assert h2.server.engine.inbound_flow_control_window >= 1024 * 1024 - 1000


ANSWERED: list[http.Request] = []


def _answerAtOnce(request: http.Request) -> None:
    ANSWERED.append(request)
    request.write(b"ok")
    request.finish()
