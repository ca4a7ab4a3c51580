"""
Differential tests: the same raw requests sent to a C{twisted.web} server and to
a C{twisted_web_re} server, both serving the same echo L{http.Request} subclass
(the very same source text; only the C{http} module differs, see
C{tests/e2e/_servers.py}), must get the same answers, unless the difference is
one of L{KNOWN_DEVIATIONS}, each of which is explained in C{doc/deviations.md}.

A new, unexplained difference fails the test of its case; so does a listed
deviation that no longer shows (remove it from the table and the document), and
so does a change in what we answer for a listed case.

Each case is sent on its own connection; the answers are read until the server
closes the connection, or stays silent for L{IDLE} seconds after a complete
response, or sends nothing at all for L{DEADLINE} seconds (twisted.web waits
forever on some inputs: that counts as the answer L{_servers.TIMEOUT}).  Only
127.0.0.1 is ever a target.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import _servers
import pytest

REPO = Path(__file__).resolve().parent.parent.parent
DEVIATIONS_DOC = REPO / "doc" / "deviations.md"

#: Seconds to wait for the first byte of an answer.
DEADLINE = 2.0
#: Seconds of silence after a complete response that mean "kept open".
IDLE = 0.5
#: The two implementations compared, as C{_servers.py --impl} names them.
THEIRS = "twisted_web"
OURS = "twisted_web_re"

_HOST = b"Host: example.com"


def _request(line: bytes, *fields: bytes, body: bytes = b"") -> bytes:
    """A request: C{line}, the header C{fields}, CRLF line ends, C{body}."""
    return line + b"\r\n" + b"".join(f + b"\r\n" for f in fields) + b"\r\n" + body


def _post(*fields: bytes, body: bytes, version: bytes = b"HTTP/1.1") -> bytes:
    """A POST to C{/} with C{fields} (Host first for HTTP/1.1) and C{body}."""
    host = (_HOST,) if version == b"HTTP/1.1" else ()
    return _request(b"POST / " + version, *host, *fields, body=body)


_CHUNKED = b"Transfer-Encoding: chunked"

#: Raw requests, by case name.  Each is sent whole, in one C{sendall}.
CORPUS: dict[str, bytes] = {
    # -- ordinary requests
    "get": _request(b"GET / HTTP/1.1", _HOST),
    "get-query": _request(b"GET /a/b?x=1&y=%20z HTTP/1.1", _HOST, b"Accept: */*"),
    "head": _request(b"HEAD /h HTTP/1.1", _HOST),
    "post-length": _post(b"Content-Length: 11", body=b"hello world"),
    "post-empty": _post(b"Content-Length: 0", body=b""),
    "post-chunked": _post(_CHUNKED, body=b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
    "post-chunked-ext": _post(_CHUNKED, body=b"5;name=value\r\nhello\r\n0\r\n\r\n"),
    "post-chunked-trailer": _post(
        _CHUNKED, body=b"5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"
    ),
    "put": _request(
        b"PUT /thing HTTP/1.1",
        _HOST,
        b"Content-Type: text/plain",
        b"Content-Length: 3",
        body=b"abc",
    ),
    "get-with-body": _request(
        b"GET /b HTTP/1.1", _HOST, b"Content-Length: 4", body=b"data"
    ),
    "multi-value": _request(
        b"GET / HTTP/1.1", _HOST, b"Accept: a", b"accept: b", b"X-Space:   padded   "
    ),
    "unknown-method": _request(b"BREW /pot HTTP/1.1", _HOST),
    "options-star": _request(b"OPTIONS * HTTP/1.1", _HOST),
    "connect": _request(b"CONNECT example.com:443 HTTP/1.1", b"Host: example.com:443"),
    "absolute-form": _request(b"GET http://example.com/abs?q=1 HTTP/1.1", _HOST),
    "leading-crlf": b"\r\n" + _request(b"GET / HTTP/1.1", _HOST),
    "stream": _request(b"GET /stream?n=3&delay=1 HTTP/1.1", _HOST),
    "head-stream-then-get": _request(b"HEAD /stream?n=2&delay=1 HTTP/1.1", _HOST)
    + _request(b"GET /2 HTTP/1.1", _HOST),
    "absolute-form-no-path": _request(b"GET http://example.com HTTP/1.1", _HOST),
    "absolute-form-other-scheme": _request(b"GET https://example.com/ HTTP/1.1", _HOST),
    "absolute-form-userinfo": _request(b"GET http://u@example.com/ HTTP/1.1", _HOST),
    "absolute-form-ftp": _request(b"GET ftp://example.com/ HTTP/1.1", _HOST),
    "fragment": _request(b"GET /p#frag HTTP/1.1", _HOST),
    "obs-text-value": _request(b"GET / HTTP/1.1", _HOST, b"X: caf\xe9"),
    "host-with-port": _request(b"GET / HTTP/1.1", b"Host: example.com:8080"),
    "host-ipv6": _request(b"GET / HTTP/1.1", b"Host: [::1]:8080"),
    "host-empty": _request(b"GET / HTTP/1.1", b"Host:"),
    "version-1-9": _request(b"GET / HTTP/1.9", _HOST),
    # -- HTTP/1.0 and persistence
    "http10": _request(b"GET /old HTTP/1.0"),
    "http10-post": _post(b"Content-Length: 3", body=b"abc", version=b"HTTP/1.0"),
    "http10-keepalive": _request(
        b"GET /old HTTP/1.0", _HOST, b"Connection: keep-alive"
    ),
    "http10-stream": _request(b"GET /stream?n=3&delay=1 HTTP/1.0"),
    "http11-close": _request(b"GET / HTTP/1.1", _HOST, b"Connection: close"),
    "http11-keepalive": _request(b"GET / HTTP/1.1", _HOST, b"Connection: keep-alive"),
    "keepalive-and-close": _request(
        b"GET / HTTP/1.1", _HOST, b"Connection: keep-alive, close"
    ),
    "pipelined-http10-keepalive": _request(
        b"GET /1 HTTP/1.0", b"Connection: keep-alive"
    )
    + _request(b"GET /2 HTTP/1.0", b"Connection: keep-alive"),
    # -- pipelining
    "pipelined-gets": _request(b"GET /1 HTTP/1.1", _HOST)
    + _request(b"GET /2 HTTP/1.1", _HOST),
    "pipelined-post-get": _request(
        b"POST /1 HTTP/1.1", _HOST, b"Content-Length: 4", body=b"abcd"
    )
    + _request(b"GET /2 HTTP/1.1", _HOST),
    "pipelined-head-get": _request(b"HEAD /1 HTTP/1.1", _HOST)
    + _request(b"GET /2 HTTP/1.1", _HOST),
    "pipelined-close-first": _request(b"GET /1 HTTP/1.1", _HOST, b"Connection: close")
    + _request(b"GET /2 HTTP/1.1", _HOST),
    "pipelined-then-malformed": _request(b"GET /1 HTTP/1.1", _HOST)
    + b"GET /2 HTTP/1.1\r\nBad Header\r\n\r\n",
    # -- request smuggling: framing two parties could read two ways
    "cl-te": _post(b"Content-Length: 4", _CHUNKED, body=b"0\r\n\r\n"),
    "te-cl": _post(_CHUNKED, b"Content-Length: 4", body=b"0\r\n\r\n"),
    "duplicate-cl": _post(b"Content-Length: 3", b"Content-Length: 4", body=b"abcd"),
    "duplicate-cl-same": _post(
        b"Content-Length: 4", b"Content-Length: 4", body=b"abcd"
    ),
    "cl-list": _post(b"Content-Length: 4, 4", body=b"abcd"),
    "cl-plus": _post(b"Content-Length: +4", body=b"abcd"),
    "cl-hex": _post(b"Content-Length: 0x4", body=b"abcd"),
    "cl-negative": _post(b"Content-Length: -1", body=b""),
    "cl-empty": _post(b"Content-Length: ", body=b""),
    "cl-leading-zeros": _post(b"Content-Length: 004", body=b"abcd"),
    "cl-over-limit": _post(b"Content-Length: 999999999999999999", body=b"abcd"),
    "cl-20-digits": _post(b"Content-Length: 99999999999999999999", body=b"abcd"),
    "te-case": _post(b"Transfer-Encoding: Chunked", body=b"3\r\nabc\r\n0\r\n\r\n"),
    "te-empty": _post(b"Transfer-Encoding: ", body=b""),
    "te-gzip": _post(b"Transfer-Encoding: gzip", body=b"abcd"),
    "te-gzip-chunked": _post(b"Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"),
    "te-chunked-twice": _post(
        b"Transfer-Encoding: chunked, chunked", body=b"0\r\n\r\n"
    ),
    "te-http10": _post(_CHUNKED, body=b"0\r\n\r\n", version=b"HTTP/1.0"),
    "te-space-before-colon": _post(b"Transfer-Encoding : chunked", body=b"0\r\n\r\n"),
    "chunk-bad-size": _post(_CHUNKED, body=b"zz\r\nhello\r\n0\r\n\r\n"),
    "chunk-no-crlf": _post(_CHUNKED, body=b"5\r\nhelloXX0\r\n\r\n"),
    "chunk-bare-lf": _post(_CHUNKED, body=b"5\nhello\n0\n\n"),
    "chunk-size-overflow": _post(
        _CHUNKED, body=b"fffffffffffffffffffffff\r\nhello\r\n0\r\n\r\n"
    ),
    "chunk-space-after-size": _post(_CHUNKED, body=b"3 \r\nabc\r\n0\r\n\r\n"),
    "chunk-ext-quoted": _post(_CHUNKED, body=b'3;a="b c"\r\nabc\r\n0\r\n\r\n'),
    "chunk-leading-zeros": _post(_CHUNKED, body=b"0003\r\nabc\r\n0\r\n\r\n"),
    "trailer-malformed": _post(_CHUNKED, body=b"3\r\nabc\r\n0\r\nbad trailer\r\n\r\n"),
    # -- malformed heads
    "bare-lf": b"GET /lf HTTP/1.1\nHost: example.com\n\n",
    "obs-fold": _request(b"GET / HTTP/1.1", _HOST, b"X-Folded: a", b" b"),
    "space-before-colon": _request(b"GET / HTTP/1.1", _HOST, b"X-Bad : v"),
    "header-no-colon": _request(b"GET / HTTP/1.1", _HOST, b"NoColon"),
    "nul-in-value": _request(b"GET / HTTP/1.1", _HOST, b"X-Nul: a\x00b"),
    "del-in-value": _request(b"GET / HTTP/1.1", _HOST, b"X-Del: a\x7fb"),
    "bare-cr-in-value": _request(b"GET / HTTP/1.1", _HOST, b"X-CR: a\rb"),
    "bare-cr-line-end": b"GET / HTTP/1.1\rHost: example.com\r\n\r\n",
    "double-space": _request(b"GET  / HTTP/1.1", _HOST),
    "bad-method-char": _request(b"G(T / HTTP/1.1", _HOST),
    "non-ascii-target": _request(b"GET /\x80 HTTP/1.1", _HOST),
    "missing-host": _request(b"GET / HTTP/1.1"),
    "duplicate-host": _request(
        b"GET / HTTP/1.1", b"Host: a.example", b"Host: b.example"
    ),
    "invalid-host": _request(b"GET / HTTP/1.1", b"Host: a/b"),
    "version-2": _request(b"GET / HTTP/2.0", _HOST),
    "version-garbage": _request(b"GET / HTTP/x.y", _HOST),
    "no-version": b"GET /\r\n\r\n",
    "http09-line-only": b"GET /\r\n",
    "tls-handshake": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
    # -- limits
    "long-line-9k": _request(b"GET /" + b"a" * 9000 + b" HTTP/1.1", _HOST),
    "long-line-20k": _request(b"GET /" + b"a" * 20000 + b" HTTP/1.1", _HOST),
    "huge-head": _request(
        b"GET / HTTP/1.1", _HOST, *[b"X-H%d: %s" % (i, b"v" * 1000) for i in range(20)]
    ),
    "many-headers": _request(
        b"GET / HTTP/1.1", _HOST, *[b"X-H%d: v" % i for i in range(150)]
    ),
    # -- expectations
    "expect-continue": _post(
        b"Content-Length: 5", b"Expect: 100-continue", body=b"hello"
    ),
    "expect-continue-http10": _post(
        b"Content-Length: 5",
        b"Expect: 100-continue",
        body=b"hello",
        version=b"HTTP/1.0",
    ),
    "expect-unknown": _post(b"Content-Length: 5", b"Expect: teapot", body=b"hello"),
    "expect-continue-chunked": _post(
        _CHUNKED, b"Expect: 100-continue", body=b"3\r\nabc\r\n0\r\n\r\n"
    ),
    "expect-continue-empty": _post(
        b"Content-Length: 0", b"Expect: 100-continue", body=b""
    ),
    "expect-continue-case": _post(
        b"Content-Length: 1", b"Expect: 100-Continue", body=b"x"
    ),
}


@dataclass(frozen=True)
class Deviation:
    """
    A deliberate difference from twisted.web, explained in C{doc/deviations.md}
    under a heading naming its id.

    @ivar reason: why, in one line (the document has the whole story).
    @ivar cases: the cases it shows in, each with what we answer: the status
        codes in order then how the connection ended (see L{summary}); for the
        access log, our normalised log line.
    """

    reason: str
    cases: dict[str, str]


#: Every known difference, by id.  Mirrored in doc/deviations.md.
KNOWN_DEVIATIONS: dict[str, Deviation] = {
    "status-line-version": Deviation(
        "the status line always says HTTP/1.1, and a response to HTTP/1.0 that "
        "will close says Connection: close (RFC 9110 s2.5, RFC 9112 s9.3)",
        {
            "http10": "200 closed",
            "http10-post": "200 closed",
            "http10-stream": "200 closed",
            "expect-continue-http10": "200 closed",
        },
    ),
    "http10-keep-alive": Deviation(
        "an HTTP/1.0 request with Connection: keep-alive is kept alive "
        "(RFC 9112 s9.3, appendix C.2.2)",
        {"http10-keepalive": "200 open", "pipelined-http10-keepalive": "200 200 open"},
    ),
    "absolute-form-path": Deviation(
        "request.path of an absolute-form target is its path, not the whole URI "
        "(RFC 9112 s3.2.2)",
        {"absolute-form": "200 open", "absolute-form-no-path": "200 open"},
    ),
    "absolute-form-host": Deviation(
        "an absolute-form target's authority replaces Host; one not http(s) or "
        "with a bad authority earns 400, one of another scheme than the "
        "connection's 421 (RFC 9112 s3.2.2, RFC 9110 s4.2.4, s7.4)",
        {
            "absolute-form-other-scheme": "421 closed",
            "absolute-form-userinfo": "400 closed",
            "absolute-form-ftp": "400 closed",
        },
    ),
    "te-in-http10": Deviation(
        "Transfer-Encoding in an HTTP/1.0 request is rejected with 400 (RFC 9112 s6.1)",
        {"te-http10": "400 closed"},
    ),
    "unknown-transfer-coding": Deviation(
        "a transfer coding other than chunked earns 501, not 400 (RFC 9112 s6.1)",
        {"te-gzip-chunked": "501 closed"},
    ),
    "chunked-framing-strict": Deviation(
        "a bare LF or an overflowing size in chunked framing earns 400 at once; "
        "twisted.web waits for more (RFC 9112 s7.1)",
        {"chunk-bare-lf": "400 closed", "chunk-size-overflow": "400 closed"},
    ),
    "bare-lf-head": Deviation(
        "a request head whose lines end in a bare LF is answered; twisted.web "
        "waits for CRLF forever (RFC 9112 s2.2)",
        {"bare-lf": "200 open"},
    ),
    "obs-fold": Deviation(
        "a folded header line earns 400 instead of being unfolded (RFC 9112 s5.2)",
        {"obs-fold": "400 closed"},
    ),
    "host-required": Deviation(
        "an HTTP/1.1 request without exactly one valid Host earns 400 (RFC 9112 s3.2)",
        {
            "missing-host": "400 closed",
            "duplicate-host": "400 closed",
            "invalid-host": "400 closed",
        },
    ),
    "version-505": Deviation(
        "a major version other than 1 earns 505, not 400 (RFC 9110 s15.6.6)",
        {"version-2": "505 closed"},
    ),
    "early-garbage-rejection": Deviation(
        "bytes that cannot begin a request line earn 400 at once; twisted.web "
        "waits for a line end (RFC 9112 s3)",
        {"tls-handshake": "400 closed"},
    ),
    "request-line-limit": Deviation(
        "a request line over 8 KiB earns 414; twisted.web allows 16 KiB per "
        "line, then closes without a response (RFC 9112 s3, RFC 9110 s15.5.15)",
        {"long-line-9k": "414 closed", "long-line-20k": "414 closed"},
    ),
    "head-size-431": Deviation(
        "a head over 16 KiB or with over 100 fields earns 431; twisted.web "
        "answers 400, or allows 500 fields (RFC 6585 s5)",
        {"huge-head": "431 closed", "many-headers": "431 closed"},
    ),
    "higher-minor-version": Deviation(
        "HTTP/1.9 is served as HTTP/1.1, not refused (RFC 9110 s2.5)",
        {"version-1-9": "200 open"},
    ),
    "invalid-target-bytes": Deviation(
        "a request-target with bytes outside printable ASCII earns 400 "
        "(RFC 9112 s3, s3.2)",
        {"non-ascii-target": "400 closed"},
    ),
    "ctl-in-field-value": Deviation(
        "a field value with DEL or another control byte but HTAB earns 400 "
        "(RFC 9110 s5.5)",
        {"del-in-value": "400 closed"},
    ),
    "trailer-syntax": Deviation(
        "a malformed trailer line earns 400 (RFC 9112 s7.1.2)",
        {"trailer-malformed": "400 closed"},
    ),
    "body-size-limit": Deviation(
        "a declared Content-Length over maxBodySize earns 413 from the head "
        "alone, however many digits it has; twisted.web waits for the body "
        "(RFC 9110 s8.6, s15.5.14)",
        {"cl-over-limit": "413 closed", "cl-20-digits": "413 closed"},
    ),
    "no-continue-without-body": Deviation(
        "no 100 Continue for a request whose framing says it has no body "
        "(RFC 9110 s10.1.1)",
        {"expect-continue-empty": "200 open"},
    ),
    "expect-417": Deviation(
        "an expectation other than 100-continue earns 417 (RFC 9110 s10.1.1)",
        {"expect-unknown": "417 closed"},
    ),
    "access-log-format": Deviation(
        "the client address is not quoted, and unsafe bytes are escaped as "
        "\\xHH (Apache's Combined Log Format)",
        {
            "access-log": '127.0.0.1 - - [TIME] "GET /logged?x=1 HTTP/1.1" 200 - '
            '"http://ref.example/" "probe/1.0 \\x22q\\x22"'
        },
    ),
}

#: Differences the comparison normalises away, explained in doc/deviations.md
#: too: they are real, but not worth a case-by-case entry.
NORMALISED: dict[str, str] = {
    "error-response-body": "our error responses carry Content-Type, "
    "Content-Length, Connection: close and a short text body; twisted.web's "
    "are a bare status line; only the status line of a 4xx/5xx is compared",
    "header-order": "response header fields are compared sorted by name",
    "date-server": "Date and Server are dropped",
}

_DROPPED = frozenset({b"date", b"server"})


@dataclass(frozen=True)
class Answer:
    """
    A normalised answer: what is compared.

    @ivar responses: per response, its status line, its header fields (names
        lower-cased, sorted, Date and Server dropped) and its body; a 4xx/5xx
        is its status line alone.
    @ivar end: how the connection ended (see L{_servers.Exchange}).
    @ivar statuses: the status codes, for L{summary}.
    """

    responses: tuple[tuple[object, ...], ...]
    end: str
    statuses: tuple[int, ...]

    def summary(self) -> str:
        """The status codes in order, then how the connection ended."""
        return " ".join([*(str(s) for s in self.statuses), self.end])


def normalise(exchange: _servers.Exchange) -> Answer:
    """Reduce an exchange to what must match between the implementations."""
    responses: list[tuple[object, ...]] = []
    for response in exchange.responses:
        if response.status >= 400:
            responses.append((response.statusLine,))
            continue
        headers = sorted(
            ((n, v) for n, v in response.headers if n not in _DROPPED),
            key=lambda field: field[0],
        )
        responses.append((response.statusLine, tuple(headers), response.body))
    return Answer(
        tuple(responses), exchange.end, tuple(r.status for r in exchange.responses)
    )


def _send(port: int, data: bytes) -> Answer:
    """Send C{data} on a fresh connection to C{port} and read the answers."""
    with socket.create_connection((_servers.LOOPBACK, port), timeout=DEADLINE) as s:
        try:
            s.sendall(data)
        except OSError as e:
            return Answer((), f"send failed: {type(e).__name__}", ())
        exchange = _servers.readResponses(
            s, _servers.requestMethods(data), deadline=DEADLINE, idle=IDLE
        )
    return normalise(exchange)


_LOG_TIME = re.compile(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]")
_LOGGED_REQUEST = (
    b"GET /logged?x=1 HTTP/1.1\r\nHost: example.com\r\n"
    b'Referer: http://ref.example/\r\nUser-Agent: probe/1.0 "q"\r\n\r\n'
)


def _accessLogLine(port: int, logPath: Path) -> str:
    """
    Make one request, then return the access-log line it earned, with its
    timestamp replaced by C{[TIME]} and its length by C{-}.
    """
    with socket.create_connection((_servers.LOOPBACK, port), timeout=DEADLINE) as s:
        s.sendall(_LOGGED_REQUEST)
        _servers.readResponses(s, count=1, deadline=DEADLINE)
    deadline = time.monotonic() + 5.0
    text = ""
    while time.monotonic() < deadline:
        text = logPath.read_text("latin-1") if logPath.exists() else ""
        if "/logged" in text:
            break
        time.sleep(0.05)
    lines = [line for line in text.splitlines() if "/logged" in line]
    if not lines:
        return "<no access-log line>"
    line = _LOG_TIME.sub("[TIME]", lines[-1])
    return re.sub(r'" 200 \d+ "', '" 200 - "', line)


@dataclass
class Results:
    """Both implementations' answers to every case, and their log lines."""

    ours: dict[str, Answer | str]
    theirs: dict[str, Answer | str]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Results]:
    """
    Start both servers, send every case to each (in parallel, every case on
    its own connection), and collect the normalised answers.
    """
    directory = tmp_path_factory.mktemp("differential")
    servers: dict[str, _servers.Server] = {}
    try:
        for impl in (THEIRS, OURS):
            servers[impl] = _servers.startServer(
                directory, "--impl", impl, "--log", str(directory / f"{impl}.log")
            )
        with ThreadPoolExecutor(max_workers=32) as pool:
            futures = {
                (impl, name): pool.submit(_send, servers[impl].port, data)
                for name, data in CORPUS.items()
                for impl in servers
            }
            logs = {
                impl: pool.submit(
                    _accessLogLine, servers[impl].port, directory / f"{impl}.log"
                )
                for impl in servers
            }
            collected: dict[str, dict[str, Answer | str]] = {OURS: {}, THEIRS: {}}
            for (impl, name), future in futures.items():
                collected[impl][name] = future.result(timeout=30)
            for impl, future in logs.items():
                collected[impl]["access-log"] = future.result(timeout=30)
        yield Results(collected[OURS], collected[THEIRS])
    finally:
        for server in servers.values():
            _servers.stopServer(server)


