"""
Tests for L{twisted_web_re._wire.http2guard}: the HTTP/2 flood guard that
reads every frame header a client sends before the C{h2} library does.

Frames are built with C{hyperframe}; every limit is tested just under and
just over.  No reactor: time is passed in.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from itertools import pairwise
from struct import pack

import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.errors import ErrorCodes
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    HeadersFrame,
    PingFrame,
    PriorityFrame,
    PushPromiseFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)
from hypothesis import given
from hypothesis import strategies as st

from twisted_web_re._wire.http2guard import (
    CLIENT_PREFACE,
    FrameGuard,
    GuardVerdict,
)
from twisted_web_re._wire.limits import DEFAULT_LIMITS, Limits

CALM = ErrorCodes.ENHANCE_YOUR_CALM


def wire(*frames: Frame | bytes) -> bytes:
    """The bytes of C{frames}, in order."""
    return b"".join(
        frame if isinstance(frame, bytes) else frame.serialize() for frame in frames
    )


def raw(kind: int, streamId: int, body: bytes, flags: int = 0) -> bytes:
    """
    A frame built by hand, for the types C{hyperframe} does not know or will
    not build.
    """
    length = len(body)
    return pack(">HBBBL", length >> 8, length & 0xFF, kind, flags, streamId) + body


def headers(streamId: int, block: bytes = b"\x82", *flags: str) -> HeadersFrame:
    """A HEADERS frame carrying C{block} with C{flags}."""
    return HeadersFrame(streamId, block, flags=flags)


def continuation(
    streamId: int, block: bytes = b"\x84", *flags: str
) -> ContinuationFrame:
    """A CONTINUATION frame carrying C{block} with C{flags}."""
    return ContinuationFrame(streamId, block, flags=flags)


def priorityUpdate() -> bytes:
    """A PRIORITY_UPDATE frame (RFC 9218) for stream 1: type 0x10."""
    return raw(0x10, 0, pack(">L", 1) + b"u=1")


def opening() -> bytes:
    """What a client sends first: the preface, its SETTINGS and a request."""
    return CLIENT_PREFACE + wire(
        SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 2**20}),
        WindowUpdateFrame(0, window_increment=2**24),
        headers(1, b"\x82\x86\x84", "END_HEADERS", "END_STREAM"),
    )


def scanned(data: bytes, limits: Limits = DEFAULT_LIMITS) -> GuardVerdict | None:
    """The verdict of a new guard on C{data}, given whole at time 0."""
    return FrameGuard(limits).scan(data, 0.0)


# -- ordinary traffic -----------------------------------------------------------


def test_ordinaryConnectionPasses() -> None:
    """
    A connection a browser would open (preface, SETTINGS, the ACK of the
    server's, WINDOW_UPDATE, requests with and without bodies, a PING) passes.
    """
    data = opening() + wire(
        SettingsFrame(0, flags=["ACK"]),
        headers(3, b"\x83\x86\x84", "END_HEADERS"),
        DataFrame(3, b"x" * 16384),
        DataFrame(3, b"y" * 100, flags=["END_STREAM"]),
        headers(5, b"\x83" * 20),
        continuation(5, b"\x84" * 20, "END_HEADERS"),
        DataFrame(5, b"", flags=["END_STREAM"]),
        PingFrame(0, b"12345678"),
        PriorityFrame(7, depends_on=0, stream_weight=15),
        RstStreamFrame(3, error_code=8),
    )
    guard = FrameGuard()
    assert guard.scan(data, 0.0) is None
    assert guard.verdict is None


def test_h2ClientPasses() -> None:
    """
    What the C{h2} library sends as a client (its preface and SETTINGS,
    requests with bodies up to its flow-control window, a PING, a
    cancellation, window updates for a response) passes.
    """
    client = H2Connection(H2Configuration(client_side=True))
    client.initiate_connection()
    request = [
        (":method", "POST"),
        (":scheme", "https"),
        (":authority", "example.com"),
        (":path", "/upload"),
        ("x-long", "v" * 20000),
    ]
    client.send_headers(1, request)
    client.send_data(1, b"x" * 16384)
    client.send_data(1, b"x" * 16384, end_stream=True)
    client.send_headers(3, request[:4], end_stream=True)
    client.reset_stream(3)
    client.ping(b"12345678")
    client.increment_flow_control_window(2**20)
    client.increment_flow_control_window(2**20, stream_id=1)
    assert scanned(client.data_to_send()) is None


def test_ordinaryConnectionByteByByte() -> None:
    """The same connection given a byte at a time passes too."""
    data = opening() + wire(DataFrame(1, b"z" * 3000))
    guard = FrameGuard()
    assert all(guard.scan(data[i : i + 1], 0.0) is None for i in range(len(data)))


# -- the preface ----------------------------------------------------------------


def test_prefaceIsSkipped() -> None:
    """
    By default the guard is given the connection from its first byte: it
    checks the 24-byte client preface and skips it, even split anywhere.
    """
    data = opening()
    guard = FrameGuard()
    assert guard.scan(data[:5], 0.0) is None
    assert guard.scan(data[5:30], 0.0) is None
    assert guard.scan(data[30:], 0.0) is None


def test_notAPreface() -> None:
    """
    Bytes that are not the HTTP/2 preface (an HTTP/1.1 request here) are a
    PROTOCOL_ERROR, found at the first wrong byte.
    """
    guard = FrameGuard()
    assert guard.scan(b"PRI * HTTP/2.0\r\n", 0.0) is None
    verdict = guard.scan(b"\r\nXX", 0.0)
    assert verdict is not None
    assert verdict.errorCode == ErrorCodes.PROTOCOL_ERROR
    assert "preface" in verdict.problem
    assert scanned(b"GET / HTTP/1.1\r\n") == verdict


def test_withoutPreface() -> None:
    """
    Told C{preface=False}, the guard reads frames from the first byte, and a
    preface given then is not a frame it accepts.
    """
    frames = opening()[len(CLIENT_PREFACE) :]
    assert FrameGuard(preface=False).scan(frames, 0.0) is None
    assert FrameGuard(preface=False).scan(CLIENT_PREFACE, 0.0) is not None


# -- frame size -----------------------------------------------------------------


def test_frameOfAdvertisedSize() -> None:
    """A frame exactly as long as SETTINGS_MAX_FRAME_SIZE passes."""
    assert scanned(opening() + wire(DataFrame(1, b"x" * 16384))) is None


def test_frameOverAdvertisedSize() -> None:
    """
    A frame one byte longer than SETTINGS_MAX_FRAME_SIZE is a
    FRAME_SIZE_ERROR as soon as its 9-byte header is in, before any of its
    payload is read.
    """
    header = wire(DataFrame(1, b"x" * 16385))[:9]
    verdict = scanned(opening() + header)
    assert verdict is not None
    assert verdict.errorCode == ErrorCodes.FRAME_SIZE_ERROR
    assert "16385" in verdict.problem


def test_advertisedFrameSizeHonoured() -> None:
    """
    A server advertising a larger SETTINGS_MAX_FRAME_SIZE tells the guard,
    which then allows frames up to it and no longer.
    """
    big = wire(DataFrame(1, b"x" * 65536))
    guard = FrameGuard(maxFrameSize=65536)
    assert guard.scan(opening() + big, 0.0) is None
    verdict = FrameGuard(maxFrameSize=65536).scan(
        opening() + wire(DataFrame(1, b"x" * 65537))[:9], 0.0
    )
    assert verdict is not None and verdict.errorCode == ErrorCodes.FRAME_SIZE_ERROR


@pytest.mark.parametrize("size", [16383, 2**24])
def test_frameSizeOutOfRange(size: int) -> None:
    """A SETTINGS_MAX_FRAME_SIZE RFC 9113 does not allow is refused locally."""
    with pytest.raises(ValueError, match=str(size)):
        FrameGuard(maxFrameSize=size)


# -- header blocks ----------------------------------------------------------------


def block(continuations: int, size: int = 1) -> bytes:
    """
    A header block on stream 3: HEADERS then C{continuations} CONTINUATIONs,
    the last one ending it, each carrying C{size} bytes.
    """
    frames: list[Frame] = [headers(3, b"\x82" * size)]
    frames += [continuation(3, b"\x84" * size) for _ in range(continuations - 1)]
    frames.append(continuation(3, b"\x84" * size, "END_HEADERS"))
    return wire(*frames)


def test_continuationsAtLimit() -> None:
    """A header block with as many CONTINUATIONs as allowed (8) passes."""
    assert DEFAULT_LIMITS.h2MaxContinuations == 8
    assert scanned(opening() + block(8)) is None


def test_continuationFlood() -> None:
    """
    One CONTINUATION more than allowed (CVE-2024-27316 class) earns
    ENHANCE_YOUR_CALM on that frame's header.
    """
    data = opening() + block(9)
    verdict = scanned(data)
    assert verdict is not None
    assert verdict.errorCode == CALM
    assert "CONTINUATION" in verdict.problem
    # The ninth CONTINUATION's header decides, not the byte of payload after.
    assert scanned(data[:-1]) == verdict
    assert scanned(data[:-2]) is None


def test_continuationLimitConfigurable() -> None:
    """
    C{h2MaxContinuations} sets the limit; at 0 every header block must fit
    in its HEADERS frame.
    """
    none = Limits(h2MaxContinuations=0)
    assert scanned(opening() + wire(headers(3, b"\x82", "END_HEADERS")), none) is None
    assert scanned(opening() + block(1), none) is not None
    assert scanned(opening() + block(3), Limits(h2MaxContinuations=3)) is None
    assert scanned(opening() + block(4), Limits(h2MaxContinuations=3)) is not None


def sizedBlock(total: int) -> bytes:
    """A header block on stream 3 of C{total} bytes in frames of 16 KiB."""
    sizes = [16384] * (total // 16384) + ([total % 16384] if total % 16384 else [])
    frames: list[Frame] = [headers(3, b"\x82" * sizes[0])]
    frames += [continuation(3, b"\x84" * size) for size in sizes[1:-1]]
    frames.append(continuation(3, b"\x84" * sizes[-1], "END_HEADERS"))
    return wire(*frames)


def test_headerBlockAtLimit() -> None:
    """A header block of exactly C{h2MaxHeaderBlockSize} (64 KiB) passes."""
    assert DEFAULT_LIMITS.h2MaxHeaderBlockSize == 65536
    assert scanned(opening() + sizedBlock(65536)) is None


def test_headerBlockOverLimit() -> None:
    """
    A header block one byte larger earns ENHANCE_YOUR_CALM once the header
    of the frame that takes it over arrives, before that frame is buffered.
    """
    data = opening() + sizedBlock(65537)
    verdict = scanned(data)
    assert verdict is not None and verdict.errorCode == CALM
    assert "header block" in verdict.problem
    # The last frame (9 bytes of header, 1 of payload) decides on its header.
    assert scanned(data[:-1]) == verdict
    assert scanned(data[:-2]) is None


def test_singleHeadersOverBlockLimit() -> None:
    """A lone HEADERS frame larger than the block limit is refused as well."""
    limits = Limits(h2MaxHeaderBlockSize=100)
    assert (
        scanned(opening() + wire(headers(3, b"\x82" * 100, "END_HEADERS")), limits)
        is None
    )
    verdict = scanned(
        opening() + wire(headers(3, b"\x82" * 101, "END_HEADERS")), limits
    )
    assert verdict is not None and verdict.errorCode == CALM


@pytest.mark.parametrize(
    "frames",
    [
        pytest.param([continuation(1, b"\x84", "END_HEADERS")], id="no-headers"),
        pytest.param(
            [headers(3, b"\x82", "END_HEADERS"), continuation(3)], id="after-end"
        ),
        pytest.param([headers(3), DataFrame(3, b"x")], id="data-inside"),
        pytest.param([headers(3), PingFrame(0, b"12345678")], id="ping-inside"),
        pytest.param([headers(3), continuation(5)], id="other-stream"),
        pytest.param(
            # hyperframe refuses to build it, so the type is given raw.
            [raw(0x1, 0, b"\x82", flags=0x4)],
            id="headers-stream-0",
        ),
        pytest.param([PushPromiseFrame(1, promised_stream_id=2)], id="push"),
    ],
)
def test_headerBlockFraming(frames: list[Frame | bytes]) -> None:
    """
    Header blocks framed against RFC 9113 (a CONTINUATION not continuing a
    block, another frame inside one, HEADERS on stream 0, a client's
    PUSH_PROMISE) are a PROTOCOL_ERROR.
    """
    verdict = scanned(opening() + wire(*frames))
    assert verdict is not None
    assert verdict.errorCode == ErrorCodes.PROTOCOL_ERROR


# -- per-second budgets -----------------------------------------------------------

#: Each budget: its field, a frame it counts (given a serial number), and a
#: word of the problem logged.
BUDGETS: list[tuple[str, Callable[[int], Frame | bytes], str]] = [
    ("h2MaxResetsPerSecond", lambda i: RstStreamFrame(2 * i + 1, 8), "CVE-2023-44487"),
    ("h2MaxSettingsPerSecond", lambda i: SettingsFrame(0), "SETTINGS"),
    ("h2MaxPingsPerSecond", lambda i: PingFrame(0, b"%08d" % i), "PING"),
    (
        "h2MaxPrioritiesPerSecond",
        lambda i: PriorityFrame(2 * i + 1, depends_on=0),
        "PRIORITY",
    ),
    ("h2MaxPrioritiesPerSecond", lambda i: priorityUpdate(), "PRIORITY"),
    ("h2MaxEmptyFramesPerSecond", lambda i: DataFrame(1), "empty"),
    (
        "h2MaxEmptyFramesPerSecond",
        lambda i: headers(2 * i + 3, b"", "END_HEADERS"),
        "empty",
    ),
    (
        "h2MaxSmallWindowUpdatesPerSecond",
        lambda i: WindowUpdateFrame(1, window_increment=1023),
        "WINDOW_UPDATE",
    ),
]

BUDGET_IDS = [
    "resets",
    "settings",
    "pings",
    "priorities",
    "priority-updates",
    "empty-data",
    "empty-headers",
    "small-window-updates",
]


def flood(make: Callable[[int], Frame | bytes], count: int, start: int = 0) -> bytes:
    """C{count} frames from C{make}."""
    return wire(*(make(i) for i in range(start, start + count)))


@pytest.mark.parametrize(("field", "make", "word"), BUDGETS, ids=BUDGET_IDS)
def test_budgetAtLimit(
    field: str, make: Callable[[int], Frame | bytes], word: str
) -> None:
    """
    As many frames of a kind as its per-second budget allows, all at once,
    pass (on top of the opening's own SETTINGS, which the test's budget for
    SETTINGS leaves room for).
    """
    limit = getattr(DEFAULT_LIMITS, field)
    used = 1 if field == "h2MaxSettingsPerSecond" else 0
    assert scanned(opening() + flood(make, limit - used)) is None


@pytest.mark.parametrize(("field", "make", "word"), BUDGETS, ids=BUDGET_IDS)
def test_budgetOverLimit(
    field: str, make: Callable[[int], Frame | bytes], word: str
) -> None:
    """
    One frame more than the budget earns ENHANCE_YOUR_CALM, with a log line
    naming the frame or the attack.
    """
    limit = getattr(DEFAULT_LIMITS, field)
    used = 1 if field == "h2MaxSettingsPerSecond" else 0
    verdict = scanned(opening() + flood(make, limit - used + 1))
    assert verdict is not None
    assert verdict.errorCode == CALM
    assert word in verdict.problem
    assert str(limit) in verdict.problem


@pytest.mark.parametrize(("field", "make", "word"), BUDGETS, ids=BUDGET_IDS)
def test_budgetRefills(
    field: str, make: Callable[[int], Frame | bytes], word: str
) -> None:
    """
    A budget is a token bucket of one second's frames refilled at that rate:
    after a full burst, one more frame is allowed every 1/limit seconds, and
    a second later the full burst again; time going backwards refills
    nothing.
    """
    guard = FrameGuard(Limits(**{field: 4}), preface=False)
    assert guard.scan(flood(make, 4), 10.0) is None
    assert guard.scan(flood(make, 1, 4), 10.25) is None
    assert guard.scan(flood(make, 4, 5), 11.25) is None
    assert guard.scan(flood(make, 1, 9), 11.0) is not None


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda i: DataFrame(1, flags=["END_STREAM"]), id="data-end"),
        pytest.param(
            lambda i: headers(2 * i + 1, b"", "END_HEADERS", "END_STREAM"),
            id="headers-end",
        ),
        pytest.param(
            lambda i: WindowUpdateFrame(i % 2, window_increment=1024), id="window"
        ),
        pytest.param(lambda i: DataFrame(1, b"x"), id="data"),
        pytest.param(lambda i: raw(0x20, 0, b"x"), id="extension"),
    ],
)
def test_uncountedFrames(make: Callable[[int], Frame | bytes]) -> None:
    """
    Frames that are not floods are never counted: empty frames ending their
    stream, WINDOW_UPDATEs of 1024 bytes or more (a fast download to a client
    with small windows), DATA, unknown extension frames.
    """
    assert scanned(opening() + flood(make, 2000)) is None


def test_settingsEntries() -> None:
    """
    A SETTINGS frame of 32 entries passes; of 33 it earns ENHANCE_YOUR_CALM
    (CVE-2020-11080).
    """
    entries = b"".join(pack(">HL", 0x4, i) for i in range(33))
    assert scanned(opening() + raw(0x4, 0, entries[: 32 * 6])) is None
    verdict = scanned(opening() + raw(0x4, 0, entries))
    assert verdict is not None and verdict.errorCode == CALM
    assert "more than 32 entries" in verdict.problem


def test_verdictIsFinal() -> None:
    """Once given, the verdict is returned for whatever comes next."""
    guard = FrameGuard(Limits(h2MaxPingsPerSecond=1))
    verdict = guard.scan(opening() + flood(lambda i: PingFrame(0), 2), 0.0)
    assert verdict is not None
    assert guard.verdict is verdict
    assert guard.scan(b"", 5.0) is verdict
    assert guard.scan(wire(DataFrame(1, b"x")), 5.0) is verdict


@pytest.mark.parametrize(
    "field",
    [
        "h2MaxHeaderBlockSize",
        "h2MaxResetsPerSecond",
        "h2MaxSettingsPerSecond",
        "h2MaxSettingsEntries",
        "h2MaxPingsPerSecond",
        "h2MaxPrioritiesPerSecond",
        "h2MaxEmptyFramesPerSecond",
        "h2MaxSmallWindowUpdatesPerSecond",
    ],
)
def test_limitsValidated(field: str) -> None:
    """A guard limit of 0 (or not an int) is refused when the limits are made."""
    with pytest.raises(ValueError, match=field):
        Limits(**{field: 0})
    with pytest.raises(ValueError, match=field):
        DEFAULT_LIMITS.replace(**{field: 1.5})


def test_continuationLimitValidated() -> None:
    """C{h2MaxContinuations} may be 0 but not negative."""
    assert Limits(h2MaxContinuations=0).h2MaxContinuations == 0
    with pytest.raises(ValueError, match="h2MaxContinuations"):
        Limits(h2MaxContinuations=-1)


# -- any split, any bytes -----------------------------------------------------------

#: Small limits, so that random sequences reach them.
SMALL = Limits(
    h2MaxContinuations=2,
    h2MaxHeaderBlockSize=40,
    h2MaxResetsPerSecond=3,
    h2MaxSettingsPerSecond=3,
    h2MaxSettingsEntries=2,
    h2MaxPingsPerSecond=3,
    h2MaxPrioritiesPerSecond=3,
    h2MaxEmptyFramesPerSecond=3,
    h2MaxSmallWindowUpdatesPerSecond=3,
)

rawFrames = st.lists(
    st.builds(
        lambda length, kind, flags, stream, fill: (
            pack(">HBBBL", length >> 8, length & 0xFF, kind, flags, stream)
            + fill * length
        ),
        # Mostly short frames, now and then one over the frame size.
        st.sampled_from([*range(25), 16385]),
        st.one_of(st.integers(0, 10), st.just(0x10), st.integers(0, 255)),
        st.sampled_from([0, 1, 4, 5, 8, 0xFF]),
        st.sampled_from([0, 1, 3, 0x80000001]),
        st.sampled_from([b"\x00", b"\x01", b"\xff"]),
    ),
    max_size=20,
).map(b"".join)


def bytewise(guard: FrameGuard, data: bytes) -> int | None:
    """
    Give C{data} to C{guard} a byte at a time.

    @return: the index of the byte on which the verdict came, if one did.
    """
    for index in range(len(data)):
        if guard.scan(data[index : index + 1], 0.0) is not None:
            return index
    return None


@given(
    data=rawFrames,
    cuts=st.lists(st.integers(0, 20000), max_size=8),
    preface=st.booleans(),
)
def test_anySplitSameVerdict(data: bytes, cuts: list[int], preface: bool) -> None:
    """
    However the bytes of a frame sequence are split, the verdict is the same
    and comes with the piece holding the same byte as when they are given
    whole or a byte at a time.
    """
    if preface:
        data = CLIENT_PREFACE + data
    whole = FrameGuard(SMALL, preface=preface).scan(data, 0.0)
    single = FrameGuard(SMALL, preface=preface)
    decisive = bytewise(single, data)
    assert single.verdict == whole
    assert (decisive is None) == (whole is None)
    bounds = sorted({0, len(data), *(cut for cut in cuts if cut < len(data))})
    guard = FrameGuard(SMALL, preface=preface)
    for start, stop in pairwise(bounds):
        verdict = guard.scan(data[start:stop], 0.0)
        if verdict is not None:
            assert decisive is not None and start <= decisive < stop
            break
    assert guard.verdict == whole


@given(
    data=st.binary(max_size=400),
    cuts=st.lists(st.integers(0, 400), max_size=8),
    preface=st.booleans(),
    times=st.lists(st.floats(-1e9, 1e9), min_size=1),
)
def test_arbitraryBytesNeverRaise(
    data: bytes, cuts: list[int], preface: bool, times: list[float]
) -> None:
    """
    Any bytes, in any pieces, at any times (even going backwards), give a
    verdict or C{None} and never an exception.
    """
    guard = FrameGuard(SMALL, preface=preface)
    bounds = sorted({0, len(data), *(cut for cut in cuts if cut < len(data))})
    for index, (start, stop) in enumerate(pairwise(bounds)):
        verdict = guard.scan(data[start:stop], times[index % len(times)])
        assert verdict is None or isinstance(verdict, GuardVerdict)


# -- cost -------------------------------------------------------------------------


def test_payloadsNotCopied() -> None:
    """
    Scanning 16 MiB of DATA frames allocates next to nothing: payloads are
    skipped, not copied or buffered, so the cost is one header read per frame.
    """
    data = opening() + flood(lambda i: DataFrame(1, b"x" * 16384), 1024)
    guard = FrameGuard()
    tracemalloc.start()
    try:
        assert guard.scan(data, 0.0) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024


def test_splitHeadersAllocateLittle() -> None:
    """
    Reads that split every frame header still allocate only a few bytes
    each: a split header is gathered in one small buffer.
    """
    frames = flood(lambda i: DataFrame(1, b"x" * 100), 1000)
    pieces = [frames[i : i + 50] for i in range(0, len(frames), 50)]
    guard = FrameGuard(preface=False)
    tracemalloc.start()
    try:
        for piece in pieces:
            assert guard.scan(piece, 0.0) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024


@pytest.mark.parametrize("cut", range(1, 13))
def test_windowUpdateIncrementSplit(cut: int) -> None:
    """
    A small WINDOW_UPDATE is counted on the last byte of its increment,
    however the frame is split: over the budget, the verdict comes with the
    piece holding that byte.
    """
    data = flood(lambda i: WindowUpdateFrame(1, window_increment=1), 4)
    last = data[-13:]
    guard = FrameGuard(SMALL, preface=False)
    assert guard.scan(data[:-13], 0.0) is None
    assert guard.scan(last[:cut], 0.0) is None
    verdict = guard.scan(last[cut:], 0.0)
    assert verdict is not None and "WINDOW_UPDATE" in verdict.problem
