"""
Tests for how L{twisted_web_re.wsgi} hands work between the reactor thread
and the pool: responses finished together reach the reactor in one wake-up
(L{twisted_web_re._gateways.wsgioutbox.Outbox}), and a burst of requests
calls pool threads one at a time, as they are needed.

The harness (a test-thread reactor, a real L{ThreadPool}, connections over
L{StringTransport}) is test_wsgi's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_wsgi import DEADLINE, Connection, ThreadedReactor, logText, request
from twisted.logger import LogEvent
from twisted.python.threadpool import ThreadPool

from twisted_web_re import wsgi
from twisted_web_re._gateways.wsgioutbox import Outbox


@pytest.fixture
def reactor() -> ThreadedReactor:
    """The reactor, played by the test's thread."""
    return ThreadedReactor()


@pytest.fixture
def pool(reactor: ThreadedReactor) -> Iterator[ThreadPool]:
    """A started thread pool, stopped when the test ends (see test_wsgi)."""
    threadpool = ThreadPool(0, 4, name="wsgi-handoff-test")
    threadpool.start()
    try:
        yield threadpool
    finally:
        reactor.shutdown()
        reactor.clock.advance(wsgi.SHUTDOWN_GRACE)
        stopper = threading.Thread(target=threadpool.stop)
        stopper.start()
        stopper.join(DEADLINE)
        assert not stopper.is_alive(), "the thread pool did not stop"


def waitFor(condition: Callable[[], bool]) -> None:
    """
    Wait, without running the reactor, until C{condition()} holds.

    @raise AssertionError: it does not within L{DEADLINE} seconds.
    """
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the workers")
        time.sleep(0.001)


