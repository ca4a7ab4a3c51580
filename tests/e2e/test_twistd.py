"""
End-to-end tests: C{twistd web-re} run as a real process, spoken to over
loopback sockets.

Only 127.0.0.1 is ever listened on or connected to, every wait has its own
deadline, and every server started is stopped (killed if it will not stop).
"""

from __future__ import annotations

import http.client
import os
import shutil
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

from twisted_web_re.wsgi import SHUTDOWN_GRACE

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
# twistd as TWISTD runs it, printing, once the reactor has shut down (every
# service stopped, the reactor's own thread pool joined, and every shutdown
# trigger of the application run, since this one is added last, once the
# reactor runs), the names of the threads still alive: twistd then ends itself
# by the signal it was stopped with, which would not wait for them.
TWISTD_REPORTING_THREADS = [
    sys.executable,
    "-c",
    "import sys, threading\n"
    "from twisted.internet import reactor\n"
    "from twisted.scripts.twistd import run\n"
    "def report():\n"
    "    main = threading.main_thread()\n"
    "    names = sorted(t.name for t in threading.enumerate() if t is not main)\n"
    "    print('threads after shutdown:', names)\n"
    "reactor.callWhenRunning(\n"
    "    reactor.addSystemEventTrigger, 'after', 'shutdown', report\n"
    ")\n"
    "sys.argv[0] = 'twistd'\n"
    "run()\n",
]


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


def _stop(server: Server, deadline: float = STOP_DEADLINE) -> int | None:
    """
    Stop C{server} with SIGTERM, killing it if it outlives the stop deadline.

    @param server: A server started by L{_start}.
    @param deadline: The seconds it has to stop.
    @return: Its exit status after SIGTERM, or L{None} if it had to be killed.
    """
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=deadline)
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
        (["--wsgi", "no_such_module.app"], "--wsgi: cannot find 'no_such_module.app'"),
        (["--wsgi", "os.sep"], "is a str, not a WSGI application (a callable)"),
        (["--wsgi", "os.getcwd", "--path", "."], "each choose what to serve"),
        (["--user", "--path", "."], "each choose what to serve"),
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
    assert "--personal" in result.stdout
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


# A CGI program in sh, as a .cgi file under --path runs.
RUN_CGI = b"""#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "CGI says hello; QUERY_STRING=$QUERY_STRING"
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
    (directory / "run.cgi").write_bytes(RUN_CGI)
    (directory / "run.cgi").chmod(0o755)
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
    listed, 404 for what is missing; C{.cgi} programs run; the
    C{--add-header} headers are on every answer, errors included, and each
    request is written to the C{--logfile}.
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

    status, headers, body, _ = _get(port, path="/run.cgi?x=1")
    assert (status, body) == (200, b"CGI says hello; QUERY_STRING=x=1\n")
    assert headers["content-type"] == "text/plain"
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


# -- WSGI and CGI: --wsgi, and the examples in examples/wsgi/, examples/cgi/ --

WSGI_DIR = REPO / "examples" / "wsgi"
CGI_DIR = REPO / "examples" / "cgi"

# A WSGI application that reads the request body as it arrives, for --wsgi.
WSGI_APPS_PY = """\
import time


def echo(environ, start_response):
    body = environ["wsgi.input"].read()
    page = b"%s %s read %d bytes" % (
        environ["REQUEST_METHOD"].encode(),
        environ["PATH_INFO"].encode("latin-1"),
        len(body),
    )
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [page]


def fail(environ, start_response):
    raise RuntimeError("the application failed on purpose")


def underway(environ, start_response):
    if environ["PATH_INFO"] == "/upload":
        environ["wsgi.input"].read()
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    for _ in range(20):
        write(b"tick\\n")
        time.sleep(0.05)
    return []
