"""
HTTP/2 end to end: C{twistd web-re --path} over TLS (h2 by ALPN) and over
cleartext (h2c by prior knowledge and by Upgrade), spoken to over loopback
by the clients people use: curl, nghttp, h2load and headless Chromium; and a
graceful stop with a request in flight.

A test needing a program that is not installed is skipped, naming it (the
Debian packages: curl, nghttp2-client, chromium).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _chromium import needsChromium, runChromium
from _servers import Server, startWebRe, stopServer
from conftest import writeSelfSignedCertificate

LOOPBACK = "127.0.0.1"
#: Seconds a client may take, and a log line to appear.
DEADLINE = 60.0

CURL = shutil.which("curl")
NGHTTP = shutil.which("nghttp")
H2LOAD = shutil.which("h2load")


def _curlHasHTTP2() -> bool:
    """Whether the installed curl was built with HTTP/2."""
    if CURL is None:
        return False
    features = subprocess.run(
        [CURL, "--version"], capture_output=True, timeout=DEADLINE, check=False
    ).stdout
    return b"HTTP2" in features


needsCurl = pytest.mark.skipif(
    not _curlHasHTTP2(), reason="curl with HTTP/2 is not installed"
)
needsNghttp = pytest.mark.skipif(
    NGHTTP is None, reason="nghttp is not installed (nghttp2-client)"
)
needsH2load = pytest.mark.skipif(
    H2LOAD is None, reason="h2load is not installed (nghttp2-client)"
)

INDEX = b"<!DOCTYPE html><title>h2</title><p>hello over HTTP/2</p>\n"

#: Assets of the page Chromium loads, each logged when fetched.
ASSETS = ("style.css", "app.js", "one.svg", "two.svg", "three.svg")

PAGE = (
    "<!DOCTYPE html><html><head><title>assets</title>"
    '<link rel="stylesheet" href="/style.css"><script src="/app.js"></script>'
    "</head><body>"
    + "".join(f'<img src="/{name}" alt="{name}">' for name in ASSETS[2:])
    + "</body></html>"
)

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">'
    '<rect width="4" height="4"/></svg>'
)

#: A resource script answering a POST with its body's length and SHA-256,
#: and a GET with the protocol version the request came in.
ECHO_RPY = """\
import hashlib

from twisted_web_re import resource