def hello(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
    """A WSGI application answering every request with C{hello}."""
    startResponse("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_responsesFinishedTogetherWakeReactorOnce(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """
    Responses that pool threads finish while the reactor is busy elsewhere
    reach it in one hand-over (one write to its waker), not one each; each
    still goes out whole, to its own client.
    """
    wsgiResource = wsgi.WSGIResource(reactor, pool, hello)
    connections = [Connection(reactor, wsgiResource) for _ in range(3)]
    for connection in connections:
        connection.send(request())
    waitFor(lambda: len(wsgiResource._outbox._calls) == 3)
    assert reactor.handoffs == 1
    for connection in connections:
        response = connection.response()
        assert response.status == 200
        assert response.body == b"hello"
        assert response.values(b"content-length") == [b"5"]
    assert reactor.handoffs == 1


def test_listBodyOneHandoffOneWrite(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A body the application returns as a list goes to the reactor in one
    hand-over with its head, and out in one write with its Content-Length.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [("Content-Type", "text/plain")])
        return [b"one ", b"two ", b"three"]

    connection = Connection(reactor, wsgi.WSGIResource(reactor, pool, app))
    writes: list[bytes] = []
    write = connection.transport.write

    def recordingWrite(data: bytes) -> None:
        writes.append(data)
        write(data)

    connection.transport.write = recordingWrite  # type: ignore[method-assign]
    connection.send(request())
    response = connection.response()
    assert response.body == b"one two three"
    assert response.values(b"content-length") == [b"13"]
    assert reactor.handoffs == 1
    assert len(writes) == 1


def test_listBodyEndsWithTheResponse(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """
    A list body reaches the connection with the end of the response, in one
    step (L{server.Request.finishWith}), not as a body write then an end.
    """

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [("Content-Type", "text/plain")])
        return [b"one ", b"two"]

    connection = Connection(reactor, wsgi.WSGIResource(reactor, pool, app))
    channel: Any = connection.channel
    writes: list[bytes] = []
    ends: list[bytes] = []
    writeBody, endResponse = channel.writeBody, channel.endResponse

    def recordingWriteBody(data: bytes) -> None:
        writes.append(data)
        writeBody(data)

    def recordingEndResponse(last: bytes = b"") -> None:
        ends.append(last)
        endResponse(last)

    channel.writeBody = recordingWriteBody
    channel.endResponse = recordingEndResponse
    connection.send(request())
    response = connection.response()
    assert response.body == b"one two"
    assert response.values(b"content-length") == [b"7"]
    assert writes == []
    assert ends == [b"one two"]


def test_generatorStreamsItemByItem(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    A generator's items still reach the client as they are produced: the
    first is written while the application is still working on the second.
    """
    release = threading.Event()

    def app(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [("Content-Type", "text/plain")])
        yield b"first;"
        release.wait(DEADLINE)
        yield b"second"

    connection = Connection(reactor, wsgi.WSGIResource(reactor, pool, app))
    connection.send(request())
    reactor.runUntil(lambda: b"first;" in connection.transport.value())
    assert b"second" not in connection.transport.value()
    release.set()
    assert connection.response().body == b"first;second"


def test_outboxRunsEveryCallInOrder(logged: list[LogEvent]) -> None:
    """
    The calls put in the outbox run in the order they were put, in one
    wake-up of the reactor; one that raises is logged, and those after it
    still run.
    """
    wakeUps: list[Callable[[], None]] = []
    reactor = ThreadedReactor()
    reactor.callFromThread = lambda f: wakeUps.append(f)
    outbox = Outbox(reactor)
    ran: list[int] = []

    def failing() -> None:
        ran.append(2)
        raise ZeroDivisionError("a step failed")

    outbox.put(lambda: ran.append(1))
    outbox.put(failing)
    outbox.put(lambda: ran.append(3))
    assert len(wakeUps) == 1
    wakeUps.pop()()
    assert ran == [1, 2, 3]
    assert "ZeroDivisionError: a step failed" in logText(logged)
    outbox.put(lambda: ran.append(4))
    assert len(wakeUps) == 1
    wakeUps.pop()()
    assert ran == [1, 2, 3, 4]


class HeldPool:
    """
    A thread pool that holds the work handed to it until L{release}, then
    passes it (and all later work) to a real pool.

    @ivar calls: how many times work was handed to it.
    """

    def __init__(self, pool: ThreadPool) -> None:
        self.max = pool.max
        self.calls = 0
        self._pool = pool
        self._held: list[Callable[[], object]] | None = []
        self._lock = threading.Lock()

    def callInThread(self, f: Callable[[], object]) -> None:
        with self._lock:
            self.calls += 1
            if self._held is not None:
                self._held.append(f)
                return
        self._pool.callInThread(f)

    def release(self) -> None:
        """Run the held work, and pass on what comes next."""
        with self._lock:
            held, self._held = self._held, None
        for f in held or ():
            self._pool.callInThread(f)


def test_burstCallsOneThreadAtATime(reactor: ThreadedReactor, pool: ThreadPool) -> None:
    """
    Requests arriving together, before any pool thread has started, ask the
    pool for one thread, not one each: it calls the next when it finds more
    queued, and every request is answered.
    """
    held = HeldPool(pool)
    wsgiResource = wsgi.WSGIResource(reactor, held, hello)
    connections = [Connection(reactor, wsgiResource) for _ in range(3)]
    for connection in connections:
        connection.send(request())
    assert held.calls == 1
    held.release()
    for connection in connections:
        assert connection.response().body == b"hello"
    assert held.calls <= 3


def test_burstBehindBlockedApplication(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """
    Requests queued behind an application that blocks still get threads of
    their own (up to the pool's size) by the chain of calls: the blocked one
    is released only by the last of them.
    """
    last = threading.Event()
    entered = iter(range(3))
    order: list[int] = []
    lock = threading.Lock()

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        with lock:
            mine = next(entered)
        if mine == 0:
            assert last.wait(DEADLINE), "the later requests never ran"
        elif mine == 2:
            last.set()
        with lock:
            order.append(mine)
        startResponse("200 OK", [])
        return [b"%d" % mine]

    held = HeldPool(pool)
    wsgiResource = wsgi.WSGIResource(reactor, held, app)
    connections = [Connection(reactor, wsgiResource) for _ in range(3)]
    for connection in connections:
        connection.send(request())
    held.release()
    bodies = sorted(connection.response().body for connection in connections)
    assert bodies == [b"0", b"1", b"2"]
    assert order[-1] == 0


def test_burstWakesWaitingThreadAfterReactorTurn(
    reactor: ThreadedReactor, pool: ThreadPool
) -> None:
    """
    Requests read in one turn of the reactor, while a pool thread waits for
    work, are left queued until the turn ends; then that one thread is woken
    and finds them all, and each is answered.
    """
    ran: list[int] = []

    def app(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        ran.append(threading.get_ident())
        startResponse("200 OK", [])
        return [b"ok"]

    wsgiResource = wsgi.WSGIResource(reactor, pool, app)
    wsgiResource._linger = DEADLINE
    first = Connection(reactor, wsgiResource)
    first.send(request())
    assert first.response().body == b"ok"
    waitFor(lambda: wsgiResource._idle == 1)
    connections = [Connection(reactor, wsgiResource) for _ in range(3)]
    for connection in connections:
        connection.send(request())
    time.sleep(0.05)
    assert len(ran) == 1
    wakes = [
        call
        for call in reactor.clock.getDelayedCalls()
        if call.func == wsgiResource._wake
    ]
    assert len(wakes) == 1
    for connection in connections:
        assert connection.response().body == b"ok"
    assert len(set(ran)) == 1