"""


def _wsgiPath(*directories: Path) -> dict[str, str]:
    """
    The environment variables putting the checkout and C{directories} on
    the server's import path.

    @param directories: Where its WSGI applications are.
    @return: The C{PYTHONPATH} setting.
    """
    return {"PYTHONPATH": os.pathsep.join(str(d) for d in (REPO, *directories))}


def _post(port: int, path: str, body: bytes) -> tuple[int, bytes]:
    """
    POST C{body} to 127.0.0.1 and read the whole response.

    @param port: The server's port.
    @param path: The request target.
    @param body: The request body, sent with a Content-Length.
    @return: The status and the response body.
    """
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request("POST", path, body=body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _assertStoppedCleanly(server: Server, extraSeconds: float = 0.0) -> None:
    """
    Stop C{server}, started with L{TWISTD_REPORTING_THREADS}, and check that
    it stopped by itself, without a traceback and with no thread left.

    @param server: The server.
    @param extraSeconds: How much longer than L{STOP_DEADLINE} it may take.
    """
    exitCode = _stop(server, STOP_DEADLINE + extraSeconds)
    log = server.log()
    assert exitCode in (0, -signal.SIGTERM), log
    assert "Main loop terminated." in log
    assert "Traceback" not in log
    assert "threads after shutdown: []" in log, log


@pytest.mark.parametrize("runner", ["twistd", "twist"])
def test_servesWSGI(start: Callable[..., Server], runner: str, tmp_path: Path) -> None:
    """
    C{twistd -n web-re --wsgi=helloworld.application} serves the howto's
    application, with the C{--add-header} headers (C{twistd web} answers 500
    to every request when C{--wsgi} and C{--add-header} are combined) and an
    access log; on SIGTERM it stops cleanly, its thread pool stopped and no
    thread left behind.
    """
    port = _freePort()
    accessLog = tmp_path / "access.log"
    command = (
        [*TWISTD_REPORTING_THREADS, "--nodaemon", "--pidfile=", "--logfile=-"]
        if runner == "twistd"
        else TWIST
    )
    server = start(
        command,
        *_listen(port),
        "--wsgi=helloworld.application",
        "--add-header",
        "X-Served-By: web-re",
        "--logfile",
        str(accessLog),
        port=port,
        env=_wsgiPath(WSGI_DIR),
    )
    for path in ("/", "/any/path?x=1"):
        status, headers, body, _ = _get(port, path=path)
        assert (status, body) == (200, b"Hello World!")
        assert headers["content-type"] == "text/plain"
        assert headers["x-served-by"] == "web-re"
    status, body = _post(port, "/", b"ignored")
    assert (status, body) == (200, b"Hello World!")
    status, headers, body, _ = _get(port, "HEAD")
    assert (status, body) == (200, b"")
    assert headers["x-served-by"] == "web-re"

    if runner == "twistd":
        _assertStoppedCleanly(server)
    else:
        assert _stop(server) in (0, -signal.SIGTERM), server.log()
        assert "Traceback" not in server.log()
    lines = accessLog.read_text().splitlines()
    assert len(lines) == 4, lines
    assert '"GET / HTTP/1.1" 200 ' in lines[0]
    assert '"POST / HTTP/1.1" 200 ' in lines[2]


def test_wsgiBodyAndErrors(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    The application reads the request body (sent with a length, or chunked)
    from C{wsgi.input}; one that raises answers 500, with the C{--add-header}
    headers and without the traceback, unless C{--display-tracebacks}.
    """
    (tmp_path / "apps.py").write_text(WSGI_APPS_PY)
    port = _freePort()
    server = start(
        [*TWISTD_REPORTING_THREADS, "--nodaemon", "--pidfile=", "--logfile=-"],
        *_listen(port),
        "--wsgi",
        "apps.echo",
        "--add-header",
        "X-Frame-Options: DENY",
        port=port,
        env=_wsgiPath(tmp_path),
    )
    status, body = _post(port, "/upload", b"x" * 300_000)
    assert (status, body) == (200, b"POST /upload read 300000 bytes")

    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(
            "PUT", "/chunked", body=iter([b"abc", b"defg"]), encode_chunked=True
        )
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"PUT /chunked read 7 bytes")
        assert response.getheader("X-Frame-Options") == "DENY"
    finally:
        connection.close()
    _assertStoppedCleanly(server)

    for extra, shown in (([], False), (["--display-tracebacks"], True)):
        port = _freePort()
        server = start(
            _twistdArgs(),
            *_listen(port),
            "--wsgi",
            "apps.fail",
            "--add-header",
            "X-Frame-Options: DENY",
            *extra,
            port=port,
            env=_wsgiPath(tmp_path),
        )
        status, headers, body, _ = _get(port)
        assert status == 500
        assert headers["x-frame-options"] == "DENY"
        assert (b"the application failed on purpose" in body) is shown
        assert "the application failed on purpose" in server.log()
        _stop(server)


