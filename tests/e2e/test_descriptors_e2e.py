"""
End-to-end tests of the server's file descriptors: a real
C{twistd -n web-re --path DIR} keeps no descriptor open once a request is
answered, whatever the request (files, directories with and without their
slash, listings, 404s, ranges, downloads given up half-way, CGI programs,
resource scripts); and, run with a low C{RLIMIT_NOFILE} and its descriptors
all taken by idle connections, it answers 503 with C{Retry-After} (never 404
for a file that is there, never 500 for a CGI program that is fine), logs
each, and serves normally again as soon as descriptors are free.

The server's descriptors are counted in C{/proc/PID/fd} (the tests are
skipped where there is none).  Only 127.0.0.1 is ever a target, every socket
has a timeout, every wait a deadline, and the server is stopped (killed if
need be) when each test ends.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import freePort

REPO = Path(__file__).resolve().parent.parent.parent
LOOPBACK = "127.0.0.1"

#: Seconds the server may take to listen, and to stop.
START_DEADLINE = 20.0
#: Seconds one exchange may take.
TIMEOUT = 10.0
#: Seconds the server may take to close what finished requests left open.
SETTLE_DEADLINE = 20.0

#: The descriptors the server may have, in the exhaustion test: enough to
#: start and listen, few enough to take them all with idle connections.
LOW_LIMIT = 64

#: twistd run by this interpreter, its soft C{RLIMIT_NOFILE} first lowered to
#: the number given as its first argument (0: left alone).
TWISTD = [
    sys.executable,
    "-c",
    "import resource, sys\n"
    "limit = int(sys.argv.pop(1))\n"
    "if limit:\n"
    "    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]\n"
    "    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))\n"
    "from twisted.scripts.twistd import run\n"
    "sys.argv[0] = 'twistd'\n"
    "run()\n",
]

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="needs /proc/PID/fd to count"
)

RPY = """\
from twisted_web_re import resource


