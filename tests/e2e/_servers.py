"""
Test servers for the end-to-end tests, each run in its own process.

One L{http.Request} subclass, built by the same source text for C{twisted.web}
and for C{twisted_web_re} (only the C{http} module differs), answers by path:

  - C{/stream?n=N&delay=MS}: N lines C{piece I}, each written separately
    (chunked for HTTP/1.1), MS milliseconds apart (default 3 lines, 10 ms);
  - C{/slow?ms=MS}: the echo below, sent MS milliseconds later (default 200),
    from a C{reactor.callLater};
  - anything else: an echo of the request as JSON: method, uri, path, version,
    every header field (names lower-cased, in arrival order), and the body's
    length, SHA-256 and (when under 64 KiB) text as Latin-1.  The echo always
    sets C{Content-Length}, so both implementations frame it alike.

Run::

    python tests/e2e/_servers.py [--impl twisted_web_re|twisted_web]
        [--max-body-size N] [--log PATH] [--timeout S] [--head-timeout S]
        [--refuse-prefix PATH] [--tls DIR]

C{--refuse-prefix} makes C{refuseBody} answer 403 to any request with a body
whose path starts with PATH (twisted_web_re only).  C{--tls} serves HTTPS, as
an C{ssl:} endpoint does, with C{cert.pem} and C{key.pem} from DIR.

It listens on 127.0.0.1 on a free port and, once listening, prints one line
C{PORT <port>} on standard output; its log goes to standard error.  It is also
importable: L{startServer} and L{stopServer} run it from a test, and
L{readResponses} reads what a server answered on a raw socket.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

REPO = Path(__file__).resolve().parent.parent.parent
LOOPBACK = "127.0.0.1"

#: Seconds a server may take to print its port, and to exit once killed.
START_DEADLINE = 15.0

#: Implementation name on the command line -> the package its C{http} is from.
IMPLS = {"twisted_web_re": "twisted_web_re", "twisted_web": "twisted.web"}

#: Request bodies up to this size are echoed in full.
ECHO_BODY_LIMIT = 64 * 1024


def buildFactory(
    impl: str,
    maxBodySize: int | None = None,
    logPath: str | None = None,
    timeout: float | None = None,
    refusePrefix: bytes | None = None,
    headTimeout: float | None = None,
) -> Any:
    """
    Build the test server's factory for one implementation.

    @param impl: a key of L{IMPLS}.
    @param maxBodySize: the body limit (only C{twisted_web_re} has one).
    @param logPath: the access-log file, or C{None} for the Twisted log.
    @param timeout: the idle timeout, or C{None} for the default.
    @param headTimeout: seconds a request head may take (only
        C{twisted_web_re} has it), or C{None} for the default.
    @param refusePrefix: request bodies sent to paths starting with this are
        refused with 403 by C{refuseBody} (only C{twisted_web_re} has it).
    @return: an C{HTTPFactory} ready for C{listenTCP}.
    """
    http: Any = importlib.import_module(IMPLS[impl] + ".http")
    from twisted.internet import reactor

    class EchoRequest(http.Request):
        def process(self) -> None:
            path = self.path
            if path == b"/stream":
                self._stream()
            elif path == b"/slow":
                delay = int(self.args.get(b"ms", [b"200"])[0]) / 1000
                call = reactor.callLater(delay, self._echo)
                self.notifyFinish().addErrback(lambda _: call.cancel())
            else:
                self._echo()

        def _echo(self) -> None:
            body = self.content.read() if self.content is not None else b""
            headers = [
                [name.decode("latin-1").lower(), value.decode("latin-1")]
                for name, values in self.requestHeaders.getAllRawHeaders()
                for value in values
            ]
            answer: dict[str, Any] = {
                "method": self.method.decode("latin-1"),
                "uri": self.uri.decode("latin-1"),
                "path": self.path.decode("latin-1"),
                "version": self.clientproto.decode("latin-1"),
                "headers": headers,
                "bodyLength": len(body),
                "bodySha256": hashlib.sha256(body).hexdigest(),
            }
            if len(body) <= ECHO_BODY_LIMIT:
                answer["body"] = body.decode("latin-1")
            data = json.dumps(answer, sort_keys=True).encode("ascii") + b"\n"
            self.setHeader(b"Content-Type", b"application/json")
            self.setHeader(b"Content-Length", b"%d" % len(data))
            self.write(data)
            self.finish()

        def _stream(self) -> None:
            count = int(self.args.get(b"n", [b"3"])[0])
            delay = int(self.args.get(b"delay", [b"10"])[0]) / 1000
            self.setHeader(b"Content-Type", b"text/plain")
            pending: list[Any] = []
            lost: list[bool] = []
            self.notifyFinish().addErrback(
                lambda _: [lost.append(True), *(c.cancel() for c in pending)]
            )

            def send(i: int) -> None:
                pending.clear()
                if lost:
                    return
                if i == count:
                    self.finish()
                    return
                self.write(b"piece %d\n" % i)
                pending.append(reactor.callLater(delay, send, i + 1))

            send(0)

    class EchoChannel(http.HTTPChannel):
        requestFactory = EchoRequest

    class EchoFactory(http.HTTPFactory):
        protocol = EchoChannel

        def refuseBody(self, request: Any, length: int | None) -> int | None:
            # Only twisted_web_re calls this hook (twisted.web has none).
            if refusePrefix is not None and request.path.startswith(refusePrefix):
                return 403
            return None

    kwargs: dict[str, Any] = {"logPath": logPath}
    if timeout is not None:
        kwargs["timeout"] = timeout
    if maxBodySize is not None:
        if impl != "twisted_web_re":
            raise ValueError(f"{impl} has no maxBodySize")
        kwargs["maxBodySize"] = maxBodySize
    if refusePrefix is not None and impl != "twisted_web_re":
        raise ValueError(f"{impl} has no refuseBody")
    if headTimeout is not None:
        if impl != "twisted_web_re":
            raise ValueError(f"{impl} has no headTimeout")
        kwargs["headTimeout"] = headTimeout
    return EchoFactory(**kwargs)


def main(argv: list[str] | None = None) -> int:
    """
    Serve until killed; print C{PORT <port>} once listening.
    """
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--impl", choices=sorted(IMPLS), default="twisted_web_re")
    parser.add_argument("--max-body-size", type=int, default=None)
    parser.add_argument("--log", default=None)
    parser.add_argument("--timeout", type=float, default=None)
    parser.add_argument("--head-timeout", type=float, default=None)
    parser.add_argument("--refuse-prefix", default=None)
    parser.add_argument("--tls", default=None)
    args = parser.parse_args(argv)

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    globalLogBeginner.beginLoggingTo(
        [textFileLogObserver(sys.stderr)], redirectStandardIO=False
    )
    refuse = args.refuse_prefix
    factory = buildFactory(
        args.impl,
        args.max_body_size,
        args.log,
        args.timeout,
        refuse.encode("ascii") if refuse is not None else None,
        args.head_timeout,
    )
    if args.tls is None:
        port = reactor.listenTCP(0, factory, interface=LOOPBACK)  # type: ignore[attr-defined]
    else:
        from twisted.internet.ssl import PrivateCertificate

        tls = Path(args.tls)
        certificate = PrivateCertificate.loadPEM(
            (tls / "cert.pem").read_text() + (tls / "key.pem").read_text()
        )
        port = reactor.listenSSL(  # type: ignore[attr-defined]
            0, factory, certificate.options(), interface=LOOPBACK
        )
    sys.stdout.write(f"PORT {port.getHost().port}\n")
    sys.stdout.flush()
    reactor.run()  # type: ignore[attr-defined]
    return 0


@dataclass
class Server:
    """
    A running test server.

    @ivar process: the server process.
    @ivar port: the port it listens on, on 127.0.0.1.
    @ivar output: the file its standard error (its log) goes to.
    """

    process: subprocess.Popen[bytes]
    port: int
    output: IO[bytes]

    def log(self) -> str:
        """The server's log so far (its last 8000 characters)."""
        self.output.flush()
        self.output.seek(0)
        return self.output.read().decode("utf-8", "replace")[-8000:]


