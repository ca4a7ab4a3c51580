"""
End-to-end tests: C{twistd web-re} run as a real process, spoken to over
loopback sockets.

Only 127.0.0.1 is ever listened on or connected to, every wait has its own
deadline, and every server started is stopped (killed if it will not stop).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
LOOPBACK = "127.0.0.1"

# How long a server may take to start answering, and to stop once told to.
START_DEADLINE = 20.0
STOP_DEADLINE = 10.0
# How long one HTTP exchange or one short command may take.
REQUEST_TIMEOUT = 5.0
COMMAND_TIMEOUT = 20.0

# twistd run by this very interpreter, so the test needs no console script on
# PATH; argv[0] is set so that twistd's messages name the command a user types.
TWISTD = [
    sys.executable,
    "-c",
    "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()",
]
# twist, the newer foreground runner, as `python -m twisted` starts it.
TWIST = [sys.executable, "-m", "twisted", "--log-format=text"]


def _environment() -> dict[str, str]:
    """
    The environment for a server process: this one, with the working tree first
    on the path so that the code under test is the tree's, installed or not.

    @return: The environment variables.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    )
    return env


def _freePort() -> int:
    """
    Find a TCP port on 127.0.0.1 that nothing listens on right now.

    @return: The port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Server:
    """
    A running server process.

    @ivar process: The process.
    @ivar port: The TCP port on 127.0.0.1 it answers on.
    @ivar output: The file its standard output and error go to.
    """

    process: subprocess.Popen[bytes]
    port: int
    output: Path

    def log(self) -> str:
        """
        Everything the server printed so far.

        @return: Its output, decoded leniently.
        """
        return self.output.read_bytes().decode("utf-8", "replace")


def _waitUntilListening(server: Server) -> None:
    """
    Wait until C{server} accepts connections, or fail by the start deadline.

    @param server: A server just started.
    """
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"server exited with {server.process.returncode}:\n{server.log()}"
            )
        try:
            with socket.create_connection((LOOPBACK, server.port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"server did not listen within {START_DEADLINE}s:\n{server.log()}")


def _stop(server: Server) -> int | None:
    """
    Stop C{server} with SIGTERM, killing it if it outlives the stop deadline.

    @param server: A server started by L{_start}.
    @return: Its exit status after SIGTERM, or L{None} if it had to be killed.
    """
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_DEADLINE)
            return None
    return process.returncode


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """
    A function starting C{web-re} under a given runner and waiting until it
    listens; every server it started is stopped when the test ends.
    """
    servers: list[Server] = []

    def _start(runner: list[str], *args: str, port: int | None = None) -> Server:
        if port is None:
            port = _freePort()
        output = tmp_path / f"server-{len(servers)}.log"
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [*runner, "web-re", *args],
                cwd=tmp_path,
                env=_environment(),
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
            )
        server = Server(process, port, output)
        servers.append(server)
        _waitUntilListening(server)
        return server

    try:
        yield _start
    finally:
        for server in servers:
            _stop(server)


def _twistdArgs() -> list[str]:
    """
    The twistd options for a foreground run that leaves no files behind.

    @return: The options that come before C{web-re}.
    """
    return [*TWISTD, "--nodaemon", "--pidfile=", "--logfile=-"]


def _get(
    port: int,
    method: str = "GET",
    path: str = "/",
    context: ssl.SSLContext | None = None,
) -> tuple[int, dict[str, str], bytes, http.client.HTTPResponse]:
    """
    Make one request to 127.0.0.1 and read the whole response.

    @param port: The server's port.
    @param method: The request method.
    @param path: The request target.
    @param context: A TLS context to speak HTTPS with, or L{None} for HTTP.
    @return: The status, the headers (lower-cased names, repeats joined by
        commas), the body and the response itself.
    """
    connection: http.client.HTTPConnection
    if context is None:
        connection = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT)
    else:
        connection = http.client.HTTPSConnection(
            LOOPBACK, port, timeout=REQUEST_TIMEOUT, context=context
        )
    try:
        connection.request(method, path)
        response = connection.getresponse()
        body = response.read()
        headers: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        return response.status, headers, body, response
    finally:
        connection.close()


@pytest.mark.parametrize("runner", ["twistd", "twist"])
def test_servesDemoPage(
    start: Callable[..., Server], runner: str, tmp_path: Path
) -> None:
    """
    C{twistd -n web-re} (and C{python -m twisted web-re}) serves the demo page
    on the C{--listen} endpoint, with the C{--add-header} headers, writes the
    access log to C{--logfile}, and stops cleanly on SIGTERM.
    """
    port = _freePort()
    accessLog = tmp_path / "access.log"
    command = _twistdArgs() if runner == "twistd" else TWIST
    server = start(
        command,
        "--listen",
        f"tcp:{port}:interface={LOOPBACK}",
        "--add-header",
        "X-Served-By: web-re",
        "--add-header",
        "Cache-Control: no-store",
        "--logfile",
        str(accessLog),
        port=port,
    )

    status, headers, body, _ = _get(port)
    assert status == 200
    assert b"twisted_web_re is running" in body
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["x-served-by"] == "web-re"
    assert headers["cache-control"] == "no-store"

    status, headers, body, _ = _get(port, "HEAD")
    assert status == 200
    assert body == b""

    status, headers, _, _ = _get(port, path="/missing")
    assert status == 404
    assert headers["x-served-by"] == "web-re"

    status, headers, _, _ = _get(port, "DELETE")
    assert status == 405
    assert headers["allow"] == "GET, HEAD"

    # Both runners stop the reactor on SIGTERM, then end by that same signal so
    # that whoever sent it sees it took effect.
    exitCode = _stop(server)
    log = server.log()
    assert exitCode in (0, -signal.SIGTERM), log
    assert "Main loop terminated." in log
    assert "Traceback" not in log
    assert b'"GET / HTTP/1.1" 200' in accessLog.read_bytes()


def test_servesHTTPS(
    start: Callable[..., Server], selfSignedCertificate: tuple[Path, Path]
) -> None:
    """
    An C{ssl:} endpoint serves the demo page over TLS with the certificate
    given.
    """
    cert, key = selfSignedCertificate
    port = _freePort()
    start(
        _twistdArgs(),
        "--listen",
        f"ssl:{port}:interface={LOOPBACK}:privateKey={key}:certKey={cert}",
        port=port,
    )
    context = ssl.create_default_context(cafile=str(cert))
    status, _, body, _ = _get(port, context=context)
    assert status == 200
    assert b"twisted_web_re is running" in body


def test_severalEndpoints(start: Callable[..., Server]) -> None:
    """
    Each C{--listen} is a separate endpoint serving the same site.
    """
    first, second = _freePort(), _freePort()
    start(
        _twistdArgs(),
        "--listen",
        f"tcp:{first}:interface={LOOPBACK}",
        "--listen",
        f"tcp:{second}:interface={LOOPBACK}",
        port=first,
    )
    for port in (first, second):
        deadline = time.monotonic() + START_DEADLINE
        while True:
            try:
                status, _, _, _ = _get(port)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert status == 200


def _runToCompletion(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """
    Run C{twistd ... web-re ARGS}, which is expected to exit by itself.

    @param args: The options after C{web-re}.
    @param cwd: The directory to run in.
    @return: The finished process, output captured.
    """
    return subprocess.run(
        [*_twistdArgs(), "web-re", *args],
        cwd=cwd,
        env=_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--add-header", "No Colon"], "--add-header wants"),
        (["--add-header", "X-Split: a\r\nSet-Cookie: x=1"], "control character"),
        (["--listen", "bogus:8080"], "cannot listen on 'bogus:8080'"),
        (["--path", "."], "--path arrives with twisted_web_re.static"),
        (["--no-such-option"], "--no-such-option not recognized"),
    ],
)
def test_badOptionExplained(args: list[str], message: str, tmp_path: Path) -> None:
    """
    A bad command line exits non-zero after the usage text and a one-line
    error, without a traceback, and without starting a server.
    """
    result = _runToCompletion(*args, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    # twistd prints the usage text, then "COMMAND: ERROR" as the last line.
    lastLine = result.stdout.strip().splitlines()[-1]
    assert lastLine.startswith("twistd ")
    assert message in lastLine


def test_help(tmp_path: Path) -> None:
    """
    C{twistd web-re --help} describes the options and exits successfully.
    """
    result = _runToCompletion("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "--listen=" in result.stdout
    assert "--add-header=" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_listedByTwistd(tmp_path: Path) -> None:
    """
    C{twistd --help} lists C{web-re} beside Twisted's own C{web}.
    """
    result = subprocess.run(
        [*TWISTD, "--help"],
        cwd=tmp_path,
        env=_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0
    commands = {
        line.split()[0]
        for line in result.stdout.splitlines()
        if line[:4] == "    " and line.strip()
    }
    assert "web-re" in commands
    assert "web" in commands
