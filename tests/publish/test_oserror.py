"""
Tests of what a client is told when the operating system refuses to open
something: static files, directory listings, C{.asis} files, resource
scripts and CGI programs.

A missing file is 404 and a forbidden one 403; anything else (the process out
of descriptors, the system out of file table slots or memory, a disk error)
is 503 with a C{Retry-After}, one log line naming the file and the error,
and normal service again as soon as the cause is gone.  And nothing a
request opens outlives the request: the process's descriptors are counted
around many requests.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_static import Client as StaticClient
from test_static import get, write
from test_twcgi import Client as CGIClient
from test_twcgi import ProcessReactor, makeScript
from twisted.logger import LogEvent, formatEvent

from twisted_web_re import resource, script, static, twcgi
from twisted_web_re._publish.oserror import RETRY_AFTER

#: Errors that say nothing about the file: the answer is 503.
UNAVAILABLE = [errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EIO]

#: Errors that say the file is not there: 404.
MISSING = [errno.ENOENT, errno.ENOTDIR, errno.ELOOP, errno.ENAMETOOLONG]

#: Errors that say the file may not be had: 403.
FORBIDDEN = [errno.EACCES, errno.EPERM, errno.ENXIO]

SCRIPT_RPY = """\
from twisted_web_re import resource

class Page(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"from the script"

resource = Page()
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """
    A published tree: a small file, a large one, a directory, an C{.asis}
    file, a resource script and a FIFO.
    """
    www = tmp_path / "www"
    write(www / "small.txt", "small file\n")
    write(www / "large.bin", b"x" * (256 * 1024))
    write(www / "sub" / "a.txt", "a")
    write(www / "page.asis", b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nasis")
    write(www / "script.rpy", SCRIPT_RPY)
    os.mkfifo(www / "fifo")
    return www


def errors(events: list[LogEvent]) -> list[str]:
    """The text of the events logged at level error or above."""
    return [
        formatEvent(event)
        for event in events
        if event.get("log_level") is not None
        and event["log_level"].name in ("error", "critical")
    ]


def root(tree: Path) -> static.File:
    """A File publishing C{tree}, with C{.asis} and C{.rpy} processors."""
    published = static.File(str(tree))
    published.processors = {
        ".asis": static.ASISProcessor,
        ".rpy": script.ResourceScript,
    }
    return published


def failingOpen(
    monkeypatch: pytest.MonkeyPatch, tree: Path, code: int
) -> Callable[[], None]:
    """
    Make C{os.open} fail with C{code} for anything under C{tree} (the test
    process's other opens are left alone).

    @return: a function undoing it.
    """
    real = os.open
    top = str(tree)

    def fake(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path).startswith(top):
            raise OSError(code, os.strerror(code), os.fspath(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", fake)
    return lambda: monkeypatch.setattr(os, "open", real)


def descriptors() -> int:
    """How many descriptors this process has open."""
    return len(os.listdir("/proc/self/fd"))


needsProc = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd to count"
)


# -- nothing leaks ----------------------------------------------------------------


@needsProc
def test_directoryWithoutSlashLeaksNothing(tree: Path) -> None:
    """
    A request for a directory without its trailing slash is redirected, and
    leaves no descriptor open behind it: a hundred of them do not exhaust the
    server.
    """
    published = root(tree)
    assert get(published, b"/sub").status == 301
    before = descriptors()
    for _ in range(100):
        assert get(published, b"/sub").status == 301
    assert descriptors() == before


@needsProc
def test_everyKindLeaksNothing(tree: Path) -> None:
    """
    Files small and large, whole and in ranges, HEAD, conditional requests,
    listings, 404s, FIFOs, C{.asis} files and resource scripts leave no
    descriptor open once answered.
    """
    published = root(tree)
    targets: list[tuple[bytes, bytes, tuple[tuple[bytes, bytes], ...]]] = [
        (b"/small.txt", b"GET", ()),
        (b"/small.txt", b"HEAD", ()),
        (b"/small.txt", b"GET", ((b"range", b"bytes=0-1,3-4"),)),
        (b"/small.txt", b"GET", ((b"if-none-match", b"*"),)),
        (b"/large.bin", b"GET", ()),
        (b"/large.bin", b"GET", ((b"range", b"bytes=1-2"),)),
        (b"/large.bin", b"HEAD", ()),
        (b"/sub", b"GET", ()),
        (b"/sub/", b"GET", ()),
        (b"/missing", b"GET", ()),
        (b"/fifo", b"GET", ()),
        (b"/page.asis", b"GET", ()),
        (b"/script.rpy", b"GET", ()),
    ]
    for target, method, headers in targets:
        get(published, target, method, headers)
    before = descriptors()
    for _ in range(10):
        for target, method, headers in targets:
            assert get(published, target, method, headers).status < 500
    assert descriptors() == before


@needsProc
def test_abortedDownloadClosesFile(tree: Path) -> None:
    """A client gone in the middle of a large file leaves it closed."""
    published = root(tree)
    before = descriptors()
    for _ in range(20):
        client = StaticClient(published)
        client.send(b"/large.bin")
        client.transport.loseConnection()
        client.channel.connectionLost(ConnectionResetError())
    assert descriptors() == before


# -- static files -------------------------------------------------------------------


@pytest.mark.parametrize("code", UNAVAILABLE, ids=errno.errorcode.get)
@pytest.mark.parametrize("target", [b"/small.txt", b"/large.bin", b"/page.asis"])
def test_fileUnavailable(
    tree: Path,
    monkeypatch: pytest.MonkeyPatch,
    logged: list[LogEvent],
    code: int,
    target: bytes,
) -> None:
    """
    A file the server cannot open for want of descriptors, memory or a
    working disk is 503 with C{Retry-After}, never 404, with one log line
    naming the file and the error; once the cause is gone it is served.
    """
    published = root(tree)
    restore = failingOpen(monkeypatch, tree, code)
    response = get(published, target)
    assert response.status == 503
    assert response.header(b"retry-after") == b"%d" % RETRY_AFTER
    [line] = errors(logged)
    assert os.strerror(code) in line
    assert target.decode("ascii").lstrip("/") in line
    restore()
    assert get(published, target).status == 200


@pytest.mark.parametrize("code", MISSING, ids=errno.errorcode.get)
def test_fileMissing(
    tree: Path, monkeypatch: pytest.MonkeyPatch, logged: list[LogEvent], code: int
) -> None:
    """
    A file that vanished, a path through a file, a symbolic link loop and a
    name too long for the file system are 404, and nothing is logged.
    """
    failingOpen(monkeypatch, tree, code)
    assert get(root(tree), b"/small.txt").status == 404
    assert errors(logged) == []


@pytest.mark.parametrize("code", FORBIDDEN, ids=errno.errorcode.get)
def test_fileForbidden(
    tree: Path, monkeypatch: pytest.MonkeyPatch, logged: list[LogEvent], code: int
) -> None:
    """
    A file the server may not read, and one that is no file to read (a
    socket: ENXIO), are 403, and nothing is logged.
    """
    failingOpen(monkeypatch, tree, code)
    assert get(root(tree), b"/small.txt").status == 403
    assert errors(logged) == []


@pytest.mark.parametrize("code", UNAVAILABLE, ids=errno.errorcode.get)
def test_listingUnavailable(
    tree: Path, monkeypatch: pytest.MonkeyPatch, logged: list[LogEvent], code: int
) -> None:
    """
    A directory the server cannot list for want of descriptors is 503 with
    C{Retry-After} and one log line; then listed again.
    """
    real = os.scandir

    def fake(path: Any = ".") -> Any:
        raise OSError(code, os.strerror(code), path)

    published = root(tree)
    monkeypatch.setattr(os, "scandir", fake)
    response = get(published, b"/sub/")
    assert response.status == 503
    assert response.header(b"retry-after") == b"%d" % RETRY_AFTER
    assert len(errors(logged)) == 1
    monkeypatch.setattr(os, "scandir", real)
    response = get(published, b"/sub/")
    assert response.status == 200
    assert b"a.txt" in response.body


def test_listerUnavailable(
    tree: Path, monkeypatch: pytest.MonkeyPatch, logged: list[LogEvent]
) -> None:
    """
    A L{static.DirectoryLister} published by itself answers 503 too, not
    403, when it cannot read its directory for want of descriptors.
    """

    def fake(path: Any = ".") -> Any:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE), path)

    site = resource.Resource()
    site.putChild(b"list", static.DirectoryLister(str(tree / "sub")))
    monkeypatch.setattr(os, "scandir", fake)
    response = get(site, b"/list")
    assert response.status == 503
    assert response.header(b"retry-after") == b"%d" % RETRY_AFTER
    assert len(errors(logged)) == 1
    monkeypatch.undo()
    assert get(site, b"/list").status == 200


def test_extensionSearchUnavailable(
    tree: Path, monkeypatch: pytest.MonkeyPatch, logged: list[LogEvent]
) -> None:
    """
    With C{ignoredExts} of C{"*"}, a name whose directory cannot be read
    for want of descriptors is 503, not 404.
    """

    def fake(path: Any = ".") -> Any:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE), path)

    published = static.File(str(tree), ignoredExts=["*"])
    assert get(published, b"/small").status == 200
    monkeypatch.setattr(os, "listdir", fake)
    response = get(published, b"/small")
    assert response.status == 503
    assert len(errors(logged)) == 1