def test_wsgiStopsWithResponseUnderWay(
    start: Callable[..., Server], tmp_path: Path
) -> None:
    """
    SIGTERM while the application is writing a response lets the response
    finish, then stops the server with no thread left behind.
    (C{twistd web --wsgi} never exits then: it joins its threads on the
    reactor thread, which the writing one is waiting for.)
    """
    (tmp_path / "apps.py").write_text(WSGI_APPS_PY)
    port = _freePort()
    server = start(
        [*TWISTD_REPORTING_THREADS, "--nodaemon", "--pidfile=", "--logfile=-"],
        *_listen(port),
        "--wsgi",
        "apps.underway",
        port=port,
        env=_wsgiPath(tmp_path),
    )
    with socket.create_connection((LOOPBACK, port), timeout=REQUEST_TIMEOUT) as client:
        client.sendall(b"GET /tick HTTP/1.1\r\nHost: x\r\n\r\n")
        received = client.recv(65536)
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
        server.process.send_signal(signal.SIGTERM)
        while not received.endswith(b"0\r\n\r\n"):
            piece = client.recv(65536)
            assert piece, received
            received += piece
    assert received.count(b"tick\n") == 20
    # Signalled once already: a second SIGTERM would make twistd log an error.
    server.process.wait(timeout=STOP_DEADLINE)
    _assertStoppedCleanly(server)


def test_wsgiStopsDespiteStalledUpload(
    start: Callable[..., Server], tmp_path: Path
) -> None:
    """
    SIGTERM while the application waits for a request body that the client
    has stopped sending stops the server once the WSGI resource's grace
    period is over (the application is then released), with no thread left
    behind.
    """
    (tmp_path / "apps.py").write_text(WSGI_APPS_PY)
    port = _freePort()
    server = start(
        [*TWISTD_REPORTING_THREADS, "--nodaemon", "--pidfile=", "--logfile=-"],
        *_listen(port),
        "--wsgi",
        "apps.underway",
        port=port,
        env=_wsgiPath(tmp_path),
    )
    with socket.create_connection((LOOPBACK, port), timeout=REQUEST_TIMEOUT) as client:
        client.sendall(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
            + b"only ten!!"
        )
        time.sleep(0.2)
        _assertStoppedCleanly(server, extraSeconds=SHUTDOWN_GRACE)


