"""
End-to-end tests: what C{twistd -n web-re} says when something fails.

Most tests run a real C{twistd -n web-re} process that is expected to exit by
itself, and check that it says why in one line, without a traceback, and
exits with a non-zero status; the last runs servers that show (or hide) the
traceback of a failing page.  Only 127.0.0.1 is ever listened on.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_twistd import (
    LOOPBACK,
    Server,
    _environment,
    _freePort,
    _get,
    _listen,
    _runToCompletion,
    _stop,
    _twistdArgs,
    _waitUntilListening,
)

# The lines twistd logs about itself before it starts the service: they come
# before any error the service can report, whatever the service.
TWISTD_BANNER = ("] twistd ", "] reactor class: ")


def _ownLines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """
    What a finished C{twistd} printed, without twistd's own start-up banner.

    @param result: The finished process.
    @return: Its non-empty output lines, standard output then standard error,
        except the banner lines twistd logs about itself.
    """
    lines = (result.stdout + result.stderr).splitlines()
    return [
        line
        for line in lines
        if line.strip() and not any(marker in line for marker in TWISTD_BANNER)
    ]


@pytest.mark.parametrize(
    ("description", "message"),
    [
        ("tcp:99999", "cannot listen on 'tcp:99999': port 99999 is out of range"),
        ("tcp:-1", "cannot listen on 'tcp:-1': port -1 is out of range"),
        ("tcp6:port=70000", "port 70000 is out of range"),
        ("tcp:80:interface=127.0.0.1:backlog", "cannot listen on"),
    ],
)
def test_badEndpointAtOptionTime(
    description: str, message: str, tmp_path: Path
) -> None:
    """
    An endpoint that can never be listened on, a port out of range among
    them, is a usage error: twistd prints its usage text then one line naming
    the endpoint and the reason, and exits non-zero, before it starts
    anything (no log line at all).
    """
    result = _runToCompletion("--listen", description, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    assert "starting up" not in output
    # twistd prints the usage text, then "COMMAND: ERROR" as the last line.
    lastLine = result.stdout.strip().splitlines()[-1]
    assert lastLine.startswith("twistd ")
    assert message in lastLine


def test_portInUseOneLine(tmp_path: Path) -> None:
    """
    A port already in use is found when the server starts listening: twistd
    then prints exactly one line, naming the endpoint and the reason, and
    exits non-zero, without a traceback.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        description = f"tcp:{port}:interface={LOOPBACK}"
        result = _runToCompletion("--listen", description, cwd=tmp_path)
    lines = _ownLines(result)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert len(lines) == 1, lines
    assert f"cannot listen on {description!r}: Address already in use" in lines[0]


def test_wsgiModuleRaises(tmp_path: Path) -> None:
    """
    A C{--wsgi} module that raises while it is imported is a one-line usage
    error saying that importing it failed, with the exception and the file
    and line where it was raised.
    """
    (tmp_path / "broken_app.py").write_text(
        "def application(environ, start_response):\n    pass\n\nratio = 1 / 0\n"
    )
    result = _runToCompletion("--wsgi", "broken_app.application", cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in output
    lastLine = result.stdout.strip().splitlines()[-1]
    assert lastLine.startswith("twistd ")
    assert lastLine.endswith(
        ": --wsgi: importing 'broken_app' failed:"
        " ZeroDivisionError: division by zero"
        f" ({tmp_path / 'broken_app.py'}, line 4)"
    )


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """
    A function starting C{twistd -n web-re} with the options given, listening
    on a free port of 127.0.0.1, and waiting until it listens; every server it
    started is stopped when the test ends.
    """
    servers: list[Server] = []

    def _serve(*args: str) -> Server:
        port = _freePort()
        output = tmp_path / f"server-{len(servers)}.log"
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [*_twistdArgs(), "web-re", *_listen(port), *args],
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
        yield _serve
    finally:
        for server in servers:
            _stop(server)


def test_displayTracebacks(serve: Callable[..., Server], tmp_path: Path) -> None:
    """
    With C{--display-tracebacks}, a resource script that raises is answered
    with a 500 page showing each frame with its source lines, escaped;
    without it, the 500 page shows nothing of the error.
    """
    site = tmp_path / "site"
    site.mkdir()
    (site / "broken.rpy").write_text(
        "from twisted_web_re import resource\n"
        "\n"
        "\n"
        "class Broken(resource.Resource):\n"
        "    def render_GET(self, request):\n"
        "        # about to fail\n"
        "        raise ValueError('<i>secret</i>')\n"
        "\n"
        "\n"
        "resource = Broken()\n"
    )
    shown = serve("--path", str(site), "--display-tracebacks")
    status, _, body, _ = _get(shown.port, path="/broken.rpy")
    assert status == 500
    assert b'<li class="frame">' in body
    assert f"File &quot;{site / 'broken.rpy'}&quot;, line 7".encode() in body
    assert b"# about to fail" in body
    assert b"ValueError: &lt;i&gt;secret&lt;/i&gt;" in body
    assert b"<i>" not in body

    hidden = serve("--path", str(site))
    status, _, body, _ = _get(hidden.port, path="/broken.rpy")
    assert status == 500
    assert b"secret" not in body
    assert b"broken.rpy" not in body
    assert b"Traceback" not in body