@pytest.mark.parametrize("code", UNAVAILABLE, ids=errno.errorcode.get)
def test_resourceScriptUnavailable(
    tree: Path, monkeypatch: pytest.MonkeyPatch, logged: list[LogEvent], code: int
) -> None:
    """
    A resource script the server cannot read for want of descriptors is 503
    with C{Retry-After}, not a 500 blaming the script; then it runs again.
    """

    def fake(path: Any, *args: Any, **kwargs: Any) -> Any:
        raise OSError(code, os.strerror(code), path)

    published = root(tree)
    monkeypatch.setattr(script, "open", fake, raising=False)
    response = get(published, b"/script.rpy")
    assert response.status == 503
    assert response.header(b"retry-after") == b"%d" % RETRY_AFTER
    assert len(errors(logged)) == 1
    monkeypatch.delattr(script, "open")
    response = get(published, b"/script.rpy")
    assert (response.status, response.body) == (200, b"from the script")


def test_pythonScriptUnavailable(
    tree: Path, monkeypatch: pytest.MonkeyPatch, logged: list[LogEvent]
) -> None:
    """An C{.epy} script that cannot be read for want of descriptors is 503."""
    write(tree / "page.epy", "request.write(b'epy')\n")

    def fake(path: Any, *args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EMFILE, os.strerror(errno.EMFILE), path)

    published = root(tree)
    published.processors[".epy"] = script.PythonScript
    monkeypatch.setattr(script, "open", fake, raising=False)
    response = get(published, b"/page.epy")
    assert response.status == 503
    assert response.header(b"retry-after") == b"%d" % RETRY_AFTER
    assert len(errors(logged)) == 1


