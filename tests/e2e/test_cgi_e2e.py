"""
End-to-end tests of CGI: the real programs of C{tests/cgi-scripts/} (sh and
Python; Perl, and PHP when C{php-cgi} is installed) run by a
L{twisted_web_re.server.Site} in its own process, spoken to over loopback.

Run as a program, this module is that server::

    python tests/e2e/test_cgi_e2e.py SCRIPTS FILTERED DOCROOT

It publishes DOCROOT as a L{static.File}, with SCRIPTS as a
L{twcgi.CGIDirectory} at C{/cgi-bin/}, FILTERED's C{.py} files run by a
L{twcgi.FilteredScript} whose filter is this Python at C{/py/}, SCRIPTS'
C{perl/} through the howto's C{PerlScript} at C{/perl/} and C{php/} through
L{twcgi.PHPScript} at C{/php/}.  Programs time out after
L{SCRIPT_TIMEOUT} seconds.  It listens twice on 127.0.0.1: once plainly,
once with C{locateBeforeBody} (bodies streamed to programs), and prints
C{PORTS <plain> <streaming>}; its log goes to standard error.

Only 127.0.0.1 is ever a target; every socket has a timeout, every wait a
deadline; the server is stopped when the module's tests end, and no program
it started may outlive it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCRIPTS = REPO / "tests" / "cgi-scripts"
LOOPBACK = "127.0.0.1"

#: Seconds a program may make no progress before the server kills it.
SCRIPT_TIMEOUT = 1.5
#: Seconds between the SIGTERM and the SIGKILL.
KILL_GRACE = 0.5
#: Seconds one exchange may take.
TIMEOUT = 10.0
#: A secret in the server's environment that no program may see.
SECRET = "do-not-leak-5b1e"

PHP_CGI = "/usr/bin/php-cgi"
PERL = "/usr/bin/perl"


# -- the server ------------------------------------------------------------------------


def serve(scripts: str, filtered: str, docroot: str) -> None:
    """Run the server the module docstring describes, until killed."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    from twisted_web_re import server, static, twcgi

    globalLogBeginner.beginLoggingTo(
        [textFileLogObserver(sys.stderr)], redirectStandardIO=False
    )
    twcgi.CGIScript.timeout = SCRIPT_TIMEOUT
    twcgi.CGIScript.killGrace = KILL_GRACE

    class PythonScript(twcgi.FilteredScript):
        filter = sys.executable

    class PerlScript(twcgi.FilteredScript):
        filter = PERL  # Points to the perl parser

    def buildSite(streaming: bool) -> server.Site:
        root = static.File(docroot)
        root.putChild(b"cgi-bin", twcgi.CGIDirectory(scripts))
        python = static.File(filtered)
        python.processors = {".py": PythonScript}
        root.putChild(b"py", python)
        perl = static.File(os.path.join(scripts, "perl"))
        perl.processors = {".pl": PerlScript}
        perl.indexNames = ["index.pl"]
        root.putChild(b"perl", perl)
        php = static.File(os.path.join(scripts, "php"))
        php.processors = {".php": twcgi.PHPScript}
        root.putChild(b"php", php)
        site = server.Site(root)
        site.locateBeforeBody = streaming
        return site

    plain = reactor.listenTCP(0, buildSite(False), interface=LOOPBACK)  # type: ignore[attr-defined]
    streaming = reactor.listenTCP(0, buildSite(True), interface=LOOPBACK)  # type: ignore[attr-defined]
    sys.stdout.write(f"PORTS {plain.getHost().port} {streaming.getHost().port}\n")
    sys.stdout.flush()
    reactor.run()  # type: ignore[attr-defined]


@dataclass
class Server:
    """
    The running server.

    @ivar plain: its port without C{locateBeforeBody}.
    @ivar streaming: its port with C{locateBeforeBody}.
    """

    process: subprocess.Popen[bytes]
    plain: int
    streaming: int
    output: IO[bytes]
    scripts: Path
    filtered: Path
    docroot: Path

    def log(self) -> str:
        """Everything the server logged so far."""
        self.output.flush()
        self.output.seek(0)
        return self.output.read().decode("utf-8", "replace")

    def waitForLog(self, pattern: str, deadline: float = TIMEOUT) -> re.Match[str]:
        """Wait until the log matches C{pattern}; return the match."""
        end = time.monotonic() + deadline
        while True:
            match = re.search(pattern, self.log())
            if match is not None:
                return match
            if time.monotonic() > end:
                raise AssertionError(f"{pattern!r} never logged:\n{self.log()[-3000:]}")
            time.sleep(0.05)