def test_cgiUnderPath(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    Under C{--path}, a C{.cgi} file is run as a CGI program, with the query
    string, the extra path and the request body given to it, and answers
    with what it prints.
    """
    site = tmp_path / "site"
    site.mkdir()
    program = site / "env.cgi"
    program.write_text(
        "#!/bin/sh\n"
        'echo "Content-Type: text/plain"\n'
        'echo "X-Script: env.cgi"\n'
        "echo\n"
        'echo "$REQUEST_METHOD q=$QUERY_STRING info=$PATH_INFO"\n'
        "cat\n"
    )
    program.chmod(0o755)
    port = _freePort()
    start(_twistdArgs(), *_listen(port), "--path", str(site), port=port)

    status, headers, body, _ = _get(port, path="/env.cgi?a=1")
    assert (status, body) == (200, b"GET q=a=1 info=\n")
    assert headers["content-type"] == "text/plain"
    assert headers["x-script"] == "env.cgi"

    status, _, body, _ = _get(port, path="/env.cgi/extra/path")
    assert (status, body) == (200, b"GET q= info=/extra/path\n")

    status, body = _post(port, "/env.cgi", b"the body")
    assert (status, body) == (200, b"POST q= info=\nthe body")


@dataclass(frozen=True)
class SubdirectoryTac:
    """
    A C{.tac} example outside C{examples/tac/}: how to run it and what it
    must answer.

    @ivar env: The environment variables it reads, besides C{LISTEN}.
    @ivar checks: The requests to make, in order.
    @ivar needs: A program it runs, which the test is skipped without.
    """

    env: dict[str, str]
    checks: tuple[TacCheck, ...]
    needs: str | None = None


#: Every C{.tac} file in C{examples/wsgi/} and C{examples/cgi/}, by path
#: below C{examples/}: a new one needs an entry.
SUBDIRECTORY_TACS: dict[str, SubdirectoryTac] = {
    "wsgi/wsgi_root.tac": SubdirectoryTac(
        {},
        (
            TacCheck("/", body=b"Hello World!", contentType="text/plain"),
            TacCheck("/any/path", body=b"Hello World!"),
        ),
    ),
    "cgi/cgi_bin.tac": SubdirectoryTac(
        {},
        (
            TacCheck("/", startswith=b"<html><body>", contentType="text/html"),
            TacCheck(
                "/cgi-bin/hello.cgi?x=1",
                body=b"Hello from a CGI program in sh!\nREQUEST_METHOD=GET\n"
                b"QUERY_STRING=x=1\nPATH_INFO=\n",
                contentType="text/plain",
            ),
            TacCheck(
                "/cgi-bin/hello.cgi/more/path",
                body=b"Hello from a CGI program in sh!\nREQUEST_METHOD=GET\n"
                b"QUERY_STRING=\nPATH_INFO=/more/path\n",
            ),
            TacCheck("/cgi-bin/echo.py?a=b", body=b"GET a=b\n"),
            TacCheck("/cgi-bin/missing.cgi", status=404),
        ),
        needs="python3",
    ),
}


@pytest.mark.parametrize(
    "name",
    sorted(
        str(p.relative_to(REPO / "examples"))
        for directory in (WSGI_DIR, CGI_DIR)
        for p in directory.glob("*.tac")
    ),
)
def test_subdirectoryTac(
    start: Callable[..., Server], tmp_path: Path, name: str
) -> None:
    """
    The howto's WSGI C{.tac} and its C{cgi-bin} one, run with C{twistd -ny},
    serve what the howto says, and stop cleanly.
    """
    example = SUBDIRECTORY_TACS.get(name)
    if example is None:
        pytest.fail(f"examples/{name} has no entry in SUBDIRECTORY_TACS")
    if example.needs is not None and shutil.which(example.needs) is None:
        pytest.skip(f"{example.needs} is not installed")
    port = _freePort()
    server = start(
        [*TWISTD_REPORTING_THREADS, "--nodaemon", "--pidfile=", "--logfile=-"],
        "-y",
        str(REPO / "examples" / name),
        port=port,
        command=None,
        env={**example.env, "LISTEN": f"tcp:{port}:interface={LOOPBACK}"},
    )
    for check in example.checks:
        status, headers, body, _ = _get(port, path=check.path)
        where = f"{name}: GET {check.path}"
        assert status == check.status, where
        if check.body is not None:
            assert body == check.body, where
        assert body.startswith(check.startswith), where
        if check.contentType is not None:
            assert headers["content-type"].startswith(check.contentType), where
    _assertStoppedCleanly(server)


def test_cgiBinPost(start: Callable[..., Server]) -> None:
    """
    The Python CGI program of C{examples/cgi/cgi-bin/} reads the request body
    from its standard input.
    """
    if shutil.which("python3") is None:
        pytest.skip("python3 is not installed")
    port = _freePort()
    start(
        [*_twistdArgs(), "-y", str(CGI_DIR / "cgi_bin.tac")],
        port=port,
        command=None,
        env={"LISTEN": f"tcp:{port}:interface={LOOPBACK}"},
    )
    status, body = _post(port, "/cgi-bin/echo.py?form=1", b"name=value")
    assert (status, body) == (200, b"POST form=1\nname=value")


def test_perlFilteredScript(start: Callable[..., Server]) -> None:
    """
    The howto's C{.rpy} serving Perl scripts with a L{twcgi.FilteredScript}
    (C{examples/cgi/perl.rpy}), under C{twistd web-re --path examples/cgi}:
    a directory is rendered by its C{index.pl}, and a C{.pl} file is run by
    Perl with the query string; C{.cgi} files there run too.
    """
    if not os.access("/usr/bin/perl", os.X_OK):
        pytest.skip("/usr/bin/perl is not installed")
    port = _freePort()
    start(_twistdArgs(), *_listen(port), "--path", str(CGI_DIR), port=port)

    status, headers, body, _ = _get(port, path="/perl.rpy/")
    assert status == 200
    assert headers["content-type"] == "text/html"
    assert b"<h1>Hello from Perl</h1>" in body

    status, headers, body, _ = _get(port, path="/perl.rpy/greet.pl?name=Twisted")
    assert (status, body) == (200, b"Hello, Twisted, from Perl!\n")
    assert headers["content-type"] == "text/plain"

    status, _, body, _ = _get(port, path="/cgi-bin/hello.cgi?from=path")
    assert status == 200
    assert b"QUERY_STRING=from=path\n" in body
