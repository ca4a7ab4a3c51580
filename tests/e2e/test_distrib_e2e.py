"""
End-to-end tests of the spreadable web: a front C{twistd web-re} and a
personal C{twistd web-re --personal} as two real processes, the personal one
in a temporary home, as the howto runs them.
"""

from __future__ import annotations

import getpass
import hashlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CURL = shutil.which("curl")
REPO = Path(__file__).resolve().parent.parent.parent
LOOPBACK = "127.0.0.1"
START_DEADLINE = 30.0
REQUEST_TIMEOUT = 60.0

TWISTD = [
    sys.executable,
    "-c",
    "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()",
]

#: The personal server's pages: an index, and a resource script that writes
#: part of a response and then waits for ever.
INDEX = b"<h1>my personal pages</h1>"
HALF_RPY = b"""
from twisted_web_re import resource, server

class Half(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        request.write(b"x" * 1000)
        return server.NOT_DONE_YET

resource = Half()
"""
ECHO_RPY = b"""
import hashlib
from twisted_web_re import resource

class Echo(resource.Resource):
    isLeaf = True
    def render_POST(self, request):
        data = request.content.read()
        return b"%d %s" % (len(data), hashlib.sha256(data).hexdigest().encode())

resource = Echo()
"""


def freePort() -> int:
    """@return: a TCP port of 127.0.0.1 free a moment ago."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


class Twistd:
    """One C{twistd -n web-re} process, and its output."""

    def __init__(
        self, args: list[str], cwd: Path, env: dict[str, str], command: str = "web-re"
    ) -> None:
        self.output = cwd / f"twistd-{time.monotonic_ns()}.log"
        environ = dict(os.environ)
        environ["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), str(REPO / "tests" / "e2e"), environ.get("PYTHONPATH", "")]
        )
        environ.update(env)
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [*TWISTD, "-n", "--pidfile=", command, *args],
                cwd=cwd,
                env=environ,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.output.read_text("utf-8", "replace")

    def waitFor(self, ready: object) -> None:
        """Wait until C{ready()} is true, or fail saying what the log says."""
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"twistd exited {self.process.returncode}:\n{self.log()}")
            if ready():  # type: ignore[operator]
                return
            time.sleep(0.1)
        pytest.fail(f"twistd was not ready in {START_DEADLINE}s:\n{self.log()}")

    def kill(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def peakMemory(self) -> int:
        """@return: the process's peak resident memory, in bytes (Linux)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM")


def listening(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=1):
            return True
    except OSError:
        return False


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes, bool]:
    """@return: status, fields, body, and whether the body was cut."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        fields = {k.lower(): v for k, v in answer.getheaders()}
        try:
            return answer.status, fields, answer.read(), False
        except (http.client.IncompleteRead, ConnectionError) as e:
            return answer.status, fields, getattr(e, "partial", b""), True
    finally:
        conn.close()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A temporary home, with the personal server's pages in C{site/}."""
    home = tmp_path / "home"
    (home / "site").mkdir(parents=True)
    (home / "site" / "index.html").write_bytes(INDEX)
    (home / "site" / "half.rpy").write_bytes(HALF_RPY)
    (home / "site" / "echo.rpy").write_bytes(ECHO_RPY)
    (home / "public_html").mkdir()
    (home / "public_html" / "hello.txt").write_bytes(b"static hello")
    return home


@pytest.fixture
def servers() -> Iterator[list[Twistd]]:
    started: list[Twistd] = []
    yield started
    for server in started:
        server.kill()


def startPersonal(home: Path, servers: list[Twistd], *args: str) -> Twistd:
    personal = Twistd(
        ["--personal", "--path", str(home / "site"), *args], home, {"HOME": str(home)}
    )
    servers.append(personal)
    return personal