# -- CGI ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code", [errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.EAGAIN]
)
def test_cgiUnavailable(tmp_path: Path, logged: list[LogEvent], code: int) -> None:
    """
    A CGI program that cannot be started for want of descriptors, memory or
    processes is 503 with C{Retry-After}, not 500, with one log line; once
    the cause is gone it runs.
    """
    reactor = ProcessReactor()
    program = makeScript(tmp_path, "run.cgi")
    client = CGIClient(twcgi.CGIScript(str(program), reactor=reactor), reactor)
    reactor.spawnError = OSError(code, os.strerror(code))
    client.send(b"/")
    client.pump()
    response = client.response()
    assert response.status == 503
    assert response.header(b"retry-after") == b"%d" % RETRY_AFTER
    [line] = errors(logged)
    assert os.strerror(code) in line
    reactor.spawnError = None
    client = CGIClient(twcgi.CGIScript(str(program), reactor=reactor), reactor)
    client.send(b"/")
    assert len(reactor.processes) == 1


def test_cgiBrokenProgramStill500(tmp_path: Path, logged: list[LogEvent]) -> None:
    """
    A program that cannot be run because of what it is (not a valid
    executable) is still 500: asking again would not help.
    """
    reactor = ProcessReactor()
    program = makeScript(tmp_path, "run.cgi")
    client = CGIClient(twcgi.CGIScript(str(program), reactor=reactor), reactor)
    reactor.spawnError = OSError(errno.ENOEXEC, os.strerror(errno.ENOEXEC))
    client.send(b"/")
    client.pump()
    response = client.response()
    assert response.status == 500
    assert response.header(b"retry-after") is None


@pytest.mark.parametrize("where", ["script", "directory"])
def test_cgiScriptUnexaminable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    logged: list[LogEvent],
    where: str,
) -> None:
    """
    A CGI program whose file cannot be examined for a disk error is 503
    with C{Retry-After}, not 404: it may well be there.
    """
    reactor = ProcessReactor()
    program = makeScript(tmp_path / "cgi-bin", "run.cgi")
    published: Any = (
        twcgi.CGIScript(str(program), reactor=reactor)
        if where == "script"
        else resource.Resource()
    )
    if where == "directory":
        published.putChild(b"cgi-bin", twcgi.CGIDirectory(str(program.parent)))
    top = str(tmp_path)
    realStat, realLstat = os.stat, os.lstat

    def failing(real: Callable[..., Any]) -> Callable[..., Any]:
        def fake(path: Any, *args: Any, **kwargs: Any) -> Any:
            if os.fspath(path).startswith(top):
                raise OSError(errno.EIO, os.strerror(errno.EIO), path)
            return real(path, *args, **kwargs)

        return fake

    monkeypatch.setattr(os, "stat", failing(realStat))
    monkeypatch.setattr(os, "lstat", failing(realLstat))
    client = CGIClient(published, reactor)
    client.send(b"/" if where == "script" else b"/cgi-bin/run.cgi")
    response = client.response()
    assert response.status == 503
    assert response.header(b"retry-after") == b"%d" % RETRY_AFTER
    assert len(errors(logged)) == 1
    assert reactor.processes == []
