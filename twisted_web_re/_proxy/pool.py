"""
The connections a proxy keeps to its backends: per backend, a bounded number
in use (the requests beyond it queued, each with a deadline) and a bounded
set of idle HTTP/1.1 connections, each closed after a while unused; new
connections made (over TCP, or TLS with the certificate verified) with a
deadline.
"""

from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass, field

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IReactorTCP, IReactorTime
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure

from twisted_web_re._proxy.tls import clientTLS
from twisted_web_re._proxy.upstream import (
    UpstreamConnection,
    UpstreamError,
    connectFailure,
)

_log = Logger()

#: Idle connections kept per backend; more are closed as they become idle.
MAX_IDLE = 16

#: Connections in use at once per backend, and being made: requests beyond
#: wait for one to be given back.  nginx's upstreams have no such limit by
#: default (C{max_conns=0}); this one is bounded so that a backend which
#: stalls cannot make the proxy open a connection (and hold a descriptor)
#: for every client waiting on it, and pile more work on the backend.  256
#: is far above what one backend process serves at once.
MAX_ACTIVE = 256

#: Seconds a request may wait for a connection beyond L{MAX_ACTIVE} (a 504
#: beyond).
QUEUE_TIMEOUT = 10.0

#: Seconds an idle connection is kept: less than the usual keep-alive
#: timeouts of servers (nginx 75 s, Apache 5 s is shorter: a connection the
#: backend closed first is noticed, and a safe request retried once).
IDLE_TIMEOUT = 30.0

#: Seconds to make a connection (a 504 beyond).
CONNECT_TIMEOUT = 10.0

#: Seconds from the request's end to the response head (a 504 beyond).
RESPONSE_TIMEOUT = 60.0

#: Seconds the backend may fall silent within a response body.
BODY_IDLE_TIMEOUT = 60.0