def prepare(directory: Path) -> tuple[Path, Path, Path]:
    """
    Copy the test programs into C{directory} with the modes they need, and
    make a document root and a directory of Python scripts to be filtered.
    """
    scripts = directory / "scripts"
    shutil.copytree(SCRIPTS, scripts, symlinks=True)
    for path in scripts.rglob("*"):
        if path.is_file():
            # Perl and PHP scripts are run by their interpreters.
            runnable = (
                path.parent in (scripts, scripts / "sub")
                and path.suffix in (".sh", ".py")
                and path.name != "not-executable.sh"
            )
            path.chmod(0o755 if runnable else 0o644)
    (scripts / "outside-link.sh").symlink_to(directory / "outside.sh")
    (directory / "outside.sh").write_text("#!/bin/sh\necho 'Content-Type: a/b'\n")
    (directory / "outside.sh").chmod(0o755)
    filtered = directory / "filtered"
    filtered.mkdir()
    shutil.copy(SCRIPTS / "env.py", filtered / "env.py")
    (filtered / "env.py").chmod(0o644)
    docroot = directory / "htdocs"
    docroot.mkdir()
    (docroot / "target.txt").write_text("the local redirect's target\n")
    return scripts, filtered, docroot


def children(pid: int) -> set[int]:
    """The processes whose parent is C{pid}."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(entry))
    return found


def alive(pid: int) -> bool:
    """Whether process C{pid} exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def waitGone(pid: int, deadline: float) -> float:
    """Wait for C{pid} to be gone; return how long it took."""
    start = time.monotonic()
    while alive(pid):
        if time.monotonic() - start > deadline:
            raise AssertionError(f"process {pid} still running after {deadline}s")
        time.sleep(0.02)
    return time.monotonic() - start


@pytest.fixture(scope="module")
def cgiServer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The CGI server, shared by the module's tests."""
    directory = tmp_path_factory.mktemp("cgi")
    scripts, filtered, docroot = prepare(directory)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    )
    # The programs' "#!/usr/bin/env python3" finds this Python first.
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"])
    env["CGI_E2E_SECRET"] = SECRET
    env["HTTP_PROXY"] = "http://server-own-proxy.invalid/"
    output = open(directory / "server.log", "w+b")
    process = subprocess.Popen(
        [sys.executable, __file__, str(scripts), str(filtered), str(docroot)],
        cwd=directory,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=output,
    )
    server = Server(process, 0, 0, output, scripts, filtered, docroot)
    running: set[int] = set()
    try:
        assert process.stdout is not None
        line = b""
        deadline = time.monotonic() + 15
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                raise RuntimeError(f"CGI server did not start:\n{server.log()}")
            ready, _, _ = select.select([process.stdout], [], [], min(left, 0.5))
            if ready:
                piece = os.read(process.stdout.fileno(), 256)
                if not piece:
                    raise RuntimeError(f"CGI server exited:\n{server.log()}")
                line += piece
        _, plain, streaming = line.split()
        server.plain, server.streaming = int(plain), int(streaming)
        yield server
        # Every program has ended (the server reaps them as they do)...
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            running = {pid for pid in children(process.pid) if alive(pid)}
            if not running:
                break
            time.sleep(0.05)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        process.stdout.close()  # type: ignore[union-attr]
        output.close()
    # ... or, if one had not, the server ended it as it shut down.
    for pid in running:
        waitGone(pid, 5)
    assert not running, f"CGI programs left running: {running}"


@pytest.fixture
def server(cgiServer: Server) -> Server:
    """The CGI server, checked alive."""
    assert cgiServer.process.poll() is None, cgiServer.log()[-3000:]
    return cgiServer


