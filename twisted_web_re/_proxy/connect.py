"""
C{CONNECT} for the forward proxy (RFC 9110 section 9.3.6): a tunnel from
the client's connection to a host and port, only to those a user allows
(an open tunnelling proxy is abused to reach anything from its address).

Once the target's TCP connection is made the client is answered C{200}, and
from then on each connection carries the other's bytes unchanged, each
pausing the other when it cannot keep up, until either closes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from twisted.internet.interfaces import (
    IConnector,
    IConsumer,
    IPushProducer,
    IReactorTCP,
    ITransport,
)
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.logger import Logger
from twisted.python.failure import Failure

from twisted_web_re._proxy.pages import answerFailure
from twisted_web_re._proxy.request import ProxiedRequest, switcher
from twisted_web_re._proxy.upstream import UpstreamError, connectFailure

_log = Logger()

#: The reason phrase of the answer that opens a tunnel.
ESTABLISHED = b"Connection Established"


class ConnectAllowList:
    """
    The targets a forward proxy tunnels to: a C{CONNECT} is allowed when
    both its host and its port are listed.

    @ivar hosts: host names (compared without regard to case) and addresses
        (IPv6 ones without brackets).
    @ivar ports: port numbers; by default only 443 (HTTPS), as most proxies.
    """

    def __init__(self, hosts: Iterable[str], ports: Iterable[int] = (443,)) -> None:
        """
        @raise ValueError: no host or no port is given, or a port is out of
            range.
        """
        self.hosts = frozenset(host.strip("[]").lower() for host in hosts)
        self.ports = frozenset(ports)
        if not self.hosts or not self.ports:
            raise ValueError("a CONNECT allow-list needs at least one host and port")
        for port in self.ports:
            if not 0 < port < 65536:
                raise ValueError(f"invalid port {port!r} in a CONNECT allow-list")

    def __repr__(self) -> str:
        return f"ConnectAllowList({sorted(self.hosts)!r}, {sorted(self.ports)!r})"

    def allows(self, host: str, port: int) -> bool:
        """Whether a tunnel to C{host} and C{port} is allowed."""
        return port in self.ports and host.lower() in self.hosts


def connectTarget(target: bytes) -> tuple[str, int] | None:
    """
    The host and port of a C{CONNECT} request-target (authority-form,
    C{host:port}, RFC 9112 section 3.2.3), or C{None} when it is not one.
    """
    host, sep, port = target.rpartition(b":")
    if not sep or not host or not port.isdigit() or len(port) > 5:
        return None
    if host[:1] == b"[":
        if host[-1:] != b"]":
            return None
        host = host[1:-1]
    number = int(port)
    if not host.isascii() or not 0 < number < 65536:
        return None
    return host.decode("ascii"), number


class _Transport(ITransport, IConsumer, IPushProducer):
    """A connection's transport, which takes bytes and can be paused."""


class _ClientEnd(Protocol):
    """The client's end of a tunnel, given the client's connection."""

    def __init__(self, backend: _BackendEnd) -> None:
        self._backend = backend

    def connectionMade(self) -> None:
        """Join the two connections, each pacing the other."""
        # Both are TCP or TLS transports: consumers and push producers.
        client = cast(_Transport, self.transport)
        backend = cast(_Transport, self._backend.transport)
        client.registerProducer(backend, True)
        backend.registerProducer(client, True)

    def dataReceived(self, data: bytes) -> None:
        """The client sent bytes: pass them to the target."""
        backend = self._backend.transport
        if backend is not None:
            backend.write(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        """The client went away: close the target's side once it is sent."""
        backend = self._backend.transport
        if backend is not None:
            backend.loseConnection()


class _BackendEnd(Protocol):
    """The target's end of a tunnel, reporting to its L{ConnectTunnel}."""

    client: _ClientEnd | None = None

    def __init__(self, tunnel: ConnectTunnel) -> None:
        self._tunnel = tunnel

    def connectionMade(self) -> None:
        """The target accepted the connection: open the tunnel."""
        self._tunnel.connected(self)

    def dataReceived(self, data: bytes) -> None:
        """The target sent bytes: pass them to the client."""
        client = self.client
        if client is not None and client.transport is not None:
            client.transport.write(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        """The target closed: close the client's side once it is sent."""
        client = self.client
        if client is not None and client.transport is not None:
            client.transport.loseConnection()


class _Connecting(ClientFactory):
    """Makes the one connection of a L{ConnectTunnel}, or reports why not."""

    def __init__(self, tunnel: ConnectTunnel) -> None:
        self._tunnel = tunnel

    def buildProtocol(self, addr: object) -> Protocol:
        return _BackendEnd(self._tunnel)

    def clientConnectionFailed(self, connector: object, reason: Failure) -> None:
        self._tunnel.failed(connectFailure(reason))


class ConnectTunnel:
    """
    One C{CONNECT} request: connect to the target, then answer C{200} and
    hand the client's connection over to the tunnel; 502 or 504 (and a log
    line) when the target cannot be reached.

    @ivar request: the client's request.
    @ivar host: the target's host.
    @ivar port: the target's port.
    """

    def __init__(self, request: ProxiedRequest, host: str, port: int) -> None:
        self.request = request
        self.host = host
        self.port = port
        self._connector: IConnector | None = None
        self._gone = False

    @property
    def name(self) -> str:
        """The target, as C{host:port}, for pages and logs."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def start(self, reactor: IReactorTCP, timeout: float) -> None:
        """
        Connect to the target.

        @param timeout: seconds to connect (a 504 beyond).
        """
        self.request.notifyFinish().addErrback(self._clientGone)
        self._connector = reactor.connectTCP(
            self.host, self.port, _Connecting(self), timeout=timeout
        )

    def _clientGone(self, reason: Failure) -> None:
        self._gone = True
        connector, self._connector = self._connector, None
        if connector is not None:
            connector.disconnect()

    def connected(self, backend: _BackendEnd) -> None:
        """The target accepted: answer C{200} and join the connections."""
        self._connector = None
        stream = switcher(self.request)
        if self._gone or stream is None:
            assert backend.transport is not None
            backend.transport.loseConnection()
            return
        request = self.request
        request.setResponseCode(200, ESTABLISHED)
        client = backend.client = _ClientEnd(backend)
        stream.writeHead(200, ESTABLISHED, {}, [])
        stream.switchProtocol(client)

    def failed(self, error: UpstreamError) -> None:
        """The target could not be reached: answer 502 or 504."""
        self._connector = None
        if self._gone:
            return
        _log.warn(
            "Proxy: CONNECT to {target} failed: {error}",
            target=self.name,
            error=str(error),
        )
        answerFailure(self.request, self.name, error)
