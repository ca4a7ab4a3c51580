"""
Benchmark servers: one workload, served by C{twisted.web} or C{twisted_web_re}.

Every server here is built by exactly the same code for both implementations;
only the modules it imports differ (C{from twisted.web import http} versus
C{from twisted_web_re import http}), so a difference in the figures is a
difference between the implementations and nothing else.  The L{WSGI_KINDS}
can also be served by gunicorn (L{GUNICORN}), with one sync worker, for
reference.

Run one server in its own process::

    python benchmarks/servers.py IMPL KIND PORT [--root DIR] [--pyinstrument PATH]

C{IMPL} is one of L{IMPLS}, L{GUNICORN}, L{LIMIT} (the canned-reply protocol,
the reactor's limit) or L{PEERS} (uvicorn, granian, nginx), C{KIND} one of
L{KINDS}, C{PORT} a TCP port on 127.0.0.1 (0 picks a free one).  The
L{STATIC_KINDS} publish C{DIR} with
C{static.File}; the driver fills it (see C{_static.makeTree}).  When the
server listens it prints one line, C{READY <port> <pid>}, on standard
output.  When the implementation lacks a module the kind needs, it prints
C{UNAVAILABLE <reason>} and exits with L{EXIT_UNAVAILABLE} instead, so a
driver can skip the kind rather than fail.  (gunicorn's READY line names its
worker process, which serves the requests, rather than its master.)
"""

from __future__ import annotations

import argparse
import importlib
import os
import resource as _rlimit
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any, cast

# Running "python benchmarks/servers.py" puts benchmarks/ on sys.path, not the
# checkout: make twisted_web_re importable from the checkout it sits in.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

IMPLS: dict[str, str] = {
    "twisted_web": "twisted.web",
    "twisted_web_re": "twisted_web_re",
}
"""Implementation name on the command line -> the package it imports from."""

GUNICORN = "gunicorn"
"""The name on the command line of gunicorn, which serves the WSGI kinds only."""

LIMIT = "limit"
"""The name on the command line of the canned-reply protocol (C{_limit}),
which serves the hello kinds only."""

PEERS: tuple[str, ...] = ("uvicorn", "granian", "nginx")
"""The names on the command line of the other peers (C{_peerservers})."""

HELLO_KINDS: tuple[str, ...] = ("request", "site", "deep")
"""Hello-world workloads, from the lowest level of the API to the highest."""

STATIC_KINDS: tuple[str, ...] = ("file1k", "file10m", "listing")
"""Workloads served by C{static.File} over the C{--root} directory."""

UPLOAD_KIND = "upload"
"""The workload that receives a large request body and answers its length."""

WSGI_KINDS: tuple[str, ...] = ("wsgi", "wsgi1m")
"""Workloads served by a WSGI application in a thread pool, as C{twistd web
--wsgi} (and C{twistd web-re --wsgi}) serve it."""

BIG_WSGI_KIND = "wsgi1m"
"""The WSGI workload whose response is L{WSGI_BIG_SIZE} bytes."""

KINDS: tuple[str, ...] = (*HELLO_KINDS, *STATIC_KINDS, UPLOAD_KIND, *WSGI_KINDS)
"""Every workload."""

PATHS: dict[str, str] = {
    "request": "/",
    "site": "/",
    "deep": "/a/b/c/d/e",
    "file1k": "/small.bin",
    "file10m": "/big.bin",
    "listing": "/listing/",
    "upload": "/upload",
    "wsgi": "/",
    "wsgi1m": "/",
}
"""The URL path each kind is measured on."""

UPLOAD_BLOCK = 64 * 1024
"""The size of each read the upload resource makes from C{request.content}."""

BODY = b"Hello, world!"
"""The response body every kind sends."""

WSGI_PIECE_SIZE = 4096
"""Bytes in each piece of the C{wsgi1m} response."""
WSGI_PIECES = 256
"""Pieces in the C{wsgi1m} response."""
WSGI_BIG_SIZE = WSGI_PIECE_SIZE * WSGI_PIECES
"""Bytes in the C{wsgi1m} response: 1 MiB."""


def wsgiPiece() -> bytes:
    """
    @return: one piece of the C{wsgi1m} response: L{WSGI_PIECE_SIZE} bytes
        of a repeating pattern.
    """
    return bytes(range(256)) * (WSGI_PIECE_SIZE // 256)


def helloApplication(
    environ: dict[str, Any], startResponse: Callable[..., Any]
) -> Iterable[bytes]:
    """
    The C{wsgi} kind: hello world, with its length, as frameworks send it.
    """
    startResponse(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))],
    )
    return [BODY]


def bigApplication(
    environ: dict[str, Any], startResponse: Callable[..., Any]
) -> Iterable[bytes]:
    """
    The C{wsgi1m} kind: 1 MiB, yielded in 256 pieces of 4 KiB, as an
    application streaming a large page or a file it makes does.
    """
    startResponse(
        "200 OK",
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", str(WSGI_BIG_SIZE)),
        ],
    )
    piece = wsgiPiece()
    return (piece for _ in range(WSGI_PIECES))


