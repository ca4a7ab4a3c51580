"""
Every example in C{examples/} runs, as a real process on a loopback port, and
answers as the book says it does.

Each C{*.py} file in C{examples/} must have an entry in L{EXAMPLES}: the
requests to make and the answers expected.  A file without one fails
L{test_exampleServes}, so a new example cannot go untested.  Only 127.0.0.1 is
ever listened on or connected to; every wait has a deadline, and every process
started is killed when its test ends.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = REPO / "examples"
LOOPBACK = "127.0.0.1"

#: Seconds an example may take to start listening, and to import.
START_DEADLINE = 15.0
#: Seconds one exchange with an example may take.
REQUEST_DEADLINE = 10.0


@dataclass(frozen=True)
class HTTPCheck:
    """
    One request made with C{http.client}, and the answer expected.

    The HTTP checks of one example share one client connection, reopened only
    when the server closes it, so keep-alive is exercised along the way.

    @ivar path: the request-target.
    @ivar method: the request method.
    @ivar body: the request body, if any.
    @ivar requestHeaders: extra request header fields.
    @ivar status: the expected status code.
    @ivar headers: C{(name, value)} pairs the response must carry (names are
        case-insensitive; other fields may be present too).
    @ivar responseBody: the exact expected body, or C{None} not to check it.
    """

    path: str
    method: str = "GET"
    body: bytes | None = None
    requestHeaders: tuple[tuple[str, str], ...] = ()
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    responseBody: bytes | None = None


@dataclass(frozen=True)
class RawCheck:
    """
    Bytes sent on a fresh raw socket, and what is expected back before the
    server closes the connection.

    @ivar send: the bytes to send.
    @ivar expect: the whole response, up to the server's close, or C{None} to
        check only its start and end.
    @ivar startswith: what the response must start with.
    @ivar endswith: what the response must end with (for answers whose middle
        varies, such as a C{Date} field).
    """

    send: bytes
    expect: bytes | None = None
    startswith: bytes = b""
    endswith: bytes = b""


Check = HTTPCheck | RawCheck


def portArgument(port: int, tmp: Path) -> list[str]:
    """
    The usual command line of an example: the port as its only argument.
    """
    return [str(port)]


@dataclass(frozen=True)
class Example:
    """
    How to run one example and what it must answer.

    @ivar checks: the exchanges, made in order.
    @ivar arguments: makes the example's command-line arguments from the port
        and a scratch directory.
    @ivar prepare: fills the scratch directory first (files to serve...), if
        the example needs it.
    """

    checks: tuple[Check, ...]
    arguments: Callable[[int, Path], list[str]] = portArgument
    prepare: Callable[[Path], None] | None = None


_HTML = (("Content-Type", "text/html"),)

#: Every example, by file name: a new example needs one entry here.  Each is run
#: as C{python examples/NAME ARGUMENTS} (by default ARGUMENTS is the port), in a
#: fresh scratch directory that C{prepare} may fill, with C{$PORT} set too; the
#: test waits until the port accepts connections, makes the checks in order,
#: and kills the process.
EXAMPLES: dict[str, Example] = {
    "webecho.py": Example(
        checks=(
            # The book's telnet session.
            RawCheck(
                send=b"GET / HTTP/1.1\r\nHost: localhost:8000\r\n"
                b'X-Header: "My test header"\r\n\r\n',
                expect=b"HTTP/1.1 200 OK\r\n\r\nYou said:\r\n\r\n"
                b"GET / HTTP/1.1\r\nHost: localhost:8000\r\n"
                b'X-Header: "My test header"\r\n',
            ),
            RawCheck(
                send=b"GET /anything?x=1 HTTP/1.0\r\n\r\n",
                expect=b"HTTP/1.1 200 OK\r\n\r\nYou said:\r\n\r\n"
                b"GET /anything?x=1 HTTP/1.0\r\n",
            ),
        ),
    ),
    "requesthandler.py": Example(
        checks=(
            HTTPCheck("/", headers=_HTML, responseBody=b"<h1>Home</h1>Home page"),
            HTTPCheck(
                "/about", headers=_HTML, responseBody=b"<h1>About</h1>All about me"
            ),
            HTTPCheck(
                "/foo",
                status=404,
                headers=_HTML,
                responseBody=b"<h1>Not Found</h1>Sorry, no such resource.",
            ),
            # The query string is not part of the path the handler looks up.
            HTTPCheck("/about?x=1", responseBody=b"<h1>About</h1>All about me"),
            HTTPCheck(
                "/",
                method="POST",
                body=b"ignored",
                headers=_HTML,
                responseBody=b"<h1>Home</h1>Home page",
            ),
            HTTPCheck("/", method="HEAD", headers=(*_HTML, ("Content-Length", "22"))),
            # HTTP/1.0 without keep-alive: answered, then closed.
            RawCheck(
                send=b"GET /about HTTP/1.0\r\n\r\n",
                startswith=b"HTTP/1.1 200 OK\r\n",
                endswith=b"\r\n\r\n<h1>About</h1>All about me",
            ),
        ),
    ),
}


def _exampleFiles() -> list[str]:
    """The names of the example scripts, sorted."""
    return sorted(path.name for path in EXAMPLES_DIR.glob("*.py"))


def _freePort() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def _environment(port: int) -> dict[str, str]:
    """The environment of an example: the checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["PORT"] = str(port)
    return env


