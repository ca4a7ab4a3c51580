"""
End-to-end test: a client that pipelines thousands of requests for a large
file and reads nothing, against a real C{twistd -n web-re --path} server.

Only 127.0.0.1 is ever connected to; every loop is bounded by a deadline, and
the server is killed when the test ends.
"""

from __future__ import annotations

import http.client
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import _servers
import pytest

#: Requests the greedy client pipelines in one write.
COUNT = 2000

#: The pages it asks for, in turn: about 50 KB each, each its own size, so
#: that every response can be told from the one before and after it.
PAGES = {f"/p{k}.html": bytes([0x61 + k]) * (50 * 1024 + 997 * k) for k in range(3)}

#: Seconds the greedy client sends without reading, while memory is watched.
STALL_SECONDS = 3.0

#: How much the server may grow meanwhile.
MAX_GROWTH = 30 * 1024 * 1024

#: Seconds the greedy client then has to read every response.
READ_DEADLINE = 120.0


def _rss(pid: int) -> int:
    """The resident memory of process C{pid}, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _get(port: int, path: str) -> tuple[int, bytes]:
    """One request on its own connection: its status and body."""
    connection = http.client.HTTPConnection(_servers.LOOPBACK, port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _responses(buffer: bytearray) -> Iterator[tuple[int, bytes]]:
    """
    Take every whole response off the front of C{buffer}: yield the status
    and body of each (all are framed by C{Content-Length}).
    """
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(buffer[:end]).split(b"\r\n")
        length = 0
        for line in head[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(buffer) < end + 4 + length:
            return
        body = bytes(buffer[end + 4 : end + 4 + length])
        del buffer[: end + 4 + length]
        yield int(head[0].split()[1]), body


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_servers.Server]:
    """C{twistd -n web-re --path} serving L{PAGES}."""
    site = tmp_path / "site"
    site.mkdir()
    for path, content in PAGES.items():
        (site / path.lstrip("/")).write_bytes(content)
    running = _servers.startWebRe(tmp_path, "--path", str(site))
    try:
        yield running
    finally:
        _servers.stopServer(running)


def test_clientNotReadingDoesNotGrowServerMemory(server: _servers.Server) -> None:
    """
    A client that pipelines thousands of requests for a 50 KB file in one
    write and reads nothing does not make the server's memory grow by more
    than a few megabytes: the server answers only as much as the client reads.
    Meanwhile another client is served as usual, and when the first client
    finally reads, it gets every response, in order.
    """
    paths = list(PAGES)
    order = [paths[i % len(paths)] for i in range(COUNT)]
    for path in paths:
        assert _get(server.port, path) == (200, PAGES[path])
    baseline = _rss(server.process.pid)

    greedy = socket.create_connection((_servers.LOOPBACK, server.port))
    greedy.setblocking(False)
    try:
        pending = memoryview(
            b"".join(
                b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % p.encode()
                for p in order
            )
        )
        peak = baseline
        stallEnd = time.monotonic() + STALL_SECONDS
        while time.monotonic() < stallEnd:
            if pending:
                try:
                    pending = pending[greedy.send(pending) :]
                except BlockingIOError:
                    pass
            peak = max(peak, _rss(server.process.pid))
            time.sleep(0.05)

        assert _get(server.port, paths[1]) == (200, PAGES[paths[1]])
        peak = max(peak, _rss(server.process.pid))
        assert peak - baseline < MAX_GROWTH, (
            f"server grew from {baseline >> 20} MiB to {peak >> 20} MiB"
        )

        received: list[tuple[int, bytes]] = []
        buffer = bytearray()
        deadline = time.monotonic() + READ_DEADLINE
        while len(received) < COUNT and time.monotonic() < deadline:
            writers = [greedy] if pending else []
            readable, writable, _ = select.select([greedy], writers, [], 1.0)
            if writable:
                pending = pending[greedy.send(pending) :]
            if readable:
                data = greedy.recv(1 << 20)
                if not data:
                    break
                buffer += data
                received.extend(_responses(buffer))
    finally:
        greedy.close()
    assert len(received) == COUNT
    assert all(status == 200 for status, _ in received)
    wrong = [i for i, (_, body) in enumerate(received) if body != PAGES[order[i]]]
    assert wrong[:10] == []