class Page(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"from the script"


resource = Page()
"""

CGI = b"""#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "from the program"
"""

#: The large file's size: far more than the socket buffers hold, so that a
#: client reading a little of it leaves the server in the middle.
LARGE = 16 * 1024 * 1024


def makeSite(directory: Path) -> Path:
    """
    Write the site: a small and a large file, a directory with files (listed,
    having no index page), a resource script and a CGI program.
    """
    directory.mkdir()
    (directory / "small.txt").write_bytes(b"0123456789" * 10)
    with (directory / "large.bin").open("wb") as large:
        large.truncate(LARGE)
    sub = directory / "somedir"
    sub.mkdir()
    for name in ("a.txt", "b.html", "c.bin"):
        (sub / name).write_bytes(b"x")
    (directory / "script.rpy").write_text(RPY)
    (directory / "run.cgi").write_bytes(CGI)
    (directory / "run.cgi").chmod(0o755)
    return directory


@dataclass
class Server:
    """
    A running C{twistd web-re}.

    @ivar process: the process.
    @ivar port: the port it listens on, on 127.0.0.1.
    @ivar output: the file its log goes to.
    """

    process: subprocess.Popen[bytes]
    port: int
    output: Path

    def log(self) -> str:
        """Everything it logged so far."""
        return self.output.read_bytes().decode("utf-8", "replace")

    def descriptors(self) -> int:
        """How many descriptors it has open."""
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[int], Server]]:
    """
    A function starting C{twistd -n web-re --path SITE} with the given
    descriptor limit (0: the usual one), and waiting until it listens; the
    server is stopped when the test ends.
    """
    site = makeSite(tmp_path / "site")
    servers: list[Server] = []

    def start(limit: int) -> Server:
        port = freePort()
        output = tmp_path / f"server-{len(servers)}.log"
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
        )
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [
                    *TWISTD,
                    str(limit),
                    "--nodaemon",
                    "--pidfile=",
                    "--logfile=-",
                    "web-re",
                    "--listen",
                    f"tcp:{port}:interface={LOOPBACK}",
                    "--path",
                    str(site),
                ],
                cwd=tmp_path,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        server = Server(process, port, output)
        servers.append(server)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited:\n{server.log()}")
            try:
                with socket.create_connection((LOOPBACK, port), timeout=1.0):
                    return server
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"server did not listen:\n{server.log()}")
                time.sleep(0.1)

    try:
        yield start
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
                try:
                    server.process.wait(timeout=START_DEADLINE)
                except subprocess.TimeoutExpired:
                    server.process.kill()
                    server.process.wait(timeout=START_DEADLINE)


#: (method, target, request header fields, expected status) for every kind of
#: request the leak test makes; each on its own connection.
KINDS: list[tuple[str, str, dict[str, str], int]] = [
    ("GET", "/small.txt", {}, 200),
    ("HEAD", "/small.txt", {}, 200),
    ("GET", "/somedir", {}, 301),
    ("GET", "/somedir/", {}, 200),
    ("GET", "/missing", {}, 404),
    ("GET", "/somedir/missing.txt", {}, 404),
    ("GET", "/small.txt", {"Range": "bytes=2-5"}, 206),
    ("GET", "/large.bin", {"Range": "bytes=0-9,1000-1999"}, 206),
    ("GET", "/large.bin", {"Range": "bytes=5000000-5000100"}, 206),
    ("GET", "/small.txt", {"If-None-Match": "*"}, 304),
    ("GET", "/run.cgi", {}, 200),
    ("GET", "/script.rpy", {}, 200),
]


def exchange(
    port: int, method: str, target: str, headers: dict[str, str]
) -> tuple[int, bytes]:
    """Make one request on a new connection, read the answer, and close."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=TIMEOUT)
    try:
        connection.request(method, target, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def abortDownload(port: int) -> None:
    """Ask for the large file, read a little of it, and hang up."""
    with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET /large.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        received = 0
        while received < 128 * 1024:
            piece = sock.recv(65536)
            if not piece:
                break
            received += len(piece)
        # An RST rather than a FIN: the client is gone, not half-closed.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def oneOfEach(port: int) -> None:
    """Make every kind of request once, and give up one download."""
    for method, target, headers, status in KINDS:
        got, _ = exchange(port, method, target, headers)
        assert got == status, (method, target, headers)
    abortDownload(port)


def openFiles(server: Server) -> list[str]:
    """What the server's descriptors are open on, for a failure message."""
    directory = f"/proc/{server.process.pid}/fd"
    found = []
    for fd in os.listdir(directory):
        try:
            found.append(os.readlink(f"{directory}/{fd}"))
        except OSError:
            continue
    return sorted(found)


def settled(server: Server, ceiling: int) -> int:
    """
    Wait until the server has at most C{ceiling} descriptors open (it closes
    those of connections the clients closed once it reads their end), or the
    deadline passes; return the count then.
    """
    deadline = time.monotonic() + SETTLE_DEADLINE
    count = server.descriptors()
    while count > ceiling and time.monotonic() < deadline:
        time.sleep(0.1)
        count = server.descriptors()
    return count


def test_noDescriptorLeaks(serve: Callable[[int], Server]) -> None:
    """
    Once every request is answered, the server has exactly as many
    descriptors open as before, whatever the requests were: a hundred for a
    directory without its slash (the redirect once leaked one each), files
    whole, in ranges and conditional, listings, 404s, downloads of a large
    file given up half-way, CGI programs and resource scripts.

    A first round of every kind comes before the count, so that what the
    server opens once and keeps (modules imported on first use) is not
    counted as a leak; no other slack is allowed.
    """
    server = serve(0)
    oneOfEach(server.port)
    # The warm-up's connections are closed by the client; wait until the
    # server has closed its ends too, and the count holds still.
    before = server.descriptors()
    for _ in range(10):
        time.sleep(0.2)
        before = min(before, server.descriptors())

    for _ in range(100):
        assert exchange(server.port, "GET", "/somedir", {})[0] == 301
    for _ in range(10):
        oneOfEach(server.port)

    after = settled(server, before)
    assert after <= before, (after - before, openFiles(server))
    assert "Traceback" not in server.log()


def test_outOfDescriptors(serve: Callable[[int], Server]) -> None:
    """
    With its descriptors all taken by idle connections, the server answers a
    file, a listing, a resource script and a CGI program with 503 and
    C{Retry-After} (not 404, not 500), one log line each; once the
    connections go, it serves them all again.
    """
    server = serve(LOW_LIMIT)
    probe = http.client.HTTPConnection(LOOPBACK, server.port, timeout=TIMEOUT)
    holders: list[socket.socket] = []
    try:
        targets = ["/small.txt", "/somedir/", "/script.rpy", "/run.cgi"]

        def statuses() -> list[tuple[int, str | None]]:
            answers = []
            for target in targets:
                probe.request("GET", target)
                response = probe.getresponse()
                response.read()
                answers.append((response.status, response.getheader("Retry-After")))
            return answers

        # Everything the server loads on first use is loaded now.
        assert statuses() == [(200, None)] * len(targets)

        # Take every descriptor the server has left, one connection at a
        # time, each accepted before the next is made (a connection the
        # server cannot accept would stay in the listen queue, and the server
        # would retry it on every turn of its loop).
        for _ in range(LOW_LIMIT):
            count = server.descriptors()
            if count >= LOW_LIMIT:
                break
            holders.append(socket.create_connection((LOOPBACK, server.port), 5.0))
            deadline = time.monotonic() + SETTLE_DEADLINE
            while server.descriptors() <= count:
                assert time.monotonic() < deadline, "connection not accepted"
                time.sleep(0.01)
        assert server.descriptors() == LOW_LIMIT

        answers = statuses()
        assert [status for status, _ in answers] == [503] * len(targets), answers
        assert all(retry is not None and int(retry) > 0 for _, retry in answers)
        log = server.log()
        assert log.count("(answered 503)") == len(targets), log
        assert log.count("Too many open files") == len(targets), log

        for holder in holders:
            holder.close()
        holders.clear()
        settled(server, LOW_LIMIT - 10)
        assert statuses() == [(200, None)] * len(targets)
        assert "Traceback" not in server.log()
    finally:
        probe.close()
        for holder in holders:
            holder.close()