def _output(log: IO[bytes]) -> str:
    """What a process wrote, for a failure message."""
    log.flush()
    log.seek(0)
    return log.read().decode("utf-8", "replace")[-4000:]


def _waitListening(process: subprocess.Popen[bytes], port: int, log: IO[bytes]) -> None:
    """
    Wait until something accepts connections on C{port}, or fail.
    """
    deadline = time.monotonic() + START_DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"example exited with {process.returncode}:\n{_output(log)}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"example did not listen within {START_DEADLINE}s:\n{_output(log)}")


def _readToEOF(sock: socket.socket) -> bytes:
    """Read until the peer closes, within L{REQUEST_DEADLINE}."""
    deadline = time.monotonic() + REQUEST_DEADLINE
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"no EOF within {REQUEST_DEADLINE}s; got {data!r}")
        sock.settimeout(left)
        piece = sock.recv(65536)
        if not piece:
            return data
        data += piece


def _runRaw(port: int, check: RawCheck) -> None:
    with socket.create_connection((LOOPBACK, port), timeout=REQUEST_DEADLINE) as sock:
        sock.sendall(check.send)
        received = _readToEOF(sock)
    if check.expect is not None:
        assert received == check.expect
    assert received.startswith(check.startswith), received
    assert received.endswith(check.endswith), received


def _runHTTP(connection: http.client.HTTPConnection, check: HTTPCheck) -> None:
    connection.request(
        check.method, check.path, body=check.body, headers=dict(check.requestHeaders)
    )
    response = connection.getresponse()
    body = response.read()
    where = f"{check.method} {check.path}"
    assert response.status == check.status, where
    for name, value in check.headers:
        assert response.getheader(name) == value, f"{where}: {name}"
    if check.responseBody is not None:
        assert body == check.responseBody, where
    if check.method == "HEAD":
        assert body == b"", where


@pytest.mark.parametrize("name", _exampleFiles())
def test_exampleServes(name: str, tmp_path: Path) -> None:
    """
    The example, run as a script on a free port, answers every request of its
    entry in L{EXAMPLES} as expected.
    """
    example = EXAMPLES.get(name)
    if example is None:
        pytest.fail(f"examples/{name} has no entry in EXAMPLES in {__file__}")
    if example.prepare is not None:
        example.prepare(tmp_path)
    port = _freePort()
    with open(tmp_path / "output.log", "w+b") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(EXAMPLES_DIR / name),
                *example.arguments(port, tmp_path),
            ],
            cwd=tmp_path,
            env=_environment(port),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        connection = http.client.HTTPConnection(
            LOOPBACK, port, timeout=REQUEST_DEADLINE
        )
        try:
            _waitListening(process, port, log)
            for check in example.checks:
                if isinstance(check, RawCheck):
                    _runRaw(port, check)
                else:
                    _runHTTP(connection, check)
            assert process.poll() is None, _output(log)
        finally:
            connection.close()
            process.kill()
            process.wait(timeout=START_DEADLINE)


@pytest.mark.parametrize("name", _exampleFiles())
def test_exampleImports(name: str, tmp_path: Path) -> None:
    """
    Importing an example (rather than running it) defines its classes and
    starts no server: the module returns at once.
    """
    port = _freePort()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import runpy, sys; runpy.run_path(sys.argv[1], run_name='example')",
            str(EXAMPLES_DIR / name),
        ],
        cwd=tmp_path,
        env=_environment(port),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=START_DEADLINE,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")


def test_everyEntryHasAnExample() -> None:
    """
    Every entry in L{EXAMPLES} names a file that exists, so the table does not
    keep checks for an example that was removed or renamed.
    """
    assert sorted(set(EXAMPLES) - set(_exampleFiles())) == []


def test_examplesAreListed() -> None:
    """
    C{examples/README.md} mentions every example.
    """
    readme = (EXAMPLES_DIR / "README.md").read_text(encoding="utf-8")
    missing = [name for name in _exampleFiles() if f"`{name}`" not in readme]
    assert missing == []
