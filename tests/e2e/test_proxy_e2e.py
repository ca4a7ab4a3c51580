"""
End to end: the reverse proxy in its own process, in front of real backends
(C{python -m http.server}, our own echo server, and a backend written here
that misbehaves on purpose), spoken to by C{http.client} and raw sockets.
Only 127.0.0.1 is used; every wait has a deadline; every process is stopped.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import freePort
from tests.e2e._servers import LOOPBACK, Server, launch, startServer, stopServer

PROXY_SCRIPT = str(Path(__file__).with_name("_proxyserver.py"))
TIMEOUT = 20.0


def startProxy(tmp: Path, backendPort: int, *arguments: str) -> Server:
    """Start the reverse proxy for C{backendPort}; wait until it listens."""
    server: Server
    server, words = launch(PROXY_SCRIPT, tmp, str(backendPort), *arguments)
    server.port = int(words[1])
    return server


def get(
    port: int,
    path: str,
    headers: dict[str, str] | None = None,
    method: str = "GET",
    body: bytes | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=TIMEOUT)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


@pytest.fixture
def httpServer(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """C{python -m http.server} serving a directory on a free port."""
    root = tmp_path / "root"
    root.mkdir()
    port = freePort()
    process = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", LOOPBACK],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection((LOOPBACK, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("http.server did not start") from None
                time.sleep(0.05)
        yield port, root
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)


@pytest.fixture
def echo(tmp_path: Path) -> Iterator[Server]:
    """Our own echo server (tests/e2e/_servers.py), bodies up to 300 MiB."""
    server = startServer(tmp_path, "--max-body-size", str(300 * 1024 * 1024))
    yield server
    stopServer(server)


class Misbehaving:
    """
    A backend that answers every connection the same wrong way: C{silent}
    (reads, never answers), C{garbage}, or C{midbody} (announces 100 bytes,
    sends 10, closes).
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        held = []
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.settimeout(5)
            try:
                conn.recv(65536)
            except OSError:
                pass
            if self.mode == "upgrade":
                conn.sendall(
                    b"HTTP/1.1 101 Switching Protocols\r\n"
                    b"Connection: Upgrade\r\nUpgrade: echo\r\n\r\nhi"
                )
                try:
                    while data := conn.recv(65536):
                        conn.sendall(data)
                except OSError:
                    pass
                conn.close()
            elif self.mode == "garbage":
                conn.sendall(b"this is not HTTP\r\n\r\n")
                conn.close()
            elif self.mode == "midbody":
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"
                )
                conn.close()
            else:
                held.append(conn)
        for conn in held:
            conn.close()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=TIMEOUT)
        self.sock.close()


@pytest.fixture
def proxyFor(tmp_path: Path) -> Iterator[object]:
    started: list[Server] = []

    def start(port: int, *arguments: str) -> Server:
        server = startProxy(tmp_path, port, *arguments)
        started.append(server)
        return server

    yield start
    for server in started:
        stopServer(server)


def test_httpServerBackend(httpServer: tuple[int, Path], proxyFor: object) -> None:
    """Files from C{python -m http.server} come through whole, with Via."""
    port, root = httpServer
    (root / "a.txt").write_bytes(b"hello proxy\n")
    (root / "big.bin").write_bytes(bytes(range(256)) * 20000)
    proxy = proxyFor(port)  # type: ignore[operator]
    response, body = get(proxy.port, "/a.txt")
    assert response.status == 200 and body == b"hello proxy\n"
    assert response.getheader("via") == "1.0 twisted_web_re"
    response, body = get(proxy.port, "/big.bin")
    assert body == bytes(range(256)) * 20000
    response, body = get(proxy.port, "/missing")
    assert response.status == 404


def test_echoBackendSeesForwarding(echo: Server, proxyFor: object) -> None:
    """
    The backend sees the forwarding fields, every value of a repeated field,
    no hop-by-hop field, and the body; keep-alive connections are reused.
    """
    proxy = proxyFor(echo.port)  # type: ignore[operator]
    connection = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=TIMEOUT)
    for _ in range(3):
        connection.putrequest("POST", "/echo?x=1")
        connection.putheader("X-Multi", "a")
        connection.putheader("X-Multi", "b")
        connection.putheader("Connection", "x-secret")
        connection.putheader("X-Secret", "hop")
        connection.putheader("Content-Length", "4")
        connection.endheaders(b"body")
        response = connection.getresponse()
        echoed = json.loads(response.read())
        headers = echoed["headers"]
        assert echoed["uri"] == "/echo?x=1"
        assert [v for k, v in headers if k == "x-multi"] == ["a", "b"]
        names = [k for k, _ in headers]
        assert "x-secret" not in names and "connection" not in names
        assert ("x-forwarded-for", "127.0.0.1") in [tuple(h) for h in headers]
        assert ("via", "1.1 twisted_web_re") in [tuple(h) for h in headers]
        assert echoed["bodyLength"] == 4


