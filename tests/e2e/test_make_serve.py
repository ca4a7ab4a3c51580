"""
End-to-end test of the README's promise about C{make serve}: the command line
of the Makefile's C{serve} target, run as a real process, serves every example
under C{examples/}, and every one of them works: the C{.rpy} scripts and CGI
programs run, every directory is listed, every link followed is answered.

The command line is read from the Makefile itself, so that the test runs
exactly what C{make serve} runs (on a free port, with twistd's own options
keeping its pid file and log out of the working tree).
"""

from __future__ import annotations

import html
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from test_twistd import (
    REPO,
    Server,
    _environment,
    _freePort,
    _get,
    _stop,
    _twistdArgs,
    _waitUntilListening,
)

EXAMPLES = REPO / "examples"

#: At most this many URLs are visited, so that a page linking to ever new
#: URLs cannot keep the test running.
MAX_VISITS = 400

#: The names of the files a directory is shown by (static.File's default).
INDEX_NAMES = frozenset({"index", "index.html", "index.htm", "index.rpy"})

PERL = "/usr/bin/perl"

#: The pages that run a Perl interpreter (see examples/cgi/perl.rpy).
PERL_PAGES = "/cgi/perl.rpy/"


def serveCommand(port: int) -> list[str]:
    """
    The command of the Makefile's C{serve} target, for C{port}.

    @param port: The port to serve on, the Makefile's C{$(PORT)}.
    @return: The command's words: C{$(BIN)/twistd} replaced by the twistd of
        this interpreter (with options that keep files out of the tree), the
        rest as the Makefile writes it.
    """
    makefile = (REPO / "Makefile").read_text()
    found = re.search(r"^serve:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert found is not None, "the Makefile has no serve target"
    words = shlex.split(found.group(1))
    assert words[0] == "$(BIN)/twistd", words
    return [*_twistdArgs(), *(w.replace("$(PORT)", str(port)) for w in words[2:])]


@pytest.fixture(scope="module")
def makeServe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """
    The server C{make serve} runs, from the top of the working tree, stopped
    once the tests of this module are done.
    """
    port = _freePort()
    output = tmp_path_factory.mktemp("make-serve") / "server.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            serveCommand(port),
            cwd=REPO,
            # No __pycache__ left in examples/ by the scripts' imports.
            env=_environment(PYTHONDONTWRITEBYTECODE="1"),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, output)
    try:
        _waitUntilListening(server)
        yield server
    finally:
        _stop(server)


def _links(path: str, body: bytes) -> list[str]:
    """
    The paths on this server that an HTML page links to.

    @param path: The page's own path, against which links are resolved.
    @param body: The page.
    @return: The link targets that stay on the server, as paths with their
        query strings.
    """
    found = []
    for href in re.findall(rb'href="([^"]*)"', body):
        target = urlsplit(urljoin(path, html.unescape(href.decode("utf-8"))))
        if not target.scheme and not target.netloc and target.path:
            found.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


def crawl(port: int, skip: tuple[str, ...] = ()) -> dict[str, tuple[int, bytes]]:
    """
    Visit every page reachable from C{/} by links and redirects.

    @param port: The server's port.
    @param skip: Path prefixes not to visit.
    @return: The status and body of each path visited.
    """
    answers: dict[str, tuple[int, bytes]] = {}
    waiting = ["/"]
    while waiting and len(answers) < MAX_VISITS:
        path = waiting.pop(0)
        if path in answers or path.startswith(skip):
            continue
        status, headers, body, _ = _get(port, path=path)
        answers[path] = (status, body)
        if status in (301, 302) and "location" in headers:
            waiting.append(_links(path, f'href="{headers["location"]}"'.encode())[0])
        elif status == 200 and "html" in headers.get("content-type", ""):
            waiting.extend(_links(path, body))
    assert len(answers) < MAX_VISITS, "too many pages: is a page looping?"
    return answers


