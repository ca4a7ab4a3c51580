"""
How a channel ends a connection, over plain TCP or over TLS.

Over TLS the transport is Twisted's L{TLSMemoryBIOProtocol}, a protocol wrapper
that passes any attribute it lacks on to the TCP connection beneath it, so a
half-close asked of it (C{loseWriteConnection}) would shut the TCP connection
under TLS: the response still held by the TLS layer and its C{close_notify}
would never be sent.  And its C{loseConnection} sends C{close_notify} but
then keeps the socket open until the client answers with its own, which a
client need not ever do: each such connection would be held forever.
"""

from __future__ import annotations

from typing import Any

from OpenSSL.SSL import SENT_SHUTDOWN
from twisted.protocols.tls import TLSMemoryBIOProtocol


def closeWhenSent(transport: Any) -> None:
    """
    Close C{transport} once everything written to it has been sent.

    Over TLS, C{close_notify} is sent after the data, and the connection is
    then closed without waiting for the client's C{close_notify}: RFC 8446
    section 6.1 (and RFC 5246 section 7.2.1 before it) lets the side that
    closes first close at once.

    @param transport: the connection's transport.
    """
    transport.loseConnection()
    if isinstance(transport, TLSMemoryBIOProtocol):
        handle = transport.getHandle()
        # Only once close_notify has gone to the TCP connection: before the
        # handshake ends, the TLS layer aborts by itself.
        if handle is not None and handle.get_shutdown() & SENT_SHUTDOWN:
            transport.transport.loseConnection()  # type: ignore[union-attr]


def stopWriting(transport: Any) -> bool:
    """
    End C{transport}'s output once everything written has been sent, but go on
    reading what the client sends, so that the client reads the response
    rather than a reset.

    Over plain TCP that is a half-close.  Over TLS it is C{close_notify}: the
    TLS layer then reads on until the client answers with its own, and closes.

    @param transport: the connection's transport.
    @return: C{True} if output is ending and input still read, so the caller
        must close the connection itself later if the client does not;
        C{False} if C{transport} can do neither, and nothing was done.
    """
    if isinstance(transport, TLSMemoryBIOProtocol):
        transport.loseConnection()
        return True
    loseWrite = getattr(transport, "loseWriteConnection", None)
    if loseWrite is None:
        return False
    loseWrite()
    return True