@pytest.mark.parametrize(
    "shape",
    [
        # CL.TE
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG",
        # TE.CL
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
        # TE obfuscated
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: xchunked\r\n\r\n5c\r\n",
    ],
)
def test_smugglingRefused(echo: Server, proxyFor: object, shape: bytes) -> None:
    """
    The classic smuggling shapes are refused at the proxy with 400 and a
    closed connection; nothing reaches the backend.
    """
    proxy = proxyFor(echo.port)  # type: ignore[operator]
    with socket.create_connection((LOOPBACK, proxy.port), timeout=TIMEOUT) as sock:
        sock.sendall(shape + b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            piece = sock.recv(65536)
            if not piece:
                break
            data += piece
    assert data.startswith((b"HTTP/1.1 400", b"HTTP/1.1 501"))
    assert data.count(b"HTTP/1.1 ") == 1


def test_backendDown502(proxyFor: object) -> None:
    """Nothing listening at the backend's port: 502 Bad Gateway."""
    proxy = proxyFor(freePort())  # type: ignore[operator]
    response, body = get(proxy.port, "/")
    assert response.status == 502 and b"Bad Gateway" in body


def test_silentBackend504(proxyFor: object) -> None:
    """A backend that never answers: 504 Gateway Timeout, in time."""
    backend = Misbehaving("silent")
    try:
        proxy = proxyFor(backend.port, "--response-timeout", "1")  # type: ignore[operator]
        started = time.monotonic()
        response, _ = get(proxy.port, "/")
        assert response.status == 504
        assert time.monotonic() - started < 10
        assert "did not answer" in proxy.log()
    finally:
        backend.stop()


def test_garbageBackend502(proxyFor: object) -> None:
    """A backend answering garbage: 502."""
    backend = Misbehaving("garbage")
    try:
        proxy = proxyFor(backend.port)  # type: ignore[operator]
        response, _ = get(proxy.port, "/")
        assert response.status == 502
    finally:
        backend.stop()


def test_midBodyCloseCutsClient(proxyFor: object) -> None:
    """
    A backend closing in the middle of the body: the client's response is
    cut short, never complete-looking.
    """
    backend = Misbehaving("midbody")
    try:
        proxy = proxyFor(backend.port)  # type: ignore[operator]
        connection = http.client.HTTPConnection(LOOPBACK, proxy.port, timeout=TIMEOUT)
        connection.request("GET", "/")
        response = connection.getresponse()
        assert response.status == 200
        with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
            response.read()
    finally:
        backend.stop()


def test_upgradeTunnel(proxyFor: object) -> None:
    """
    An Upgrade request answered 101 by the backend becomes a tunnel: the
    client gets the 101 and then talks to the backend byte for byte.
    """
    backend = Misbehaving("upgrade")
    try:
        proxy = proxyFor(backend.port)  # type: ignore[operator]
        with socket.create_connection((LOOPBACK, proxy.port), timeout=TIMEOUT) as sock:
            sock.sendall(
                b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                b"Upgrade: echo\r\n\r\n"
            )
            data = b""
            while not data.endswith(b"hi"):
                piece = sock.recv(65536)
                assert piece, data
                data += piece
            assert data.startswith(b"HTTP/1.1 101 ")
            assert b"\r\nUpgrade: echo\r\n" in data
            sock.sendall(b"ping")
            echoed = b""
            while echoed != b"ping":
                piece = sock.recv(65536)
                assert piece, echoed
                echoed += piece
    finally:
        backend.stop()


def _peakRSS(pid: int) -> int:
    """The peak resident set of process C{pid}, in bytes (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_largeBodiesFlatMemory(
    httpServer: tuple[int, Path], echo: Server, proxyFor: object
) -> None:
    """
    200 MiB down (from http.server) and 200 MiB up (to our echo server,
    streamed as it arrives) pass through with the proxy's memory flat.
    """
    size = 200 * 1024 * 1024
    port, root = httpServer
    with open(root / "huge.bin", "wb") as f:
        f.truncate(size)
    down = proxyFor(port)  # type: ignore[operator]
    connection = http.client.HTTPConnection(LOOPBACK, down.port, timeout=60)
    connection.request("GET", "/huge.bin")
    response = connection.getresponse()
    received = 0
    while piece := response.read(1 << 20):
        received += len(piece)
    assert received == size
    assert _peakRSS(down.process.pid) < 120 * 1024 * 1024

    up = proxyFor(echo.port, "--stream", "--max-body-size", "0")  # type: ignore[operator]
    block = b"\x00" * (1 << 20)

    def body() -> Iterator[bytes]:
        for _ in range(size // len(block)):
            yield block

    connection = http.client.HTTPConnection(LOOPBACK, up.port, timeout=60)
    connection.request(
        "POST", "/echo", body=body(), headers={"Content-Length": str(size)}
    )
    echoed = json.loads(connection.getresponse().read())
    assert echoed["bodyLength"] == size
    assert echoed["bodySha256"] == hashlib.sha256(b"\x00" * size).hexdigest()
    assert _peakRSS(up.process.pid) < 120 * 1024 * 1024


EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples" / "proxy"
TWISTD = [
    sys.executable,
    "-c",
    "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()",
]


@pytest.mark.parametrize("tac", ["forward.tac", "logging.tac", "reverse.tac"])
def test_howtoExamples(tmp_path: Path, echo: Server, tac: str) -> None:
    """
    The howto's proxies, from examples/proxy/, run under C{twistd -n -y} and
    relay a request to our echo server (the logging proxy also logs it).
    """
    port = freePort()
    env = dict(os.environ)
    env.update(
        PROXY_LISTEN=f"tcp:{port}:interface={LOOPBACK}",
        PROXY_BACKEND_PORT=str(echo.port),
        PYTHONPATH=str(EXAMPLES.parent.parent),
    )
    log = open(tmp_path / "twistd.log", "w+b")
    process = subprocess.Popen(
        [*TWISTD, "-n", "--pidfile=", "-y", str(EXAMPLES / tac)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                socket.create_connection((LOOPBACK, port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{tac} did not start") from None
                time.sleep(0.1)
        target = (
            "/hello" if tac == "reverse.tac" else f"http://{LOOPBACK}:{echo.port}/hello"
        )
        response, body = get(port, target)
        assert response.status == 200
        assert json.loads(body)["path"] == "/hello"
        if tac == "logging.tac":
            deadline = time.monotonic() + TIMEOUT
            while (
                b"Request from 127.0.0.1 for"
                not in (tmp_path / "twistd.log").read_bytes()
            ):
                assert time.monotonic() < deadline, "no log line"
                time.sleep(0.1)
    finally:
        process.kill()
        process.wait(timeout=TIMEOUT)
        log.close()


def _curlSpeaksHTTP2() -> bool:
    """Whether a curl built with HTTP/2 is installed."""
    try:
        out = subprocess.run(
            ["curl", "--version"], capture_output=True, timeout=TIMEOUT, check=False
        ).stdout
    except OSError:
        return False
    return b"HTTP2" in out


@pytest.mark.skipif(not _curlSpeaksHTTP2(), reason="curl with HTTP/2 is not installed")
def test_proxiedOverHTTP2(
    httpServer: tuple[int, Path], echo: Server, proxyFor: object, tmp_path: Path
) -> None:
    """
    A client speaking HTTP/2 to the proxy (h2c prior knowledge) gets the
    backend's files whole, and its uploads reach the backend whole: the
    proxy relays through the same request core on either protocol.
    """
    port, root = httpServer
    big = bytes(range(256)) * 20000
    (root / "big.bin").write_bytes(big)
    proxy = proxyFor(port)  # type: ignore[operator]
    out = tmp_path / "out.bin"
    done = subprocess.run(
        [
            "curl", "-sS", "--http2-prior-knowledge", "-o", str(out),
            "-w", "%{http_version} %{http_code}",
            f"http://{LOOPBACK}:{proxy.port}/big.bin",
        ],
        capture_output=True, timeout=TIMEOUT, check=True,
    )  # fmt: skip
    assert done.stdout == b"2 200"
    assert out.read_bytes() == big
    upstream = proxyFor(echo.port)  # type: ignore[operator]
    body = tmp_path / "body.bin"
    body.write_bytes(os.urandom(300_000))
    done = subprocess.run(
        [
            "curl", "-sS", "--http2-prior-knowledge", "--data-binary", f"@{body}",
            "-o", str(out), "-w", "%{http_version} %{http_code}",
            f"http://{LOOPBACK}:{upstream.port}/echo",
        ],
        capture_output=True, timeout=TIMEOUT, check=True,
    )  # fmt: skip
    assert done.stdout == b"2 200"
    echoed = json.loads(out.read_bytes())
    assert echoed["bodyLength"] == 300_000
    assert echoed["bodySha256"] == hashlib.sha256(body.read_bytes()).hexdigest()