def test_howtoOverUnixSocket(home: Path, servers: list[Twistd]) -> None:
    """
    The howto's two commands: a personal server in a home publishes on
    C{~/.twistd-web-pb} (owner-only), the C{--user} front lists the user and
    relays C{/<user>.twistd/} to it, and serves C{~/public_html} at
    C{/<user>/}; a personal server killed mid-request leaves the client
    with a cut response, then 502 while it is down; started again (its
    stale socket cleared by the lock file), it is reached again.
    """
    user = getpass.getuser()
    socketPath = home / ".twistd-web-pb"
    personal = startPersonal(home, servers)
    personal.waitFor(socketPath.exists)
    assert socketPath.stat().st_mode & 0o777 == 0o600
    port = freePort()
    front = Twistd(
        [
            "--class",
            "_distribfront.UserRoot",
            "--listen",
            f"tcp:{port}:interface=127.0.0.1",
        ],
        home,
        {"HOME": str(home)},
    )
    servers.append(front)
    front.waitFor(lambda: listening(port))

    status, _, listing, _ = get(port, "/")
    assert status == 200
    assert f'href="{user}.twistd/"'.encode() in listing
    assert f'href="{user}/"'.encode() in listing
    assert b"Test &lt;User&gt; (twistd)" in listing
    assert get(port, f"/{user}/hello.txt")[2] == b"static hello"
    assert get(port, "/nobody-such-user/")[0] == 404
    status, _, body, cut = get(port, f"/{user}.twistd/")
    assert (status, body, cut) == (200, INDEX, False)

    import threading

    outcome: list[tuple[int, dict[str, str], bytes, bool]] = []
    thread = threading.Thread(
        target=lambda: outcome.append(get(port, f"/{user}.twistd/half.rpy")),
        daemon=True,
    )
    thread.start()
    time.sleep(1.5)
    personal.kill(signal.SIGKILL)
    thread.join(REQUEST_TIMEOUT)
    status, _, body, cut = outcome[0]
    assert status == 200 and cut
    assert len(body) <= 1000

    assert get(port, f"/{user}.twistd/")[0] == 502
    assert socketPath.exists()
    restarted = startPersonal(home, servers)
    deadline = time.monotonic() + START_DEADLINE
    while get(port, f"/{user}.twistd/")[0] != 200:
        assert restarted.process.poll() is None, restarted.log()
        assert time.monotonic() < deadline, restarted.log()
        time.sleep(0.2)


def test_overTCPLargeFileFlatMemory(home: Path, servers: list[Twistd]) -> None:
    """
    Over TCP, a 100 MiB file served by the personal server reaches the
    client whole, and neither process's memory grows by anything like it.
    """
    big = home / "site" / "big.bin"
    chunk = os.urandom(1024 * 1024)
    digest = hashlib.sha256()
    with big.open("wb") as f:
        for _ in range(100):
            f.write(chunk)
            digest.update(chunk)
    pbPort, port = freePort(), freePort()
    personal = startPersonal(
        home, servers, "--listen", f"tcp:{pbPort}:interface=127.0.0.1"
    )
    personal.waitFor(lambda: listening(pbPort))
    front = Twistd(
        [
            "--class",
            "_distribfront.TCPRoot",
            "--listen",
            f"tcp:{port}:interface=127.0.0.1",
        ],
        home,
        {"DISTRIB_PORT": str(pbPort)},
    )
    servers.append(front)
    front.waitFor(lambda: listening(port))
    assert get(port, "/me.twistd/")[2] == INDEX
    before = personal.peakMemory(), front.peakMemory()

    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT)
    conn.request("GET", "/me.twistd/big.bin")
    answer = conn.getresponse()
    assert answer.status == 200
    assert answer.getheader("content-length") == str(100 * 1024 * 1024)
    received = hashlib.sha256()
    total = 0
    while True:
        data = answer.read(256 * 1024)
        if not data:
            break
        received.update(data)
        total += len(data)
    conn.close()
    assert total == 100 * 1024 * 1024
    assert received.digest() == digest.digest()
    after = personal.peakMemory(), front.peakMemory()
    for was, now in zip(before, after, strict=True):
        assert now - was < 30 * 1024 * 1024, (before, after)


@pytest.mark.parametrize(
    ("frontCommand", "frontClass", "personalCommand"),
    [
        ("web", "_distribfront.TwistedWebRoot", "web-re"),
        ("web-re", "_distribfront.UnixRoot", "web"),
    ],
)
def test_interoperatesWithTwistedWeb(
    home: Path,
    servers: list[Twistd],
    frontCommand: str,
    frontClass: str,
    personalCommand: str,
) -> None:
    """
    A twisted.web front relays to our personal server, and our front to a
    twisted.web personal server: the wire formats are the same, a page and
    a file of a few MiB arrive whole.
    """
    big = os.urandom(3 * 1024 * 1024 + 1)
    (home / "site" / "big.bin").write_bytes(big)
    socketPath = home / "pb.sock"
    personal = Twistd(
        ["--personal", "--path", str(home / "site"), "--listen", f"unix:{socketPath}"],
        home,
        {"HOME": str(home)},
        personalCommand,
    )
    servers.append(personal)
    personal.waitFor(socketPath.exists)
    port = freePort()
    front = Twistd(
        ["--class", frontClass, "--listen", f"tcp:{port}:interface=127.0.0.1"],
        home,
        {"DISTRIB_SOCKET": str(socketPath)},
        frontCommand,
    )
    servers.append(front)
    front.waitFor(lambda: listening(port))
    status, _, body, cut = get(port, "/me.twistd/")
    assert (status, body, cut) == (200, INDEX, False), front.log() + personal.log()
    status, _, body, cut = get(port, "/me.twistd/big.bin")
    assert (status, cut) == (200, False)
    assert hashlib.sha256(body).digest() == hashlib.sha256(big).digest()


