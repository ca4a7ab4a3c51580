"""
HTTPS end to end: C{twistd web-re --path} on an C{ssl:} endpoint, and the echo
test server over TLS, spoken to over loopback by the clients people use: curl,
wget, headless Chromium, and Python's own C{ssl} offering ALPN as browsers do.

A test needing a program that is not installed is skipped, naming it.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import select
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from _chromium import needsChromium, runChromium
from _servers import startServer, startWebRe, stopServer
from conftest import writeSelfSignedCertificate

LOOPBACK = "127.0.0.1"
#: Seconds a server may take to start, a client to finish, a socket to answer.
DEADLINE = 30.0
CURL = shutil.which("curl")
WGET = shutil.which("wget")

#: The index page served at C{/}.
INDEX = b"<!DOCTYPE html><title>hello</title><p>hello over TLS</p>\n"


@dataclass
class HTTPSSite:
    """
    A running C{twistd web-re --path} serving HTTPS on 127.0.0.1.

    @ivar port: its TCP port.
    @ivar root: the directory it serves.
    @ivar certificate: its self-signed certificate (PEM), for clients to trust.
    @ivar big: the content of C{/big.bin}.
    @ivar log: its log file.
    """

    port: int
    root: Path
    certificate: Path
    big: bytes
    log: Path

    def url(self, path: str) -> str:
        """
        @param path: an absolute path.
        @return: the C{https} URL of C{path} on this site.
        """
        return f"https://{LOOPBACK}:{self.port}{path}"

    def context(self, alpn: list[str] | None = None) -> ssl.SSLContext:
        """
        @param alpn: the protocols to offer by ALPN, or C{None} for none.
        @return: a client TLS context trusting the site's certificate.
        """
        context = ssl.create_default_context(cafile=str(self.certificate))
        if alpn is not None:
            context.set_alpn_protocols(alpn)
        return context


@contextmanager
def _twistdWebRe(tmp: Path, *arguments: str) -> Iterator[tuple[int, Path]]:
    """
    Run C{twistd -n web-re} with C{arguments} until the context ends, and
    check then that it logged no traceback.

    @param tmp: a directory for its log file and working directory.
    @param arguments: its C{web-re} arguments, which must make it listen on
        C{PORT} of 127.0.0.1, C{PORT} standing for a free port.
    @return: (in the context) the port it listens on, and its log file.
    """
    server = startWebRe(tmp, *arguments, listen=None)
    try:
        yield server.port, Path(server.output.name)
        log = server.log()
        assert "Traceback" not in log, log
    finally:
        stopServer(server)


def _webRoot(tmp: Path) -> tuple[Path, bytes]:
    """
    Write a web root with an index page, a directory and a 4 MiB file.

    @param tmp: where to make it.
    @return: the root, and the content of its C{big.bin}.
    """
    root = tmp / "root"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_bytes(INDEX)
    (root / "sub" / "listed.txt").write_text("listed\n")
    big = os.urandom(4 << 20)
    (root / "big.bin").write_bytes(big)
    return root, big


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HTTPSSite]:
    """
    A web root with an index page, a directory and a 4 MiB file, served over
    HTTPS by C{twistd -n web-re --path --listen ssl:...}, in HTTP/1.x only
    (C{--no-http2}: these tests are about HTTP/1.x over TLS;
    C{test_http2_e2e} has HTTP/2 over TLS).
    """
    tmp = tmp_path_factory.mktemp("https")
    certificate, key = writeSelfSignedCertificate(tmp)
    root, big = _webRoot(tmp)
    with _twistdWebRe(
        tmp,
        "--no-http2",
        "--listen",
        f"ssl:PORT:interface={LOOPBACK}:privateKey={key}:certKey={certificate}",
        "--path",
        str(root),
    ) as (port, log):
        yield HTTPSSite(port, root, certificate, big, log)


def _run(*command: str) -> subprocess.CompletedProcess[bytes]:
    """
    Run a client program to completion, within L{DEADLINE}.

    @return: what it did; its standard error is in the failure message of any
        assertion on its exit status made by the caller.
    """
    return subprocess.run(command, capture_output=True, timeout=DEADLINE, check=False)


def test_browserLikeALPN(site: HTTPSSite) -> None:
    """
    A client offering C{h2} and C{http/1.1} by ALPN, as every browser and curl
    do, completes the handshake, is given HTTP/1.1 and is served; so is a
    client offering only C{http/1.1} (Python's own C{urllib}).
    """
    for alpn in (["h2", "http/1.1"], ["http/1.1"]):
        connection = http.client.HTTPSConnection(
            LOOPBACK, site.port, timeout=DEADLINE, context=site.context(alpn)
        )
        try:
            connection.request("GET", "/index.html")
            response = connection.getresponse()
            assert response.status == 200
            assert response.read() == INDEX
            assert isinstance(connection.sock, ssl.SSLSocket)
            assert connection.sock.selected_alpn_protocol() == "http/1.1"
        finally:
            connection.close()


def _logLines(log: Path, text: str) -> list[str]:
    """
    Wait for a line holding C{text} in a server's log, within L{DEADLINE}.

    @param log: the log file.
    @param text: what to look for.
    @return: the lines holding C{text} (none if none came in time).
    """
    deadline = time.monotonic() + DEADLINE
    while True:
        lines = [line for line in log.read_text().splitlines() if text in line]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


@pytest.mark.parametrize(
    "alpn", [pytest.param(["h2"], id="h2"), pytest.param(["foo"], id="unknown")]
)
def test_noCommonProtocol(site: HTTPSSite, alpn: list[str]) -> None:
    """
    A client offering by ALPN only protocols the server does not speak (only
    C{h2}, as an HTTP/2-only client does) is refused at once with the alert
    RFC 7301 names for it, C{no_application_protocol}, and the server logs
    one line naming the client and what it offered; then it goes on serving.
    """
    with socket.create_connection((LOOPBACK, site.port), timeout=DEADLINE) as plain:
        local = plain.getsockname()
        with pytest.raises(ssl.SSLError, match="no application protocol"):
            site.context(alpn).wrap_socket(plain, server_hostname=LOOPBACK)
    [line] = _logLines(site.log, f"TLS handshake with {local[0]}:{local[1]} ")
    assert "refused (no_application_protocol)" in line
    assert f"offered only {alpn[0]} by ALPN" in line
    connection = http.client.HTTPSConnection(
        LOOPBACK, site.port, timeout=DEADLINE, context=site.context(["http/1.1"])
    )
    try:
        connection.request("GET", "/index.html")
        assert connection.getresponse().read() == INDEX
    finally:
        connection.close()


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_curl(site: HTTPSSite, tmp_path: Path) -> None:
    """
    curl, as a user runs it, fetches two pages over one kept-alive HTTPS
    connection, and a 4 MiB file whole.
    """
    assert CURL is not None
    first, second, big = tmp_path / "first", tmp_path / "second", tmp_path / "big"
    result = _run(
        CURL,
        "--silent",
        "--show-error",
        "--cacert",
        str(site.certificate),
        "--write-out",
        "%{http_code} %{http_version} %{num_connects}\\n",
        "--output",
        str(first),
        site.url("/index.html"),
        "--output",
        str(second),
        site.url("/sub/"),
        "--output",
        str(big),
        site.url("/big.bin"),
    )
    assert result.returncode == 0, result.stderr
    # The later requests reuse the first connection: no new connects.
    assert result.stdout.decode().split("\n") == [
        "200 1.1 1",
        "200 1.1 0",
        "200 1.1 0",
        "",
    ]
    assert first.read_bytes() == INDEX
    assert b"listed.txt" in second.read_bytes()
    assert (
        hashlib.sha256(big.read_bytes()).digest() == hashlib.sha256(site.big).digest()
    )


#: The ways curl is told to offer ALPN: as it does by default (C{h2} and
#: C{http/1.1}), only C{http/1.1}, only C{http/1.0}, and not at all.
CURL_ALPN = [
    pytest.param([], id="default"),
    pytest.param(["--http1.1"], id="http1.1"),
    pytest.param(["--http1.0"], id="http1.0"),
    pytest.param(["--no-alpn"], id="no-alpn"),
]


def _curlStatus(port: int, certificate: Path, *options: str) -> tuple[str, bytes]:
    """
    Fetch C{/index.html} with curl over HTTPS.

    @param port: the server's port on 127.0.0.1.
    @param certificate: the server's certificate, trusted by curl.
    @param options: more options for curl.
    @return: the response's status code and HTTP version, as curl writes
        them, and its body.
    """
    assert CURL is not None
    result = _run(
        CURL,
        "--silent",
        "--show-error",
        *options,
        "--cacert",
        str(certificate),
        "--write-out",
        "\\n%{http_code} %{http_version}",
        "--output",
        "-",
        f"https://{LOOPBACK}:{port}/index.html",
    )
    assert result.returncode == 0, result.stderr
    body, _, status = result.stdout.rpartition(b"\n")
    return status.decode(), body


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
@pytest.mark.parametrize("options", CURL_ALPN)
def test_curlALPN(site: HTTPSSite, options: list[str]) -> None:
    """
    curl gets the page over HTTPS (answered in HTTP/1.1, the server's
    version) whether it offers ALPN as it does by default, offers only
    HTTP/1.1 (C{--http1.1}) or only HTTP/1.0 (C{--http1.0}), or offers no
    ALPN at all (C{--no-alpn}).
    """
    assert _curlStatus(site.port, site.certificate, *options) == ("200 1.1", INDEX)


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_httpsOptionWithEndpointOptions(tmp_path: Path) -> None:
    """
    The deprecated C{--https=PORT} of twisted.web's C{twistd web}, with
    endpoint options after the port (C{--https=PORT:interface=127.0.0.1}) and
    the files named by C{--certificate} and C{--privkey}, serves HTTPS that
    curl fetches, with its default ALPN and without; and refuses a client
    offering only C{h2} as the C{--listen ssl:} ports do.
    """
    certificate, key = writeSelfSignedCertificate(tmp_path)
    root, _ = _webRoot(tmp_path)
    with _twistdWebRe(
        tmp_path,
        "--no-http2",
        f"--https=PORT:interface={LOOPBACK}",
        "--certificate",
        str(certificate),
        "--privkey",
        str(key),
        "--path",
        str(root),
    ) as (port, _):
        for options in ([], ["--no-alpn"]):
            assert _curlStatus(port, certificate, *options) == ("200 1.1", INDEX)
        context = ssl.create_default_context(cafile=str(certificate))
        context.set_alpn_protocols(["h2"])
        with (
            socket.create_connection((LOOPBACK, port), timeout=DEADLINE) as plain,
            pytest.raises(ssl.SSLError, match="no application protocol"),
        ):
            context.wrap_socket(plain, server_hostname=LOOPBACK)


@pytest.mark.skipif(WGET is None, reason="wget is not installed")
def test_wget(site: HTTPSSite) -> None:
    """wget fetches the index page over HTTPS."""
    assert WGET is not None
    result = _run(
        WGET,
        "--quiet",
        f"--ca-certificate={site.certificate}",
        "--output-document=-",
        site.url("/index.html"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == INDEX


@needsChromium
def test_chromium(site: HTTPSSite, tmp_path: Path) -> None:
    """
    Headless Chromium loads a directory listing over HTTPS (the self-signed
    certificate accepted by flag) and builds its DOM.
    """
    result = runChromium(
        tmp_path / "profile",
        "--ignore-certificate-errors",
        "--dump-dom",
        site.url("/sub/"),
        deadline=DEADLINE * 2,
    )
    dom = result.stdout.decode("utf-8", "replace")
    assert "Directory listing for /sub/" in dom, result.stderr[-2000:]
    assert "listed.txt" in dom


def _waitForEOF(sock: socket.socket) -> bool:
    """
    Read the raw TCP connection under C{sock} until the server closes it.

    @return: whether it closed within L{DEADLINE}.
    """
    raw = socket.socket(fileno=os.dup(sock.fileno()))
    try:
        deadline = time.monotonic() + DEADLINE
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([raw], [], [], left)
            if readable and not raw.recv(65536):
                return True
        return False
    finally:
        raw.close()


def test_closedThoughClientNeverAnswersCloseNotify(site: HTTPSSite) -> None:
    """
    After an HTTP/1.0 response the server sends C{close_notify} and closes
    the TCP connection, though the client neither answers C{close_notify} nor
    closes: such clients cannot hold connections open.
    """
    with socket.create_connection((LOOPBACK, site.port), timeout=DEADLINE) as plain:
        sock = site.context(["http/1.1"]).wrap_socket(plain, server_hostname=LOOPBACK)
        sock.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
        received = b""
        while piece := sock.recv(65536):  # b"" once close_notify is read
            received += piece
        assert received.endswith(b"\r\n\r\n" + INDEX)
        assert _waitForEOF(sock)


def test_timeoutAnsweredOverTLS(tmp_path: Path) -> None:
    """
    A request head that is not finished in time is answered 408 over TLS:
    the response reaches the client, and the connection then ends.
    """
    writeSelfSignedCertificate(tmp_path)
    server = startServer(tmp_path, "--tls", str(tmp_path), "--head-timeout", "1")
    try:
        context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        with socket.create_connection(
            (LOOPBACK, server.port), timeout=DEADLINE
        ) as plain:
            sock = context.wrap_socket(plain, server_hostname=LOOPBACK)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: local")
            received = b""
            while piece := sock.recv(65536):
                received += piece
        assert received.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert received.endswith(b"request not received in time\n")
        assert "Traceback" not in server.log()
    finally:
        stopServer(server)