@dataclass(frozen=True)
class Backend:
    """
    Where requests are sent.

    @ivar host: the host name or address to connect to.
    @ivar port: the port.
    @ivar tls: connect over TLS, verifying the certificate for C{host}.
    @ivar caFile: with C{tls}, a PEM file of the certificate authorities to
        trust instead of the system's.
    """

    host: str
    port: int
    tls: bool = False
    caFile: str | None = None
    _hash: int = field(init=False, repr=False, compare=False)
    _authority: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A backend is looked up in the pool's tables several times for each
        # request: its hash and Host value are worked out once.
        object.__setattr__(
            self, "_hash", hash((self.host, self.port, self.tls, self.caFile))
        )
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        if self.port != default:
            host = f"{host}:{self.port}"
        authority = host.encode("ascii") if host.isascii() else host.encode("idna")
        object.__setattr__(self, "_authority", authority)

    def __hash__(self) -> int:
        return self._hash

    def __str__(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def authority(self) -> bytes:
        """The C{Host} value naming it: the port left out when the default."""
        return self._authority


class _Connecting(ClientFactory):
    """Makes one L{UpstreamConnection} and reports whether it was made."""

    def __init__(self, pool: BackendPool, ready: Deferred[UpstreamConnection]):
        self._pool = pool
        self._ready = ready

    def buildProtocol(self, addr: object) -> Protocol:
        connection = self._pool.newConnection()
        connection.whenConnected = self._ready
        return connection

    def clientConnectionFailed(self, connector: object, reason: Failure) -> None:
        self._ready.errback(connectFailure(reason))


class _Waiter:
    """A request for a connection, waiting for its turn."""

    __slots__ = ("ready", "reuse", "timer")

    def __init__(self, ready: Deferred[Checkout], reuse: bool) -> None:
        self.ready = ready
        self.reuse = reuse
        self.timer: IDelayedCall | None = None


#: What L{BackendPool.checkout} gives: a connection, and whether it was reused.
Checkout = tuple[UpstreamConnection, bool]


class BackendPool:
    """
    Connections to backends: at most L{maxActive} in use per backend (the
    requests beyond wait their turn, up to L{queueTimeout}), and the idle
    ones kept for reuse.

    @ivar maxIdle: see L{MAX_IDLE}.
    @ivar maxActive: see L{MAX_ACTIVE} (C{None}: no limit).
    @ivar queueTimeout: see L{QUEUE_TIMEOUT}.
    @ivar idleTimeout: see L{IDLE_TIMEOUT}.
    @ivar connectTimeout: see L{CONNECT_TIMEOUT}.
    @ivar responseTimeout: see L{RESPONSE_TIMEOUT}.
    @ivar bodyIdleTimeout: see L{BODY_IDLE_TIMEOUT}.
    """

    def __init__(
        self,
        reactor: IReactorTCP,
        maxIdle: int = MAX_IDLE,
        idleTimeout: float = IDLE_TIMEOUT,
        connectTimeout: float = CONNECT_TIMEOUT,
        responseTimeout: float | None = RESPONSE_TIMEOUT,
        bodyIdleTimeout: float | None = BODY_IDLE_TIMEOUT,
        maxActive: int | None = MAX_ACTIVE,
        queueTimeout: float = QUEUE_TIMEOUT,
    ) -> None:
        """
        @raise ValueError: a limit is not positive.
        """
        if (
            maxIdle < 0
            or idleTimeout <= 0
            or connectTimeout <= 0
            or (maxActive is not None and maxActive < 1)
            or queueTimeout <= 0
        ):
            raise ValueError(
                f"invalid pool limits: maxIdle={maxIdle!r}, "
                f"idleTimeout={idleTimeout!r}, connectTimeout={connectTimeout!r}, "
                f"maxActive={maxActive!r}, queueTimeout={queueTimeout!r}"
            )
        self.reactor = reactor
        self.maxIdle = maxIdle
        self.maxActive = maxActive
        self.queueTimeout = queueTimeout
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.bodyIdleTimeout = bodyIdleTimeout
        # Per backend, the idle connections, the one idle longest first.
        self._idle: dict[Backend, list[UpstreamConnection]] = {}
        self._idleSince: dict[UpstreamConnection, float] = {}
        self._sweeper: IDelayedCall | None = None
        self._active: dict[Backend, int] = {}
        self._busy: dict[UpstreamConnection, Backend] = {}
        self._queues: dict[Backend, deque[_Waiter]] = {}

    def newConnection(self) -> UpstreamConnection:
        """A new, unconnected connection with this pool's timeouts."""
        reactor: IReactorTime = self.reactor  # type: ignore[assignment]
        connection = UpstreamConnection(reactor)
        connection.responseTimeout = self.responseTimeout
        connection.idleTimeout = self.bodyIdleTimeout
        return connection

    def idleCount(self, backend: Backend) -> int:
        """How many idle connections to C{backend} are kept."""
        return len(self._idle.get(backend, ()))

    def activeCount(self, backend: Backend) -> int:
        """How many connections to C{backend} are in use or being made."""
        return self._active.get(backend, 0)

    def waitingCount(self, backend: Backend) -> int:
        """How many requests wait for a connection to C{backend}."""
        return len(self._queues.get(backend, ()))

    def takeIdle(self, backend: Backend) -> UpstreamConnection | None:
        """
        An idle connection to C{backend} for one exchange, at once: the
        synchronous form of L{checkout} when the connection would be reused
        without waiting.

        @return: the connection, or C{None} when none is idle, or the
            request would have to wait its turn (then call L{checkout}).
        """
        # Each table is looked at only when it holds anything: this is the
        # path of every request to a backend with a connection idle.
        if not self._idle.get(backend) or (self._queues and self._queues.get(backend)):
            return None
        active = self._active.get(backend, 0)
        limit = self.maxActive
        if limit is not None and active >= limit:
            return None
        connection = self._takeIdle(backend)
        if connection is None:
            return None
        self._active[backend] = active + 1
        self._busy[connection] = backend
        return connection

    def checkout(self, backend: Backend, reuse: bool = True) -> Deferred[Checkout]:
        """
        A connection to C{backend} for one exchange: an idle one when
        C{reuse} allows and one is idle, else a new one.  Beyond
        L{maxActive} connections in use, the request waits for one to be
        given back, in turn.

        @return: a Deferred firing with C{(connection, reused)}, or failing
            with L{UpstreamError} (a timeout when no connection could be had
            within L{queueTimeout}); cancel it to give up the wait.
        """
        waiter = _Waiter(Deferred(lambda d: self._giveUp(backend, waiter)), reuse)
        queue = self._queues.get(backend)
        limit = self.maxActive
        if not queue and (limit is None or self._active.get(backend, 0) < limit):
            self._serve(backend, waiter)
            return waiter.ready
        if queue is None:
            queue = self._queues[backend] = deque()
        queue.append(waiter)
        reactor: IReactorTime = self.reactor  # type: ignore[assignment]
        waiter.timer = reactor.callLater(
            self.queueTimeout, self._waitedTooLong, backend, waiter
        )
        return waiter.ready

    def _giveUp(self, backend: Backend, waiter: _Waiter) -> None:
        """A waiting request was cancelled: it leaves the queue."""
        queue = self._queues.get(backend)
        if queue is not None and waiter in queue:
            queue.remove(waiter)
        timer, waiter.timer = waiter.timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _waitedTooLong(self, backend: Backend, waiter: _Waiter) -> None:
        waiter.timer = None
        self._giveUp(backend, waiter)
        waiter.ready.errback(
            UpstreamError(
                f"no connection free within {self.queueTimeout} seconds "
                f"({self.maxActive} in use)",
                timeout=True,
            )
        )

    def _serve(self, backend: Backend, waiter: _Waiter) -> None:
        """Take a place for C{waiter}, and give it a connection."""
        self._active[backend] = self._active.get(backend, 0) + 1
        if waiter.reuse:
            connection = self._takeIdle(backend)
            if connection is not None:
                self._busy[connection] = backend
                waiter.ready.callback((connection, True))
                return

        def made(connection: UpstreamConnection) -> None:
            self._busy[connection] = backend
            if waiter.ready.called:
                # Given up while it was being made.
                connection.loseConnection()
            else:
                waiter.ready.callback((connection, False))

        def failed(reason: Failure) -> None:
            self._freed(backend)
            if not waiter.ready.called:
                waiter.ready.errback(reason)

        self._dial(backend).addCallbacks(made, failed)

    def _freed(self, backend: Backend) -> None:
        """A place was given back: the next waiting request may have it."""
        active = self._active[backend] - 1
        if active:
            self._active[backend] = active
        else:
            del self._active[backend]
        if self._queues and self._queues.get(backend):
            reactor: IReactorTime = self.reactor  # type: ignore[assignment]
            reactor.callLater(0, self._next, backend)

    def _next(self, backend: Backend) -> None:
        queue = self._queues.get(backend)
        limit = self.maxActive
        while queue and (limit is None or self._active.get(backend, 0) < limit):
            waiter = queue.popleft()
            timer, waiter.timer = waiter.timer, None
            if timer is not None and timer.active():
                timer.cancel()
            self._serve(backend, waiter)
        if not queue:
            self._queues.pop(backend, None)

    def _takeIdle(self, backend: Backend) -> UpstreamConnection | None:
        """An idle connection to C{backend}, most recently used first."""
        idle = self._idle.get(backend)
        while idle:
            connection = idle.pop()
            del self._idleSince[connection]
            if connection.idle:
                return connection
        return None

    def _dial(self, backend: Backend) -> Deferred[UpstreamConnection]:
        """
        Make a new connection to C{backend}, which goes into the pool when
        an exchange on it ends and it may be reused.

        @return: a Deferred firing with the connection, or failing with
            L{UpstreamError}.
        """
        ready: Deferred[UpstreamConnection] = Deferred()

        def made(connection: UpstreamConnection) -> UpstreamConnection:
            connection.onIdle = lambda c: self._release(backend, c)
            connection.onClosed = lambda c: self._forget(backend, c)
            return connection

        ready.addCallback(made)
        factory: ClientFactory = _Connecting(self, ready)
        if backend.tls:
            factory = TLSMemoryBIOFactory(  # type: ignore[assignment]
                clientTLS(backend.host, backend.caFile), True, factory
            )
        self.reactor.connectTCP(
            backend.host, backend.port, factory, timeout=self.connectTimeout
        )
        return ready

    def _release(self, backend: Backend, connection: UpstreamConnection) -> None:
        """An exchange ended and C{connection} may carry another: keep it."""
        busy = self._busy.pop(connection, None) is not None
        idle = self._idle.get(backend)
        if idle is None:
            idle = self._idle[backend] = []
        if len(idle) >= self.maxIdle:
            connection.loseConnection()
        else:
            idle.append(connection)
            reactor: IReactorTime = self.reactor  # type: ignore[assignment]
            self._idleSince[connection] = reactor.seconds()
            if self._sweeper is None:
                self._sweeper = reactor.callLater(self.idleTimeout, self._sweep)
        if busy:
            self._freed(backend)

    def _sweep(self) -> None:
        """
        Close the connections idle for L{idleTimeout}, and come back when
        the next one will have been: one timer for the whole pool rather
        than one set and cancelled for every exchange.
        """
        self._sweeper = None
        reactor: IReactorTime = self.reactor  # type: ignore[assignment]
        now = reactor.seconds()
        since = self._idleSince
        nextDue: float | None = None
        for backend, idle in list(self._idle.items()):
            while idle:
                due = since[idle[0]] + self.idleTimeout
                if due > now:
                    nextDue = due if nextDue is None else min(nextDue, due)
                    break
                connection = idle.pop(0)
                del since[connection]
                connection.loseConnection()
            if not idle:
                self._idle.pop(backend, None)
        if nextDue is not None:
            self._sweeper = reactor.callLater(nextDue - now, self._sweep)

    def _forget(self, backend: Backend, connection: UpstreamConnection) -> None:
        """C{connection} closed (or is being closed): it is no longer kept."""
        if self._idleSince.pop(connection, None) is not None:
            idle = self._idle.get(backend)
            if idle and connection in idle:
                idle.remove(connection)
        if self._busy.pop(connection, None) is not None:
            self._freed(backend)

    def closeIdle(self) -> None:
        """Close every idle connection (at shutdown)."""
        for backend, idle in list(self._idle.items()):
            for connection in list(idle):
                self._forget(backend, connection)
                connection.loseConnection()
        self._idle.clear()
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()


_shared: weakref.WeakKeyDictionary[object, BackendPool] = weakref.WeakKeyDictionary()


def sharedPool(reactor: IReactorTCP) -> BackendPool:
    """
    The pool every proxy on C{reactor} shares unless given its own; its idle
    connections are closed when the reactor shuts down.
    """
    pool = _shared.get(reactor)
    if pool is None:
        pool = _shared[reactor] = BackendPool(reactor)
        addTrigger = getattr(reactor, "addSystemEventTrigger", None)
        if addTrigger is not None:
            addTrigger("before", "shutdown", pool.closeIdle)
    return pool