def test_overTLS(home: Path, servers: list[Twistd], tmp_path: Path) -> None:
    """
    The front relays to a personal server on another machine's TCP port
    over TLS (C{--listen ssl:...}), checking its certificate: a front that
    trusts it relays its pages; one that does not trust it answers
    502 with a page saying so, and logs one line about the refused
    certificate.
    """
    from conftest import writeSelfSignedCertificate

    (tmp_path / "good").mkdir()
    (tmp_path / "other").mkdir()
    cert, key = writeSelfSignedCertificate(tmp_path / "good")
    otherCert, _ = writeSelfSignedCertificate(tmp_path / "other")
    pbPort = freePort()
    personal = startPersonal(
        home,
        servers,
        "--listen",
        f"ssl:{pbPort}:interface=127.0.0.1:privateKey={key}:certKey={cert}",
    )
    personal.waitFor(lambda: listening(pbPort))
    fronts = {}
    for name, authority in (("trusting", cert), ("distrustful", otherCert)):
        port = freePort()
        front = Twistd(
            [
                "--class",
                "_distribfront.TLSRoot",
                "--listen",
                f"tcp:{port}:interface=127.0.0.1",
            ],
            home,
            {"DISTRIB_PORT": str(pbPort), "DISTRIB_CA": str(authority)},
        )
        servers.append(front)
        front.waitFor(lambda port=port: listening(port))  # type: ignore[misc]
        fronts[name] = (port, front)

    port, _ = fronts["trusting"]
    status, _, body, cut = get(port, "/me.twistd/")
    assert (status, body, cut) == (200, INDEX, False)

    port, front = fronts["distrustful"]
    logged = front.log()
    status, _, body, cut = get(port, "/me.twistd/")
    assert status == 502
    assert b"Bad Gateway" in body
    time.sleep(0.5)
    new = front.log()[len(logged) :]
    lines = [line for line in new.splitlines() if "personal server" in line]
    assert len(lines) == 1, new
    assert "certificate" in lines[0], new


def test_largeUploadStreamsWithFlatMemory(home: Path, servers: list[Twistd]) -> None:
    """
    A 50 MiB upload through a C{--user} front to a WSGI application on the
    user's personal server reaches the application as it is sent (its first
    piece before the client sends the last), whole, and neither process's
    memory grows by anything like it.
    """
    user = getpass.getuser()
    marker = home / "first-piece-seen"
    socketPath = home / ".twistd-web-pb"
    personal = Twistd(
        ["--personal", "--wsgi", "_distribapp.upload"],
        home,
        {"HOME": str(home), "UPLOAD_MARKER": str(marker)},
    )
    servers.append(personal)
    personal.waitFor(socketPath.exists)
    port = freePort()
    front = Twistd(
        [
            "--class",
            "_distribfront.UserRoot",
            "--listen",
            f"tcp:{port}:interface=127.0.0.1",
        ],
        home,
        {"HOME": str(home)},
    )
    servers.append(front)
    front.waitFor(lambda: listening(port))
    assert get(port, f"/{user}.twistd/")[0] == 200
    before = personal.peakMemory(), front.peakMemory()

    piece = os.urandom(1024 * 1024)
    digest = hashlib.sha256()
    pieces = 50
    seenBeforeLast = False
    with socket.create_connection((LOOPBACK, port), timeout=REQUEST_TIMEOUT) as s:
        s.sendall(
            f"POST /{user}.twistd/ HTTP/1.1\r\nHost: x\r\n"
            f"Content-Length: {pieces * len(piece)}\r\n\r\n".encode()
        )
        for i in range(pieces):
            if i == pieces - 1:
                deadline = time.monotonic() + REQUEST_TIMEOUT
                while not marker.exists() and time.monotonic() < deadline:
                    time.sleep(0.05)
                seenBeforeLast = marker.exists()
            s.sendall(piece)
            digest.update(piece)
        answer = b""
        expected = b"%d %s" % (pieces * len(piece), digest.hexdigest().encode())
        deadline = time.monotonic() + REQUEST_TIMEOUT
        while not answer.endswith(expected) and time.monotonic() < deadline:
            data = s.recv(65536)
            if not data:
                break
            answer += data
    assert seenBeforeLast, personal.log()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    assert answer.endswith(expected), answer[-200:]
    after = personal.peakMemory(), front.peakMemory()
    for was, now in zip(before, after, strict=True):
        assert now - was < 30 * 1024 * 1024, (before, after)


