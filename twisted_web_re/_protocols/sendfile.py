"""
Sending a response body straight from a file to the socket (C{os.sendfile}),
driven by the socket's own writability, as nginx does: send until the
kernel's buffer is full, then wait for the reactor to say it has room, and
send again from that event, with no copy of the file through Python.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["MAX_CHUNK", "WAITING", "sendFileRegion"]

#: What L{sendFileRegion} returns when the socket is full: the channel's
#: producer is paused, and is resumed when the socket can take more.
WAITING = -1

#: The most one C{sendfile} call is asked to send.  On loopback the kernel
#: hands the bytes to the receiving socket in the sender's call, so a call
#: asked for a whole large file can hold the reactor for milliseconds while
#: the other connections wait.
MAX_CHUNK = 1024 * 1024


def sendFileRegion(channel: Any, fd: int, offset: int, count: int) -> int:
    """
    Send up to C{count} bytes of C{channel}'s current response body from the
    file open as C{fd}, from C{offset}: for a body framed by its
    C{Content-Length}, once its head is out, on plain TCP with nothing
    queued before them (see C{HTTPChannel.sendFileRegion}).

    When the socket is full, the channel's producer is paused and the
    transport is told to watch for writability, as if its own buffer were
    full: when the socket has room, the transport resumes the channel, which
    resumes the producer, which calls this again.  So a slow client holds no
    more of the file in memory than the kernel's buffer, and the reactor is
    never blocked.

    @param channel: an C{HTTPChannel}.
    @return: the bytes sent, counted as body bytes written; 0 when they
        cannot go this way (the caller writes them instead); L{WAITING}
        when the socket is full.
    """
    out = channel._out
    if not out._direct or out._held is not None:
        return 0
    writer = channel._writer
    allowed = writer.rawAllowance(min(count, MAX_CHUNK))
    if not allowed:
        return 0
    transport = out._transport
    if (
        transport._tempDataLen
        or transport.dataBuffer
        or not transport.connected
        or transport.disconnecting
        or transport._writeDisconnected
    ):
        return 0
    try:
        sent = os.sendfile(transport.fileno(), fd, offset, allowed)
    except BlockingIOError:
        channel.pauseProducing()
        # The transport resumes a paused producer once it has written all
        # it holds, which, holding nothing, it does at its first chance.
        transport.producerPaused = True
        transport.startWriting()
        return WAITING
    except OSError:
        # The connection failed: the transport's next write or read finds
        # out and closes it; until then the caller writes.
        return 0
    if sent:
        writer.sentRaw(sent)
        request = channel._request
        if request is not None:
            request.sentLength = writer.sent
    return sent
