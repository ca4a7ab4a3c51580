"""
End to end: the proxies and TLS.  The reverse proxy in front of our echo
server on HTTPS with a certificate made for the test (verified, or refused
when its CA is not trusted); the forward proxy tunnelling curl's C{CONNECT}
to a TLS and a plain server, only where its allow-list says.  Only
127.0.0.1 is used; every wait has a deadline; every process is stopped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import writeSelfSignedCertificate
from tests.e2e._servers import LOOPBACK, Server, startServer, stopServer
from tests.e2e.test_proxy_e2e import TIMEOUT, get, startProxy

CURL = shutil.which("curl")


@pytest.fixture
def tlsEcho(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """Our echo server over TLS, and the certificate (its own CA) it uses."""
    certificate, _key = writeSelfSignedCertificate(tmp_path)
    server = startServer(tmp_path, "--tls", str(tmp_path))
    yield server, certificate
    stopServer(server)


@pytest.fixture
def plainEcho(tmp_path: Path) -> Iterator[Server]:
    """Our echo server over plain HTTP."""
    server = startServer(tmp_path)
    yield server
    stopServer(server)


@pytest.fixture
def proxies(tmp_path: Path) -> Iterator[list[Server]]:
    """Proxies started by a test, stopped after it."""
    started: list[Server] = []
    yield started
    for server in started:
        stopServer(server)


def test_tlsBackendVerified(
    tmp_path: Path, tlsEcho: tuple[Server, Path], proxies: list[Server]
) -> None:
    """
    A reverse proxy to an C{https} backend whose certificate no trusted CA
    signed answers 502 and logs one line naming the backend; trusting the
    test's CA with C{caFile}, the request passes.
    """
    backend, certificate = tlsEcho
    untrusting = startProxy(tmp_path, backend.port, "--tls")
    proxies.append(untrusting)
    response, body = get(untrusting.port, "/hello")
    assert response.status == 502
    assert f"https://127.0.0.1:{backend.port}".encode() in body
    lines = [line for line in untrusting.log().splitlines() if "Proxy: backend" in line]
    assert len(lines) == 1, untrusting.log()
    assert f"https://127.0.0.1:{backend.port} failed for GET /hello" in lines[0]

    trusting = startProxy(tmp_path, backend.port, "--tls-ca", str(certificate))
    proxies.append(trusting)
    response, body = get(trusting.port, "/hello?x=1")
    assert response.status == 200
    echoed = json.loads(body)
    assert echoed["uri"] == "/hello?x=1"
    assert "Traceback" not in trusting.log() + untrusting.log()


def _curl(*arguments: str) -> subprocess.CompletedProcess[str]:
    assert CURL is not None
    return subprocess.run(
        [CURL, "-sS", "--max-time", str(TIMEOUT), *arguments],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 10,
    )


@pytest.mark.skipif(CURL is None, reason="needs curl")
def test_connectTunnelWithCurl(
    tmp_path: Path,
    tlsEcho: tuple[Server, Path],
    plainEcho: Server,
    proxies: list[Server],
) -> None:
    """
    curl tunnels through the forward proxy with CONNECT (C{-p -x}) to a TLS
    server (verifying it end to end) and to a plain one, both allowed; a
    port not on the allow-list is refused 403, and a proxy without an
    allow-list refuses CONNECT with 405.
    """
    tls, certificate = tlsEcho
    proxy = startProxy(
        tmp_path,
        0,
        "--forward",
        "--connect-allow",
        f"{LOOPBACK}:{tls.port}",
        "--connect-allow",
        f"{LOOPBACK}:{plainEcho.port}",
    )
    proxies.append(proxy)
    via = f"http://{LOOPBACK}:{proxy.port}"
    done = _curl(
        "-p", "-x", via, "--cacert", str(certificate),
        f"https://{LOOPBACK}:{tls.port}/secret?q=1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["uri"] == "/secret?q=1"

    done = _curl("-p", "-x", via, f"http://{LOOPBACK}:{plainEcho.port}/plain")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["uri"] == "/plain"

    done = _curl("-p", "-x", via, f"http://{LOOPBACK}:{proxy.port}/loop")
    assert done.returncode != 0
    assert "403" in done.stderr

    closed = startProxy(tmp_path, 0, "--forward")
    proxies.append(closed)
    done = _curl(
        "-p", "-x", f"http://{LOOPBACK}:{closed.port}",
        f"http://{LOOPBACK}:{plainEcho.port}/plain",
    )  # fmt: skip
    assert done.returncode != 0
    assert "405" in done.stderr
    assert "Traceback" not in proxy.log() + closed.log()
