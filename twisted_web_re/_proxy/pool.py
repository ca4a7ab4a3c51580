"""
The connections a proxy keeps to its backends: one bounded set of idle
HTTP/1.1 connections per backend, each closed after a while unused, and new
connections made (over TCP, or TLS with the certificate verified) with a
deadline.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError, TimeoutError
from twisted.internet.interfaces import IDelayedCall, IReactorTCP, IReactorTime
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.logger import Logger
from twisted.protocols.tls import TLSMemoryBIOFactory
from twisted.python.failure import Failure

from twisted_web_re._proxy.tls import clientTLS
from twisted_web_re._proxy.upstream import UpstreamConnection, UpstreamError

_log = Logger()

#: Idle connections kept per backend; more are closed as they become idle.
MAX_IDLE = 16

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

    def __str__(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def authority(self) -> bytes:
        """The C{Host} value naming it: the port left out when the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        if self.port != default:
            host = f"{host}:{self.port}"
        return host.encode("ascii") if host.isascii() else host.encode("idna")


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
        if reason.check(TimeoutError):
            error = UpstreamError("could not connect in time", timeout=True)
        elif reason.check(DNSLookupError):
            error = UpstreamError("host name not found")
        else:
            error = UpstreamError(f"could not connect: {reason.getErrorMessage()}")
        self._ready.errback(error)


class BackendPool:
    """
    Idle connections to backends, for reuse.

    @ivar maxIdle: see L{MAX_IDLE}.
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
    ) -> None:
        """
        @raise ValueError: a limit is not positive.
        """
        if maxIdle < 0 or idleTimeout <= 0 or connectTimeout <= 0:
            raise ValueError(
                f"invalid pool limits: maxIdle={maxIdle!r}, "
                f"idleTimeout={idleTimeout!r}, connectTimeout={connectTimeout!r}"
            )
        self.reactor = reactor
        self.maxIdle = maxIdle
        self.idleTimeout = idleTimeout
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.bodyIdleTimeout = bodyIdleTimeout
        self._idle: dict[Backend, list[UpstreamConnection]] = {}
        self._timers: dict[UpstreamConnection, IDelayedCall] = {}

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

    def acquire(self, backend: Backend) -> tuple[UpstreamConnection | None, bool]:
        """
        Take an idle connection to C{backend}, most recently used first.

        @return: C{(connection, True)}, or C{(None, False)} when none is idle
            (then call L{connect}).
        """
        idle = self._idle.get(backend)
        while idle:
            connection = idle.pop()
            timer = self._timers.pop(connection, None)
            if timer is not None and timer.active():
                timer.cancel()
            if connection.idle:
                return connection, True
        return None, False

    def connect(self, backend: Backend) -> Deferred[UpstreamConnection]:
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
        idle = self._idle.setdefault(backend, [])
        if len(idle) >= self.maxIdle:
            connection.loseConnection()
            return
        idle.append(connection)
        reactor: IReactorTime = self.reactor  # type: ignore[assignment]
        self._timers[connection] = reactor.callLater(
            self.idleTimeout, self._expire, backend, connection
        )

    def _expire(self, backend: Backend, connection: UpstreamConnection) -> None:
        self._timers.pop(connection, None)
        self._forget(backend, connection)
        connection.loseConnection()

    def _forget(self, backend: Backend, connection: UpstreamConnection) -> None:
        idle = self._idle.get(backend)
        if idle and connection in idle:
            idle.remove(connection)
        timer = self._timers.pop(connection, None)
        if timer is not None and timer.active():
            timer.cancel()

    def closeIdle(self) -> None:
        """Close every idle connection (at shutdown)."""
        for backend, idle in list(self._idle.items()):
            for connection in list(idle):
                self._forget(backend, connection)
                connection.loseConnection()
        self._idle.clear()


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