class Echo(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return request.clientproto

    def render_POST(self, request):
        body = request.content.read()
        return b"%d %s" % (len(body), hashlib.sha256(body).hexdigest().encode())


resource = Echo()
"""

#: A resource script answering after C{?ms=} milliseconds (default 1500),
#: which marks each request's arrival with a file beside it.
SLOW_RPY = """\
from twisted.internet import reactor

from twisted_web_re import resource, server


class Slow(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        open(__file__ + ".arrived", "w").close()
        delay = int(request.args.get(b"ms", [b"1500"])[0]) / 1000
        call = reactor.callLater(delay, self._answer, request)
        request.notifyFinish().addErrback(lambda _: call.active() and call.cancel())
        return server.NOT_DONE_YET

    def _answer(self, request):
        request.write(b"slow answer")
        request.finish()


resource = Slow()
"""


@dataclass
class H2Site:
    """
    A running C{twistd web-re --path}, over TLS or cleartext.

    @ivar server: its process.
    @ivar scheme: C{https} or C{http}.
    @ivar root: the directory it serves.
    @ivar certificate: its certificate, for clients to trust.
    @ivar big: the content of C{/big.bin}.
    @ivar log: its access log.
    """

    server: Server
    scheme: str
    root: Path
    certificate: Path
    big: bytes
    log: Path

    def url(self, path: str) -> str:
        """The URL of C{path} on this site."""
        return f"{self.scheme}://{LOOPBACK}:{self.server.port}{path}"

    def logLines(self, text: str, count: int = 1) -> list[str]:
        """
        Wait, within L{DEADLINE}, for C{count} access-log lines holding
        C{text}; return those there are then.
        """
        deadline = time.monotonic() + DEADLINE
        while True:
            lines = [
                line
                for line in (
                    self.log.read_text() if self.log.exists() else ""
                ).splitlines()
                if text in line
            ]
            if len(lines) >= count or time.monotonic() > deadline:
                return lines
            time.sleep(0.1)


def _webRoot(tmp: Path) -> tuple[Path, bytes]:
    """Write the web root; return it and the content of C{big.bin}."""
    root = tmp / "root"
    root.mkdir()
    (root / "index.html").write_bytes(INDEX)
    (root / "page.html").write_text(PAGE)
    (root / "style.css").write_text("body { background: white }\n")
    (root / "app.js").write_text("document.title = 'ran';\n")
    for name in ASSETS[2:]:
        (root / name).write_text(SVG)
    (root / "echo.rpy").write_text(ECHO_RPY)
    (root / "slow.rpy").write_text(SLOW_RPY)
    big = os.urandom(8 << 20)
    (root / "big.bin").write_bytes(big)
    return root, big


def _start(tmp: Path, scheme: str, *arguments: str) -> H2Site:
    """
    Start C{twistd web-re --path} with C{arguments}, on an C{ssl:} port for
    C{https}, on a C{tcp:} one for C{http}, logging to C{access.log}.
    """
    certificate, key = writeSelfSignedCertificate(tmp)
    root, big = _webRoot(tmp)
    log = tmp / "access.log"
    listen = f"tcp:PORT:interface={LOOPBACK}"
    if scheme == "https":
        listen = f"ssl:PORT:interface={LOOPBACK}:privateKey={key}:certKey={certificate}"
    server = startWebRe(
        tmp,
        "--path",
        str(root),
        "--logfile",
        str(log),
        *arguments,
        listen=listen,
    )
    return H2Site(server, scheme, root, certificate, big, log)


@pytest.fixture(scope="module")
def https(tmp_path_factory: pytest.TempPathFactory) -> Iterator[H2Site]:
    """The site over TLS, offering h2 by ALPN."""
    site = _start(tmp_path_factory.mktemp("https"), "https")
    try:
        yield site
        assert "Traceback" not in site.server.log()
    finally:
        stopServer(site.server)


@pytest.fixture(scope="module")
def cleartext(tmp_path_factory: pytest.TempPathFactory) -> Iterator[H2Site]:
    """The site over cleartext, with h2c by prior knowledge and by Upgrade."""
    site = _start(tmp_path_factory.mktemp("http"), "http", "--h2c-upgrade")
    try:
        yield site
        assert "Traceback" not in site.server.log()
    finally:
        stopServer(site.server)


def _run(*command: str) -> subprocess.CompletedProcess[bytes]:
    """Run a client to completion within L{DEADLINE}."""
    return subprocess.run(command, capture_output=True, timeout=DEADLINE, check=False)


def _curl(site: H2Site, path: str, *options: str) -> tuple[str, bytes]:
    """
    Fetch C{path} with curl.

    @return: the HTTP version curl used (C{2}, C{1.1}), and the body.
    """
    assert CURL is not None
    result = _run(
        CURL,
        "--silent",
        "--show-error",
        "--cacert",
        str(site.certificate),
        *options,
        "--write-out",
        "\n%{http_version} %{http_code}",
        "--output",
        "-",
        site.url(path),
    )
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition(b"\n")
    version, code = status.decode().split()
    assert code == "200", result.stdout
    return version, body


# -- curl -------------------------------------------------------------------------


@needsCurl
def test_curlOverTLS(https: H2Site) -> None:
    """
    curl fetches a page over HTTPS in HTTP/2 (chosen by ALPN), and the access
    log says HTTP/2.
    """
    assert _curl(https, "/index.html?curl-tls", "--http2") == ("2", INDEX)
    [line] = https.logLines("/index.html?curl-tls")
    assert '"GET /index.html?curl-tls HTTP/2' in line


@needsCurl
def test_curlUpgrade(cleartext: H2Site) -> None:
    """
    curl asked for HTTP/2 over cleartext (C{--http2}) sends C{Upgrade: h2c};
    the server switches, and the page comes in HTTP/2.
    """
    assert _curl(cleartext, "/index.html?upgrade", "--http2") == ("2", INDEX)
    [line] = cleartext.logLines("/index.html?upgrade")
    assert "HTTP/2" in line


@needsCurl
def test_curlUpgradeOffByDefault(tmp_path: Path) -> None:
    """
    Without C{--h2c-upgrade}, curl's Upgrade is ignored and the page comes
    in HTTP/1.1, while prior knowledge still gets HTTP/2.
    """
    site = _start(tmp_path, "http")
    try:
        assert _curl(site, "/index.html", "--http2") == ("1.1", INDEX)
        assert _curl(site, "/index.html", "--http2-prior-knowledge") == ("2", INDEX)
    finally:
        stopServer(site.server)


@needsCurl
def test_curlPriorKnowledge(cleartext: H2Site) -> None:
    """
    curl with C{--http2-prior-knowledge} speaks HTTP/2 from its first byte
    over cleartext, and is served; C{request.clientproto} is C{HTTP/2}.
    """
    assert _curl(cleartext, "/index.html", "--http2-prior-knowledge") == ("2", INDEX)
    assert _curl(cleartext, "/echo.rpy", "--http2-prior-knowledge") == (
        "2",
        b"HTTP/2",
    )


@needsCurl
def test_curlHTTP1StillServed(https: H2Site, cleartext: H2Site) -> None:
    """The same ports serve HTTP/1.1 clients as before."""
    assert _curl(https, "/index.html", "--http1.1") == ("1.1", INDEX)
    assert _curl(cleartext, "/index.html", "--http1.1") == ("1.1", INDEX)


# -- nghttp -----------------------------------------------------------------------


@needsNghttp
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_nghttpManyStreams(https: H2Site, cleartext: H2Site, scheme: str) -> None:
    """
    nghttp sends 100 requests as 100 concurrent streams of one connection;
    every one is answered 200 with the page.
    """
    assert NGHTTP is not None
    site = https if scheme == "https" else cleartext
    result = _run(
        NGHTTP, "--no-content", "--stat", "--multiply=100", site.url("/index.html")
    )
    assert result.returncode == 0, result.stderr
    answered = re.findall(rb"\s200\s+(\d+) /index\.html", result.stdout)
    assert answered == [b"%d" % len(INDEX)] * 100, result.stdout[-2000:]


@needsNghttp
def test_nghttpLargeFile(https: H2Site) -> None:
    """An 8 MiB file comes over HTTP/2 byte for byte."""
    assert NGHTTP is not None
    result = _run(NGHTTP, https.url("/big.bin"))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout) == len(https.big)
    assert hashlib.sha256(result.stdout).digest() == hashlib.sha256(https.big).digest()


@needsNghttp
def test_nghttpPost(https: H2Site, tmp_path: Path) -> None:
    """A 3 MiB POST body reaches the resource whole over HTTP/2."""
    assert NGHTTP is not None
    body = os.urandom(3 << 20)
    upload = tmp_path / "upload.bin"
    upload.write_bytes(body)
    result = _run(NGHTTP, "--data", str(upload), https.url("/echo.rpy"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"%d %s" % (
        len(body),
        hashlib.sha256(body).hexdigest().encode(),
    )


# -- h2load -----------------------------------------------------------------------


@needsH2load
@pytest.mark.parametrize("scheme", ["https", "http"])
def test_h2load(https: H2Site, cleartext: H2Site, scheme: str) -> None:
    """
    h2load makes 400 requests over 4 connections, 10 streams in flight on
    each: every one succeeds.
    """
    assert H2LOAD is not None
    site = https if scheme == "https" else cleartext
    result = _run(H2LOAD, "-c", "4", "-m", "10", "-n", "400", site.url("/index.html"))
    assert result.returncode == 0, result.stderr
    assert (
        b"requests: 400 total, 400 started, 400 done, 400 succeeded, 0 failed, "
        b"0 errored" in result.stdout
    ), result.stdout
    assert b"status codes: 400 2xx" in result.stdout


# -- Chromium ---------------------------------------------------------------------


@needsChromium
def test_chromiumPageWithAssets(https: H2Site, tmp_path: Path) -> None:
    """
    Headless Chromium loads a page with a stylesheet, a script and three
    images over https: its script ran, and the access log shows the page and
    every asset fetched in HTTP/2.
    """
    result = runChromium(
        tmp_path / "profile",
        "--ignore-certificate-errors",
        "--virtual-time-budget=5000",
        "--dump-dom",
        https.url("/page.html"),
        deadline=DEADLINE * 2,
    )
    assert "<title>ran</title>" in result.stdout.decode("utf-8", "replace")
    for path in ("page.html", *ASSETS):
        [line, *_] = https.logLines(f"GET /{path} ")
        assert f'"GET /{path} HTTP/2' in line, line


# -- graceful shutdown ------------------------------------------------------------


@needsNghttp
def test_gracefulStop(tmp_path: Path) -> None:
    """
    A request in flight on an HTTP/2 connection when the server is told to
    stop (SIGTERM) is answered whole; the server then exits on its own.
    """
    assert NGHTTP is not None
    site = _start(tmp_path, "https", "--shutdown-deadline", "10")
    try:
        client = subprocess.Popen(
            [NGHTTP, site.url("/slow.rpy?ms=2000")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        arrived = site.root / "slow.rpy.arrived"
        deadline = time.monotonic() + DEADLINE
        while not arrived.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert arrived.exists()
        site.server.process.send_signal(signal.SIGTERM)
        out, err = client.communicate(timeout=DEADLINE)
        assert client.returncode == 0, err
        assert out == b"slow answer"
        # twistd ends by the signal it was stopped with, once it has stopped.
        assert site.server.process.wait(timeout=DEADLINE) in (0, -signal.SIGTERM)
        [line] = site.logLines("/slow.rpy")
        assert '"GET /slow.rpy?ms=2000 HTTP/2" 200' in line
    finally:
        stopServer(site.server)
