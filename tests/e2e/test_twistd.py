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


def _environment(**extra: str) -> dict[str, str]:
    """
    The environment for a server process: this one, with the working tree first
    on the path so that the code under test is the tree's, installed or not.

    @param extra: More variables to set.
    @return: The environment variables.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    )
    env.update(extra)
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
    A function starting C{web-re} (or another twistd command, or none for a
    C{-y} application file) under a given runner, with extra environment
    variables if given, and waiting until it listens; every server it started
    is stopped when the test ends.
    """
    servers: list[Server] = []

    def _start(
        runner: list[str],
        *args: str,
        port: int | None = None,
        command: str | None = "web-re",
        env: dict[str, str] | None = None,
    ) -> Server:
        if port is None:
            port = _freePort()
        output = tmp_path / f"server-{len(servers)}.log"
        with output.open("wb") as sink:
            process = subprocess.Popen(
                [*runner, *filter(None, [command]), *args],
                cwd=tmp_path,
                env=_environment(**(env or {})),
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
    C{twistd -n web-re} (and C{python -m twisted web-re}) with nothing to serve
    serves the demo page on the C{--listen} endpoint, with the C{--add-header}
    headers, writes the access log to C{--logfile}, and stops cleanly on
    SIGTERM.
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

    # As with twistd web's demo page, every path shows the page.
    status, headers, body, _ = _get(port, path="/any/path?x=1")
    assert status == 200
    assert b"twisted_web_re is running" in body
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
        (["--path", "nowhere"], "--path: no such file or directory: 'nowhere'"),
        (["--class", "no_such_module.Root"], "--class: cannot find"),
        (["--class", "os.getcwd"], "which is not a resource"),
        (["--resource-script", "none.rpy"], "--resource-script: no such file"),
        (["--path", ".", "--processor", "rpy"], "--processor wants .ext="),
        (["--path", ".", "--processor", ".x=nowhere.X"], "--processor: cannot"),
        (["--path", ".", "--mime-type", "plain"], "--mime-type wants a media"),
        (["--index", "home.html"], "--index only applies to --path"),
        (["--path", ".", "--class", "x.Y"], "each choose what to serve"),
        (["--wsgi", "app.application"], "--wsgi arrives with twisted_web_re.wsgi"),
        (["--user"], "--user arrives with twisted_web_re.distrib (not built yet)"),
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


def test_portInUse(tmp_path: Path) -> None:
    """
    A server that cannot listen, its port taken, exits with an error (as
    C{twistd web} does) instead of running on without listening.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _runToCompletion(*_listen(port), cwd=tmp_path)
    assert result.returncode != 0
    assert "Address already in use" in result.stdout + result.stderr


def test_help(tmp_path: Path) -> None:
    """
    C{twistd web-re --help} describes the options and exits successfully.
    """
    result = _runToCompletion("--help", cwd=tmp_path)
    assert result.returncode == 0
    for option in ["--listen=", "--add-header=", "--path=", "--class=", "--index="]:
        assert option in result.stdout
    assert "not built yet" in result.stdout
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


# -- serving files: --path and the options of its static.File ---------------

# A resource script, as the howto writes them.
SCRIPT_RPY = """\
from twisted_web_re import resource


class Page(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        return b"rpy says hello from " + __file__.encode()


resource = Page()
"""

# A module of resources and a processor, for --class and --processor; the
# server runs in the directory it is written to, which is on its path.
ROOTS_PY = """\
from twisted_web_re import resource


class Leaf(resource.Resource):
    isLeaf = True

    def __init__(self, text=b"leaf"):
        super().__init__()
        self.text = text

    def render_GET(self, request):
        return self.text


class Root(resource.Resource):
    def __init__(self):
        super().__init__()
        self.putChild(b"child", Leaf(b"the child"))
        self.putChild(b"", self)

    def render_GET(self, request):
        return b"the root"


def pageProcessor(path, registry):
    with open(path, "rb") as f:
        return Leaf(b"processed: " + f.read())
"""


def _makeSite(directory: Path) -> Path:
    """
    Write a small site: an index page, files of several types, a resource
    script, a CGI program and a subdirectory to list.

    @param directory: Where to make it.
    @return: C{directory}.
    """
    directory.mkdir()
    (directory / "index.html").write_bytes(b"<h1>the index</h1>")
    (directory / "home.html").write_bytes(b"<h1>the home page</h1>")
    (directory / "notes.txt").write_bytes(b"some notes\n")
    (directory / "README").write_bytes(b"no extension")
    (directory / "script.rpy").write_text(SCRIPT_RPY)
    (directory / "x.page").write_bytes(b"page source")
    (directory / "run.cgi").write_bytes(b"#!/bin/sh\necho SECRET-IN-SOURCE\n")
    sub = directory / "sub"
    sub.mkdir()
    (sub / "a.txt").write_bytes(b"a")
    (sub / "b & <c>.html").write_bytes(b"b")
    return directory


def _listen(port: int) -> list[str]:
    """
    The C{--listen} option for C{port} on 127.0.0.1 only.

    @param port: The TCP port.
    @return: The option and its argument.
    """
    return ["--listen", f"tcp:{port}:interface={LOOPBACK}"]


def test_servesDirectory(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    C{twistd -n web-re --path DIR} serves a directory as C{twistd web} does:
    its index page at C{/}, files with the content type of their extension,
    C{.rpy} resource scripts run, a subdirectory redirected to its slash and
    listed, 404 for what is missing; C{.cgi} programs are refused without
    showing their source; the C{--add-header} headers are on every answer,
    errors included, and each request is written to the C{--logfile}.
    """
    site = _makeSite(tmp_path / "site")
    accessLog = tmp_path / "access.log"
    port = _freePort()
    server = start(
        _twistdArgs(),
        *_listen(port),
        "--path",
        str(site),
        "--add-header",
        "X-Served-By: web-re",
        "--logfile",
        str(accessLog),
        port=port,
    )

    status, headers, body, _ = _get(port)
    assert (status, body) == (200, b"<h1>the index</h1>")
    assert headers["content-type"].startswith("text/html")
    assert headers["x-served-by"] == "web-re"

    status, headers, body, _ = _get(port, path="/notes.txt")
    assert (status, body) == (200, b"some notes\n")
    assert headers["content-type"].startswith("text/plain")
    assert headers["content-length"] == "11"
    assert headers["x-served-by"] == "web-re"

    status, headers, body, _ = _get(port, "HEAD", "/notes.txt")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == "11"

    # A file whose extension says nothing has the default type, text/html.
    status, headers, _, _ = _get(port, path="/README")
    assert status == 200
    assert headers["content-type"].startswith("text/html")

    status, headers, body, _ = _get(port, path="/script.rpy")
    assert status == 200
    assert body == b"rpy says hello from " + str(site / "script.rpy").encode()
    assert headers["x-served-by"] == "web-re"

    status, headers, _, _ = _get(port, path="/sub")
    assert status == 301
    assert headers["location"].endswith("/sub/")
    assert headers["x-served-by"] == "web-re"

    status, headers, body, _ = _get(port, path="/sub/")
    assert status == 200
    assert headers["content-type"].startswith("text/html")
    assert b"a.txt" in body
    assert b"b &amp; &lt;c&gt;.html" in body
    assert b"<c>" not in body

    status, headers, _, _ = _get(port, path="/missing")
    assert status == 404
    assert headers["x-served-by"] == "web-re"

    status, headers, body, _ = _get(port, path="/run.cgi")
    assert status == 501
    assert b"SECRET-IN-SOURCE" not in body
    assert headers["x-served-by"] == "web-re"

    exitCode = _stop(server)
    assert exitCode in (0, -signal.SIGTERM), server.log()
    assert "Traceback" not in server.log()
    lines = accessLog.read_text().splitlines()
    assert len(lines) == 9, lines
    assert all(line.startswith("127.0.0.1 - - [") for line in lines), lines
    assert '"GET /notes.txt HTTP/1.1" 200 11 "-"' in lines[1]
    assert '"GET /missing HTTP/1.1" 404 ' in lines[7]


def test_staticFileOptions(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    C{--index}, C{--mime-type}, C{--ignore-ext} and C{--processor} change
    what C{--path} serves: the directory's page, the type of a file whose
    extension says nothing, extension-less URLs for scripts, and files
    rendered by a factory of one's own.
    """
    site = _makeSite(tmp_path / "site")
    (tmp_path / "roots.py").write_text(ROOTS_PY)
    port = _freePort()
    start(
        _twistdArgs(),
        *_listen(port),
        "--path",
        str(site),
        "--index",
        "home.html",
        "--mime-type",
        "text/plain",
        "--ignore-ext",
        ".rpy",
        "--processor",
        ".page=roots.pageProcessor",
        port=port,
    )

    status, _, body, _ = _get(port)
    assert (status, body) == (200, b"<h1>the home page</h1>")

    status, headers, _, _ = _get(port, path="/README")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")

    status, _, body, _ = _get(port, path="/script")
    assert status == 200
    assert body.startswith(b"rpy says hello from ")

    status, _, body, _ = _get(port, path="/x.page")
    assert (status, body) == (200, b"processed: page source")


def test_servesClass(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    C{--class} serves an instance of the class named, with its children, and
    the C{--add-header} headers reach its answers and a missing child's 404.
    """
    (tmp_path / "roots.py").write_text(ROOTS_PY)
    port = _freePort()
    start(
        _twistdArgs(),
        *_listen(port),
        "--class",
        "roots.Root",
        "--add-header",
        "X-Frame-Options: DENY",
        port=port,
    )
    for path, expected in [("/", b"the root"), ("/child", b"the child")]:
        status, headers, body, _ = _get(port, path=path)
        assert (status, body) == (200, expected)
        assert headers["x-frame-options"] == "DENY"
    status, headers, _, _ = _get(port, path="/nothing/here")
    assert status == 404
    assert headers["x-frame-options"] == "DENY"


def test_servesResourceScript(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    C{--resource-script} serves the resource an C{.rpy} script makes, at
    every path since that resource is a leaf.
    """
    (tmp_path / "root.rpy").write_text(SCRIPT_RPY)
    port = _freePort()
    start(_twistdArgs(), *_listen(port), "--resource-script", "root.rpy", port=port)
    for path in ["/", "/any/where"]:
        status, headers, body, _ = _get(port, path=path)
        assert status == 200
        assert body == b"rpy says hello from " + str(tmp_path / "root.rpy").encode()
        assert headers["content-type"] == "text/plain"


# -- the howto's .tac files, in examples/tac/ --------------------------------

TAC_DIR = REPO / "examples" / "tac"


@dataclass(frozen=True)
class TacCheck:
    """
    One request to a C{.tac} example, and the answer expected.

    @ivar path: The request target.
    @ivar status: The status expected.
    @ivar body: The exact body expected, or L{None} not to check it.
    @ivar startswith: What the body must start with.
    @ivar contentType: The start of the C{Content-Type} expected, or L{None}.
    """

    path: str
    status: int = 200
    body: bytes | None = None
    startswith: bytes = b""
    contentType: str | None = None


@dataclass(frozen=True)
class TacExample:
    """
    How to run a C{.tac} example and what it must answer.

    @ivar prepare: Fills a scratch directory and returns the environment
        variables the example reads, given that directory and the free ports
        it is to listen on.
    @ivar checks: The requests to make, in order, on every port.
    @ivar ports: How many ports it listens on.
    """

    prepare: Callable[[Path, list[int]], dict[str, str]]
    checks: tuple[TacCheck, ...]
    ports: int = 1


def _webroot(tmp: Path, ports: list[int]) -> dict[str, str]:
    """
    A site in C{tmp/site}, with C{foo.rpy} and C{index.rpy} scripts too,
    listened for on the port of 127.0.0.1 given.
    """
    site = _makeSite(tmp / "site")
    (site / "foo.rpy").write_text(SCRIPT_RPY)
    (site / "index.rpy").write_text(SCRIPT_RPY.replace("rpy says", "index.rpy says"))
    return {"WEBROOT": str(site), "LISTEN": f"tcp:{ports[0]}:interface={LOOPBACK}"}


def _withDocs(tmp: Path, ports: list[int]) -> dict[str, str]:
    """
    A site, and a documentation directory for its C{/doc} child.
    """
    docs = tmp / "docs"
    (docs / "pkg").mkdir(parents=True)
    (docs / "pkg" / "README.txt").write_bytes(b"package docs")
    return {**_webroot(tmp, ports), "DOCROOT": str(docs)}


def _fonts(tmp: Path, ports: list[int]) -> dict[str, str]:
    """
    A directory of fonts.
    """
    fonts = tmp / "fonts"
    fonts.mkdir()
    (fonts / "sans.woff2").write_bytes(b"wOF2 font data")
    (fonts / "sans.woff").write_bytes(b"wOFF font data")
    return {"WEBROOT": str(fonts), "LISTEN": f"tcp:{ports[0]}:interface={LOOPBACK}"}


def _portsFile(tmp: Path, ports: list[int]) -> dict[str, str]:
    """
    A site, and a file of the port numbers to listen on, on 127.0.0.1.
    """
    env = _webroot(tmp, ports)
    del env["LISTEN"]
    (tmp / "ports").write_text("".join(f"{port}\n" for port in ports))
    return {**env, "PORTS_FILE": str(tmp / "ports"), "INTERFACE": LOOPBACK}


#: Every C{.tac} file in C{examples/tac/}, by name: a new one needs an entry.
TAC_EXAMPLES: dict[str, TacExample] = {
    "htdocs.tac": TacExample(
        _webroot,
        (
            TacCheck("/", body=b"<h1>the index</h1>", contentType="text/html"),
            TacCheck("/notes.txt", body=b"some notes\n", contentType="text/plain"),
            TacCheck("/missing", status=404),
            # No processors were set: a script is a plain file.
            TacCheck("/script.rpy", body=SCRIPT_RPY.encode()),
        ),
    ),
    "doc_child.tac": TacExample(
        _withDocs,
        (
            TacCheck("/", body=b"<h1>the index</h1>"),
            TacCheck("/doc/pkg/README.txt", body=b"package docs"),
            TacCheck("/doc/missing", status=404),
        ),
    ),
    "rpy_index.tac": TacExample(
        _webroot,
        (
            # index.rpy, not index.html, is the directory's page.
            TacCheck("/", startswith=b"index.rpy says hello from "),
            TacCheck("/script.rpy", startswith=b"rpy says hello from "),
        ),
    ),
    "ignore_ext.tac": TacExample(
        _webroot,
        (
            TacCheck("/foo", startswith=b"rpy says hello from "),
            TacCheck("/foo.rpy", startswith=b"rpy says hello from "),
            TacCheck("/notes.txt", body=b"some notes\n"),
            TacCheck("/bar", status=404),
        ),
    ),
    "fonts.tac": TacExample(
        _fonts,
        (
            TacCheck(
                "/sans.woff2",
                body=b"wOF2 font data",
                contentType="application/font-woff2",
            ),
            TacCheck("/sans.woff", body=b"wOFF font data", contentType="font/woff"),
        ),
    ),
    "ports.tac": TacExample(
        _portsFile, (TacCheck("/", body=b"<h1>the index</h1>"),), ports=2
    ),
}


@pytest.mark.parametrize("name", sorted(p.name for p in TAC_DIR.glob("*.tac")))
def test_tacExample(start: Callable[..., Server], tmp_path: Path, name: str) -> None:
    """
    The C{.tac} example, run with C{twistd -ny}, serves what the howto says.
    """
    example = TAC_EXAMPLES.get(name)
    if example is None:
        pytest.fail(f"examples/tac/{name} has no entry in TAC_EXAMPLES")
    ports: list[int] = []
    while len(ports) < example.ports:
        port = _freePort()
        if port not in ports:
            ports.append(port)
    env = example.prepare(tmp_path, ports)
    server = start(
        [*_twistdArgs(), "-y", str(TAC_DIR / name)],
        port=ports[0],
        command=None,
        env=env,
    )
    for port in ports:
        for check in example.checks:
            status, headers, body, _ = _get(port, path=check.path)
            where = f"{name}: GET {check.path} on {port}"
            assert status == check.status, where
            if check.body is not None:
                assert body == check.body, where
            assert body.startswith(check.startswith), where
            if check.contentType is not None:
                assert headers["content-type"].startswith(check.contentType), where
    assert "Traceback" not in server.log()


def test_everyTacExampleExists() -> None:
    """
    Every entry of L{TAC_EXAMPLES} names a file in C{examples/tac/}, and the
    README there lists every file.
    """
    names = {p.name for p in TAC_DIR.glob("*.tac")}
    assert set(TAC_EXAMPLES) <= names
    readme = (TAC_DIR / "README.md").read_text(encoding="utf-8")
    assert [n for n in sorted(names) if f"`{n}`" not in readme] == []
