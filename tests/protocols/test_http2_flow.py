"""
Tests for flow control on an L{HTTP2Connection}: request bodies re-open
their stream's window only as the request takes them, and responses wait for
the client's windows, pausing their producers meanwhile.
"""

from __future__ import annotations

from typing import Any

from _h2client import H2Client, SendBufferTransport, processWith
from h2.settings import SettingCodes
from twisted.internet.interfaces import IPullProducer, IPushProducer
from zope.interface import implementer

from twisted_web_re import http
from twisted_web_re._wire.limits import DEFAULT_LIMITS

PENDING: list[http.Request] = []


def _later(request: http.Request) -> None:
    PENDING.append(request)


class _PausingRequest(http.Request):
    """A request that pauses its body as soon as its head arrives."""

    def gotLength(self, length: int | None) -> None:
        super().gotLength(length)
        self.pauseUpload()

    def process(self) -> None:
        PENDING.append(self)


def test_pausedBodyThrottlesItsStreamOnly() -> None:
    """
    A request that pauses its body stops its stream's window from re-opening
    once used up; another stream's upload goes on; resuming delivers what was
    held and opens the window again.
    """
    PENDING.clear()
    h2 = H2Client(_PausingRequest)
    paused = h2.request(b"/slow", b"POST", end=False)
    h2.sendBody(paused, b"x" * 65535, end=False)
    assert h2.client.local_flow_control_window(paused) == 0
    stream = h2.server._streams[paused]
    request = stream.request
    assert request is not None and request.content is not None
    assert request.content.tell() == 0
    # Another stream uploads freely (its request does not pause).
    h2.server.requestFactory = processWith(_later)
    other = h2.request(b"/fast", b"POST", body=b"y" * 200_000)
    assert PENDING[-1].uri == b"/fast"
    assert h2.client.local_flow_control_window(paused) == 0
    request.resumeUpload()
    h2.pump()
    assert request.content.tell() == 65535
    assert h2.client.local_flow_control_window(paused) > 0
    h2.sendBody(paused, b"", end=True)
    assert PENDING[-1] is request
    del other


def test_bodyLargerThanLimitAnswers413() -> None:
    """A body growing past the limit is answered 413 on its stream."""
    PENDING.clear()
    limits = DEFAULT_LIMITS.replace(maxBodySize=1000)
    h2 = H2Client(processWith(_later), limits=limits)
    stream = h2.request(b"/", b"POST", end=False)
    h2.sendBody(stream, b"x" * 2000, end=False)
    assert h2.response(stream).status == 413
    assert not h2.closed


def _writer(size: int) -> Any:
    def handler(request: http.Request) -> None:
        PENDING.append(request)
        request.write(b"x" * size)
        request.finish()

    return handler


def test_responseWaitsForWindow() -> None:
    """
    A response larger than the client's window is sent as far as the window
    allows, and the rest when the client opens it.
    """
    PENDING.clear()
    h2 = H2Client(processWith(_writer(100_000)))
    h2.autoAcknowledge = False
    stream = h2.request()
    response = h2.response(stream)
    assert len(response.body) == 65535
    assert not response.ended
    h2.client.acknowledge_received_data(65535, stream)
    h2.client.increment_flow_control_window(100_000)
    h2.client.increment_flow_control_window(100_000, stream)
    h2.pump()
    assert len(response.body) == 100_000
    assert response.ended
    assert PENDING[0].sentLength == 100_000


@implementer(IPushProducer)
class _Producer:
    """A push producer writing blocks of 16 KiB while not paused."""

    def __init__(self, request: http.Request, blocks: int) -> None:
        self.request = request
        self.left = blocks
        self.paused = False
        self.stopped = False
        self.pauses = 0

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1

    def resumeProducing(self) -> None:
        self.paused = False
        self.run()

    def stopProducing(self) -> None:
        self.stopped = True

    def run(self) -> None:
        while not self.paused and not self.stopped and self.left:
            self.left -= 1
            self.request.write(b"p" * 16384)
        if not self.left and not self.stopped:
            self.stopped = True
            self.request.unregisterProducer()
            self.request.finish()


PRODUCERS: list[_Producer] = []


def _producing(blocks: int) -> Any:
    def handler(request: http.Request) -> None:
        producer = _Producer(request, blocks)
        PRODUCERS.append(producer)
        request.registerProducer(producer, True)

    return handler


def _start(h2: H2Client) -> _Producer:
    """Start the producer after process() returned (as a file producer does)."""
    producer = PRODUCERS[-1]
    producer.run()
    h2.pump()
    return producer


def test_producerPausedWithoutWindow() -> None:
    """
    A push producer is paused once its stream has no window and holds data,
    never holding more than the stream buffer; a WINDOW_UPDATE resumes it.
    """
    PRODUCERS.clear()
    h2 = H2Client(processWith(_producing(64)))
    h2.autoAcknowledge = False
    stream = h2.request()
    producer = _start(h2)
    assert producer.paused
    assert h2.server.flow.held(stream) <= DEFAULT_LIMITS.h2StreamBuffer + 16384
    h2.autoAcknowledge = True
    for _ in range(200):
        if h2.response(stream).ended:
            break
        h2.client.acknowledge_received_data(0, stream)
        h2.client.increment_flow_control_window(65535, stream)
        h2.client.increment_flow_control_window(65535)
        h2.pump()
    response = h2.response(stream)
    assert response.ended
    assert len(response.body) == 64 * 16384


def test_producerPausedByTransport() -> None:
    """
    A producer is paused while the transport pushes back, and resumed when it
    drains, even with window to spare.
    """
    PRODUCERS.clear()
    transport = SendBufferTransport()
    h2 = H2Client(
        processWith(_producing(200)),
        transport=transport,
        clientSettings={SettingCodes.INITIAL_WINDOW_SIZE: 2**31 - 1},
    )
    h2.client.increment_flow_control_window(2**30)
    h2.pump()
    stream = h2.request()
    _start(h2)
    response = h2.response(stream)
    assert response.ended
    assert len(response.body) == 200 * 16384
    assert PRODUCERS[0].pauses >= 1


def test_settingsChangeResumes() -> None:
    """A SETTINGS raising the initial window lets held data go."""
    h2 = H2Client(processWith(_writer(100_000)))
    h2.autoAcknowledge = False
    stream = h2.request()
    h2.client.increment_flow_control_window(100_000)
    h2.client.update_settings({SettingCodes.INITIAL_WINDOW_SIZE: 200_000})
    h2.pump()
    assert len(h2.response(stream).body) == 100_000
    assert h2.response(stream).ended


@implementer(IPullProducer)
class _Pull:
    """A pull producer that counts how often it was stopped."""

    stopped = 0

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        self.stopped += 1


def test_pullProducerPausedWithoutWindow() -> None:
    """
    A pull producer registered while its stream holds data without window is
    paused (not asked for more) until the client opens the window.
    """
    PENDING.clear()
    h2 = H2Client(processWith(_later))
    h2.autoAcknowledge = False
    stream = h2.request()
    request = PENDING[0]
    request.write(b"x" * 100_000)
    h2.pump()
    producer = _Pull()
    request.registerProducer(producer, False)
    h2stream = h2.server._streams[stream]
    assert h2stream._producerPaused
    h2.client.acknowledge_received_data(65535, stream)
    h2.client.increment_flow_control_window(200_000)
    h2.client.increment_flow_control_window(200_000, stream)
    h2.pump()
    assert not h2stream._producerPaused
    request.unregisterProducer()
    request.finish()
    h2.pump()
    assert h2.response(stream).ended
