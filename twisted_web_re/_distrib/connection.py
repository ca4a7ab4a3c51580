"""
L{PublisherConnection}: a front server's connection to one personal server,
made when a request first needs it and made again after it is lost (the
personal server restarted, say), so that no one has to restart the front.
"""

from __future__ import annotations

from twisted.internet.defer import Deferred
from twisted.internet.endpoints import TCP4ClientEndpoint, UNIXClientEndpoint
from twisted.internet.interfaces import IStreamClientEndpoint
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb

from twisted_web_re._distrib.jellying import clientFactory
from twisted_web_re._distrib.limits import CONNECT_TIMEOUT

_log = Logger()


def endpointFor(reactor: object, host: str, port: int | str) -> IStreamClientEndpoint:
    """
    @param reactor: the reactor to connect with.
    @param host: a host name or address, or C{"unix"}.
    @param port: a TCP port, or with C{host == "unix"} a socket's path.
    @return: the endpoint twisted.web's C{ResourceSubscription(host, port)}
        names.
    """
    if host == "unix":
        return UNIXClientEndpoint(reactor, str(port), timeout=CONNECT_TIMEOUT)
    return TCP4ClientEndpoint(reactor, host, int(port), timeout=CONNECT_TIMEOUT)


class PublisherConnection:
    """
    The root object of one personal server, connected on demand.

    @ivar endpoint: where the personal server listens.
    @ivar where: that place, as the log names it.
    """

    def __init__(self, endpoint: IStreamClientEndpoint, where: str = "") -> None:
        """
        @param endpoint: where the personal server listens.
        @param where: that place, as the log names it; the endpoint's
            C{repr} by default.
        """
        self.endpoint = endpoint
        self.where = where or repr(endpoint)
        self._root: pb.RemoteReference | None = None
        self._waiting: list[Deferred[pb.RemoteReference]] = []
        self._broker: pb.Broker | None = None

    def getPublisher(self) -> Deferred[pb.RemoteReference]:
        """
        @return: a Deferred firing with the personal server's root, connecting
            first if there is no connection; it fails if none can be made.
        """
        if self._root is not None:
            d: Deferred[pb.RemoteReference] = Deferred()
            d.callback(self._root)
            return d
        d = Deferred()
        self._waiting.append(d)
        if len(self._waiting) == 1:
            self._connect()
        return d

    def disconnect(self) -> None:
        """Drop the connection, if there is one (it is remade when needed)."""
        broker, self._broker = self._broker, None
        self._root = None
        if broker is not None and broker.transport is not None:
            broker.transport.loseConnection()

    def _connect(self) -> None:
        factory = clientFactory()
        try:
            connecting = self.endpoint.connect(factory)
        except Exception:
            self._settle(Failure())
            return

        def connected(broker: object) -> Deferred[pb.RemoteReference]:
            self._broker = broker  # type: ignore[assignment]
            root: Deferred[pb.RemoteReference] = factory.getRootObject()
            return root

        rooted: Deferred[pb.RemoteReference] = connecting.addCallback(connected)
        rooted.addCallbacks(self._gotRoot, self._settle)

    def _gotRoot(self, root: pb.RemoteReference) -> None:
        _log.info("connected to personal server at {where}", where=self.where)
        self._root = root
        root.notifyOnDisconnect(self._lost)
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.callback(root)

    def _settle(self, reason: Failure) -> None:
        _log.info(
            "cannot reach the personal server at {where}: {reason}",
            where=self.where,
            reason=reason.getErrorMessage(),
        )
        self._broker = None
        waiting, self._waiting = self._waiting, []
        for d in waiting:
            d.errback(reason)

    def _lost(self, root: pb.RemoteReference) -> None:
        if self._root is root:
            self._root = None
            self._broker = None


__all__ = ["PublisherConnection", "endpointFor"]