WSGI_APPLICATIONS: dict[str, Callable[..., Iterable[bytes]]] = {
    "wsgi": helloApplication,
    "wsgi1m": bigApplication,
}
"""The WSGI application of each of the L{WSGI_KINDS}."""

EXIT_UNAVAILABLE = 3
"""Exit status when the implementation cannot serve the kind (yet)."""

LISTEN_BACKLOG = 1024
"""Accept queue length; the same for both so neither drops SYNs under load."""


class UnavailableError(Exception):
    """
    The implementation does not (yet) provide what a kind needs.
    """


def _importModule(impl: str, name: str) -> ModuleType:
    """
    Import one module of an implementation.

    @param impl: a key of L{IMPLS}.
    @param name: the module name inside the package, such as C{"http"}.
    @return: the module.
    @raise UnavailableError: if the module cannot be imported.
    """
    try:
        package = IMPLS[impl]
    except KeyError:
        raise ValueError(f"unknown implementation {impl!r}") from None
    try:
        return importlib.import_module(f"{package}.{name}")
    except Exception as e:
        raise UnavailableError(f"{package}.{name}: {type(e).__name__}: {e}") from e


def buildFactory(impl: str, kind: str, directory: str | None = None) -> Any:
    """
    Build the server factory for one implementation and one kind of workload.

    The classes are defined inside this function on purpose: the same source
    text is bound to either implementation's modules.

    @param impl: a key of L{IMPLS}.
    @param kind: one of L{KINDS}.
    @param directory: the directory the L{STATIC_KINDS} publish.
    @return: an C{HTTPFactory} (or C{Site}) ready for C{listenTCP}.
    @raise UnavailableError: if the implementation lacks a module the kind needs.
    @raise ValueError: if the kind is unknown, or static without C{directory}.
    """
    if kind == "request":
        http: Any = _importModule(impl, "http")

        class HelloRequest(http.Request):
            def process(self) -> None:
                self.setHeader(b"Content-Type", b"text/plain")
                self.write(BODY)
                self.finish()

        class HelloChannel(http.HTTPChannel):
            requestFactory = HelloRequest

        class HelloFactory(http.HTTPFactory):
            protocol = HelloChannel

        return HelloFactory(logPath=None)

    if kind in ("site", "deep"):
        server: Any = _importModule(impl, "server")
        resource: Any = _importModule(impl, "resource")

        class Hello(resource.Resource):
            isLeaf = True

            def render_GET(self, request: Any) -> bytes:
                return BODY

        if kind == "site":
            root = Hello()
        else:
            root = resource.Resource()
            parent = root
            for name in (b"a", b"b", b"c", b"d"):
                child = resource.Resource()
                parent.putChild(name, child)
                parent = child
            parent.putChild(b"e", Hello())
        return server.Site(root, logPath=None)

    if kind in STATIC_KINDS:
        if directory is None:
            raise ValueError(f"kind {kind!r} needs --root")
        server = _importModule(impl, "server")
        static: Any = _importModule(impl, "static")
        return server.Site(static.File(directory), logPath=None)

    if kind == UPLOAD_KIND:
        server = _importModule(impl, "server")
        resource = _importModule(impl, "resource")

        class Upload(resource.Resource):
            isLeaf = True

            def render_POST(self, request: Any) -> bytes:
                # Read the body in blocks, as an application handling a large
                # upload would: the measured memory is the server's, not a
                # 50 MiB bytes object made here.
                content = request.content
                content.seek(0)
                total = 0
                while block := content.read(UPLOAD_BLOCK):
                    total += len(block)
                request.setHeader(b"Content-Type", b"text/plain")
                return b"%d" % (total,)

        return server.Site(Upload(), logPath=None)

    if kind in WSGI_KINDS:
        server = _importModule(impl, "server")
        wsgi: Any = _importModule(impl, "wsgi")
        from twisted.internet import reactor
        from twisted.python.threadpool import ThreadPool

        # As twistd web --wsgi does: a default pool, started once the reactor
        # runs and stopped when it stops.
        pool = ThreadPool()
        reactor.callWhenRunning(pool.start)
        reactor.addSystemEventTrigger("after", "shutdown", pool.stop)
        site = server.Site(
            wsgi.WSGIResource(reactor, pool, WSGI_APPLICATIONS[kind]), logPath=None
        )
        # As twistd web-re --wsgi does (twisted.web ignores the attribute):
        # the resource is found from the request head.
        site.locateBeforeBody = True
        return site

    raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")


def _limitFactory(kind: str) -> Any:
    """
    @return: the canned-reply protocol's factory, for a hello kind.
    @raise UnavailableError: for any other kind.
    """
    if kind not in HELLO_KINDS:
        raise UnavailableError(f"{LIMIT} serves only {', '.join(HELLO_KINDS)}")
    import _limit

    return _limit.limitFactory()


