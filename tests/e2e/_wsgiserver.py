"""
WSGI applications served by L{twisted_web_re.wsgi.WSGIResource}, for the
end-to-end tests, run in their own process.

Two sites share one resource tree and one thread pool: the first is a default
L{server.Site}, the second has C{locateBeforeBody} set, so that its
applications read request bodies as they arrive.  The tree:

  - C{/environ/...}: the request's environ (its C{str} values) as JSON, with
    the body read from C{wsgi.input};
  - C{/progress}: reads the body five bytes at a time, answering each piece
    as soon as it has it, in brackets;
  - C{/validated}: an application wrapped in C{wsgiref.validate.validator}
    (with the validator's warnings made errors) that reads the body in every
    way C{wsgi.input} allows and answers with it;
  - C{/big?size=N&piece=P}: N bytes yielded P at a time;
  - C{/file}: the 5 MiB file L{FILE_SIZE} returned as a C{wsgi.file_wrapper};
  - C{/infinite}: 64 KiB pieces for ever, counted;
  - C{/slow}: five pieces, 200 ms apart;
  - C{/boom}: an application that raises;
  - C{/midway}: an application whose iterable raises after its first piece
    was sent;
  - C{/stats}: JSON counters: bytes yielded by C{/infinite}, and how many of
    its iterables were closed;
  - C{/flask/...}: the Flask application of L{buildFlask}.

Run::

    python tests/e2e/_wsgiserver.py

It listens on two free ports of 127.0.0.1 and prints one line
C{PORT <plain> <streaming>}; its log goes to standard error.  When it is
stopped (SIGTERM or SIGINT) it lets the responses being produced finish,
for L{SHUTDOWN_GRACE} seconds at most, stops its thread pool with the
reactor, then logs C{THREADS <n>}, the number of threads still alive (1: the
main one).
L{startWSGIServer} runs it from a test.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import _servers

REPO = Path(__file__).resolve().parent.parent.parent

#: The resources' C{shutdownGrace}, shorter than the default.
SHUTDOWN_GRACE = 1.0

#: The size of the file served at C{/file}.
FILE_SIZE = 5 * 1024 * 1024


def fileContent() -> bytes:
    """The content of the file served at C{/file}."""
    return hashlib.sha256(b"wsgi").digest() * (FILE_SIZE // 32)


def buildFlask() -> Any:
    """
    A Flask application: C{/} and C{/hello/<name>} (which gives its own URL
    from C{url_for}), a form at C{/form}, an upload at C{/upload}, a streamed
    response at C{/stream}, and JSON at C{/json}.
    """
    from flask import Flask, Response, jsonify, request, url_for

    app = Flask("wsgi_e2e")

    @app.route("/")
    def index() -> str:
        return "flask index"

    @app.route("/hello/<name>")
    def hello(name: str) -> str:
        return f"hello {name} at {url_for('hello', name=name)}"

    @app.route("/form", methods=["GET", "POST"])
    def form() -> str:
        if request.method == "GET":
            return '<form method="post"><input name="field"></form>'
        multi = ",".join(request.form.getlist("multi"))
        return f"field={request.form['field']} multi={multi}"

    @app.route("/upload", methods=["POST"])
    def upload() -> Any:
        uploaded = request.files["file"]
        data = uploaded.read()
        return jsonify(
            name=uploaded.filename,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            note=request.form.get("note"),
        )

    @app.route("/stream")
    def stream() -> Response:
        def generate() -> Iterator[str]:
            for i in range(5):
                yield f"part {i}\n"
                time.sleep(0.01)

        return Response(generate(), mimetype="text/plain")

    @app.route("/json", methods=["POST"])
    def echoJSON() -> Any:
        return jsonify(received=request.get_json())

    return app


def buildResources(reactor: Any, pool: Any, filePath: Path) -> Any:
    """Build the resource tree of the module docstring."""
    from wsgiref.validate import validator

    from twisted_web_re import resource, wsgi

    stats = {"infiniteBytes": 0, "infiniteClosed": 0}

    def environApp(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        body = environ["wsgi.input"].read()
        answer = {k: v for k, v in environ.items() if isinstance(v, str)}
        answer["body"] = body.decode("latin-1")
        data = json.dumps(answer, sort_keys=True).encode()
        startResponse("200 OK", [("Content-Type", "application/json")])
        return [data]

    def progressApp(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        body = environ["wsgi.input"]
        startResponse("200 OK", [("Content-Type", "text/plain")])
        for piece in iter(lambda: body.read(5), b""):
            yield b"[" + piece + b"]"

    def readingApp(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        body = environ["wsgi.input"]
        first = body.readline()
        second = body.read(4)
        lines = body.readlines()
        rest = list(body)
        startResponse("200 OK", [("Content-Type", "text/plain")])
        yield first + second
        yield b"|".join(lines) + b"".join(rest)

    def bigApp(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        query = dict(
            part.split("=") for part in environ["QUERY_STRING"].split("&") if part
        )
        size = int(query.get("size", "1048576"))
        piece = int(query.get("piece", "4096"))
        startResponse("200 OK", [("Content-Type", "application/octet-stream")])
        block = b"b" * piece
        for _ in range(size // piece):
            yield block

    def fileApp(environ: dict[str, Any], startResponse: Any) -> Any:
        startResponse("200 OK", [("Content-Type", "application/octet-stream")])
        return environ["wsgi.file_wrapper"](open(filePath, "rb"))

    class Infinite:
        def __iter__(self) -> Iterator[bytes]:
            block = b"i" * 65536
            while True:
                stats["infiniteBytes"] += len(block)
                yield block

        def close(self) -> None:
            stats["infiniteClosed"] += 1

    def infiniteApp(environ: dict[str, Any], startResponse: Any) -> Infinite:
        startResponse("200 OK", [("Content-Type", "application/octet-stream")])
        return Infinite()

    def slowApp(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [("Content-Type", "text/plain")])
        for i in range(5):
            time.sleep(0.2)
            yield b"slow %d\n" % i

    def boomApp(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        raise RuntimeError("boom in the application")

    def midwayApp(environ: dict[str, Any], startResponse: Any) -> Iterator[bytes]:
        startResponse("200 OK", [("Content-Type", "text/plain")])
        yield b"first half\n"
        time.sleep(0.2)
        raise RuntimeError("the second half failed")

    def statsApp(environ: dict[str, Any], startResponse: Any) -> list[bytes]:
        startResponse("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(stats).encode()]

    root = resource.Resource()
    apps = {
        b"environ": environApp,
        b"progress": progressApp,
        b"validated": validator(readingApp),
        b"big": bigApp,
        b"file": fileApp,
        b"infinite": infiniteApp,
        b"slow": slowApp,
        b"boom": boomApp,
        b"midway": midwayApp,
        b"stats": statsApp,
        b"flask": buildFlask(),
    }
    for name, app in apps.items():
        wsgiResource = wsgi.WSGIResource(reactor, pool, app)
        wsgiResource.shutdownGrace = SHUTDOWN_GRACE
        root.putChild(name, wsgiResource)
    return root


def main() -> int:
    """
    Serve until stopped; print C{PORT <plain> <streaming>} once listening.
    """
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from wsgiref.validate import WSGIWarning

    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver
    from twisted.python.threadpool import ThreadPool

    from twisted_web_re import server

    warnings.simplefilter("error", WSGIWarning)
    globalLogBeginner.beginLoggingTo(
        [textFileLogObserver(sys.stderr)], redirectStandardIO=False
    )
    filePath = Path(os.getcwd()) / "served.bin"
    filePath.write_bytes(fileContent())
    pool = ThreadPool(name="wsgi-e2e")
    pool.start()
    reactor.addSystemEventTrigger("after", "shutdown", pool.stop)  # type: ignore[attr-defined]
    root = buildResources(reactor, pool, filePath)
    plain = server.Site(root)
    streaming = server.Site(root)
    streaming.locateBeforeBody = True
    ports = [
        reactor.listenTCP(0, site, interface=_servers.LOOPBACK)  # type: ignore[attr-defined]
        for site in (plain, streaming)
    ]
    sys.stdout.write(
        "PORT " + " ".join(str(port.getHost().port) for port in ports) + "\n"
    )
    sys.stdout.flush()
    reactor.run()  # type: ignore[attr-defined]
    sys.stderr.write(f"THREADS {threading.active_count()}\n")
    sys.stderr.flush()
    return 0


class WSGIServer(_servers.Server):
    """
    The running WSGI server.

    @ivar streamingPort: the port of its site with C{locateBeforeBody}.
    """

    streamingPort: int = 0


def startWSGIServer(outputDir: Path) -> WSGIServer:
    """
    Start the WSGI server and wait until it listens.

    @param outputDir: where to keep its log and the file it serves.
    @raise RuntimeError: it exited, or did not listen within
        L{_servers.START_DEADLINE}.
    """
    server, words = _servers.launch(__file__, outputDir, serverFactory=WSGIServer)
    server.port, server.streamingPort = (int(word) for word in words[1:3])
    return server


if __name__ == "__main__":
    sys.exit(main())