_S = TypeVar("_S", bound="Server")


def launch(
    script: str,
    outputDir: Path,
    *arguments: str,
    serverFactory: Callable[[subprocess.Popen[bytes], int, IO[bytes]], _S] = Server,
) -> tuple[_S, list[bytes]]:
    """
    Run the test server C{script} with C{arguments} and wait for the line it
    prints once listening.

    @param outputDir: where to keep its log (its standard error).
    @param serverFactory: makes the L{Server} (or subclass) describing it.
    @return: the server (port not yet set) and the words of that line.
    @raise RuntimeError: it exited, or printed no line within
        L{START_DEADLINE}.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    )
    name = Path(script).stem.strip("_")
    output = open(outputDir / f"{name}-{time.monotonic_ns()}.log", "w+b")
    process = subprocess.Popen(
        [sys.executable, script, *arguments],
        cwd=outputDir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=output,
    )
    server = serverFactory(process, 0, output)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + START_DEADLINE
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or process.poll() is not None:
                raise RuntimeError(f"{name} did not start:\n{server.log()}")
            ready, _, _ = select.select([process.stdout], [], [], min(left, 0.5))
            if ready:
                piece = os.read(process.stdout.fileno(), 256)
                if not piece:
                    raise RuntimeError(f"{name} exited:\n{server.log()}")
                line += piece
    except BaseException:
        stopServer(server)
        raise
    return server, line.split()


def startServer(outputDir: Path, *arguments: str) -> Server:
    """
    Start the echo test server with C{arguments} and wait until it listens.

    @param outputDir: where to keep its log.
    @raise RuntimeError: it exited, or did not listen within L{START_DEADLINE}.
    """
    server, words = launch(__file__, outputDir, *arguments)
    server.port = int(words[1])
    return server


def stopServer(server: Server) -> None:
    """
    Kill a test server and wait for it (within L{START_DEADLINE}).
    """
    process = server.process
    if process.poll() is None:
        process.kill()
    try:
        process.wait(timeout=START_DEADLINE)
    finally:
        if process.stdout is not None:
            process.stdout.close()
        server.output.close()


def startWebRe(
    outputDir: Path,
    *arguments: str,
    listen: str | None = f"tcp:PORT:interface={LOOPBACK}",
) -> Server:
    """
    Start C{twistd -n web-re ARGUMENTS} on a free port of 127.0.0.1, and wait
    until it accepts connections.

    @param outputDir: its working directory, where its log is kept too.
    @param arguments: the options after C{web-re}; C{PORT} in any of them
        stands for the free port.
    @param listen: the C{--listen} description added before them (C{PORT}
        standing for the port), or C{None} when the arguments say where to
        listen themselves (C{--https=PORT}, say).
    @raise RuntimeError: it exited, or did not listen within
        L{START_DEADLINE}.
    """
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port = probe.getsockname()[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [env.get("PYTHONPATH")])]
    )
    output = open(outputDir / f"twistd-{time.monotonic_ns()}.log", "w+b")
    twistd = "import sys; from twisted.scripts.twistd import run; run()"
    runner = [sys.executable, "-c", twistd, "--nodaemon", "--pidfile=", "--logfile=-"]
    where = [] if listen is None else ["--listen", listen]
    process = subprocess.Popen(
        [
            *runner,
            "web-re",
            *(argument.replace("PORT", str(port)) for argument in [*where, *arguments]),
        ],
        cwd=outputDir,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    server = Server(process, port, output)
    deadline = time.monotonic() + START_DEADLINE
    while True:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1.0):
                return server
        except OSError as error:
            if process.poll() is not None or time.monotonic() > deadline:
                log = server.log()
                stopServer(server)
                raise RuntimeError(f"twistd web-re did not start:\n{log}") from error
            time.sleep(0.1)


# -- reading responses from a raw socket ---------------------------------------

#: What L{readResponses} reports when nothing arrived before the deadline.
TIMEOUT = "<no response: timeout>"

_REQUEST_LINE = re.compile(rb"(?m)^([A-Z]+) \S+ HTTP/1\.[0-9]\r?$")


def requestMethods(data: bytes) -> list[bytes]:
    """
    The methods of the request lines in C{data}, in order: how a reader knows
    which responses (those to HEAD) have no body.
    """
    return _REQUEST_LINE.findall(data)


@dataclass
class RawResponse:
    """
    One response read from a socket.

    @ivar status: the status code.
    @ivar statusLine: the status line, without its CRLF.
    @ivar headers: C{(name, value)} pairs in order, names lower-cased.
    @ivar body: the body, de-chunked.
    """

    status: int
    statusLine: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        """The last value of header C{name} (lower-case), or C{None}."""
        values = [v for n, v in self.headers if n == name]
        return values[-1] if values else None


@dataclass
class Exchange:
    """
    Everything a server sent on one connection.

    @ivar responses: the complete responses, in order (interim ones included).
    @ivar end: how the connection ended: C{"closed"} (EOF), C{"open"} (still
        open, silent, after the idle wait), C{"reset"}, L{TIMEOUT} (nothing
        at all arrived), or C{"incomplete: ..."} (EOF or silence in the middle
        of a response).
    @ivar raw: every byte received.
    """

    responses: list[RawResponse]
    end: str
    raw: bytes


class _Reader:
    """Reads from a socket into a buffer, within deadlines."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.raw = b""
        self.eof = False

    def more(self, deadline: float) -> bool:
        """Read once more; return whether anything arrived before C{deadline}."""
        if self.eof:
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            piece = self.sock.recv(262144)
        except TimeoutError:
            return False
        if not piece:
            self.eof = True
            return False
        self.buffer += piece
        self.raw += piece
        return True

    def until(self, marker: bytes, deadline: float) -> bytes | None:
        """Return the buffer up to and including C{marker}, consuming it."""
        while True:
            index = self.buffer.find(marker)
            if index >= 0:
                end = index + len(marker)
                data, self.buffer = self.buffer[:end], self.buffer[end:]
                return data
            if not self.more(deadline):
                return None

    def exactly(self, count: int, deadline: float) -> bytes | None:
        """Return the next C{count} bytes, consuming them."""
        while len(self.buffer) < count:
            if not self.more(deadline):
                return None
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data