def raiseFileLimit() -> int:
    """
    Raise this process's open-file soft limit as far as the hard limit allows.

    @return: the soft limit now in force.
    """
    soft, hard = _rlimit.getrlimit(_rlimit.RLIMIT_NOFILE)
    if hard == _rlimit.RLIM_INFINITY:
        hard = 1 << 20
    if soft == _rlimit.RLIM_INFINITY or soft >= hard:
        return soft
    try:
        _rlimit.setrlimit(_rlimit.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        return soft
    return hard


def _discardLogs() -> None:
    """
    Start the global log system with an observer that throws events away, or,
    when the environment variable C{BENCH_LOG} is C{file}, with the observer
    twistd itself uses (C{textFileLogObserver}) writing to C{/dev/null}.

    Both factories log each request through Twisted's logging system when
    there is no log file; without an observer the events pile up in the
    start-up buffer and would count as memory per connection.  Discarding them
    keeps the cost of formatting and publishing the log line, but not a disk;
    C{BENCH_LOG=file} adds the cost of a twistd log file, but not a disk.
    """
    from twisted.logger import (
        ILogObserver,
        LogEvent,
        globalLogBeginner,
        textFileLogObserver,
    )

    def discard(event: LogEvent) -> None:
        pass

    observer: ILogObserver = cast(ILogObserver, discard)
    if os.environ.get("BENCH_LOG") == "file":
        observer = textFileLogObserver(open(os.devnull, "w"))
    globalLogBeginner.beginLoggingTo(
        [observer], discardBuffer=True, redirectStandardIO=False
    )


def serveGunicorn(kind: str, port: int) -> int:
    """
    Serve one of the L{WSGI_KINDS} with gunicorn, one sync worker, until
    signalled.

    @param kind: one of L{WSGI_KINDS}.
    @param port: the TCP port on 127.0.0.1 (0 picks a free one).
    @return: the exit status.
    """
    if kind not in WSGI_KINDS:
        print(f"UNAVAILABLE gunicorn serves only {', '.join(WSGI_KINDS)}", flush=True)
        return EXIT_UNAVAILABLE
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError as e:
        print(f"UNAVAILABLE gunicorn: {type(e).__name__}: {e}", flush=True)
        return EXIT_UNAVAILABLE
    application = WSGI_APPLICATIONS[kind]

    def ready(worker: Any) -> None:
        # Runs in the worker, which serves the requests: its pid is the one
        # whose CPU time counts.
        bound = worker.sockets[0].getsockname()[1]
        print(f"READY {bound} {os.getpid()}", flush=True)

    settings = {
        "bind": f"127.0.0.1:{port}",
        "workers": 1,
        "worker_class": "sync",
        "backlog": LISTEN_BACKLOG,
        "post_worker_init": ready,
        "loglevel": "warning",
    }

    class OneSyncWorker(BaseApplication):
        def load_config(self) -> None:
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Callable[..., Iterable[bytes]]:
            return application

    OneSyncWorker().run()
    return 0


def main(argv: list[str] | None = None) -> int:
    """
    Serve one kind of workload with one implementation until signalled.

    @param argv: the command-line arguments, without the program name.
    @return: the exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("impl", choices=[*sorted(IMPLS), GUNICORN, LIMIT, *PEERS])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("port", type=int)
    parser.add_argument(
        "--root", metavar="DIR", help="the directory the static kinds publish"
    )
    parser.add_argument(
        "--pyinstrument",
        metavar="PATH",
        help="profile the reactor with pyinstrument and write a report to PATH",
    )
    args = parser.parse_args(argv)
    if args.impl == GUNICORN:
        return serveGunicorn(args.kind, args.port)
    if args.impl in PEERS:
        import _peerservers

        if args.impl == "uvicorn":
            return _peerservers.serveUvicorn(args.kind, args.port)
        if args.impl == "granian":
            return _peerservers.serveGranian(args.kind, args.port)
        return _peerservers.serveNginx(args.kind, args.port, args.root)

    # The reactor must be chosen before anything imports the default one.
    from twisted.internet import epollreactor

    epollreactor.install()
    from twisted.internet import reactor
    from twisted.internet.address import IPv4Address

    raiseFileLimit()
    _discardLogs()
    try:
        if args.impl == LIMIT:
            factory = _limitFactory(args.kind)
        else:
            factory = buildFactory(args.impl, args.kind, args.root)
    except UnavailableError as e:
        print(f"UNAVAILABLE {e}", flush=True)
        return EXIT_UNAVAILABLE

    port = reactor.listenTCP(
        args.port, factory, backlog=LISTEN_BACKLOG, interface="127.0.0.1"
    )
    address = port.getHost()
    assert isinstance(address, IPv4Address), address
    print(f"READY {address.port} {os.getpid()}", flush=True)

    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        try:
            reactor.run()
        finally:
            profiler.stop()
            Path(args.pyinstrument).write_text(
                profiler.output_text(unicode=True, color=False)
            )
    else:
        reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
