"""
Tests for L{twisted_web_re.twcgi} and L{twisted_web_re._gateways.cgiparse}: the CGI
response-head parser, the meta-variables a program gets, and how a request is
answered from a program's output (redirects, errors, timeouts, back-pressure,
streamed bodies), all without running a process.

A L{ProcessReactor} stands in for the reactor: its C{spawnProcess} records
what would have run and hands the protocol a L{FakeProcess}, through which a
test plays the program's part.  Real programs run in
C{tests/e2e/test_cgi_e2e.py}.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _httpparse import HOST, PEER, Incomplete, Response, parseResponses
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessDone, ProcessExitedAlready, ProcessTerminated
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogEvent, formatEvent, globalLogPublisher
from twisted.python.failure import Failure

from twisted_web_re import resource, server, static, twcgi
from twisted_web_re._gateways import cgiinput, cgistates
from twisted_web_re._gateways import cgiprocess as _cgiprocess
from twisted_web_re._gateways.cgiparse import (
    HEAD_LIMIT,
    CGIHeadParser,
    CGIResponseHead,
    MalformedCGIResponse,
)

# -- the harness -----------------------------------------------------------------------


class FakeProcess:
    """
    An C{IProcessTransport} that records what the protocol does to it, and
    plays the program: L{out}, L{err}, L{exit}.

    Writes to its input are buffered until L{drain}, so that back-pressure on
    the input can be tested: more than L{BUFFER} bytes pause a streaming
    producer, as Twisted's pipe writer does.
    """

    BUFFER = 64 * 1024
    pid = 4242

    def __init__(
        self, protocol: Any, executable: Any, args: Any, env: Any, path: Any
    ) -> None:
        self.protocol = protocol
        self.executable = executable
        self.args = [os.fsencode(arg) for arg in args]
        self.env = env
        self.path = path
        self.stdin: list[bytes] = []
        self.buffered = 0
        self.stdinClosed = False
        self.producer: Any = None
        self.streaming: bool | None = None
        self.producerPaused = False
        self.paused = False
        self.lost = False
        self.signals: list[str] = []
        self.exited = False
        self._closed: set[int] = set()

    # what the protocol does

    def write(self, data: bytes) -> None:
        assert not self.stdinClosed, "write after closeStdin"
        self.stdin.append(data)
        self.buffered += len(data)
        if (
            self.streaming
            and self.buffered > self.BUFFER
            and not self.producerPaused
            and self.producer is not None
        ):
            self.producerPaused = True
            self.producer.pauseProducing()

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        assert self.producer is None
        self.producer = producer
        self.streaming = streaming
        if not streaming:
            producer.resumeProducing()

    def unregisterProducer(self) -> None:
        self.producer = None

    def closeStdin(self) -> None:
        if not self.stdinClosed:
            self.stdinClosed = True
            self._lose(0)

    def pauseProducing(self) -> None:
        self.paused = True

    def resumeProducing(self) -> None:
        self.paused = False

    def signalProcess(self, name: str) -> None:
        if self.exited:
            raise ProcessExitedAlready()
        self.signals.append(name)

    def loseConnection(self) -> None:
        self.lost = True
        self.closeStdin()
        self._lose(1)
        self._lose(2)

    # what the program does

    def drain(self) -> None:
        """The program read everything buffered for it."""
        self.buffered = 0
        for _ in range(10_000):
            producer = self.producer
            if producer is None or self.stdinClosed:
                return
            if self.streaming:
                if self.producerPaused:
                    self.producerPaused = False
                    producer.resumeProducing()
                return
            producer.resumeProducing()
            self.buffered = 0

    def input(self) -> bytes:
        return b"".join(self.stdin)

    def out(self, data: bytes) -> None:
        self.protocol.childDataReceived(1, data)

    def err(self, data: bytes) -> None:
        self.protocol.childDataReceived(2, data)

    def exit(self, code: int | None = 0, signal: int | None = None) -> None:
        """Close the program's output and end it."""
        self.closeStdin()
        self._lose(1)
        self._lose(2)
        self.exited = True
        if code == 0 and signal is None:
            reason = Failure(ProcessDone(0))
        else:
            reason = Failure(ProcessTerminated(code, signal))
        self.protocol.processEnded(reason)

    def _lose(self, fd: int) -> None:
        if fd not in self._closed:
            self._closed.add(fd)
            self.protocol.childConnectionLost(fd)


class ProcessReactor(MemoryReactorClock):
    """
    A memory reactor whose C{spawnProcess} makes a L{FakeProcess}, or raises
    L{spawnError} if set.
    """

    def __init__(self) -> None:
        super().__init__()
        self.processes: list[FakeProcess] = []
        self.spawnError: Exception | None = None

    def addSystemEventTrigger(
        self, phase: str, eventType: str, callable: Any, *args: Any, **kw: Any
    ) -> Any:
        super().addSystemEventTrigger(phase, eventType, callable, *args, **kw)
        return (phase, eventType, self.triggers[phase][eventType][-1])

    def removeSystemEventTrigger(self, triggerID: Any) -> None:
        phase, eventType, entry = triggerID
        self.triggers[phase][eventType].remove(entry)

    def spawnProcess(
        self,
        processProtocol: Any,
        executable: Any,
        args: Any = (),
        env: Any = None,
        path: Any = None,
        uid: Any = None,
        gid: Any = None,
        usePTY: Any = False,
        childFDs: Any = None,
    ) -> FakeProcess:
        if self.spawnError is not None:
            raise self.spawnError
        process = FakeProcess(processProtocol, executable, args, env, path)
        self.processes.append(process)
        processProtocol.makeConnection(process)
        return process


class Client:
    """
    One client connection to a L{server.Site} publishing C{root}, whose CGI
    resources use L{reactor}.
    """

    def __init__(
        self, root: Any, reactor: ProcessReactor, locateBeforeBody: bool = False
    ) -> None:
        self.reactor = reactor
        self.site = server.Site(root, reactor=reactor)
        self.site.locateBeforeBody = locateBeforeBody
        self.transport = StringTransport(hostAddress=HOST, peerAddress=PEER)
        self.channel = self.site.buildProtocol(PEER)
        self.channel.makeConnection(self.transport)
        self.methods: list[bytes] = []

    def send(
        self,
        path: bytes,
        method: bytes = b"GET",
        headers: tuple[tuple[bytes, bytes], ...] = (),
        body: bytes | None = None,
    ) -> None:
        """Send a request (its body too, if given)."""
        self.methods.append(method)
        lines = [method + b" " + path + b" HTTP/1.1", b"Host: example.com"]
        lines.extend(name + b": " + value for name, value in headers)
        if body is not None:
            lines.append(b"Content-Length: %d" % len(body))
        self.channel.dataReceived(b"\r\n".join(lines) + b"\r\n\r\n" + (body or b""))

    @property
    def process(self) -> FakeProcess:
        """The last program started."""
        return self.reactor.processes[-1]

    def responses(self) -> list[Response]:
        """Every complete response so far."""
        try:
            return parseResponses(self.transport.value(), self.methods)
        except Incomplete:
            return []

    def response(self) -> Response:
        """The one complete response."""
        [response] = self.responses()
        return response

    def pump(self) -> None:
        """Run the calls due now."""
        self.reactor.advance(0)


