"""
The number of connections in use per backend is bounded: requests beyond
it wait their turn, and are answered 504 when they have waited too long.
"""

from __future__ import annotations

import pytest
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure

from tests.proxy.test_proxy_relay import BACKEND, OK, Setup
from twisted_web_re._proxy.pool import MAX_ACTIVE, BackendPool


def test_defaultLimit() -> None:
    """By default, 256 connections per backend are in use at most."""
    assert BackendPool(MemoryReactorClock()).maxActive == MAX_ACTIVE == 256


def test_invalidLimits() -> None:
    """A limit of no connection, or a wait of no time, is refused."""
    with pytest.raises(ValueError):
        BackendPool(MemoryReactorClock(), maxActive=0)
    with pytest.raises(ValueError):
        BackendPool(MemoryReactorClock(), queueTimeout=0)


def test_requestsBeyondLimitWaitTheirTurn() -> None:
    """
    With one connection allowed, a second request makes no connection of
    its own: it waits, and is sent on the first's connection once that
    one's response has ended.
    """
    setup = Setup(maxActive=1)
    first = setup.request(target=b"/one")
    second = setup.request(target=b"/two")
    assert len(setup.reactor.tcpClients) == 1
    assert setup.pool.activeCount(BACKEND) == 1
    assert setup.pool.waitingCount(BACKEND) == 1
    protocol, transport = setup.connect()
    assert transport.value().startswith(b"GET /base/one ")
    transport.clear()
    protocol.dataReceived(OK)
    assert first.ended and not second.heads
    setup.reactor.advance(0)
    assert transport.value().startswith(b"GET /base/two ")
    assert setup.pool.waitingCount(BACKEND) == 0
    protocol.dataReceived(OK)
    assert second.code == 200 and second.body == b"hello"
    assert setup.pool.activeCount(BACKEND) == 0
    assert len(setup.reactor.tcpClients) == 1


def test_waitedTooLong504() -> None:
    """
    A request that waited L{BackendPool.queueTimeout} for a connection is
    answered 504, naming the backend; the one being served goes on.
    """
    setup = Setup(maxActive=1, queueTimeout=5.0)
    first = setup.request()
    second = setup.request()
    setup.connect()
    setup.reactor.advance(4.9)
    assert not second.heads
    setup.reactor.advance(0.2)
    assert second.code == 504 and second.ended
    assert b"backend:8080" in second.body
    assert not first.ended
    assert setup.pool.waitingCount(BACKEND) == 0


def test_waitingClientGoneLeavesQueue() -> None:
    """A client that goes away while waiting leaves the queue."""
    setup = Setup(maxActive=1)
    setup.request()
    second = setup.request()
    assert setup.pool.waitingCount(BACKEND) == 1
    second.lose(Failure(ConnectionError()))
    assert setup.pool.waitingCount(BACKEND) == 0
    protocol, _transport = setup.connect()
    protocol.dataReceived(OK)
    setup.reactor.advance(0)
    assert setup.pool.activeCount(BACKEND) == 0
    assert len(setup.reactor.tcpClients) == 1


def test_failedConnectionGivesPlaceBack() -> None:
    """A connection that cannot be made gives its place to the next request."""
    setup = Setup(maxActive=1)
    first = setup.request()
    second = setup.request()
    factory = setup.reactor.tcpClients[0][2]
    factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))
    assert first.code == 502
    setup.reactor.advance(0)
    assert len(setup.reactor.tcpClients) == 2
    protocol, _transport = setup.connect()
    protocol.dataReceived(OK)
    assert second.code == 200


def test_closedConnectionGivesPlaceBack() -> None:
    """
    A connection that closes (a client gone mid-response) gives its place
    back, and the next request makes a new connection.
    """
    setup = Setup(maxActive=1)
    first = setup.request()
    second = setup.request()
    protocol, _transport = setup.connect()
    protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
    first.lose(Failure(ConnectionError()))
    setup.reactor.advance(0)
    assert len(setup.reactor.tcpClients) == 2
    protocol, _transport = setup.connect()
    protocol.dataReceived(OK)
    assert second.code == 200
    assert setup.pool.activeCount(BACKEND) == 0
