"""
The proxy's deadlines over the life of a reused backend connection: the
wait for the response head, silences within the body, and how long an idle
connection is kept, each measured from the right moment whatever came
before on the same connection.
"""

from __future__ import annotations

from tests.proxy.test_proxy_relay import BACKEND, OK, Setup

HALF = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"


def test_idleConnectionClosedAfterIdleTimeout() -> None:
    """
    A connection left idle in the pool is closed once it has been idle for
    C{idleTimeout}, not before.
    """
    setup = Setup(idleTimeout=30.0)
    setup.request()
    protocol, transport = setup.connect()
    protocol.dataReceived(OK)
    assert setup.pool.idleCount(BACKEND) == 1
    setup.reactor.advance(29.9)
    assert setup.pool.idleCount(BACKEND) == 1 and not transport.disconnecting
    setup.reactor.advance(0.2)
    assert setup.pool.idleCount(BACKEND) == 0 and transport.disconnecting


def test_reuseRestartsIdleClock() -> None:
    """
    A connection reused after a while is kept for C{idleTimeout} from the
    end of its latest exchange.
    """
    setup = Setup(idleTimeout=30.0)
    setup.request()
    protocol, transport = setup.connect()
    protocol.dataReceived(OK)
    setup.reactor.advance(20)
    stream = setup.request()
    protocol.dataReceived(OK)
    assert stream.ended and setup.pool.idleCount(BACKEND) == 1
    setup.reactor.advance(29.9)
    assert setup.pool.idleCount(BACKEND) == 1 and not transport.disconnecting
    setup.reactor.advance(0.2)
    assert setup.pool.idleCount(BACKEND) == 0 and transport.disconnecting


def test_idleConnectionsExpireInTurn() -> None:
    """
    Two idle connections to one backend, left idle at different times, are
    each closed C{idleTimeout} after their own exchange ended.
    """
    setup = Setup(idleTimeout=30.0)
    first = setup.request()
    second = setup.request()
    one, oneTransport = setup.connect(0)
    two, twoTransport = setup.connect(1)
    one.dataReceived(OK)
    setup.reactor.advance(10)
    two.dataReceived(OK)
    assert first.ended and second.ended
    assert setup.pool.idleCount(BACKEND) == 2
    setup.reactor.advance(20.1)
    assert oneTransport.disconnecting and not twoTransport.disconnecting
    assert setup.pool.idleCount(BACKEND) == 1
    setup.reactor.advance(10)
    assert twoTransport.disconnecting and setup.pool.idleCount(BACKEND) == 0


def test_responseTimeoutOnReusedConnection() -> None:
    """
    On a reused connection, the wait for the response head is timed from
    the new request, even when it is shorter than the idle timeouts.
    """
    setup = Setup(responseTimeout=5.0, idleTimeout=30.0, bodyIdleTimeout=60.0)
    setup.request()
    protocol, transport = setup.connect()
    protocol.dataReceived(OK)
    setup.reactor.advance(10)
    stream = setup.request()
    assert len(setup.reactor.tcpClients) == 1
    setup.reactor.advance(4.9)
    assert not stream.heads and not transport.disconnecting
    setup.reactor.advance(0.2)
    assert stream.code == 504 and stream.ended and transport.disconnecting


def test_bodyIdleMeasuredFromLatestPiece() -> None:
    """
    The body's idle timeout counts from the latest piece received: a body
    that keeps arriving is never cut, one that stops is.
    """
    setup = Setup(bodyIdleTimeout=3.0)
    stream = setup.request()
    protocol, _transport = setup.connect()
    protocol.dataReceived(HALF)
    setup.reactor.advance(2)
    protocol.dataReceived(b"ab")
    setup.reactor.advance(2)
    assert not stream.aborted
    setup.reactor.advance(1.1)
    assert stream.aborted and not stream.ended


def test_pausedClientStopsBodyTimer() -> None:
    """
    While the client is not reading (the backend is paused), the backend's
    silence is not held against it; once reading resumes, it is again.
    """
    setup = Setup(bodyIdleTimeout=3.0)
    stream = setup.request()
    protocol, _transport = setup.connect()
    protocol.dataReceived(HALF)
    assert stream.producer is not None
    producer = stream.producer[0]
    producer.pauseProducing()
    setup.reactor.advance(10)
    assert not stream.aborted
    producer.resumeProducing()
    setup.reactor.advance(2.9)
    assert not stream.aborted
    setup.reactor.advance(0.2)
    assert stream.aborted


def test_noTimerLeftAfterClose() -> None:
    """
    Once the pool's idle connections are closed, no timer of the proxy is
    left pending on the reactor.
    """
    setup = Setup()
    setup.request()
    protocol, _transport = setup.connect()
    protocol.dataReceived(OK)
    stream = setup.request()
    protocol.dataReceived(OK)
    assert stream.ended
    setup.pool.closeIdle()
    assert setup.pool.idleCount(BACKEND) == 0
    assert setup.reactor.getDelayedCalls() == []
