"""
End-to-end tests of the access log of C{twistd web-re}: every request whose
response was started is logged once, by clients that close as soon as they
have read their response too, and up to the last request of a shutdown; in
the twistd log each request has its own timestamped line.

Only 127.0.0.1 is ever listened on or connected to; every wait has a deadline.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from test_twistd import (
    LOOPBACK,
    REQUEST_TIMEOUT,
    STOP_DEADLINE,
    TWISTD_REPORTING_THREADS,
    WSGI_DIR,
    Server,
    _freePort,
    _listen,
    _wsgiPath,
    start,
)

__all__ = ["start"]

TWISTD_FOREGROUND = [
    *TWISTD_REPORTING_THREADS,
    "--nodaemon",
    "--pidfile=",
    "--logfile=-",
]

# Requests made by each kind of client that closes as soon as it has read.
CLOSING_CLIENTS = 30

# A WSGI application answering after a pause, so that a shutdown begins while
# it is still being produced.
SLOW_APP_PY = """\
import time


def slow(environ, start_response):
    time.sleep(float(environ["QUERY_STRING"] or "0.5"))
    body = b"slow answer"
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    )
    return [body]
"""

# A WSGI application answering as Flask does: a Content-Length, the body from
# an iterator, and some work after the last piece (Flask's teardown when its
# iterator is closed), so the response is complete on the wire, and the client
# gone, before the application's end reaches the reactor.
ITER_APP_PY = """\
import time


def iterated(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")]
    )
    yield b"Hello World!"
    time.sleep(0.02)
"""

# A WSGI application writing a body much larger than socket buffers in one
# piece, then taking its time to end.
BIG_BODY = 32 * 1024 * 1024
BIG_APP_PY = f"""\
import time


def big(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "text/plain"), ("Content-Length", "{BIG_BODY}")]
    )
    yield b"x" * {BIG_BODY}
    time.sleep(3)
"""

# A twistd log record: its own timestamp, the system, then the text.
TWISTD_RECORD = re.compile(
    r"(?P<time>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}) \[(?P<system>[^]]+)\] "
    r"(?P<text>.*)"
)


def _getAndClose(port: int, target: str) -> bytes:
    """
    Send one HTTP/1.1 request (keep-alive, as curl's), read its response as
    far as its Content-Length says, and close the connection at once, as
    curl does.

    @param port: The server's port.
    @param target: The request target.
    @return: The response body.
    """
    deadline = time.monotonic() + REQUEST_TIMEOUT
    with socket.create_connection((LOOPBACK, port), timeout=REQUEST_TIMEOUT) as client:
        client.sendall(
            b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: closer\r\n\r\n"
            % target.encode()
        )
        received = b""
        while b"\r\n\r\n" not in received or len(_bodyOf(received)) < _lengthOf(
            received
        ):
            assert time.monotonic() < deadline, received
            piece = client.recv(65536)
            assert piece, received
            received += piece
        return _bodyOf(received)


def _bodyOf(response: bytes) -> bytes:
    """The bytes after the head of C{response}."""
    return response.partition(b"\r\n\r\n")[2]


def _lengthOf(response: bytes) -> int:
    """The Content-Length of C{response}'s head."""
    match = re.search(rb"(?im)^content-length: *(\d+)", response)
    assert match is not None, response
    return int(match[1])


def _stopAndWait(server: Server) -> None:
    """
    SIGTERM C{server} and wait until it has exited.

    @param server: A server started by the C{start} fixture.
    """
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=STOP_DEADLINE + 10)
    assert "Traceback" not in server.log(), server.log()


def test_closeAfterReadClientsLogged(
    start: Callable[..., Server], tmp_path: Path
) -> None:
    """
    Under C{--wsgi}, each request of a client that reads its response and
    closes the connection at once is logged exactly once, with its status and
    size: raw-socket clients, and C{curl} where it is installed.
    """
    (tmp_path / "iterapp.py").write_text(ITER_APP_PY)
    port = _freePort()
    accessLog = tmp_path / "access.log"
    server = start(
        TWISTD_FOREGROUND,
        *_listen(port),
        "--wsgi=iterapp.iterated",
        "--logfile",
        str(accessLog),
        port=port,
        env=_wsgiPath(tmp_path),
    )
    targets = [f"/closer/{i}" for i in range(CLOSING_CLIENTS)]
    for target in targets:
        assert _getAndClose(port, target) == b"Hello World!"
    curl = shutil.which("curl")
    if curl is not None:
        for i in range(CLOSING_CLIENTS):
            target = f"/curl/{i}"
            done = subprocess.run(
                [
                    curl,
                    "-s",
                    "--max-time",
                    str(REQUEST_TIMEOUT),
                    f"http://{LOOPBACK}:{port}{target}",
                ],
                capture_output=True,
                timeout=REQUEST_TIMEOUT * 2,
                check=True,
            )
            assert done.stdout == b"Hello World!"
            targets.append(target)
    _stopAndWait(server)
    lines = accessLog.read_text().splitlines()
    logged = [re.search(r'"GET (\S+) HTTP/1.1" 200 12 ', line) for line in lines]
    assert sorted(m[1] for m in logged if m) == sorted(targets), lines
    assert len(lines) == len(targets)
    if curl is None:
        pytest.skip("curl is not installed: only raw-socket clients were checked")


