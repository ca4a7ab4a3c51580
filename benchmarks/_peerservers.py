"""
The peers' servers: the fastest servers other than Twisted's, for reference.

Each serves the same answers as L{servers} (hello world, the static files,
the WSGI applications) and prints the same C{READY <port> <pid>} line, C{pid}
being the process that serves the requests (whose CPU time counts), or
C{UNAVAILABLE <reason>} when it is not installed.  Each runs one worker
process, so that it gets one core, as the Twisted servers do:

  - C{uvicorn}: uvicorn with httptools and uvloop, an ASGI hello app, no
    access log.
  - C{granian}: granian (Rust), one worker with one runtime thread, an RSGI
    hello app for the hello kinds, the WSGI applications for the WSGI kinds.
  - C{nginx}: nginx, one process (no master), serving the static directory,
    with C{sendfile} and no access log, from a configuration written here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from servers import (
    BODY,
    EXIT_UNAVAILABLE,
    HELLO_KINDS,
    LISTEN_BACKLOG,
    WSGI_KINDS,
)

READY_DEADLINE = 30.0
"""Seconds a peer gets to accept its first connection."""

UVICORN_MODULES = ("uvicorn", "httptools", "uvloop")
"""What the uvicorn peer needs installed."""

NGINX_KINDS = ("file1k", "file10m")
"""The kinds nginx serves: the static files (not the listing, which it
formats its own way)."""

NGINX_CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
worker_rlimit_nofile 65536;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 10000000;
    default_type application/octet-stream;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog={backlog};
        root {root};
    }}
}}
"""
"""nginx's configuration: C{dir}, C{port}, C{backlog} and C{root} filled in."""


async def asgiHello(
    scope: dict[str, Any],
    receive: Callable[[], Any],
    send: Callable[[dict[str, Any]], Any],
) -> None:
    """
    The ASGI hello app: L{BODY} as C{text/plain}, with its length.
    """
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"content-length", b"%d" % len(BODY)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": BODY})


async def rsgiHello(scope: Any, protocol: Any) -> None:
    """
    The RSGI hello app (granian's own interface): L{BODY} as C{text/plain}.
    """
    protocol.response_bytes(200, [("content-type", "text/plain")], BODY)


def freePort() -> int:
    """
    @return: a TCP port on 127.0.0.1 that was free a moment ago, for the
        servers that cannot report the port they picked.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def children(pid: int) -> list[int]:
    """
    @return: the process ids of C{pid}'s children.
    """
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def announceWhenServing(port: int, serving: Callable[[], int | None]) -> None:
    """
    In a thread, wait (with a deadline) until C{port} accepts a connection,
    then print the C{READY} line naming the process C{serving} returns.

    @param port: the port the peer listens on.
    @param serving: returns the process id serving the requests, or L{None}
        while it is not known yet.
    """

    def wait() -> None:
        deadline = time.monotonic() + READY_DEADLINE
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                pid = serving()
                if pid is not None:
                    print(f"READY {port} {pid}", flush=True)
                    return
            time.sleep(0.05)
        print(f"peer not serving on port {port} after {READY_DEADLINE}s", flush=True)

    threading.Thread(target=wait, daemon=True).start()


def _unavailable(reason: str) -> int:
    print(f"UNAVAILABLE {reason}", flush=True)
    return EXIT_UNAVAILABLE


def serveUvicorn(kind: str, port: int) -> int:
    """
    Serve a hello kind with uvicorn (httptools, uvloop), until signalled.

    @return: the exit status.
    """
    if kind not in HELLO_KINDS:
        return _unavailable(f"uvicorn serves only {', '.join(HELLO_KINDS)}")
    missing = [m for m in UVICORN_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        return _unavailable(f"not installed: {', '.join(missing)}")
    import uvicorn

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        asgiHello,
        loop="uvloop",
        http="httptools",
        lifespan="off",
        access_log=False,
        log_level="warning",
        backlog=LISTEN_BACKLOG,
    )
    announceWhenServing(sock.getsockname()[1], os.getpid)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def serveGranian(kind: str, port: int) -> int:
    """
    Serve a hello kind (RSGI) or a WSGI kind with granian, one worker with
    one runtime thread, until signalled.

    @return: the exit status.
    """
    if kind not in (*HELLO_KINDS, *WSGI_KINDS):
        return _unavailable(
            f"granian serves only {', '.join(HELLO_KINDS + WSGI_KINDS)}"
        )
    if importlib.util.find_spec("granian") is None:
        return _unavailable("not installed: granian")
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces

    if kind in HELLO_KINDS:
        target, interface = "_peerservers:rsgiHello", Interfaces.RSGI
    else:
        names = {"wsgi": "helloApplication", "wsgi1m": "bigApplication"}
        target, interface = f"servers:{names[kind]}", Interfaces.WSGI
    port = port or freePort()
    me = os.getpid()

    def worker() -> int | None:
        # The worker is a child of this (master) process.
        found = children(me)
        return found[0] if len(found) == 1 else None

    announceWhenServing(port, worker)
    Granian(
        target,
        address="127.0.0.1",
        port=port,
        interface=interface,
        workers=1,
        runtime_threads=1,
        http=HTTPModes.http1,
        websockets=False,
        backlog=LISTEN_BACKLOG,
        log_level="warning",  # type: ignore[arg-type]
        log_access=False,
        working_dir=Path(__file__).resolve().parent,
    ).serve()
    return 0


def serveNginx(kind: str, port: int, root: str | None) -> int:
    """
    Serve a static kind with nginx, one process, until signalled.

    @param root: the directory to publish.
    @return: the exit status.
    """
    if kind not in NGINX_KINDS:
        return _unavailable(f"nginx serves only {', '.join(NGINX_KINDS)}")
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if nginx is None:
        return _unavailable("not installed: nginx (apt-get install nginx-light)")
    if root is None:
        return _unavailable(f"kind {kind!r} needs --root")
    port = port or freePort()
    home = Path(root).resolve().parent / f"nginx-{os.getpid()}"
    home.mkdir()
    config = home / "nginx.conf"
    config.write_text(
        NGINX_CONFIG.format(
            dir=home, port=port, backlog=LISTEN_BACKLOG, root=Path(root).resolve()
        )
    )
    process = subprocess.Popen(
        [nginx, "-p", str(home), "-c", str(config)], stdin=subprocess.DEVNULL
    )

    def stop(signum: int, frame: object) -> None:
        process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    announceWhenServing(port, lambda: process.pid)
    status = process.wait()
    log = home / "error.log"
    if status and log.exists():
        sys.stdout.write(log.read_text(errors="replace"))
    shutil.rmtree(home, ignore_errors=True)
    return 0 if status in (0, -signal.SIGTERM) else 1