def makeScript(directory: Path, name: str, executable: bool = True) -> Path:
    """Write a (never run) CGI program at C{directory/name}."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755 if executable else 0o644)
    return path


@pytest.fixture
def reactor() -> ProcessReactor:
    return ProcessReactor()


@pytest.fixture
def docroot(tmp_path: Path) -> Path:
    """A document root with a cgi-bin directory holding run.cgi."""
    root = tmp_path / "htdocs"
    root.mkdir()
    (root / "target.txt").write_text("the target\n")
    makeScript(tmp_path / "cgi-bin", "run.cgi")
    return root


@pytest.fixture
def site(docroot: Path, reactor: ProcessReactor) -> Client:
    """
    A site: a static.File root, a CGIScript at /cgi-bin/run.cgi and
    /cgi-bin/run.cgi/... (extra path), and a plain page at /page.
    """
    return Client(siteRoot(docroot, reactor), reactor)


def siteRoot(docroot: Path, reactor: ProcessReactor) -> Any:
    root = static.File(str(docroot))
    cgiBin = resource.Resource()
    cgiBin.putChild(
        b"run.cgi",
        twcgi.CGIScript(str(docroot.parent / "cgi-bin" / "run.cgi"), reactor=reactor),
    )
    root.putChild(b"cgi-bin", cgiBin)
    root.putChild(b"page", static.Data(b"a plain page", "text/plain"))
    return root


def logText(events: list[LogEvent]) -> str:
    return "\n".join(formatEvent(event) for event in events)


def env(client: Client) -> dict[bytes, bytes]:
    """The environment of the last program started, as bytes."""
    return {
        os.fsencode(name): os.fsencode(value)
        for name, value in client.process.env.items()
    }


# -- the response-head parser ----------------------------------------------------------


def parseWhole(output: bytes) -> tuple[CGIResponseHead, bytes]:
    """Parse C{output} fed at once, and again a byte at a time: same result."""
    whole = CGIHeadParser().feed(output)
    assert whole is not None
    parser = CGIHeadParser()
    result = None
    rest = b""
    for index in range(len(output)):
        if result is None:
            result = parser.feed(output[index : index + 1])
            if result is not None:
                rest = result[1] + output[index + 1 :]
    assert result is not None
    assert (result[0], rest) == whole
    return whole


def test_headWithBody() -> None:
    """
    A head of header lines and an empty line is parsed, whatever the size of
    the pieces it arrives in; what follows is the start of the body.
    """
    head, rest = parseWhole(
        b"Content-Type: text/plain\nX-One:  spaced value \n\nbody\n\nmore"
    )
    assert head == CGIResponseHead(
        None,
        None,
        None,
        ((b"content-type", b"text/plain"), (b"x-one", b"spaced value")),
    )
    assert rest == b"body\n\nmore"


@pytest.mark.parametrize(
    "output",
    [
        b"Content-Type: a/b\r\nX: y\r\n\r\nbody",
        b"Content-Type: a/b\nX: y\r\n\nbody",
        b"Content-Type: a/b\r\nX: y\n\r\nbody",
    ],
)
def test_lineEndings(output: bytes) -> None:
    """Lines may end with LF or CR LF, mixed (RFC 3875 section 7.2)."""
    head, rest = parseWhole(output)
    assert head.fields == ((b"content-type", b"a/b"), (b"x", b"y"))
    assert rest == b"body"


def test_incompleteHead() -> None:
    """Until the empty line, the parser asks for more."""
    parser = CGIHeadParser()
    assert parser.feed(b"Content-Type: text/plain\n") is None
    assert parser.feed(b"X-Other: 1\r") is None
    assert parser.feed(b"\n\r\nbody") == (
        CGIResponseHead(
            None, None, None, ((b"content-type", b"text/plain"), (b"x-other", b"1"))
        ),
        b"body",
    )


@pytest.mark.parametrize(
    ("line", "status", "reason"),
    [
        (b"Status: 404 Not Found", 404, b"Not Found"),
        (b"Status: 200", 200, None),
        (b"status:201 Made It", 201, b"Made It"),
        (b"Status: 599 Whatever it is", 599, b"Whatever it is"),
    ],
)
def test_status(line: bytes, status: int, reason: bytes | None) -> None:
    """C{Status} gives the code and, if present, the reason phrase."""
    head, _ = parseWhole(line + b"\n\n")
    assert (head.status, head.reason) == (status, reason)
    assert head.fields == ()


def test_serverFieldsDropped() -> None:
    """
    Fields the server writes itself (framing, hop-by-hop, Date, Server) are
    dropped; repeated fields such as Set-Cookie are kept, in order.
    """
    head, _ = parseWhole(
        b"Content-Type: text/plain\nConnection: close\nTransfer-Encoding: chunked\n"
        b"Keep-Alive: 5\nDate: yesterday\nServer: mine\nUpgrade: h2c\n"
        b"Set-Cookie: a=1\nSet-Cookie: b=2\nContent-Length: 12\n\n"
    )
    assert head.fields == (
        (b"content-type", b"text/plain"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
        (b"content-length", b"12"),
    )


@pytest.mark.parametrize(
    ("location", "status", "local", "client"),
    [
        (b"/other/page?x=1", None, True, False),
        (b"//elsewhere/path", None, True, False),
        (b"http://example.com/", None, False, True),
        (b"mailto:someone@example.com", None, False, True),
        (b"/with/status", 302, False, False),
        (b"relative/path", None, False, False),
    ],
)
def test_redirectKinds(
    location: bytes, status: int | None, local: bool, client: bool
) -> None:
    """
    A C{Location} that is a path, without C{Status}, is a local redirect
    (section 6.2.2; C{//x} is a path too, by the RFC's grammar); one that is
    an absolute URI sends the client elsewhere (section 6.2.3).
    """
    line = b"Location: " + location + b"\n"
    if status is not None:
        line += b"Status: %d Found\n" % status
    head, _ = parseWhole(line + b"\n")
    assert head.location == location
    assert (head.localRedirect, head.clientRedirect) == (local, client)


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        (b"Content-Type text/plain\n\n", "without a colon"),
        (b"HTTP/1.1 200 OK\nContent-Type: a/b\n\n", "without a colon"),
        (b"Content Type: a/b\n\n", "invalid header name"),
        (b"Content-Type: a/b\n folded\n\n", "without a colon"),
        (b"Content-Type: a/b\n X: folded\n\n", "invalid header name"),
        (b": empty name\n\n", "invalid header name"),
        (b"Content-Type: a/b\x00\n\n", "control character"),
        (b"Content-Type: a/b\rX-Injected: 1\n\n", "control character"),
        (b"Status: abc\n\n", "invalid status"),
        (b"Status: 99 Low\n\n", "invalid status"),
        (b"Status: 101 Switching Protocols\n\n", "invalid status"),
        (b"Status: 600 High\n\n", "invalid status"),
        (b"Status: 2000 OK\n\n", "invalid status"),
        (b"Status: 200 OK\nStatus: 404 No\n\n", "more than one status"),
        (b"Content-Type: a/b\nContent-type: c/d\n\n", "more than one content-type"),
        (b"Location:\n\n", "empty Location"),
        (b"Content-Type: a/b\nContent-Length: 12x\n\n", "invalid Content-Length"),
        (b"Content-Type: a/b\nContent-Length: -1\n\n", "invalid Content-Length"),
        (b"X-Only: other fields\n\n", "no Content-Type, Status or Location"),
        (b"\nbody without a head", "no Content-Type, Status or Location"),
    ],
)
def test_malformed(output: bytes, problem: str) -> None:
    """
    A head that breaks RFC 3875 section 6, or could break the response head
    the server writes, is refused, with the reason.
    """
    with pytest.raises(MalformedCGIResponse, match=problem):
        CGIHeadParser().feed(output)


def test_headTooLong() -> None:
    """
    A head longer than L{HEAD_LIMIT} is refused as soon as it is, whether it
    arrives as one long line, in pieces, or as many lines.
    """
    with pytest.raises(MalformedCGIResponse, match="longer than"):
        CGIHeadParser().feed(b"X-Long: " + b"a" * HEAD_LIMIT + b"\n\n")
    parser = CGIHeadParser()
    parser.feed(b"Content-Type: a/b\nX-Long: ")
    with pytest.raises(MalformedCGIResponse, match="longer than"):
        for _ in range(HEAD_LIMIT // 1000 + 1):
            parser.feed(b"a" * 1000)
    parser = CGIHeadParser()
    with pytest.raises(MalformedCGIResponse, match="longer than"):
        for _ in range(HEAD_LIMIT // 10 + 1):
            parser.feed(b"X-Line: 1\n")
    # Exactly at the limit is fine.
    fill = b"X: " + b"a" * (HEAD_LIMIT - len(b"X: \nContent-Type: a/b\n\n")) + b"\n"
    assert CGIHeadParser().feed(fill + b"Content-Type: a/b\n\n") is not None


def test_closeBeforeEndOfHead() -> None:
    """
    Output that ends before the empty line is refused, saying whether there
    was any output at all.
    """
    with pytest.raises(MalformedCGIResponse, match="no output at all"):
        CGIHeadParser().close()
    parser = CGIHeadParser()
    parser.feed(b"Content-Type: text/plain\n")
    with pytest.raises(MalformedCGIResponse, match="ended before the end"):
        parser.close()


# -- meta-variables --------------------------------------------------------------------


def test_metaVariables(site: Client, docroot: Path) -> None:
    """
    A program gets the RFC 3875 meta-variables of its request: extra path
    segments as PATH_INFO (decoded), mapped onto the document root as
    PATH_TRANSLATED, the script's URL path as SCRIPT_NAME, the raw query
    string, the client's and the server's addresses, and a C{HTTP_*}
    variable for each other header field.
    """
    site.send(
        b"/cgi-bin/run.cgi/extra/p%20ath?q=1&r=%41",
        headers=((b"X-Custom", b"custom value"), (b"Accept", b"text/html")),
    )
    variables = env(site)
    script = str(docroot.parent / "cgi-bin" / "run.cgi").encode()
    assert variables[b"GATEWAY_INTERFACE"] == b"CGI/1.1"
    assert variables[b"SERVER_SOFTWARE"] == server.version
    assert variables[b"SERVER_NAME"] == b"example.com"
    assert variables[b"SERVER_PORT"] == b"8080"
    assert variables[b"SERVER_PROTOCOL"] == b"HTTP/1.1"
    assert variables[b"REQUEST_METHOD"] == b"GET"
    assert variables[b"REQUEST_URI"] == b"/cgi-bin/run.cgi/extra/p%20ath?q=1&r=%41"
    assert variables[b"SCRIPT_NAME"] == b"/cgi-bin/run.cgi"
    assert variables[b"SCRIPT_FILENAME"] == script
    assert variables[b"PATH_INFO"] == b"/extra/p ath"
    assert variables[b"PATH_TRANSLATED"] == str(docroot).encode() + b"/extra/p ath"
    assert variables[b"DOCUMENT_ROOT"] == str(docroot).encode()
    assert variables[b"QUERY_STRING"] == b"q=1&r=%41"
    assert variables[b"REMOTE_ADDR"] == b"127.0.0.1"
    assert variables[b"REMOTE_HOST"] == b"127.0.0.1"
    assert variables[b"REMOTE_PORT"] == b"54321"
    assert variables[b"HTTP_HOST"] == b"example.com"
    assert variables[b"HTTP_X_CUSTOM"] == b"custom value"
    assert variables[b"HTTP_ACCEPT"] == b"text/html"
    for absent in (
        b"CONTENT_LENGTH",
        b"CONTENT_TYPE",
        b"AUTH_TYPE",
        b"REMOTE_USER",
        b"HTTPS",
    ):
        assert absent not in variables
    # The program runs in its own directory, named by itself alone.
    process = site.process
    assert process.path == str(docroot.parent / "cgi-bin")
    assert process.executable == script.decode()
    assert process.args == [script]


def test_noExtraPath(site: Client) -> None:
    """
    Without extra path segments there is no PATH_INFO or PATH_TRANSLATED;
    a trailing slash is the path C{/} (RFC 3875 section 4.1.5); no query
    string is an empty QUERY_STRING.
    """
    site.send(b"/cgi-bin/run.cgi")
    assert b"PATH_INFO" not in env(site)
    assert b"PATH_TRANSLATED" not in env(site)
    assert env(site)[b"QUERY_STRING"] == b""
    site.process.out(b"Status: 204 No Content\n\n")
    site.process.exit()
    site.send(b"/cgi-bin/run.cgi/")
    assert env(site)[b"PATH_INFO"] == b"/"


def test_scriptAsRoot(tmp_path: Path, reactor: ProcessReactor) -> None:
    """
    A script published as the site's root has an empty SCRIPT_NAME, and the
    whole path as PATH_INFO; with no file root, no PATH_TRANSLATED.
    """
    script = makeScript(tmp_path, "root.cgi")
    client = Client(twcgi.CGIScript(str(script), reactor=reactor), reactor)
    client.send(b"/a/b")
    assert env(client)[b"SCRIPT_NAME"] == b""
    assert env(client)[b"PATH_INFO"] == b"/a/b"
    assert b"PATH_TRANSLATED" not in env(client)
    assert b"DOCUMENT_ROOT" not in env(client)


@pytest.mark.parametrize("segment", [b"a%2Fb", b"a%00b"])
def test_unsafePathInfoRefused(site: Client, segment: bytes) -> None:
    """
    A decoded C{%2F} would make PATH_INFO ambiguous, and a NUL cannot be
    passed to a program at all: 404, nothing run (RFC 3875 section 4.1.5
    lets the server refuse them).
    """
    site.send(b"/cgi-bin/run.cgi/x/" + segment)
    assert site.response().status == 404
    assert site.reactor.processes == []


def test_httpoxy(site: Client) -> None:
    """
    A C{Proxy:} header never becomes HTTP_PROXY (httpoxy, CVE-2016-5385):
    the proxy settings of the program's HTTP library are not the client's
    to choose.
    """
    site.send(
        b"/cgi-bin/run.cgi",
        headers=((b"Proxy", b"http://evil.example:3128/"), (b"PROXY", b"again")),
    )
    assert not [name for name in env(site) if b"PROXY" in name]


def test_credentials(site: Client) -> None:
    """
    Basic credentials give AUTH_TYPE and REMOTE_USER, but the Authorization
    and Proxy-Authorization fields (the password) are not passed on.
    """
    site.send(
        b"/cgi-bin/run.cgi",
        headers=(
            (b"Authorization", b"Basic YWxpY2U6c2VjcmV0"),
            (b"Proxy-Authorization", b"Basic b3RoZXI6cHc="),
        ),
    )
    variables = env(site)
    assert variables[b"AUTH_TYPE"] == b"Basic"
    assert variables[b"REMOTE_USER"] == b"alice"
    assert b"HTTP_AUTHORIZATION" not in variables
    assert b"HTTP_PROXY_AUTHORIZATION" not in variables
    assert b"secret" not in b"".join(variables.values())


def test_passAuthorization(
    docroot: Path, reactor: ProcessReactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    With C{passAuthorization}, a program that checks credentials itself gets
    them as HTTP_AUTHORIZATION.
    """
    monkeypatch.setattr(twcgi.CGIScript, "passAuthorization", True)
    client = Client(siteRoot(docroot, reactor), reactor)
    client.send(b"/cgi-bin/run.cgi", headers=((b"Authorization", b"Bearer tok"),))
    assert env(client)[b"HTTP_AUTHORIZATION"] == b"Bearer tok"
    assert b"REMOTE_USER" not in env(client)


def test_headerNames(site: Client) -> None:
    """
    Repeated fields become one value (cookies joined as cookies are); a name
    holding C{_} is dropped, since it would pose as its C{-} twin (as Apache
    and nginx do); Content-Type and Content-Length have no HTTP_ twins.
    """
    site.send(
        b"/cgi-bin/run.cgi",
        headers=(
            (b"Accept", b"a/b"),
            (b"Accept", b"c/d"),
            (b"Cookie", b"a=1"),
            (b"Cookie", b"b=2"),
            (b"X_Forwarded_For", b"6.6.6.6"),
            (b"X-Forwarded-For", b"1.2.3.4"),
        ),
        method=b"POST",
        body=b"",
    )
    variables = env(site)
    assert variables[b"HTTP_ACCEPT"] == b"a/b, c/d"
    assert variables[b"HTTP_COOKIE"] == b"a=1; b=2"
    assert variables[b"HTTP_X_FORWARDED_FOR"] == b"1.2.3.4"
    assert b"HTTP_CONTENT_LENGTH" not in variables
    assert variables[b"CONTENT_LENGTH"] == b"0"


def test_contentVariables(site: Client) -> None:
    """A request body gives CONTENT_LENGTH and CONTENT_TYPE."""
    site.send(
        b"/cgi-bin/run.cgi",
        method=b"POST",
        headers=((b"Content-Type", b"application/json"),),
        body=b'{"a": 1}',
    )
    assert env(site)[b"CONTENT_LENGTH"] == b"8"
    assert env(site)[b"CONTENT_TYPE"] == b"application/json"
    assert b"HTTP_CONTENT_TYPE" not in env(site)


def test_minimalEnvironment(site: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Of the server's environment, a program gets only the variables of
    C{passEnvironment} (PATH, TZ, LANG, LC_ALL): no secret of the server's
    leaks into it, and no HTTP_PROXY of its own either.
    """
    monkeypatch.setenv("PATH", "/opt/bin:/usr/bin")
    monkeypatch.setenv("TZ", "Europe/Paris")
    monkeypatch.setenv("DATABASE_PASSWORD", "hunter2")
    monkeypatch.setenv("HTTP_PROXY", "http://server-proxy/")
    monkeypatch.setenv("HOME", "/root")
    site.send(b"/cgi-bin/run.cgi")
    variables = env(site)
    assert variables[b"PATH"] == b"/opt/bin:/usr/bin"
    assert variables[b"TZ"] == b"Europe/Paris"
    for leaked in (b"DATABASE_PASSWORD", b"HTTP_PROXY", b"HOME"):
        assert leaked not in variables
    assert b"hunter2" not in b"".join(variables.values())


def test_defaultPath(site: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server without PATH gives its programs L{twcgi.DEFAULT_PATH}."""
    monkeypatch.delenv("PATH")
    site.send(b"/cgi-bin/run.cgi")
    assert env(site)[b"PATH"] == twcgi.DEFAULT_PATH.encode()


def test_passEnvironment(
    docroot: Path, reactor: ProcessReactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    C{passEnvironment} names the server's variables passed on; the
    meta-variables win over any of the same name.
    """
    monkeypatch.setenv("MY_SETTING", "on")
    monkeypatch.setenv("SERVER_NAME", "spoofed")
    monkeypatch.setattr(
        twcgi.CGIScript, "passEnvironment", ("MY_SETTING", "SERVER_NAME", "NOT_SET")
    )
    client = Client(siteRoot(docroot, reactor), reactor)
    client.send(b"/cgi-bin/run.cgi")
    assert env(client)[b"MY_SETTING"] == b"on"
    assert env(client)[b"SERVER_NAME"] == b"example.com"
    assert b"NOT_SET" not in env(client)
    assert b"TZ" not in env(client)


def test_noNulInEnvironment(site: Client) -> None:
    """
    No value holds NUL, which execve() cannot pass, even one set by other
    code that the wire layer never checked.
    """

    class Tampering(resource.Resource):
        def getChild(self, name: bytes, request: Any) -> Any:
            request.requestHeaders._raw[b"x-tampered"] = [b"a\x00b"]
            return site.site.resource.children[b"cgi-bin"].children[b"run.cgi"]

    site.site.resource.putChild(b"tamper", Tampering())
    site.send(b"/tamper/run.cgi")
    assert env(site)[b"HTTP_X_TAMPERED"] == b"ab"
    assert not [value for value in env(site).values() if b"\x00" in value]


def test_twistedWebCrashesOnExtraPath() -> None:
    """
    For comparison: twisted.web's CGIScript fails (500, a TypeError) for any
    URL with extra path segments, where ours gives PATH_INFO (above).
    """
    web = pytest.importorskip("twisted.web.twcgi")
    web_resource = pytest.importorskip("twisted.web.resource")
    web_server = pytest.importorskip("twisted.web.server")

    errors: list[Any] = []

    def observer(event: LogEvent) -> None:
        if "log_failure" in event:
            errors.append(event["log_failure"].value)

    root = web_resource.Resource()
    root.putChild(b"script.cgi", web.CGIScript("/bin/true"))
    channel = web_server.Site(root).buildProtocol(None)
    transport = StringTransport(peerAddress=PEER, hostAddress=HOST)
    channel.makeConnection(transport)
    globalLogPublisher.addObserver(observer)
    try:
        channel.dataReceived(b"GET /script.cgi/extra/path HTTP/1.1\r\nHost: x\r\n\r\n")
    finally:
        globalLogPublisher.removeObserver(observer)
        channel.connectionLost(Failure(ConnectionError()))
    assert transport.value().startswith(b"HTTP/1.1 500 ")
    assert [type(error) for error in errors] == [TypeError]


# -- the command line ------------------------------------------------------------------


def test_filteredScript(tmp_path: Path, reactor: ProcessReactor) -> None:
    """
    A L{twcgi.FilteredScript} runs its C{filter} with the script as its one
    argument, in the script's directory; the script need not be executable.
    """
    script = makeScript(tmp_path / "perl", "page.pl", executable=False)

    class PythonScript(twcgi.FilteredScript):
        filter = sys.executable

    client = Client(PythonScript(str(script), reactor=reactor), reactor)
    client.send(b"/?word+another")
    process = client.process
    assert process.executable == sys.executable
    assert process.args == [os.fsencode(sys.executable), os.fsencode(script)]
    assert process.path == str(tmp_path / "perl")
    assert env(client)[b"SCRIPT_FILENAME"] == os.fsencode(script)


def test_noQueryArguments(site: Client) -> None:
    """
    A query string without C{=} is not turned into command-line arguments
    (RFC 3875 section 4.4 suggests it; php-cgi taking them as options is
    CVE-2012-1823).
    """
    site.send(b"/cgi-bin/run.cgi?-s+-d+allow_url_include%3d1")
    assert len(site.process.args) == 1


def test_filterFoundOnPath(tmp_path: Path, reactor: ProcessReactor) -> None:
    """A C{filter} given as a bare name is looked for on the program's PATH."""
    script = makeScript(tmp_path, "page.sh", executable=False)

    class ShellScript(twcgi.FilteredScript):
        filter = "sh"

    client = Client(ShellScript(str(script), reactor=reactor), reactor)
    client.send(b"/")
    assert os.path.basename(client.process.executable) == "sh"
    assert os.path.isabs(client.process.executable)
    assert client.process.args[0] == b"sh"


def test_phpScripts(tmp_path: Path, reactor: ProcessReactor) -> None:
    """
    L{twcgi.PHPScript} and L{twcgi.PHP3Script} run php-cgi and php3, and set
    REDIRECT_STATUS, without which php-cgi refuses to run.
    """
    assert twcgi.PHPScript.filter == "/usr/bin/php-cgi"
    assert twcgi.PHP3Script.filter == "/usr/bin/php3"
    script = makeScript(tmp_path, "index.php", executable=False)

    class LocalPHP(twcgi.PHPScript):
        filter = sys.executable

    client = Client(LocalPHP(str(script), reactor=reactor), reactor)
    client.send(b"/")
    assert env(client)[b"REDIRECT_STATUS"] == b"200"
    assert client.process.args[1] == os.fsencode(script)


def test_missingInterpreter(
    tmp_path: Path, reactor: ProcessReactor, logged: list[LogEvent]
) -> None:
    """
    A filter that is not installed is a 500, with a log line naming the
    script and the interpreter; nothing is run.
    """
    script = makeScript(tmp_path, "page.x", executable=False)

    class Missing(twcgi.FilteredScript):
        filter = str(tmp_path / "no-such-interpreter")

    client = Client(Missing(str(script), reactor=reactor), reactor)
    client.send(b"/")
    client.pump()
    assert client.response().status == 500
    assert reactor.processes == []
    assert "no-such-interpreter is not an executable file" in logText(logged)
    assert str(script) in logText(logged)


def test_notExecutable(
    tmp_path: Path, reactor: ProcessReactor, logged: list[LogEvent]
) -> None:
    """A CGI program without its executable bit is a 500 and a log line."""
    script = makeScript(tmp_path, "plain.cgi", executable=False)
    client = Client(twcgi.CGIScript(str(script), reactor=reactor), reactor)
    client.send(b"/")
    client.pump()
    response = client.response()
    assert response.status == 500
    assert b"could not run" in response.body
    assert f"CGI script {script} cannot be run" in logText(logged)


def test_missingScript(tmp_path: Path, reactor: ProcessReactor) -> None:
    """A CGIScript whose file is gone, or is a directory, is a 404."""
    client = Client(twcgi.CGIScript(str(tmp_path / "gone"), reactor=reactor), reactor)
    client.send(b"/")
    assert client.response().status == 404
    client = Client(twcgi.CGIScript(str(tmp_path), reactor=reactor), reactor)
    client.send(b"/")
    assert client.response().status == 404
    assert reactor.processes == []


def test_spawnFails(
    site: Client, reactor: ProcessReactor, logged: list[LogEvent]
) -> None:
    """A program that cannot be started is a 500 and a log line, not a crash."""
    reactor.spawnError = OSError(7, "Argument list too long")
    site.send(b"/cgi-bin/run.cgi")
    site.pump()
    assert site.response().status == 500
    assert "Argument list too long" in logText(logged)


# -- answering from the program's output -----------------------------------------------


def test_documentResponse(site: Client) -> None:
    """
    The program's head becomes the response's (its Content-Type, not the
    server's default), and its output the body, streamed as it comes: the
    response ends when the output does.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    assert process.stdinClosed
    process.out(b"Content-Type: text/plain\nX-Extra: 1\nSet-Cookie: a=1\n")
    process.out(b"Set-Cookie: b=2\n\nhello ")
    assert site.transport.value().startswith(b"HTTP/1.1 200 OK\r\n")
    process.out(b"world\n")
    assert site.responses() == []
    process.exit()
    response = site.response()
    assert response.status == 200
    assert response.values(b"content-type") == [b"text/plain"]
    assert response.values(b"x-extra") == [b"1"]
    assert response.values(b"set-cookie") == [b"a=1", b"b=2"]
    assert response.framing == "chunked"
    assert response.body == b"hello world\n"


def test_noContentType(site: Client) -> None:
    """
    A head without Content-Type gives a response without one: the server
    does not guess (RFC 3875 section 6.3.1), nor send its text/html default.
    """
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Status: 200 OK\n\nsome bytes")
    site.process.exit()
    assert site.response().values(b"content-type") == []


def test_statusField(site: Client) -> None:
    """C{Status} sets the response's status and reason."""
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Status: 404 Not Here\nContent-Type: text/plain\n\nnone\n")
    site.process.exit()
    response = site.response()
    assert (response.status, response.reason) == (404, b"Not Here")
    assert response.body == b"none\n"


def test_contentLengthKept(site: Client) -> None:
    """A Content-Length from the program frames the response."""
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Content-Type: text/plain\nContent-Length: 5\n\nhel")
    site.process.out(b"lo")
    site.process.exit()
    response = site.response()
    assert response.framing == "length"
    assert response.body == b"hello"


def test_clientRedirect(site: Client) -> None:
    """An absolute C{Location} without a Status is a 302 (section 6.2.3)."""
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Location: http://example.org/there\n\n")
    site.process.exit()
    response = site.response()
    assert response.status == 302
    assert response.values(b"location") == [b"http://example.org/there"]
    assert response.body == b""


def test_clientRedirectWithDocument(site: Client) -> None:
    """
    C{Status}, an absolute C{Location} and a body are sent as they are
    (section 6.2.4).
    """
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(
        b"Status: 301 Moved Permanently\nLocation: http://example.org/new\n"
        b"Content-Type: text/plain\n\nmoved\n"
    )
    site.process.exit()
    response = site.response()
    assert response.status == 301
    assert response.values(b"location") == [b"http://example.org/new"]
    assert response.body == b"moved\n"


def test_localRedirect(site: Client) -> None:
    """
    A C{Location} that is a path is answered by the server itself, with the
    response it would give to that URL (section 6.2.2): here a static file.
    """
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Location: /target.txt\n\nignored body")
    site.pump()
    site.process.exit()
    response = site.response()
    assert response.status == 200
    assert response.body == b"the target\n"
    assert response.values(b"location") == []


def test_localRedirectToScript(site: Client) -> None:
    """
    A local redirect to a CGI URL runs that program for GET, with the new
    path's PATH_INFO and query string, and without the original request's
    body (as Apache does).
    """
    site.send(
        b"/cgi-bin/run.cgi",
        method=b"POST",
        headers=((b"Content-Type", b"application/x-www-form-urlencoded"),),
        body=b"a=1",
    )
    first = site.process
    assert first.input() == b"a=1"
    first.out(b"Location: /cgi-bin/run.cgi/next?from=first\n\n")
    site.pump()
    second = site.process
    assert second is not first
    variables = env(site)
    assert variables[b"REQUEST_METHOD"] == b"GET"
    assert variables[b"PATH_INFO"] == b"/next"
    assert variables[b"QUERY_STRING"] == b"from=first"
    assert b"CONTENT_LENGTH" not in variables
    assert b"CONTENT_TYPE" not in variables
    assert second.input() == b""
    second.out(b"Content-Type: text/plain\n\nsecond\n")
    second.exit()
    first.exit()
    assert site.response().body == b"second\n"


def test_localRedirectHead(site: Client) -> None:
    """A HEAD request stays HEAD through a local redirect."""
    site.send(b"/cgi-bin/run.cgi", method=b"HEAD")
    site.process.out(b"Location: /cgi-bin/run.cgi/x\n\n")
    site.pump()
    assert env(site)[b"REQUEST_METHOD"] == b"HEAD"


def test_localRedirectLoop(site: Client, logged: list[LogEvent]) -> None:
    """
    Local redirects are followed at most L{_cgiprocess.MAX_LOCAL_REDIRECTS} times
    for one request; then the answer is 500, with a log line.
    """
    site.send(b"/cgi-bin/run.cgi")
    for _ in range(_cgiprocess.MAX_LOCAL_REDIRECTS + 1):
        process = site.process
        process.out(b"Location: /cgi-bin/run.cgi\n\n")
        process.exit()
        site.pump()
    assert len(site.reactor.processes) == _cgiprocess.MAX_LOCAL_REDIRECTS + 1
    assert site.response().status == 500
    assert "more than 10 local redirects" in logText(logged)


@pytest.mark.parametrize(
    ("output", "stopped"),
    [
        (b"", False),
        (b"Content-Type: text/plain\n", False),
        (b"Content-Type text/plain\n\nbody", True),
        (b"Status: abc\n\n", True),
        (b"just some text\n", True),
    ],
)
def test_badGateway(
    site: Client, logged: list[LogEvent], output: bytes, stopped: bool
) -> None:
    """
    Output that does not start with a valid head (or none at all) is a 502
    Bad Gateway, with a log line naming the script and the problem; a
    program still running after a malformed line is told to stop.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    process.out(output)
    assert process.signals == (["TERM"] if stopped else [])
    process.exit()
    response = site.response()
    assert response.status == 502
    assert b"did not send a valid response" in response.body
    text = logText(logged)
    assert "run.cgi sent a malformed response" in text


def test_stderrLogged(site: Client, logged: list[LogEvent]) -> None:
    """
    What the program writes to standard error is logged a line at a time,
    naming the script; a last line without a newline too.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    process.err(b"first li")
    process.err(b"ne\nsecond line\r\nunfin")
    process.out(b"Content-Type: text/plain\n\nok")
    process.err(b"ished")
    process.exit()
    lines = [line for line in logText(logged).splitlines() if "(stderr)" in line]
    assert [line.split("(stderr): ")[1] for line in lines] == [
        "first line",
        "second line",
        "unfinished",
    ]
    assert all("run.cgi" in line for line in lines)
    assert site.response().body == b"ok"


def test_stderrBounded(site: Client, logged: list[LogEvent]) -> None:
    """
    Standard error cannot flood the log: lines are cut, and beyond
    L{_cgiprocess.STDERR_LOG_LIMIT} bytes they are only counted.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    process.err(b"x" * (_cgiprocess.STDERR_LINE_LIMIT * 3))
    line = b"y" * 999 + b"\n"
    for _ in range(_cgiprocess.STDERR_LOG_LIMIT // len(line) + 50):
        process.err(line)
    process.out(b"Content-Type: text/plain\n\n")
    process.exit()
    text = logText(logged)
    assert (
        max(len(line) for line in text.splitlines())
        < _cgiprocess.STDERR_LINE_LIMIT + 200
    )
    logged_bytes = sum(len(line) for line in text.splitlines() if "(stderr)" in line)
    assert logged_bytes < _cgiprocess.STDERR_LOG_LIMIT * 1.2
    assert "more bytes of standard error were not logged" in text


def test_exitStatusLogged(site: Client, logged: list[LogEvent]) -> None:
    """
    A program that exits with a failure status after part of its body was
    sent has failed: the connection is cut (the client must not take the
    part for the whole), and both are logged.
    """
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Content-Type: text/plain\n\npartial")
    site.process.exit(3)
    assert site.transport.disconnecting
    assert site.responses() == []
    assert b"0\r\n\r\n" not in site.transport.value()
    assert "run.cgi exited with status 3" in logText(logged)
    assert "failed after writing its response" in logText(logged)


@pytest.mark.parametrize(("code", "signal"), [(None, 9), (1, None), (None, 15)])
def test_failureAfterHeadOnly(
    site: Client, logged: list[LogEvent], code: int | None, signal: int | None
) -> None:
    """
    A program that writes its head, then fails (killed by a signal, or an
    exception's exit status) before any body was sent gets 502, not an empty
    answer passed off as its own.
    """
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Content-Type: text/plain\nX-Never: sent\n\n")
    site.process.exit(code, signal)
    response = site.response()
    assert response.status == 502
    assert response.values(b"x-never") == []
    assert "failed after writing its response; answering 502" in logText(logged)


def test_killedMidBody(site: Client) -> None:
    """
    A program killed (SIGKILL, by anyone but the server) after part of its
    body has its response cut: no last chunk is sent.
    """
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Content-Type: text/plain\n\nthe first half")
    assert b"the first half" in site.transport.value()
    site.process.exit(None, 9)
    assert site.transport.disconnecting
    assert not site.transport.value().endswith(b"0\r\n\r\n")


def test_cleanExitFinishesAtOnce(site: Client) -> None:
    """
    A program that ends cleanly has its response finished as soon as it
    has exited, with no wait.
    """
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Content-Type: text/plain\n\nwhole")
    site.process.exit(0)
    assert site.response().body == b"whole"
    assert not site.transport.disconnecting


# -- the request body ------------------------------------------------------------------


def test_bodyFedInBlocks(site: Client) -> None:
    """
    A complete request body is written to the program's input a block at a
    time, as the program reads, never all at once; then the input is closed.
    """
    body = bytes(range(256)) * 1024  # 256 KiB
    site.send(b"/cgi-bin/run.cgi", method=b"POST", body=body)
    process = site.process
    assert process.streaming is False
    assert len(process.input()) == cgiinput.BLOCK_SIZE
    assert not process.stdinClosed
    process.drain()
    assert process.input() == body
    assert max(len(piece) for piece in process.stdin) <= cgiinput.BLOCK_SIZE
    assert process.stdinClosed


def test_programClosesInputEarly(site: Client) -> None:
    """
    A program that closes its input without reading the body still answers:
    the rest of the body is not written.
    """
    site.send(b"/cgi-bin/run.cgi", method=b"POST", body=b"x" * 300_000)
    process = site.process
    process.producer.stopProducing()
    process.producer = None
    process.closeStdin()
    process.out(b"Content-Type: text/plain\n\nignored your body")
    process.exit()
    assert site.response().body == b"ignored your body"


def streamingClient(docroot: Path, reactor: ProcessReactor) -> Client:
    return Client(siteRoot(docroot, reactor), reactor, locateBeforeBody=True)


def test_streamedBody(docroot: Path, reactor: ProcessReactor) -> None:
    """
    With C{locateBeforeBody}, the program starts when the head arrives, and
    the body is piped to it piece by piece as it arrives, with
    CONTENT_LENGTH from the head; the input closes at the end of the body.
    """
    client = streamingClient(docroot, reactor)
    client.channel.dataReceived(
        b"POST /cgi-bin/run.cgi HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 10\r\n\r\nhello"
    )
    client.methods.append(b"POST")
    process = client.process
    assert env(client)[b"CONTENT_LENGTH"] == b"10"
    assert process.streaming is True
    assert process.input() == b"hello"
    assert not process.stdinClosed
    client.channel.dataReceived(b"world")
    assert process.input() == b"helloworld"
    assert process.stdinClosed
    process.out(b"Content-Type: text/plain\n\ngot it")
    process.exit()
    assert client.response().body == b"got it"


def test_streamedBodyBackPressure(docroot: Path, reactor: ProcessReactor) -> None:
    """
    While the program's input is full, the upload is paused (the channel
    stops reading the client); once the program reads, it flows again.
    """
    client = streamingClient(docroot, reactor)
    size = 3 * FakeProcess.BUFFER
    client.channel.dataReceived(
        b"PUT /cgi-bin/run.cgi HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Length: %d\r\n\r\n" % size
    )
    client.methods.append(b"PUT")
    process = client.process
    piece = b"p" * 16384
    client.channel.dataReceived(piece * 5)
    assert process.producerPaused
    assert client.channel._bodyPaused
    client.channel.dataReceived(piece * 7)
    assert len(process.input()) == 5 * len(piece)
    process.drain()
    assert process.input() == piece * 12
    assert process.stdinClosed
    # Paused again by the last piece, the channel was resumed for the
    # connection's next request.
    assert not client.channel._bodyPaused
    process.out(b"Content-Type: text/plain\n\ndone")
    process.exit()
    assert client.response().body == b"done"
    client.send(b"/page")
    assert client.responses()[-1].body == b"a plain page"


def test_earlyAnswerWaitsForBody(docroot: Path, reactor: ProcessReactor) -> None:
    """
    A program may answer before the body has all arrived: the response is
    sent at once, but ends only after the body, which is read and dropped,
    so that the connection carries on with the next request.
    """
    client = streamingClient(docroot, reactor)
    client.channel.dataReceived(
        b"POST /cgi-bin/run.cgi HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Length: 200000\r\n\r\n" + b"a" * 100_000
    )
    client.methods.append(b"POST")
    process = client.process
    process.closeStdin()
    process.out(b"Status: 413 Too Big\nContent-Type: text/plain\n\nno thanks")
    process.exit()
    assert b"no thanks" in client.transport.value()
    assert client.responses() == []
    client.channel.dataReceived(b"a" * 100_000)
    assert client.response().status == 413
    client.send(b"/page")
    assert client.responses()[-1].body == b"a plain page"


def test_chunkedBodySpooled(docroot: Path, reactor: ProcessReactor) -> None:
    """
    A chunked body, whose length the head does not give, is spooled; the
    program starts once it is complete, with its CONTENT_LENGTH.
    """
    client = streamingClient(docroot, reactor)
    client.channel.dataReceived(
        b"POST /cgi-bin/run.cgi HTTP/1.1\r\nHost: example.com\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    )
    client.methods.append(b"POST")
    assert reactor.processes == []
    client.channel.dataReceived(b"6\r\n world\r\n0\r\n\r\n")
    process = client.process
    assert env(client)[b"CONTENT_LENGTH"] == b"11"
    assert b"HTTP_TRANSFER_ENCODING" not in env(client)
    assert process.input() == b"hello world"
    process.out(b"Content-Type: text/plain\n\nok")
    process.exit()
    assert client.response().body == b"ok"


def test_streamedMissingScript(tmp_path: Path, reactor: ProcessReactor) -> None:
    """
    With C{locateBeforeBody}, a request for a missing script is refused with
    404 from the head alone, and its body is never read.
    """
    client = Client(
        twcgi.CGIScript(str(tmp_path / "gone.cgi"), reactor=reactor),
        reactor,
        locateBeforeBody=True,
    )
    client.channel.dataReceived(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"
    )
    assert client.transport.value().startswith(b"HTTP/1.1 404 ")
    assert reactor.processes == []


def test_streamedCannotRun(tmp_path: Path, reactor: ProcessReactor) -> None:
    """
    With C{locateBeforeBody}, a program that cannot be run is answered 500
    after the channel's C{100 Continue}, never before it; the body is read
    and dropped.
    """
    script = makeScript(tmp_path, "plain.cgi", executable=False)
    client = Client(
        twcgi.CGIScript(str(script), reactor=reactor), reactor, locateBeforeBody=True
    )
    client.channel.dataReceived(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Expect: 100-continue\r\n\r\n"
    )
    client.pump()
    assert client.transport.value().startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    client.channel.dataReceived(b"body")
    client.methods.append(b"POST")
    [interim, response] = client.responses()
    assert (interim.status, response.status) == (100, 500)


def test_streamedLocalRedirect(docroot: Path, reactor: ProcessReactor) -> None:
    """
    A local redirect printed before the body has all arrived is followed
    once it has (the rest of the body is dropped).
    """
    client = streamingClient(docroot, reactor)
    client.channel.dataReceived(
        b"POST /cgi-bin/run.cgi HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Length: 6\r\n\r\nabc"
    )
    client.methods.append(b"POST")
    process = client.process
    process.out(b"Location: /page\n\n")
    client.pump()
    assert client.transport.value() == b""
    client.channel.dataReceived(b"def")
    client.pump()
    process.exit()
    assert client.response().body == b"a plain page"
    assert process.input() == b"abc"


def test_streamedResponseResumesUpload(docroot: Path, reactor: ProcessReactor) -> None:
    """
    When the client's connection pushes back on an early response while the
    body still arrives, the body flows again once the client catches up.
    """
    client = streamingClient(docroot, reactor)
    client.channel.dataReceived(
        b"POST /cgi-bin/run.cgi HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Length: 6\r\n\r\nabc"
    )
    client.methods.append(b"POST")
    process = client.process
    process.out(b"Content-Type: text/plain\n\nechoing")
    client.channel.pauseProducing()
    assert process.paused
    client.channel.dataReceived(b"def")
    client.channel.resumeProducing()
    assert not process.paused
    assert process.input() == b"abcdef"
    assert process.stdinClosed
    process.exit()
    assert client.response().body == b"echoing"


# -- back-pressure, timeouts, killing --------------------------------------------------


def test_responseBackPressure(site: Client) -> None:
    """
    When the client's connection is full, the program's output is no longer
    read (so the program blocks, not the server's memory); it is read again
    once the client catches up.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    process.out(b"Content-Type: text/plain\n\nsome")
    site.channel.pauseProducing()
    assert process.paused
    site.channel.resumeProducing()
    assert not process.paused
    process.exit()


def test_timeoutBeforeHead(
    site: Client, reactor: ProcessReactor, logged: list[LogEvent]
) -> None:
    """
    A program that writes nothing for C{timeout} seconds gets a SIGTERM, and
    the client a 504; C{killGrace} seconds later, SIGKILL, and the pipes are
    closed.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    reactor.advance(twcgi.DEFAULT_TIMEOUT - 1)
    assert process.signals == []
    reactor.advance(1)
    assert process.signals == ["TERM"]
    assert site.response().status == 504
    reactor.advance(twcgi.KILL_GRACE)
    assert process.signals == ["TERM", "KILL"]
    assert process.lost
    process.exit(None, 9)
    assert "run.cgi: no progress for 60.0 seconds; killing it" in logText(logged)


def test_timeoutRestartsOnOutput(site: Client, reactor: ProcessReactor) -> None:
    """Output restarts the timeout: a slow but steady program is not killed."""
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    process.out(b"Content-Type: text/plain\n\n")
    for _ in range(5):
        reactor.advance(twcgi.DEFAULT_TIMEOUT - 1)
        process.out(b"tick\n")
    assert process.signals == []
    process.exit()
    assert site.response().body == b"tick\n" * 5
    assert process.protocol._timer is None


def test_timeoutAfterHeadBeforeBody(site: Client, reactor: ProcessReactor) -> None:
    """
    A program that printed its head but no body yet, then hangs, still gets
    a 504: nothing was sent, so its head is dropped.
    """
    site.send(b"/cgi-bin/run.cgi")
    site.process.out(b"Content-Type: text/plain\nX-Never: sent\n\n")
    reactor.advance(twcgi.DEFAULT_TIMEOUT)
    response = site.response()
    assert response.status == 504
    assert response.values(b"x-never") == []


def test_timeoutMidBody(site: Client, reactor: ProcessReactor) -> None:
    """
    A program that hangs after part of its body was sent is killed, and the
    connection aborted: the client must not take the part for the whole.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    process.out(b"Content-Type: text/plain\n\npart")
    reactor.advance(twcgi.DEFAULT_TIMEOUT)
    assert process.signals == ["TERM"]
    assert site.transport.disconnecting
    assert site.responses() == []


def test_timeoutConfigurable(
    docroot: Path, reactor: ProcessReactor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """C{CGIScript.timeout} sets the timeout; C{None} disables it."""
    monkeypatch.setattr(twcgi.CGIScript, "timeout", 2)
    monkeypatch.setattr(twcgi.CGIScript, "killGrace", 0.5)
    client = Client(siteRoot(docroot, reactor), reactor)
    client.send(b"/cgi-bin/run.cgi")
    reactor.advance(2)
    assert client.process.signals == ["TERM"]
    reactor.advance(0.5)
    assert client.process.signals == ["TERM", "KILL"]
    monkeypatch.setattr(twcgi.CGIScript, "timeout", None)
    client = Client(siteRoot(docroot, reactor), reactor)
    client.send(b"/cgi-bin/run.cgi")
    reactor.advance(10_000)
    assert client.process.signals == []


def test_stillRunningAfterResponse(site: Client, reactor: ProcessReactor) -> None:
    """
    A program that closes its output but keeps running has its response
    finished C{EXIT_WAIT} seconds later, and is killed once the timeout
    passes.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    process.out(b"Content-Type: text/plain\n\ndone")
    process._lose(1)
    assert site.responses() == []
    reactor.advance(_cgiprocess.EXIT_WAIT)
    assert site.response().body == b"done"
    reactor.advance(twcgi.DEFAULT_TIMEOUT)
    assert process.signals == ["TERM"]


def test_clientGoesAway(site: Client, reactor: ProcessReactor) -> None:
    """
    When the client goes away, the program gets SIGTERM at once, and SIGKILL
    if it is still there C{killGrace} seconds later.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    process.out(b"Content-Type: text/plain\n\nstreaming")
    site.channel.pauseProducing()
    site.channel.connectionLost(Failure(ConnectionError("gone")))
    assert process.signals == ["TERM"]
    assert not process.paused
    process.out(b"more output, dropped")
    reactor.advance(twcgi.KILL_GRACE)
    assert process.signals == ["TERM", "KILL"]


def test_exitCancelsKill(site: Client, reactor: ProcessReactor) -> None:
    """A program that ends after SIGTERM gets no SIGKILL, and no timer stays."""
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    site.channel.connectionLost(Failure(ConnectionError("gone")))
    process.exit(None, 15)
    reactor.advance(twcgi.KILL_GRACE)
    assert process.signals == ["TERM"]
    assert (process.protocol._timer, process.protocol._hardKill) == (None, None)


def test_reactorShutdown(site: Client, reactor: ProcessReactor) -> None:
    """
    A program still running when the reactor shuts down is ended, and the
    shutdown waits for it; a program that ended leaves no trigger behind.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    [(trigger, args, kwargs)] = reactor.triggers["before"]["shutdown"]
    waiting = trigger(*args, **kwargs)
    assert isinstance(waiting, Deferred)
    assert process.signals == ["TERM"]
    fired: list[object] = []
    waiting.addCallback(fired.append)
    process.exit(None, 15)
    assert fired == [None]
    assert reactor.triggers["before"]["shutdown"] == []


def test_reactorShutdownMidBody(site: Client, reactor: ProcessReactor) -> None:
    """
    A program stopped by the shutdown in the middle of its body has its
    response cut off (the connection aborted), not finished as if whole.
    """
    site.send(b"/cgi-bin/run.cgi")
    process = site.process
    process.out(b"Content-Type: text/plain\n\nthe first half")
    [(trigger, args, kwargs)] = reactor.triggers["before"]["shutdown"]
    trigger(*args, **kwargs)
    process.exit(None, 15)
    assert site.transport.disconnecting
    assert site.responses() == []


def test_reactorShutdownStubborn(site: Client, reactor: ProcessReactor) -> None:
    """A program that ignores SIGTERM delays the shutdown by C{killGrace} at most."""
    site.send(b"/cgi-bin/run.cgi")
    [(trigger, args, kwargs)] = reactor.triggers["before"]["shutdown"]
    fired: list[object] = []
    trigger(*args, **kwargs).addCallback(fired.append)
    reactor.advance(twcgi.KILL_GRACE)
    assert site.process.signals == ["TERM", "KILL"]
    assert fired == [None]


# -- CGIDirectory ----------------------------------------------------------------------


@pytest.fixture
def cgiBin(tmp_path: Path) -> Path:
    directory = tmp_path / "cgi-bin"
    makeScript(directory, "run.cgi")
    makeScript(directory, ".hidden.cgi")
    makeScript(directory / "sub", "deep.cgi")
    (tmp_path / "outside.cgi").write_text("#!/bin/sh\n")
    (directory / "link.cgi").symlink_to(tmp_path / "outside.cgi")
    (directory / "inner-link.cgi").symlink_to(directory / "run.cgi")
    return directory


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        (b"run.cgi", twcgi.CGIScript),
        (b"sub", twcgi.CGIDirectory),
        (b"inner-link.cgi", twcgi.CGIScript),
        (b".hidden.cgi", resource.NoResource),
        (b"..", resource.NoResource),
        (b".", resource.NoResource),
        (b"a/b", resource.NoResource),
        (b"a\\b", resource.NoResource),
        (b"x\x00", resource.NoResource),
        (b"\xff\xfe", resource.NoResource),
        (b"missing.cgi", resource.NoResource),
        (b"link.cgi", resource.NoResource),
    ],
)
def test_directoryChildren(cgiBin: Path, name: bytes, kind: type) -> None:
    """
    A CGIDirectory's files are CGIScripts and its subdirectories
    CGIDirectories; dotfiles, traversal, names that are not UTF-8, missing
    files and links out of the tree are 404s, as in L{static.File}.
    """
    child = twcgi.CGIDirectory(str(cgiBin)).getChildWithDefault(name, None)
    assert isinstance(child, kind)
    if isinstance(child, twcgi.CGIScript):
        assert child.filename == os.path.join(str(cgiBin), name.decode())


def test_directorySymlinksFollowed(cgiBin: Path) -> None:
    """With C{followSymlinks}, a link out of the tree is run too."""
    directory = twcgi.CGIDirectory(str(cgiBin), followSymlinks=True)
    assert isinstance(directory.getChildWithDefault(b"link.cgi", None), twcgi.CGIScript)


def test_directoryLinkOutOfSubdirectory(cgiBin: Path) -> None:
    """A subdirectory's links are judged against the top of the tree."""
    (cgiBin / "sub" / "up.cgi").symlink_to(cgiBin / "run.cgi")
    (cgiBin / "sub" / "out.cgi").symlink_to(cgiBin.parent / "outside.cgi")
    sub = twcgi.CGIDirectory(str(cgiBin)).getChildWithDefault(b"sub", None)
    assert isinstance(sub.getChildWithDefault(b"up.cgi", None), twcgi.CGIScript)
    assert isinstance(sub.getChildWithDefault(b"out.cgi", None), resource.NoResource)


@pytest.mark.parametrize("path", [b"/cgi-bin", b"/cgi-bin/", b"/cgi-bin/sub/"])
def test_directoryNotListed(cgiBin: Path, reactor: ProcessReactor, path: bytes) -> None:
    """A directory of programs answers 404, with or without its slash."""
    root = resource.Resource()
    root.putChild(b"cgi-bin", twcgi.CGIDirectory(str(cgiBin)))
    client = Client(root, reactor)
    client.send(path)
    assert client.response().status == 404


def test_directoryScriptsRunFromTheirDirectory(
    cgiBin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script of a CGIDirectory runs in the script's own directory."""
    reactor = ProcessReactor()
    monkeypatch.setattr("twisted.internet.reactor", reactor, raising=False)
    root = resource.Resource()
    root.putChild(b"cgi-bin", twcgi.CGIDirectory(str(cgiBin)))
    client = Client(root, reactor)
    client.send(b"/cgi-bin/sub/deep.cgi/more")
    assert client.process.path == str(cgiBin / "sub")
    assert env(client)[b"SCRIPT_NAME"] == b"/cgi-bin/sub/deep.cgi"
    assert env(client)[b"PATH_INFO"] == b"/more"


def test_processor(tmp_path: Path) -> None:
    """
    A CGIScript is a L{static.File} processor: made with the file's path and
    the registry.
    """
    makeScript(tmp_path, "run.cgi")
    root = static.File(str(tmp_path))
    root.processors = {".cgi": twcgi.CGIScript}
    child = root.getChildWithDefault(b"run.cgi", None)
    assert isinstance(child, twcgi.CGIScript)
    assert child.registry is root.registry
    mode = os.stat(child.filename).st_mode
    assert stat.S_ISREG(mode)


def test_processProtocolAlone(site: Client, reactor: ProcessReactor) -> None:
    """
    A L{twcgi.CGIProcessProtocol} made with just the request, as code
    written for twisted.web makes it, answers from the output it is given.
    """
    request = server.Request(site.channel)
    request.method = b"GET"
    request.uri = b"/by-hand"
    request.content = None
    protocol = twcgi.CGIProcessProtocol(request, reactor=reactor)
    process = FakeProcess(protocol, "prog", ["prog"], {}, None)
    protocol.makeConnection(process)
    assert process.stdinClosed
    process.out(b"Content-Type: text/plain\n\nby hand")
    process.exit()
    site.methods.append(b"GET")
    assert site.response().body == b"by hand"


def test_peerAddressless(docroot: Path, reactor: ProcessReactor) -> None:
    """A client that is not on IP (a UNIX socket) has no REMOTE_ADDR."""
    from twisted.internet.address import UNIXAddress

    client = Client(siteRoot(docroot, reactor), reactor)
    client.transport.peerAddr = UNIXAddress(b"/tmp/socket")
    client.channel._peer = None
    client.send(b"/cgi-bin/run.cgi")
    assert b"REMOTE_ADDR" not in env(client)
    assert env(client)[b"SERVER_PORT"] == b"8080"


def test_hostPortFromAddress(docroot: Path, reactor: ProcessReactor) -> None:
    """SERVER_PORT is the port the request arrived on, not the Host's."""
    client = Client(siteRoot(docroot, reactor), reactor)
    client.transport.hostAddr = IPv4Address("TCP", "10.0.0.1", 8443)
    client.send(b"/cgi-bin/run.cgi", headers=())
    assert env(client)[b"SERVER_PORT"] == b"8443"


def test_docExamples(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python examples of C{doc/cgi.md} run."""
    monkeypatch.setattr(
        twcgi.CGIScript, "passEnvironment", twcgi.CGIScript.passEnvironment
    )
    text = (Path(__file__).parent.parent.parent / "doc" / "cgi.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 3
    for block in blocks:
        namespace: dict[str, Any] = {"__file__": "example.rpy"}
        exec(compile(textwrap.dedent(block), "doc/cgi.md", "exec"), namespace)
    assert twcgi.CGIScript.passEnvironment == ("PATH", "LANG", "TZ", "PERL5LIB")


def test_headerBytesKept(site: Client) -> None:
    """A header value that is not UTF-8 reaches the program byte for byte."""
    site.send(b"/cgi-bin/run.cgi", headers=((b"X-Name", b"caf\xe9 \xff"),))
    assert env(site)[b"HTTP_X_NAME"] == b"caf\xe9 \xff"


def test_nothingStuckOntoTheRequest(docroot: Path, reactor: ProcessReactor) -> None:
    """
    A streamed body and a local redirect leave no CGI bookkeeping on the
    request object, which belongs to the server: the script keeps what it
    needs itself.
    """
    client = streamingClient(docroot, reactor)
    client.channel.dataReceived(
        b"POST /cgi-bin/run.cgi HTTP/1.1\r\nHost: example.com\r\n"
        b"Content-Length: 6\r\n\r\nabc"
    )
    client.methods.append(b"POST")
    process = client.process
    request = process.protocol.request
    process.out(b"Location: /page\n\n")
    client.channel.dataReceived(b"def")
    client.pump()
    process.exit()
    assert client.response().body == b"a plain page"
    assert [name for name in vars(request) if name.startswith("_cgi")] == []


def test_uploadForgottenWhenClientLeaves(
    tmp_path: Path, reactor: ProcessReactor
) -> None:
    """
    A script whose client goes away in the middle of a streamed body keeps
    nothing of that request.
    """
    script = twcgi.CGIScript(str(makeScript(tmp_path, "run.cgi")), reactor=reactor)
    client = Client(script, reactor, locateBeforeBody=True)
    client.channel.dataReceived(
        b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 6\r\n\r\nabc"
    )
    assert len(script._uploads) == 1
    client.channel.connectionLost(Failure(ConnectionError("gone")))
    assert script._uploads == {}
    assert client.process.signals == ["TERM"]


@pytest.mark.parametrize(
    "machine, illegal",
    [
        (
            cgistates.Machine("process", cgistates.Life.ENDED, cgistates.LIFE_MOVES),
            cgistates.Life.RUNNING,
        ),
        (
            cgistates.Machine(
                "response", cgistates.Response.DONE, cgistates.RESPONSE_MOVES
            ),
            cgistates.Response.BODY,
        ),
        (
            cgistates.Machine("input", cgistates.Stdin.CLOSED, cgistates.STDIN_MOVES),
            cgistates.Stdin.OPEN,
        ),
    ],
)
def test_illegalTransitionRefused(machine: Any, illegal: Any) -> None:
    """
    A move that the state diagram of a CGI program's protocol does not have
    is refused loudly rather than carried out.
    """
    before = machine.state
    with pytest.raises(RuntimeError, match="bad CGI"):
        machine.moveTo(illegal)
    assert machine.state is before


def test_everyStateHasItsMoves() -> None:
    """Each CGI state machine says, for every one of its states, where it may go."""
    for states, moves in [
        (cgistates.Life, cgistates.LIFE_MOVES),
        (cgistates.Response, cgistates.RESPONSE_MOVES),
        (cgistates.Stdin, cgistates.STDIN_MOVES),
    ]:
        assert set(moves) == set(states)
        assert all(target in states for targets in moves.values() for target in targets)