@pytest.mark.parametrize("toFile", [True, False], ids=["logfile", "twistd-log"])
def test_requestFinishedDuringShutdownLogged(
    start: Callable[..., Server], tmp_path: Path, toFile: bool
) -> None:
    """
    A request still being answered when the server is told to stop, and
    answered during the shutdown's grace period, is logged before the process
    exits: in the C{--logfile}, or in the twistd log.
    """
    (tmp_path / "slowapp.py").write_text(SLOW_APP_PY)
    port = _freePort()
    accessLog = tmp_path / "access.log"
    server = start(
        TWISTD_FOREGROUND,
        *_listen(port),
        "--wsgi=slowapp.slow",
        *(["--logfile", str(accessLog)] if toFile else []),
        port=port,
        env=_wsgiPath(tmp_path),
    )
    assert _getAndClose(port, "/warm?0") == b"slow answer"
    with socket.create_connection((LOOPBACK, port), timeout=REQUEST_TIMEOUT) as client:
        client.sendall(b"GET /last?1.0 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        received = b""
        while not received.endswith(b"slow answer"):
            piece = client.recv(65536)
            assert piece, received
            received += piece
    server.process.wait(timeout=STOP_DEADLINE + 10)
    text = accessLog.read_text() if toFile else server.log()
    assert '"GET /warm?0 HTTP/1.1" 200 11 ' in text, text
    assert '"GET /last?1.0 HTTP/1.1" 200 11 ' in text, text


def test_twistdLogLinePerRequest(start: Callable[..., Server], tmp_path: Path) -> None:
    """
    Without C{--logfile}, each request's access-log line is a record of its
    own in the twistd log, with its own timestamp, even for requests
    answered together.
    """
    port = _freePort()
    server = start(
        TWISTD_FOREGROUND,
        *_listen(port),
        "--wsgi=helloworld.application",
        port=port,
        env=_wsgiPath(WSGI_DIR),
    )
    for i in range(5):
        _getAndClose(port, f"/each/{i}")
    _stopAndWait(server)
    records = [
        match
        for line in server.log().splitlines()
        if (match := TWISTD_RECORD.fullmatch(line)) and "/each/" in line
    ]
    assert len(records) == 5, server.log()
    for i, record in enumerate(records):
        assert record["system"] == "twisted_web_re.http#info"
        assert record["text"].startswith("127.0.0.1 - - [")
        assert f'"GET /each/{i} HTTP/1.1" 200 12 ' in record["text"]
    assert not any(line.startswith("\t") for line in server.log().splitlines())


@pytest.mark.parametrize("toFile", [True, False], ids=["logfile", "twistd-log"])
def test_jsonAccessLog(
    start: Callable[..., Server], tmp_path: Path, toFile: bool
) -> None:
    """
    C{--access-log-format json} writes one JSON object per request, to the
    C{--logfile} or as the text of its own twistd log record.
    """
    port = _freePort()
    accessLog = tmp_path / "access.log"
    server = start(
        TWISTD_FOREGROUND,
        *_listen(port),
        "--wsgi=helloworld.application",
        "--access-log-format",
        "json",
        *(["--logfile", str(accessLog)] if toFile else []),
        port=port,
        env=_wsgiPath(WSGI_DIR),
    )
    _getAndClose(port, '/json?q="x"')
    _stopAndWait(server)
    if toFile:
        lines = accessLog.read_text().splitlines()
    else:
        lines = [
            match["text"]
            for line in server.log().splitlines()
            if (match := TWISTD_RECORD.fullmatch(line)) and '"method"' in line
        ]
    [line] = lines
    entry = json.loads(line)
    assert entry["method"] == "GET"
    assert entry["target"] == '/json?q="x"'
    assert (entry["status"], entry["bytes"]) == (200, 12)
    assert entry["client"] == "127.0.0.1"
    assert entry["user_agent"] == "closer"
    assert entry["host"] == "127.0.0.1"


def test_clientLeavingEarlyLoggedWithBytesSent(
    start: Callable[..., Server], tmp_path: Path
) -> None:
    """
    A client that leaves after reading the start of a large response is
    logged once, with the response's status and, as its size, the bytes that
    left the server: not those still waiting in its send buffer.
    """
    (tmp_path / "bigapp.py").write_text(BIG_APP_PY)
    port = _freePort()
    accessLog = tmp_path / "access.log"
    server = start(
        TWISTD_FOREGROUND,
        *_listen(port),
        "--wsgi=bigapp.big",
        "--logfile",
        str(accessLog),
        port=port,
        env=_wsgiPath(tmp_path),
    )
    with socket.create_connection((LOOPBACK, port), timeout=REQUEST_TIMEOUT) as client:
        client.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while len(received) < 65536:
            piece = client.recv(65536)
            assert piece, received[:200]
            received += piece
    _stopAndWait(server)
    [line] = accessLog.read_text().splitlines()
    match = re.search(r'"GET /big HTTP/1.1" 200 (\d+) ', line)
    assert match is not None, line
    assert 0 < int(match[1]) < BIG_BODY
