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

import calendar
import datetime
import gzip
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
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


@dataclass(frozen=True)
class FunctionCheck:
    """
    An exchange the table cannot spell out (a compressed body, a cookie carried
    from one request to the next, requests made at the same time), written as
    a function of the example's port that fails by raising.

    @ivar run: called with the port; it makes its own connections.
    """

    run: Callable[[int], None]


Check = HTTPCheck | RawCheck | FunctionCheck


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


# -- checks of the twisted_web_re examples that the table cannot spell out ----


def _request(
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    """Make one request on a fresh connection; return the response and body."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=REQUEST_DEADLINE)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def _concurrently(port: int, count: int) -> tuple[float, list[tuple[int, bytes]]]:
    """
    Make C{count} GET requests for C{/} at the same time, each on its own
    connection; return the seconds until the last answer, and each answer's
    status and body.
    """
    results: list[tuple[int, bytes] | BaseException] = [ValueError("no answer")] * count

    def one(index: int) -> None:
        try:
            response, body = _request(port, "/")
            results[index] = (response.status, body)
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(REQUEST_DEADLINE * 2)
    elapsed = time.monotonic() - started
    answers: list[tuple[int, bytes]] = []
    for result in results:
        if isinstance(result, BaseException):
            raise AssertionError(f"request failed: {result!r}")
        answers.append(result)
    return elapsed, answers


def _checkGzip(port: int) -> None:
    """
    A client that accepts gzip gets the page gzip-coded, its Content-Length
    that of the coded body, and C{Vary: Accept-Encoding}.
    """
    response, body = _request(port, "/", headers={"Accept-Encoding": "gzip"})
    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Vary") == "Accept-Encoding"
    assert response.getheader("Content-Length") == str(len(body))
    assert gzip.decompress(body) == b"<html>Hello, world!</html>"


_SESSION_COOKIE = re.compile(
    r"TWISTED_SESSION=([0-9a-f]{32}); Path=/; HttpOnly; SameSite=Lax"
)


def _checkSessionCounter(port: int) -> None:
    """
    The first visit sets a session cookie and counts 1; each visit with that
    cookie counts one more and sets no new cookie; a visitor without the
    cookie has a count of its own.
    """
    response, body = _request(port, "/")
    assert body == b"Visit #1 for you!"
    setCookie = response.getheader("Set-Cookie")
    assert setCookie is not None
    match = _SESSION_COOKIE.fullmatch(setCookie)
    assert match is not None, setCookie
    cookie = {"Cookie": f"TWISTED_SESSION={match.group(1)}"}
    for visit in (2, 3):
        response, body = _request(port, "/", headers=cookie)
        assert body == b"Visit #%d for you!" % visit
        assert response.getheader("Set-Cookie") is None
    response, body = _request(port, "/")
    assert body == b"Visit #1 for you!"
    other = _SESSION_COOKIE.fullmatch(response.getheader("Set-Cookie") or "")
    assert other is not None and other.group(1) != match.group(1)
    response, body = _request(port, "/", headers=cookie)
    assert body == b"Visit #4 for you!"


def _checkClock(port: int) -> None:
    """
    Any URL shows the server's local time, as C{time.ctime()} spells it,
    within a minute of the test's own clock.
    """
    for path in ("/", "/any/url?at=all"):
        response, body = _request(port, path)
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/html"
        prefix = b"The local time is "
        assert body.startswith(prefix), body
        shown = time.mktime(time.strptime(body[len(prefix) :].decode("ascii")))
        assert abs(shown - time.time()) < 60, body


def _checkRedirectToThisYear(port: int) -> None:
    """
    C{/} redirects (302) to this year's calendar, by a URL relative to C{/},
    and that URL serves the calendar.
    """
    before = datetime.datetime.now().year
    response, body = _request(port, "/")
    after = datetime.datetime.now().year
    assert response.status == 302
    location = response.getheader("Location")
    assert location in (str(before), str(after)), location
    assert response.getheader("Content-Type") == "text/html; charset=utf-8"
    assert f'href="{location}"'.encode() in body
    response, body = _request(port, "/" + location)
    assert response.status == 200
    year = int(location)
    assert body == b"<html><body><pre>%s</pre></body></html>" % (
        calendar.calendar(year).encode("utf-8"),
    )


#: The sleep given to C{blocking.py}, and the wait given to
#: C{non_blocking.py}, in seconds: short, instead of the book's five.
BLOCKING_SECONDS = 0.2
NON_BLOCKING_SECONDS = 0.5


def _blockingArguments(port: int, tmp: Path) -> list[str]:
    """The port, and a short sleep."""
    return [str(port), str(BLOCKING_SECONDS)]


def _nonBlockingArguments(port: int, tmp: Path) -> list[str]:
    """The port, and a short wait."""
    return [str(port), str(NON_BLOCKING_SECONDS)]


def _checkBlocking(port: int) -> None:
    """
    Three requests made at once are answered one after the other: the last
    one no sooner than three sleeps after they were made.
    """
    elapsed, answers = _concurrently(port, 3)
    for status, body in answers:
        assert status == 200
        assert body.startswith(b"Finally done, at "), body
    assert elapsed >= 3 * BLOCKING_SECONDS, elapsed


def _checkNonBlocking(port: int) -> None:
    """
    Three requests made at once are all answered after about one wait (well
    under the three waits that serving them one by one would take).
    """
    elapsed, answers = _concurrently(port, 3)
    for status, body in answers:
        assert status == 200
        assert body.startswith(b"Finally done, at "), body
    assert NON_BLOCKING_SECONDS <= elapsed < 2 * NON_BLOCKING_SECONDS, elapsed


def _checkConditionalChild(port: int) -> None:
    """
    The C{elephant} child sends an ETag and a Last-Modified; asking again
    with either gets 304 Not Modified and no body.
    """
    response, body = _request(port, "/elephant")
    assert response.status == 200
    assert body == b"Yo Ho Ho and a bottle of rum."
    etag = response.getheader("ETag")
    lastModified = response.getheader("Last-Modified")
    assert etag is not None and lastModified is not None
    response, body = _request(port, "/elephant", headers={"If-None-Match": etag})
    assert (response.status, body) == (304, b"")
    response, body = _request(
        port, "/elephant", headers={"If-Modified-Since": lastModified}
    )
    assert (response.status, body) == (304, b"")


_FORM_PAGE = b"""<html>
<body>
<form method="POST">
<input name="form-field" type="text" />
<input type="submit" />
</form>
</body>
</html>
"""


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
    # -- The Twisted Web howto ----------------------------------------------
    "simple.py": Example(
        checks=(
            HTTPCheck("/", headers=_HTML, responseBody=b"<html>Hello, world!</html>"),
            # A leaf: every path below it is the same page.
            HTTPCheck("/a/b?c=d", responseBody=b"<html>Hello, world!</html>"),
            HTTPCheck("/", method="HEAD", headers=(*_HTML, ("Content-Length", "26"))),
            HTTPCheck(
                "/",
                method="POST",
                body=b"x=1",
                status=405,
                headers=(("Allow", "GET, HEAD"),),
            ),
        ),
    ),
    "hello.py": Example(
        checks=(
            # A leaf at the root consumes no segment: prepath stays empty.
            HTTPCheck("/", responseBody=b"Hello, world! I am located at []."),
            HTTPCheck("/foo/bar/", responseBody=b"Hello, world! I am located at []."),
        ),
    ),
    "resourcetree.py": Example(
        checks=(
            HTTPCheck("/", responseBody=b"Hello, world! I am located at [b'']."),
            HTTPCheck(
                "/fred", responseBody=b"Hello, world! I am located at [b'fred']."
            ),
            HTTPCheck("/bob", responseBody=b"Hello, world! I am located at [b'bob']."),
            HTTPCheck(
                "/fred/", responseBody=b"Hello, world! I am located at [b'fred', b'']."
            ),
            HTTPCheck(
                "/bob/", responseBody=b"Hello, world! I am located at [b'bob', b'']."
            ),
            HTTPCheck(
                "/alice",
                status=404,
                headers=(("Content-Type", "text/html; charset=utf-8"),),
            ),
            HTTPCheck("/fred/x", status=404),
        ),
    ),
    "gzip_encoding.py": Example(
        checks=(
            FunctionCheck(_checkGzip),
            # Without Accept-Encoding: the page as it is, and still Vary.
            HTTPCheck(
                "/",
                headers=(("Vary", "Accept-Encoding"), ("Content-Length", "26")),
                responseBody=b"<html>Hello, world!</html>",
            ),
            # gzip refused by weight 0: not coded.
            HTTPCheck(
                "/",
                requestHeaders=(("Accept-Encoding", "gzip;q=0, identity"),),
                headers=(("Vary", "Accept-Encoding"),),
                responseBody=b"<html>Hello, world!</html>",
            ),
        ),
    ),
    "sessions.py": Example(checks=(FunctionCheck(_checkSessionCounter),)),
    # -- Twisted Network Programming Essentials, chapter 4 -----------------
    "dynamic_content.py": Example(
        checks=(
            FunctionCheck(_checkClock),
            HTTPCheck(
                "/",
                method="POST",
                body=b"",
                status=405,
                headers=(("Allow", "GET, HEAD"),),
            ),
        ),
    ),
    "dynamic_dispatch.py": Example(
        checks=(
            HTTPCheck(
                "/",
                headers=_HTML,
                responseBody=b"<html><body>Welcome to the calendar server!"
                b"</body></html>",
            ),
            HTTPCheck(
                "/2013",
                headers=_HTML,
                responseBody=b"<html><body><pre>%s</pre></body></html>"
                % calendar.calendar(2013).encode("ascii"),
            ),
            # YearPage is no leaf and has no children: one more segment is 404.
            HTTPCheck("/2013/", status=404),
            HTTPCheck("/abc", status=404),
        ),
    ),
    "redirect_to.py": Example(
        checks=(
            FunctionCheck(_checkRedirectToThisYear),
            HTTPCheck("/1999", responseBody=None),
            HTTPCheck("/nope", status=404),
        ),
    ),
    "handle_post.py": Example(
        checks=(
            HTTPCheck("/", headers=_HTML, responseBody=_FORM_PAGE),
            # What was typed comes back escaped, so it cannot add markup.
            HTTPCheck(
                "/",
                method="POST",
                body=b"form-field=%3Cb%3E%22hi%22+%26+%27bye%27%3C%2Fb%3E",
                requestHeaders=(("Content-Type", "application/x-www-form-urlencoded"),),
                headers=_HTML,
                responseBody=b"<html>\n<body>You submitted: &lt;b&gt;&quot;hi&quot;"
                b" &amp; &#x27;bye&#x27;&lt;/b&gt;</body>\n</html>\n",
            ),
            HTTPCheck(
                "/",
                method="POST",
                body=b"form-field=caf%C3%A9",
                requestHeaders=(("Content-Type", "application/x-www-form-urlencoded"),),
                responseBody=b"<html>\n<body>You submitted: caf\xc3\xa9</body>\n"
                b"</html>\n",
            ),
        ),
    ),
    "blocking.py": Example(
        checks=(FunctionCheck(_checkBlocking),), arguments=_blockingArguments
    ),
    "non_blocking.py": Example(
        checks=(FunctionCheck(_checkNonBlocking),), arguments=_nonBlockingArguments
    ),
    # -- The twisted.web2 tutorial's idiom, on the twisted.web API ----------
    "directory.py": Example(
        checks=(
            HTTPCheck("/", headers=_HTML),
            # A directory-like resource is only served with its slash.
            HTTPCheck(
                "/docs",
                status=301,
                headers=(("Location", "/docs/"),),
            ),
            HTTPCheck(
                "/docs?page=2&x=y",
                status=301,
                headers=(("Location", "/docs/?page=2&x=y"),),
            ),
            HTTPCheck(
                "/docs/",
                headers=_HTML,
                responseBody=b"<html><body>The docs directory.</body></html>",
            ),
            HTTPCheck(
                "/elephant",
                headers=(("Content-Type", "text/plain"),),
                responseBody=b"Yo Ho Ho and a bottle of rum.",
            ),
            FunctionCheck(_checkConditionalChild),
            HTTPCheck("/monkey", status=404),
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
                elif isinstance(check, FunctionCheck):
                    check.run(port)
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