# -- clients ---------------------------------------------------------------------------


def fetch(
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    """Make one request on a new connection; return the response and body."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def environment(port: int, path: str, **kwargs: Any) -> dict[str, Any]:
    """What C{env.py} at C{path} reports."""
    response, body = fetch(port, path, **kwargs)
    assert response.status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def fullDuplex(
    port: int, head: bytes, body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """
    Send a request with its body from a thread while reading the response,
    as browsers do: a program may answer while the body still arrives.
    """
    sock = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
    failure: list[BaseException] = []

    def send() -> None:
        try:
            sock.sendall(head + body)
        except OSError as error:
            failure.append(error)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        reader = sock.makefile("rb")
        status = int(reader.readline().split()[1])
        headers = {}
        while True:
            line = reader.readline().rstrip(b"\r\n")
            if not line:
                break
            name, _, value = line.partition(b":")
            headers[name.decode().lower()] = value.strip().decode()
        if headers.get("transfer-encoding") == "chunked":
            data = bytearray()
            while True:
                size = int(reader.readline().split(b";")[0], 16)
                if not size:
                    reader.readline()
                    break
                data += reader.read(size)
                reader.readline()
        else:
            data = bytearray(reader.read(int(headers["content-length"])))
        sender.join(TIMEOUT)
        assert not failure, failure
        return status, headers, bytes(data)
    finally:
        sock.close()


# -- the tests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "greeting"),
    [("hello.sh", b"Hello from sh\n"), ("hello.py", b"Hello from Python\n")],
)
def test_hello(server: Server, script: str, greeting: bytes) -> None:
    """A program's Content-Type and body are the response's."""
    response, body = fetch(server.plain, f"/cgi-bin/{script}")
    assert response.status == 200
    assert response.getheader("Content-Type") == "text/plain"
    assert body == greeting


def test_environment(server: Server) -> None:
    """
    A program gets the RFC 3875 meta-variables, extra path segments as
    PATH_INFO (which twisted.web's CGIScript crashes on), runs in its own
    directory, and sees nothing of the server's own environment but PATH:
    no secret, no HTTP_PROXY from a C{Proxy:} header (httpoxy) nor from the
    server, no credentials.
    """
    answer = environment(
        server.plain,
        "/cgi-bin/env.py/extra/path?x=1&y=%20",
        headers={
            "Proxy": "http://attacker.invalid:3128/",
            "Authorization": "Basic YWxpY2U6czNjcmV0",
            "X-Custom": "custom value",
            "Cookie": "a=1",
        },
    )
    environ = answer["environ"]
    script = server.scripts / "env.py"
    expected = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": LOOPBACK,
        "SERVER_PORT": str(server.plain),
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "/cgi-bin/env.py",
        "SCRIPT_FILENAME": str(script),
        "PATH_INFO": "/extra/path",
        "PATH_TRANSLATED": str(server.docroot) + "/extra/path",
        "DOCUMENT_ROOT": str(server.docroot),
        "QUERY_STRING": "x=1&y=%20",
        "REQUEST_URI": "/cgi-bin/env.py/extra/path?x=1&y=%20",
        "REMOTE_ADDR": LOOPBACK,
        "REMOTE_HOST": LOOPBACK,
        "AUTH_TYPE": "Basic",
        "REMOTE_USER": "alice",
        "HTTP_X_CUSTOM": "custom value",
        "HTTP_COOKIE": "a=1",
        "HTTP_HOST": f"{LOOPBACK}:{server.plain}",
    }
    assert {name: environ.get(name) for name in expected} == expected
    assert environ["SERVER_SOFTWARE"].startswith("TwistedWebRe/")
    assert environ["PATH"].startswith(os.path.dirname(sys.executable))
    for absent in ("HTTP_PROXY", "HTTP_AUTHORIZATION", "CGI_E2E_SECRET", "HOME"):
        assert absent not in environ
    assert SECRET not in json.dumps(answer)
    assert "s3cret" not in json.dumps(answer)
    allowed = set(expected) | {
        "SERVER_SOFTWARE",
        "PATH",
        "LANG",
        "LC_ALL",
        "TZ",
        "REMOTE_PORT",
        "HTTP_ACCEPT_ENCODING",
        "LC_CTYPE",  # Python sets it in its own environment (PEP 538)
    }
    assert set(environ) <= allowed, set(environ) - allowed
    assert answer["cwd"] == str(server.scripts)
    assert answer["argv"] == [str(script)]


def test_environmentShell(server: Server) -> None:
    """A shell program sees the same minimal environment."""
    _, body = fetch(server.plain, "/cgi-bin/env.sh/x", headers={"Proxy": "evil"})
    lines = set(body.decode().splitlines())
    assert "GATEWAY_INTERFACE=CGI/1.1" in lines
    assert "PATH_INFO=/x" in lines
    assert not [line for line in lines if line.startswith("HTTP_PROXY=")]
    assert SECRET not in body.decode()


def test_postBody(server: Server) -> None:
    """A POST body reaches the program, with CONTENT_LENGTH and CONTENT_TYPE."""
    answer = environment(
        server.plain,
        "/cgi-bin/env.py",
        method="POST",
        body=b"a=1&b=2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer["environ"]["CONTENT_LENGTH"] == "7"
    assert answer["environ"]["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    _, body = fetch(server.plain, "/cgi-bin/echo.py", method="POST", body=b"x=y")
    assert body == b"x=y"


BIG = hashlib.sha256(b"seed").digest() * (5 * 1024 * 1024 // 32)


@pytest.mark.parametrize("script", ["echo.py", "echo.sh"])
@pytest.mark.parametrize("streaming", [False, True], ids=["spooled", "streamed"])
def test_bigBodyRoundTrip(server: Server, script: str, streaming: bool) -> None:
    """
    A 5 MiB body goes to the program and comes back whole: spooled first, or
    (with C{locateBeforeBody}) piped as it arrives, the program answering
    while it reads.
    """
    port = server.streaming if streaming else server.plain
    head = (
        b"POST /cgi-bin/%s HTTP/1.1\r\nHost: %s\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
        % (script.encode(), LOOPBACK.encode(), len(BIG))
    )
    status, _, data = fullDuplex(port, head, BIG)
    assert status == 200
    assert len(data) == len(BIG)
    assert data == BIG


def test_chunkedUploadStreamed(server: Server) -> None:
    """
    A chunked upload on the streaming site is spooled, so the program still
    gets its CONTENT_LENGTH.
    """
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (b"hello ", b"world"))
    head = (
        b"POST /cgi-bin/echo.py HTTP/1.1\r\nHost: %s\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" % LOOPBACK.encode()
    )
    status, headers, data = fullDuplex(server.streaming, head, body + b"0\r\n\r\n")
    assert (status, data) == (200, b"hello world")
    assert headers["content-length"] == "11"


def test_status(server: Server) -> None:
    """C{Status: 404 Not Found} is the response's status."""
    response, body = fetch(server.plain, "/cgi-bin/status.sh")
    assert (response.status, response.reason) == (404, "Not Found")
    assert body == b"nothing here\n"


def test_localRedirect(server: Server) -> None:
    """
    C{Location: /target.txt} is answered by the server with that URL's
    response (a static file), not sent to the client.
    """
    response, body = fetch(server.plain, "/cgi-bin/redirect.py?local")
    assert response.status == 200
    assert response.getheader("Location") is None
    assert body == b"the local redirect's target\n"


@pytest.mark.parametrize("streaming", [False, True], ids=["spooled", "streamed"])
def test_localRedirectToProgram(server: Server, streaming: bool) -> None:
    """
    A local redirect to another program runs it for GET, with the new URL's
    extra path and query string, and without the original body.
    """
    answer = environment(
        server.streaming if streaming else server.plain,
        "/cgi-bin/redirect.py?cgi",
        method="POST",
        body=b"dropped=1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    environ = answer["environ"]
    assert environ["REQUEST_METHOD"] == "GET"
    assert environ["PATH_INFO"] == "/after"
    assert environ["QUERY_STRING"] == "from=redirect"
    assert "CONTENT_LENGTH" not in environ


def test_clientRedirects(server: Server) -> None:
    """
    An absolute C{Location} is a 302 to it; with a C{Status} and a body, the
    status and body are kept.
    """
    response, body = fetch(server.plain, "/cgi-bin/redirect.py?absolute")
    assert response.status == 302
    assert response.getheader("Location") == "http://example.com/elsewhere"
    response, body = fetch(server.plain, "/cgi-bin/redirect.py?redirect-with-status")
    assert response.status == 301
    assert response.getheader("Location") == "http://example.com/moved"
    assert body == b"moved\n"


def test_redirectLoop(server: Server) -> None:
    """A program redirecting to itself is stopped after 10 rounds: 500."""
    response, _ = fetch(server.plain, "/cgi-bin/redirect.py?loop")
    assert response.status == 500
    server.waitForLog(r"redirect\.py: more than 10 local redirects")


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("no-output.sh", "no output at all"),
        ("no-blank.sh", "output ended before the end of the response head"),
        ("bad-header.sh", "header line without a colon"),
        ("bad-status.py", "invalid status"),
        ("long-head.py", "response head longer than 65536 bytes"),
        ("bad-interpreter.sh", "no output at all"),
    ],
)
def test_badOutput(server: Server, script: str, problem: str) -> None:
    """
    A program whose output is not a CGI response earns a 502 Bad Gateway
    and a log line naming it and what was wrong.
    """
    response, body = fetch(server.plain, f"/cgi-bin/{script}")
    assert response.status == 502
    assert b"did not send a valid response" in body
    server.waitForLog(re.escape(f"{script} sent a malformed response: {problem}"))
    if script == "bad-interpreter.sh":
        # Why the exec failed is on the program's standard error.
        server.waitForLog(r"bad-interpreter\.sh \(stderr\): .*No such file")


def test_stderrLogged(server: Server) -> None:
    """What a program writes to standard error is logged, line by line."""
    response, body = fetch(server.plain, "/cgi-bin/stderr.sh")
    assert (response.status, body) == (200, b"fine\n")
    server.waitForLog(r"stderr\.sh \(stderr\): first complaint from stderr\.sh")
    server.waitForLog(r"stderr\.sh \(stderr\): second complaint from stderr\.sh")


@pytest.mark.parametrize("script", ["hang.py", "stubborn.py"])
def test_hangingProgram(server: Server, script: str) -> None:
    """
    A program that writes nothing is killed once the timeout passes, and the
    client gets a 504; one that ignores SIGTERM gets SIGKILL.
    """
    start = time.monotonic()
    response, _ = fetch(server.plain, f"/cgi-bin/{script}")
    took = time.monotonic() - start
    assert response.status == 504
    assert SCRIPT_TIMEOUT - 0.2 < took < SCRIPT_TIMEOUT + 3
    pid = int(server.waitForLog(re.escape(script) + r" pid=(\d+)").group(1))
    waitGone(pid, KILL_GRACE + 3)
    server.waitForLog(re.escape(script) + r": no progress for 1\.5 seconds")


@pytest.mark.parametrize(
    ("script", "why"),
    [
        ("dies-midway.sh", r"was killed by signal 9"),
        ("raises-midway.py", r"exited with status 1"),
        ("fails-after.sh", r"exited with status 3"),
    ],
)
def test_failedProgramCutsResponse(server: Server, script: str, why: str) -> None:
    """
    A program that dies (SIGKILL, an uncaught exception, a failure status)
    after part of its body was sent has its response cut: the client's
    HTTP library sees an incomplete body or a reset, never a complete body,
    and the failure is logged.
    """
    connection = http.client.HTTPConnection(LOOPBACK, server.plain, timeout=TIMEOUT)
    try:
        connection.request("GET", f"/cgi-bin/{script}")
        response = connection.getresponse()
        assert response.status == 200
        # Cut: the last chunk never comes (or the reset arrives first).
        with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
            response.read()
    finally:
        connection.close()
    server.waitForLog(re.escape(script) + " " + why)
    server.waitForLog(re.escape(script) + r" failed after writing its response")


def test_programClosingOutputEarly(server: Server) -> None:
    """
    A program that closes its output and runs on has its (whole) response
    finished within about a second, not held until it exits.
    """
    start = time.monotonic()
    response, body = fetch(server.plain, "/cgi-bin/closes-early.sh")
    assert (response.status, body) == (200, b"done early\n")
    assert time.monotonic() - start < SCRIPT_TIMEOUT + 1


@pytest.mark.parametrize("script", ["slow.py", "slow.sh"])
def test_clientGoesAway(server: Server, script: str) -> None:
    """
    When the client disconnects in the middle of a streamed response, the
    program is killed at once.
    """
    sock = socket.create_connection((LOOPBACK, server.plain), timeout=TIMEOUT)
    try:
        sock.sendall(b"GET /cgi-bin/%s HTTP/1.1\r\nHost: x\r\n\r\n" % script.encode())
        received = b""
        while received.count(b"line ") < 5:
            piece = sock.recv(4096)
            assert piece, received
            received += piece
        assert received.startswith(b"HTTP/1.1 200 OK\r\n")
    finally:
        sock.close()
    pid = int(server.waitForLog(re.escape(script) + r" pid=(\d+)").group(1))
    assert waitGone(pid, 3) < 2


def test_refusedNames(server: Server) -> None:
    """
    A program that is not executable is a 500 (and a log line); dotfiles,
    traversal, links out of the tree and the directory itself are 404s; a
    subdirectory's programs run.
    """
    response, _ = fetch(server.plain, "/cgi-bin/not-executable.sh")
    assert response.status == 500
    server.waitForLog(r"not-executable\.sh is not an executable file")
    for path in (
        "/cgi-bin/.hidden.sh",
        "/cgi-bin/%2e%2e/outside.sh",
        "/cgi-bin/..%2foutside.sh",
        "/cgi-bin/outside-link.sh",
        "/cgi-bin/",
        "/cgi-bin",
        "/cgi-bin/missing.sh",
    ):
        response, body = fetch(server.plain, path)
        assert response.status == 404, path
    response, body = fetch(server.plain, "/cgi-bin/sub/hello.sh")
    assert body == b"Hello from a subdirectory\n"


def test_pythonFilter(server: Server) -> None:
    """
    A L{twcgi.FilteredScript} runs its interpreter on a script that is not
    executable itself, with the script as its argument.
    """
    answer = environment(server.plain, "/py/env.py/more")
    script = str(server.filtered / "env.py")
    assert answer["argv"] == [script]
    assert answer["environ"]["SCRIPT_FILENAME"] == script
    assert answer["environ"]["PATH_INFO"] == "/more"


@pytest.mark.skipif(not os.access(PERL, os.X_OK), reason="no /usr/bin/perl")
def test_perlScripts(server: Server) -> None:
    """
    The howto's C{PerlScript}: C{.pl} files run by Perl, a directory by its
    C{index.pl}; no query string becomes a command-line argument.
    """
    response, body = fetch(server.plain, "/perl/")
    assert response.status == 200
    assert body == b"<p>Perl index, GET /perl/</p>\n"
    response, body = fetch(server.plain, "/perl/hello.pl/extra?word+other")
    assert response.getheader("Content-Type") == "text/plain"
    assert body.decode().splitlines() == [
        "Hello from Perl",
        "QUERY_STRING=word+other",
        "PATH_INFO=/extra",
        "ARGV=",
    ]


@pytest.mark.skipif(not os.access(PHP_CGI, os.X_OK), reason="no php-cgi")
def test_phpScript(server: Server) -> None:  # pragma: no cover - needs php-cgi
    """L{twcgi.PHPScript} runs a PHP page with php-cgi."""
    response, body = fetch(server.plain, "/php/hello.php")
    assert response.status == 200
    assert body == b"Hello from PHP GET\n"


def test_concurrentRequests(server: Server) -> None:
    """Programs for concurrent requests run side by side."""
    results: list[bytes] = []

    def one() -> None:
        _, body = fetch(server.plain, "/cgi-bin/hello.sh")
        results.append(body)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert results == [b"Hello from sh\n"] * 8


if __name__ == "__main__":
    serve(*sys.argv[1:4])