def startTCPPair(
    home: Path, servers: list[Twistd], frontArgs: tuple[str, ...] = ()
) -> tuple[Twistd, Twistd, int]:
    """
    Start a personal server on TCP, with its access log in
    C{personal-access.log}, and a front relaying C{/me.twistd/} to it, with
    its own in C{front-access.log}.

    @return: the personal server, the front, and the front's HTTP port.
    """
    pbPort, port = freePort(), freePort()
    personal = startPersonal(
        home,
        servers,
        "--listen",
        f"tcp:{pbPort}:interface=127.0.0.1",
        "--logfile",
        str(home / "personal-access.log"),
    )
    personal.waitFor(lambda: listening(pbPort))
    front = Twistd(
        [
            "--class",
            "_distribfront.TCPRoot",
            "--listen",
            f"tcp:{port}:interface=127.0.0.1",
            "--logfile",
            str(home / "front-access.log"),
            *frontArgs,
        ],
        home,
        {"DISTRIB_PORT": str(pbPort)},
    )
    servers.append(front)
    front.waitFor(lambda: listening(port))
    return personal, front, port


def test_accessLogsOnBothSides(home: Path, servers: list[Twistd]) -> None:
    """
    Each relayed request is logged once in the personal server's access
    log, with the status it answered and the client's address as the front
    saw it, and once in the front's own access log.
    """
    personal, front, port = startTCPPair(home, servers)
    assert get(port, "/me.twistd/")[0] == 200
    assert get(port, "/me.twistd/no-such-page")[0] == 404
    personal.kill()
    front.kill()
    personalLines = (home / "personal-access.log").read_text().splitlines()
    frontLines = (home / "front-access.log").read_text().splitlines()
    for lines in (personalLines, frontLines):
        assert len(lines) == 2, lines
        assert lines[0].startswith("127.0.0.1 ") and '"GET /me.twistd/ ' in lines[0]
        assert '" 200 ' in lines[0]
        assert '"GET /me.twistd/no-such-page ' in lines[1] and '" 404 ' in lines[1]


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_http2Front(home: Path, servers: list[Twistd]) -> None:
    """
    A client speaking HTTP/2 to the front (cleartext, prior knowledge) gets
    the personal server's pages and files relayed, and its uploads reach
    the personal server: the relay is the same whatever the front's
    protocol.
    """
    big = os.urandom(3 * 1024 * 1024 + 7)
    (home / "site" / "big.bin").write_bytes(big)
    upload = home / "upload.bin"
    upload.write_bytes(os.urandom(1024 * 1024 + 3))
    _, front, port = startTCPPair(home, servers)
    base = f"http://{LOOPBACK}:{port}/me.twistd"

    def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
        assert CURL is not None
        return subprocess.run(
            [CURL, "-sS", "--http2-prior-knowledge", "--max-time", "60", *args],
            capture_output=True,
            timeout=REQUEST_TIMEOUT + 10,
            check=False,
        )

    index = curl("-w", "\n%{http_version} %{http_code}", f"{base}/")
    assert index.stdout == INDEX + b"\n2 200", index.stderr + front.log().encode()
    got = curl(f"{base}/big.bin")
    assert hashlib.sha256(got.stdout).digest() == hashlib.sha256(big).digest()
    posted = curl(
        "-w", " %{http_version}", "--data-binary", f"@{upload}", f"{base}/echo.rpy"
    )
    expected = hashlib.sha256(upload.read_bytes()).hexdigest().encode()
    assert posted.stdout == b"%d %s 2" % (upload.stat().st_size, expected)