def _deviationOf(case: str) -> tuple[str, Deviation] | None:
    """The known deviation listing C{case}, if any."""
    for ident, deviation in KNOWN_DEVIATIONS.items():
        if case in deviation.cases:
            return ident, deviation
    return None


def _show(answer: Answer | str) -> str:
    if isinstance(answer, str):
        return answer
    return f"{answer.summary()}\n  " + "\n  ".join(repr(r) for r in answer.responses)


@pytest.mark.parametrize("case", [*sorted(CORPUS), "access-log"])
def test_sameAsTwistedWeb(case: str, results: Results) -> None:
    """
    Our server answers C{case} exactly as twisted.web does (once Date, Server,
    header order and error bodies are set aside), or as the one known
    deviation listing the case says.
    """
    ours, theirs = results.ours[case], results.theirs[case]
    known = _deviationOf(case)
    if known is None:
        assert ours == theirs, (
            f"unexplained difference from twisted.web for {case!r}:\n"
            f"ours:   {_show(ours)}\ntheirs: {_show(theirs)}\n"
            "Fix it, or add it to KNOWN_DEVIATIONS and doc/deviations.md."
        )
        return
    ident, deviation = known
    assert ours != theirs, (
        f"{case!r} is listed under deviation {ident!r} but we now answer as "
        f"twisted.web does ({_show(ours)}): remove it from KNOWN_DEVIATIONS"
    )
    summary = ours if isinstance(ours, str) else ours.summary()
    assert summary == deviation.cases[case], (
        f"deviation {ident!r} ({deviation.reason}) says we answer {case!r} with "
        f"{deviation.cases[case]!r}; we answered:\n{_show(ours)}\n"
        f"twisted.web answered:\n{_show(theirs)}"
    )


def test_deviationsDocumented() -> None:
    """
    Every known deviation and every normalisation has a section in
    C{doc/deviations.md} naming its id.
    """
    text = DEVIATIONS_DOC.read_text(encoding="utf-8")
    missing = [i for i in [*KNOWN_DEVIATIONS, *NORMALISED] if f"`{i}`" not in text]
    assert missing == []


def test_documentHasNoStaleSections() -> None:
    """
    Every deviation section of C{doc/deviations.md} (a heading naming an id)
    is in L{KNOWN_DEVIATIONS} or L{NORMALISED}, so the document does not keep
    explaining a difference that is gone.
    """
    text = DEVIATIONS_DOC.read_text(encoding="utf-8")
    headings = re.findall(r"(?m)^###\s+`([^`]+)`", text)
    assert headings
    assert sorted(set(headings) - {*KNOWN_DEVIATIONS, *NORMALISED}) == []


def test_deviationsNameRealCases() -> None:
    """
    Every case a deviation lists is in the corpus, and is listed only once.
    """
    listed = [case for d in KNOWN_DEVIATIONS.values() for case in d.cases]
    assert sorted(set(listed) - {*CORPUS, "access-log"}) == []
    assert len(listed) == len(set(listed))
