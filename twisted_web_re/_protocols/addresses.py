"""
L{ConnectionAddresses}: what a connection tells its requests about where it
runs (the peer, the local address, whether it is over TLS), each asked of the
transport once.
"""

from __future__ import annotations

from twisted.internet import interfaces
from twisted.internet.interfaces import IAddress, ITransport


class ConnectionAddresses:
    """
    The addresses and security of a protocol's connection, for the streams
    it carries: asked of its transport on first use and kept, since they do
    not change for the connection's life.
    """

    transport: ITransport | None
    _peer: IAddress | None
    _host: IAddress | None
    _secure: bool | None

    def isSecure(self) -> bool:
        """Return whether the connection is over TLS (asked once)."""
        secure = self._secure
        if secure is None:
            # Every TLS transport of Twisted's provides the interface; asking
            # providedBy costs a tenth of adapting, once per connection.
            secure = self._secure = interfaces.ISSLTransport.providedBy(self.transport)
        return secure

    def getPeer(self) -> IAddress:
        """Return the client's address (asked of the transport once)."""
        peer = self._peer
        if peer is None:
            peer = self._peer = self.transport.getPeer()  # type: ignore[union-attr]
        return peer

    def getHost(self) -> IAddress:
        """Return the local address (asked of the transport once)."""
        host = self._host
        if host is None:
            host = self._host = self.transport.getHost()  # type: ignore[union-attr]
        return host