def _readBody(reader: _Reader, response: RawResponse, deadline: float) -> bytes | None:
    """Read C{response}'s body as its framing says; C{None} if cut short."""
    coding = response.header(b"transfer-encoding")
    if coding is not None and coding.lower().endswith(b"chunked"):
        body = b""
        for _ in range(1_000_000):
            line = reader.until(b"\r\n", deadline)
            if line is None:
                return None
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:
                    trailer = reader.until(b"\r\n", deadline)
                    if trailer is None:
                        return None
                    if trailer == b"\r\n":
                        return body
            data = reader.exactly(size + 2, deadline)
            if data is None:
                return None
            body += data[:-2]
        return None
    length = response.header(b"content-length")
    if length is not None:
        return reader.exactly(int(length), deadline)
    while reader.more(deadline):
        pass
    if not reader.eof:
        return None
    body, reader.buffer = reader.buffer, b""
    return body


def readResponses(
    sock: socket.socket,
    methods: list[bytes] | None = None,
    deadline: float = 5.0,
    idle: float = 0.5,
    count: int | None = None,
) -> Exchange:
    """
    Read every response a server sends on C{sock}.

    @param methods: the methods of the requests sent, in order, so that the
        answers to C{HEAD} are read without a body.
    @param deadline: seconds to wait for the first byte, and for the rest of
        any response once begun.
    @param idle: seconds to wait, after a complete response, for another
        response or the end of the connection before calling it C{"open"}.
    @param count: stop as soon as this many final (non-1xx) responses are read,
        reporting C{"open"}.
    """
    reader = _Reader(sock)
    methods = list(methods or [])
    responses: list[RawResponse] = []
    finals = 0
    try:
        for _ in range(10_000):
            if count is not None and finals >= count:
                return Exchange(responses, "open", reader.raw)
            wait = deadline if not responses else idle
            if not reader.buffer and not reader.more(time.monotonic() + wait):
                if reader.eof:
                    return Exchange(responses, "closed", reader.raw)
                return Exchange(responses, "open" if responses else TIMEOUT, reader.raw)
            end = time.monotonic() + deadline
            head = reader.until(b"\r\n\r\n", end)
            if head is None:
                return Exchange(
                    responses, f"incomplete: head {reader.buffer[:200]!r}", reader.raw
                )
            lines = head[:-4].split(b"\r\n")
            parts = lines[0].split(b" ", 2)
            headers = []
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                headers.append((name.strip().lower(), value.strip()))
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
                return Exchange(responses, f"garbage: {lines[0]!r}", reader.raw)
            response = RawResponse(int(parts[1]), lines[0], headers, b"")
            responses.append(response)
            status = response.status
            if 100 <= status < 200:
                continue
            finals += 1
            method = methods.pop(0) if methods else b"GET"
            if method == b"HEAD" or status in (204, 304):
                continue
            body = _readBody(reader, response, end)
            if body is None:
                return Exchange(
                    responses, f"incomplete: body {reader.buffer[:200]!r}", reader.raw
                )
            response.body = body
    except ConnectionResetError:
        return Exchange(responses, "reset", reader.raw)
    return Exchange(responses, "too many responses", reader.raw)


if __name__ == "__main__":
    sys.exit(main())