def _examplePaths() -> set[str]:
    """
    The URL path of every file and directory under C{examples/}.

    @return: Each path, a directory's with its trailing slash; an index page
        is reached by its directory's.
    """
    paths = set()
    for directory, subdirectories, files in os.walk(EXAMPLES):
        subdirectories[:] = [d for d in subdirectories if d != "__pycache__"]
        base = "/" + Path(directory).relative_to(EXAMPLES).as_posix()
        base = "/" if base == "/." else base + "/"
        paths.add(base)
        # An index page is what its directory's URL shows.
        paths.update(base + name for name in files if name not in INDEX_NAMES)
    return paths


def test_everyExampleWorks(makeServe: Server) -> None:
    """
    Every file and directory of C{examples/} is reached from C{/} by
    following links, and every page reached, the resource scripts and CGI
    programs included, answers 200 (after the redirects of directories
    asked for without their slash).
    """
    skip = () if shutil.which(PERL) else (PERL_PAGES,)
    answers = crawl(makeServe.port, skip)
    visited = {path.partition("?")[0] for path in answers}
    assert _examplePaths() <= visited, sorted(_examplePaths() - visited)
    failed = {
        path: (status, body[:300])
        for path, (status, body) in answers.items()
        if status not in (200, 301)
    }
    assert not failed, f"{failed}\n{makeServe.log()}"
    assert "Traceback" not in makeServe.log()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/rpy/mygreatresource.rpy", b"<html>foo</html>"),
        ("/rpy/twistedweb.rpy", b"<html>Hello, world!</html>"),
        ("/cgi/cgi-bin/hello.cgi?x=1", b"Hello from a CGI program in sh!\n"),
        ("/wsgi/helloworld.py", b"def application(environ, start_response):"),
    ],
)
def test_examplesRun(makeServe: Server, path: str, expected: bytes) -> None:
    """
    The resource scripts and CGI programs run (their answer, not their
    source, is sent); Python files that are not scripts are sent as text.
    """
    status, _, body, _ = _get(makeServe.port, path=path)
    assert status == 200
    assert expected in body


def test_counterCounts(makeServe: Server) -> None:
    """
    C{/rpy/counter.rpy}, which imports C{SillyWeb} from beside itself, counts
    its visitors: each visit is one more.
    """
    counts = []
    for _ in range(3):
        status, _, body, _ = _get(makeServe.port, path="/rpy/counter.rpy")
        assert status == 200, body
        found = re.fullmatch(rb"you are visitor (\d+)", body)
        assert found is not None, body
        counts.append(int(found.group(1)))
    assert counts[1:] == [counts[0] + 1, counts[0] + 2]


def test_cgiStaticSiteLinks(makeServe: Server) -> None:
    """
    The static site of the CGI example links to its programs by relative
    URLs, which work under C{make serve} as under its own C{.tac}.
    """
    status, _, body, _ = _get(makeServe.port, path="/cgi/htdocs/")
    assert status == 200
    links = _links("/cgi/htdocs/", body)
    assert "/cgi/cgi-bin/hello.cgi?x=1" in links
    status, _, body, _ = _get(makeServe.port, path="/cgi/cgi-bin/hello.cgi?x=1")
    assert status == 200
    assert b"QUERY_STRING=x=1\n" in body


@pytest.mark.skipif(not shutil.which(PERL), reason=f"{PERL} is not installed")
def test_perlSite(makeServe: Server) -> None:
    """
    C{/cgi/perl.rpy/} serves the Perl site of the howto: its C{index.pl} and
    C{greet.pl} run under C{/usr/bin/perl}.
    """
    status, _, body, _ = _get(makeServe.port, path=PERL_PAGES)
    assert status == 200
    assert b"<h1>Hello from Perl</h1>" in body
    status, _, body, _ = _get(makeServe.port, path=PERL_PAGES + "greet.pl?name=World")
    assert status == 200
    assert b"World" in body
