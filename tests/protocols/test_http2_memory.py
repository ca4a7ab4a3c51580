"""
Memory with many concurrent streams of a large file: a real L{server.Site}
with a L{static.File} served through L{HTTP2Connection} to a client that
does not read, then reads slowly.  What the server holds stays bounded by
C{h2StreamBuffer} per stream plus a constant, and every body arrives whole.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from _h2client import H2Client, SendBufferTransport
from h2.events import DataReceived, StreamEnded, StreamReset
from twisted.internet.task import Clock

from twisted_web_re import server, static
from twisted_web_re._files.producer import BLOCK_SIZE
from twisted_web_re._wire.limits import DEFAULT_LIMITS

#: The file's size: a few MiB.
FILE_SIZE = 2 * 1024 * 1024 + 12345

#: Streams opened at once: the default concurrent-stream limit.
STREAMS = DEFAULT_LIMITS.h2MaxConcurrentStreams


class _Reader:
    """
    Drives the client side by hand: reads what the server wrote, a given
    amount at a time, opening the windows (or not) for what it read, and
    keeps each body's digest rather than the body.
    """

    def __init__(self, h2: H2Client, transport: SendBufferTransport) -> None:
        self.h2 = h2
        self.transport = transport
        self.digests: dict[int, hashlib._Hash] = {}
        self.received: dict[int, int] = {}
        self.unacknowledged: dict[int, int] = {}
        self.ended: set[int] = set()
        self.reset: set[int] = set()
        self.peakHeld = 0

    def held(self) -> int:
        """
        What the server holds for the client: response data held for the
        windows, and written to the transport but not read.
        """
        flow = self.h2.server.flow
        return sum(flow.held(s) for s in self.digests) + self.transport.unsent

    def step(self, readSize: int, acknowledge: bool, elapse: float) -> None:
        """One reactor turn on the server, then one read by the client."""
        self.h2.clock.advance(elapse)
        self.peakHeld = max(self.peakHeld, self.held())
        client = self.h2.client
        for event in client.receive_data(self.transport.read(readSize)):
            if isinstance(event, DataReceived):
                sid = event.stream_id
                self.digests[sid].update(event.data)
                self.received[sid] += len(event.data)
                self.unacknowledged[sid] += event.flow_controlled_length
            elif isinstance(event, StreamEnded):
                self.ended.add(event.stream_id)
            elif isinstance(event, StreamReset):
                self.reset.add(event.stream_id)
        if acknowledge:
            for sid, size in self.unacknowledged.items():
                if size:
                    client.acknowledge_received_data(size, sid)
                self.unacknowledged[sid] = 0
        out = client.data_to_send()
        if out:
            self.h2.server.dataReceived(out)
        self.peakHeld = max(self.peakHeld, self.held())


def test_hundredStreamsOfALargeFileStayBounded(tmp_path: Path) -> None:
    """
    A hundred streams of a large static file to a client that never opens
    its windows: the server holds no more than C{h2StreamBuffer} per stream
    plus a constant (each file producer is paused), and sends no more than
    the client's connection window.  Once the client reads, slowly, every
    body arrives complete, byte for byte, with the same bound.
    """
    content = os.urandom(FILE_SIZE)
    (tmp_path / "big.bin").write_bytes(content)
    expected = hashlib.sha256(content).hexdigest()
    site = server.Site(static.File(str(tmp_path)), reactor=Clock())
    transport = SendBufferTransport()
    h2 = H2Client(site.requestFactory, site=site, transport=transport)
    client = h2.client
    reader = _Reader(h2, transport)
    for _ in range(STREAMS):
        sid = client.get_next_available_stream_id()
        client.send_headers(
            sid,
            [
                (b":method", b"GET"),
                (b":scheme", b"https"),
                (b":path", b"/big.bin"),
                (b":authority", b"example.com"),
            ],
            end_stream=True,
        )
        reader.digests[sid] = hashlib.sha256()
        reader.received[sid] = 0
        reader.unacknowledged[sid] = 0
    h2.server.dataReceived(client.data_to_send())

    # The client reads its socket, but never opens a window: 20 s.
    for _ in range(200):
        reader.step(1 << 20, acknowledge=False, elapse=0.1)
    assert sum(reader.received.values()) <= 65535
    assert reader.ended == set() and reader.reset == set()
    bound = STREAMS * DEFAULT_LIMITS.h2StreamBuffer + 2 * BLOCK_SIZE
    assert reader.peakHeld <= bound

    # Now it reads, 64 KiB a turn, opening the windows as it reads (and the
    # connection's by 1 MiB, so that a turn's read is not a window's wait).
    client.increment_flow_control_window(1 << 20)
    for _ in range(STREAMS * FILE_SIZE // 65536 * 3):
        reader.step(65536, acknowledge=True, elapse=0.001)
        if len(reader.ended) == STREAMS:
            break
    assert reader.reset == set()
    assert reader.ended == set(reader.digests)
    assert set(reader.received.values()) == {FILE_SIZE}
    assert {d.hexdigest() for d in reader.digests.values()} == {expected}
    assert reader.peakHeld <= bound
    assert h2.server._streams == {}
