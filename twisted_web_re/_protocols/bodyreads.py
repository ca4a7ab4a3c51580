"""
Wider reads while a large request body arrives.

Twisted's TCP transport reads at most C{bufferSize} bytes (64 KiB) per
C{recv}, and the kernel's receive buffer, autotuned from a small start, seldom
holds more: a 50 MiB upload costs some 800 trips through the reactor, the
channel and the request, each with its own write to the body's file.  While a
body of a known, large length arrives, the transport reads L{WIDE_READ} bytes
at a time, and the socket may queue L{WIDE_RCVBUF} bytes for it; both go back
to what they were before the last L{WIDE_READ} bytes of the body, so no read
ever takes more past the body's end than an ordinary one would.

Only a plain TCP (or UNIX) connection's transport is widened: over TLS the
records are decrypted in pieces of their own size whatever the read size.
"""

from __future__ import annotations

import socket

from twisted.internet.interfaces import ITransport
from twisted.internet.tcp import Connection

#: Bytes read per C{recv} while a large body arrives.  Each read is one
#: C{bytes} object this large at most, and the body's limits and the channel's
#: pausing still bound what is read.
WIDE_READ = 256 * 1024

#: The receive buffer asked of the kernel while a large body arrives (it
#: accounts twice this, for its own overhead), within C{net.core.rmem_max}.
WIDE_RCVBUF = 1024 * 1024

#: The smallest body, by its C{Content-Length}, for which reads are widened:
#: below it the two system calls that widen and two that narrow cost more than
#: the reads they save.
WIDE_BODY = 1024 * 1024


class WideReads:
    """
    A TCP transport's read size and receive buffer, widened for one large
    body; L{narrow} puts them back.

    @ivar narrowAfter: once this many body bytes have been received, fewer
        than L{WIDE_READ} remain, and the reads must be narrowed.
    """

    __slots__ = ("_bufferSize", "_rcvbuf", "_transport", "narrowAfter")

    def __init__(self, transport: Connection, length: int) -> None:
        """
        @param transport: the connection's transport.
        @param length: the body's length.
        """
        self._transport = transport
        self._bufferSize = transport.bufferSize
        self._rcvbuf: int | None = None
        self.narrowAfter = length - WIDE_READ
        handle = transport.getHandle()
        try:
            self._rcvbuf = handle.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            handle.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, WIDE_RCVBUF)
        except OSError:
            self._rcvbuf = None
        transport.bufferSize = WIDE_READ

    def narrow(self) -> None:
        """
        Read with the transport's own size again, and give the socket back a
        receive buffer of the size it had.
        """
        transport = self._transport
        transport.bufferSize = self._bufferSize
        rcvbuf, self._rcvbuf = self._rcvbuf, None
        if rcvbuf is not None:
            try:
                # The kernel reports twice what was asked of it.
                transport.getHandle().setsockopt(
                    socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf // 2
                )
            except OSError:
                pass


def widenReads(transport: ITransport | None, length: int) -> WideReads | None:
    """
    Widen C{transport}'s reads for a body of C{length} bytes, if it is large
    and the transport a plain TCP or UNIX connection.

    @return: what narrows them again, or C{None} if they were left alone.
    """
    if length < WIDE_BODY or not isinstance(transport, Connection):
        return None
    return WideReads(transport, length)
