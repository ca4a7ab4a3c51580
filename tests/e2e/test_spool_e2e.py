"""
End-to-end test of a full disk while an upload is spooled: a real
C{twistd -n web-re --path DOCROOT} whose C{TMPDIR} is a small tmpfs, spoken
to over loopback.

Mounting a tmpfs needs root and C{mount} (CI runs as root); without them the
test is skipped, saying why.  Only 127.0.0.1 is ever a target, every wait has
a deadline, the server is stopped and the tmpfs unmounted when the test ends.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import freePort

REPO = Path(__file__).resolve().parent.parent.parent
LOOPBACK = "127.0.0.1"

#: Seconds the server may take to listen, and to stop.
START_DEADLINE = 20.0
#: Seconds one upload, answered or not, may take.
EXCHANGE_DEADLINE = 30.0

#: The size of the tmpfs: far less than the upload, more than the next one.
TMPFS_SIZE = 4 * 1024 * 1024
BIG_UPLOAD = 50 * 1024 * 1024
#: Larger than the body memory limit (256 KiB), so it is spooled to the tmpfs.
SMALL_UPLOAD = 1024 * 1024

ECHO = b"""#!/bin/sh
printf 'Content-Type: text/plain\\n\\n'
wc -c
"""


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A freshly mounted tmpfs of L{TMPFS_SIZE} bytes, unmounted afterwards."""
    mount = shutil.which("mount")
    umount = shutil.which("umount")
    if mount is None or umount is None:
        pytest.skip("mount/umount are not installed")
    point = tmp_path / "tmpfs"
    point.mkdir()
    result = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(point)],
        capture_output=True,
        text=True,
        timeout=START_DEADLINE,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {result.stderr.strip()}")
    try:
        yield point
    finally:
        subprocess.run([umount, "-l", str(point)], timeout=START_DEADLINE)


@pytest.fixture
def server(
    tmp_path: Path, tmpfs: Path
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """
    C{twistd -n web-re} serving a docroot with C{echo.cgi} (which answers the
    length of what it is sent), with its temporary files on the tmpfs.
    """
    docroot = tmp_path / "docroot"
    docroot.mkdir()
    script = docroot / "echo.cgi"
    script.write_bytes(ECHO)
    script.chmod(0o755)
    port = freePort()
    env = dict(os.environ, TMPDIR=str(tmpfs))
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    )
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from twisted.scripts.twistd import run;"
                " sys.argv[0] = 'twistd'; run()",
                "--nodaemon",
                "--pidfile=",
                "--logfile=-",
                "web-re",
                "--listen",
                f"tcp:{port}:interface={LOOPBACK}",
                "--path",
                str(docroot),
            ],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited:\n{log.read_text()}")
            try:
                socket.create_connection((LOOPBACK, port), timeout=1.0).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"server did not listen:\n{log.read_text()}")
                time.sleep(0.1)
        yield process, port, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=START_DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=START_DEADLINE)


def deletedButHeld(pid: int) -> list[str]:
    """The files process C{pid} holds open although they were deleted."""
    held = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.endswith("(deleted)"):
            held.append(target)
    return held


def heldAfterAWhile(pid: int) -> list[str]:
    """
    The deleted files process C{pid} still holds once it has had a few
    seconds to notice that the connections closed.
    """
    deadline = time.monotonic() + 5.0
    while deletedButHeld(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    return deletedButHeld(pid)


def bigUpload(port: int) -> tuple[bytes, str]:
    """
    Send a L{BIG_UPLOAD}-byte body (with C{Expect: 100-continue}) while
    reading what comes back, until the server closes the connection.

    @return: everything received, and how the connection ended: C{"closed"},
        C{"reset"} or C{"timeout"}.
    """
    sock = socket.create_connection((LOOPBACK, port), timeout=EXCHANGE_DEADLINE)
    sock.sendall(
        b"POST /echo.cgi HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n" % BIG_UPLOAD
    )
    stop = threading.Event()

    def send() -> None:
        piece = b"x" * 65536
        sent = 0
        try:
            while sent < BIG_UPLOAD and not stop.is_set():
                sock.sendall(piece)
                sent += len(piece)
        except OSError:
            pass  # The server stopped reading: what this test expects.

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    received = b""
    end = "timeout"
    deadline = time.monotonic() + EXCHANGE_DEADLINE
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                piece = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                end = "reset"
                break
            if not piece:
                end = "closed"
                break
            received += piece
    finally:
        stop.set()
        sock.close()
        sender.join(EXCHANGE_DEADLINE)
    return received, end


def test_fullTmpdirAnswered507AndReleased(
    server: tuple[subprocess.Popen[bytes], int, Path], tmpfs: Path
) -> None:
    """
    A 50 MiB upload to a server whose temporary directory has room for 4 MiB
    gets C{100 Continue}, then 507 Insufficient Storage and a closed
    connection; the server holds no deleted temporary file afterwards, the
    space is free again, the next (spooled) upload succeeds, and the log has
    one line about it and no traceback.
    """
    process, port, log = server
    received, end = bigUpload(port)
    statusLines = [
        line for line in received.split(b"\r\n") if line.startswith(b"HTTP/1.1 ")
    ]
    assert statusLines == [
        b"HTTP/1.1 100 Continue",
        b"HTTP/1.1 507 Insufficient Storage",
    ], received[:500]
    assert b"no room to store the request body" in received
    assert end in ("closed", "reset"), end
    assert heldAfterAWhile(process.pid) == []
    usage = os.statvfs(tmpfs)
    assert usage.f_bfree == usage.f_blocks

    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=EXCHANGE_DEADLINE)
    try:
        connection.request("POST", "/echo.cgi", body=b"y" * SMALL_UPLOAD)
        response = connection.getresponse()
        assert response.status == 200
        assert response.read().strip() == b"%d" % SMALL_UPLOAD
    finally:
        connection.close()
    assert heldAfterAWhile(process.pid) == []

    text = log.read_text()
    assert text.count("Could not store the request body") == 1, text
    assert "[Errno 28] No space left on device" in text
    assert "Traceback" not in text, text
