"""
Tests for the access log: the Combined Log Format lines, where they go (a
file or the Twisted log), and which client address they name behind proxies.
"""

from __future__ import annotations

import datetime
import io
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from _httpparse import Server
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock
from twisted.logger import (
    LogLevel,
    LogPublisher,
    globalLogPublisher,
    textFileLogObserver,
)
from twisted.python.failure import Failure

from twisted_web_re import http
from twisted_web_re._protocols.accesslogwriter import AccessLogWriter
from twisted_web_re.resource import Resource
from twisted_web_re.server import Site

HOST = b"Host: example.com\r\n"

# The request the line format is checked with, and the line it earns.
GET_FULL = (
    b"GET /path HTTP/1.1\r\n" + HOST + b"Referer: http://example.com/from\r\n"
    b"User-Agent: Agent/1.0 (test)\r\n\r\n"
)
TIMESTAMP = "[21/Nov/2026:10:17:00 +0000]"
FULL_LINE = (
    '127.0.0.1 - - [21/Nov/2026:10:17:00 +0000] "GET /path HTTP/1.1" 200 13 '
    '"http://example.com/from" "Agent/1.0 (test)"'
)
# Access-log lines are written in batches, shortly after the request finishes;
# the tests let this much (test clock) time pass for that.
LOG_WAIT = 1.0

GET_BARE = b"GET /bare HTTP/1.0\r\n\r\n"
GET_QUOTE = b'GET /a"b\\c HTTP/1.1\r\n' + HOST + b'User-Agent: evil" "x\t\xff\r\n\r\n'

# A Combined Log Format line, loosely: host, two dashes, timestamp, request,
# status, size, referer, agent.
LINE = re.compile(
    r"(?P<host>\S+) - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "
    r'"(?P<request>[^"]*)" (?P<status>\d{3}) (?P<size>\d+|-) '
    r'"(?P<referer>[^"]*)" "(?P<agent>[^"]*)"'
)


def hello(request: http.Request) -> None:
    """Answer with a 13-byte body."""
    request.write(b"Hello, world!")
    request.finish()


def served(raw: bytes, **factoryArgs: Any) -> tuple[Server, http.Request]:
    """Serve C{raw} (one request) and return the server and the request."""
    server = Server(hello, **factoryArgs)
    server.feed(raw)
    [request] = server.processed
    return server, request


class _Events:
    """Collects Twisted log events that carry access-log lines."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> None:
        if "log_access" in event:
            self.events.append(event)


@pytest.fixture
def accessEvents() -> Any:
    """The access-log events published to the Twisted log during the test."""
    observer = _Events()
    globalLogPublisher.addObserver(observer)
    yield observer.events
    globalLogPublisher.removeObserver(observer)


# -- the line format -----------------------------------------------------------------


def test_combinedLineFormat() -> None:
    """
    C{combinedLogFormatter} makes a Combined Log Format line: client address,
    timestamp, request line, status, body size, referer and user agent.
    """
    _, request = served(GET_FULL)
    assert http.combinedLogFormatter(TIMESTAMP, request) == FULL_LINE


def test_absentFieldsAreDashes() -> None:
    """
    A request without referer or user agent, answered with no body, logs "-"
    for each of them.
    """

    def empty(request: http.Request) -> None:
        request.setResponseCode(204)
        request.finish()

    server = Server(empty)
    server.feed(GET_BARE)
    [request] = server.processed
    assert http.combinedLogFormatter(TIMESTAMP, request) == (
        '127.0.0.1 - - [21/Nov/2026:10:17:00 +0000] "GET /bare HTTP/1.0" 204 - "-" "-"'
    )


def test_quotesAndControlBytesEscaped() -> None:
    """
    Quotes, backslashes, control bytes and non-ASCII bytes the client sent in
    the target or user agent are escaped, so a line always has exactly its six
    field quotes and no raw control characters.
    """
    _, request = served(GET_QUOTE)
    line = http.combinedLogFormatter(TIMESTAMP, request)
    assert line.count('"') == 6
    assert "\t" not in line
    assert "\xff" not in line
    assert "/a\\x22b\\x5cc" in line
    assert "evil\\x22 \\x22x\\x09\\xff" in line
    assert LINE.fullmatch(line)


def test_controlBytesInUriEscaped() -> None:
    """
    An application-rewritten URI holding newlines or escape sequences cannot
    split the log line or colour a terminal.
    """
    _, request = served(GET_FULL)
    request.uri = b"/x\r\nFAKE LINE\x1b[31m\x7f"
    line = http.combinedLogFormatter(TIMESTAMP, request)
    assert "\n" not in line
    assert "\r" not in line
    assert "\x1b" not in line
    assert "\x7f" not in line
    assert "/x\\x0d\\x0aFAKE LINE\\x1b[31m\\x7f" in line


def test_logTimestampFormat() -> None:
    """
    C{datetimeToLogString} formats a time as a Common Log Format timestamp in
    UTC.
    """
    assert http.datetimeToLogString(1795256220) == TIMESTAMP
    assert re.fullmatch(
        r"\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000\]",
        http.datetimeToLogString(),
    )


# -- where lines go ------------------------------------------------------------------


def test_logFileWritten(tmp_path: Path) -> None:
    """
    With C{logPath}, each finished request's line is appended to that file
    shortly after the request finishes.
    """
    path = tmp_path / "access.log"
    server = Server(hello, logPath=str(path))
    server.factory.doStart()
    try:
        server.feed(GET_FULL + GET_FULL.replace(b"/path", b"/other"))
        server.clock.advance(LOG_WAIT)
        lines = path.read_text().splitlines()
    finally:
        server.factory.doStop()
    assert len(lines) == 2
    first, second = (LINE.fullmatch(line) for line in lines)
    assert first is not None
    assert second is not None
    assert first["request"] == "GET /path HTTP/1.1"
    assert second["request"] == "GET /other HTTP/1.1"
    assert first["host"] == "127.0.0.1"
    assert first["status"] == "200"
    assert first["size"] == "13"
    assert first["agent"] == "Agent/1.0 (test)"


def test_logFileFlushedOnStop(tmp_path: Path) -> None:
    """
    Lines still queued when the factory stops are written before the file is
    closed.
    """
    path = tmp_path / "access.log"
    server = Server(hello, logPath=str(path))
    server.factory.doStart()
    server.feed(GET_FULL)
    server.factory.doStop()
    assert len(path.read_text().splitlines()) == 1


def test_flushLogWritesAtOnce(tmp_path: Path) -> None:
    """
    C{flushLog} writes the queued lines without waiting for the reactor.
    """
    path = tmp_path / "access.log"
    server = Server(hello, logPath=str(path))
    server.factory.doStart()
    try:
        server.feed(GET_FULL)
        server.factory.flushLog()
        assert len(path.read_text().splitlines()) == 1
        server.clock.advance(LOG_WAIT)
        assert len(path.read_text().splitlines()) == 1
    finally:
        server.factory.doStop()


def test_logFileAppends(tmp_path: Path) -> None:
    """
    An existing log file is appended to, not replaced.
    """
    path = tmp_path / "access.log"
    path.write_text("earlier line\n")
    server = Server(hello, logPath=str(path))
    server.factory.doStart()
    try:
        server.feed(GET_FULL)
        server.clock.advance(LOG_WAIT)
    finally:
        server.factory.doStop()
    lines = path.read_text().splitlines()
    assert lines[0] == "earlier line"
    assert len(lines) == 2


def test_logFileNeverRotated(tmp_path: Path) -> None:
    """
    The access log is one file that grows, as with twisted.web: more than a
    megabyte of lines leaves no rotated C{access.log.1} beside it (rotation
    is for C{logrotate}, or an overridden C{_openLogFile}).
    """
    path = tmp_path / "access.log"
    path.write_text("x" * 999_000 + "\n")
    server = Server(hello, logPath=str(path))
    server.factory.doStart()
    try:
        for _ in range(3):
            server.feed(GET_FULL * 50)
            server.clock.advance(LOG_WAIT)
    finally:
        server.factory.doStop()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["access.log"]
    assert len(path.read_text().splitlines()) == 151


def test_openLogFileOverridden(tmp_path: Path) -> None:
    """
    A factory subclass that overrides C{_openLogFile} (twisted.web's hook)
    gets its own file object for the lines.
    """
    opened: list[str] = []
    got = io.StringIO()

    class Opening(http.HTTPFactory):
        def _openLogFile(self, path: str) -> io.StringIO:
            opened.append(path)
            return got

    path = str(tmp_path / "access.log")
    server = Server(hello, factoryClass=Opening, logPath=path)
    server.factory.doStart()
    server.feed(GET_FULL)
    server.clock.advance(LOG_WAIT)
    lines = got.getvalue().splitlines()
    server.factory.doStop()
    assert opened == [path]
    assert len(lines) == 1
    assert LINE.fullmatch(lines[0])
    assert not (tmp_path / "access.log").exists()


def test_defaultLogIsAnEventPerRequest(accessEvents: list[dict[str, Any]]) -> None:
    """
    Without C{logPath}, each request's line goes to the Twisted log, shortly
    afterwards, as an event of its own whose C{log_access} is the line and
    whose C{log_time} is when the request was logged.
    """
    server = Server(hello)
    before = time.time()
    server.feed(GET_FULL + GET_FULL.replace(b"/path", b"/other"))
    after = time.time()
    assert accessEvents == []
    server.clock.advance(LOG_WAIT)
    first, second = accessEvents
    assert LINE.fullmatch(first["log_access"])
    assert '"GET /other HTTP/1.1"' in second["log_access"]
    assert all(before <= e["log_time"] <= after for e in accessEvents)
    assert first["log_namespace"] == "twisted_web_re.http"
    server.feed(GET_FULL)
    server.clock.advance(LOG_WAIT)
    assert len(accessEvents) == 3


def test_customFormatter(accessEvents: list[dict[str, Any]]) -> None:
    """
    A C{logFormatter} given to the factory makes the lines.
    """

    def formatter(timestamp: str, request: Any) -> str:
        return f"custom {request.method.decode()} {request.code}"

    server = Server(hello, logFormatter=formatter)
    server.feed(GET_FULL)
    server.clock.advance(LOG_WAIT)
    [event] = accessEvents
    assert event["log_access"] == "custom GET 200"


def test_rejectedRequestNotLoggedAsServed(accessEvents: list[dict[str, Any]]) -> None:
    """
    A request rejected before it reached the application is not logged as a
    served request.
    """
    server = Server(hello)
    server.feed(b"GET / HTTP/1.1\r\n\r\n")
    server.clock.advance(LOG_WAIT)
    assert all('" 200 ' not in e["log_access"] for e in accessEvents)


# -- the client behind proxies ------------------------------------------------------


@pytest.mark.parametrize(
    ("trusted", "forwarded", "client"),
    [
        pytest.param(
            ["127.0.0.1"], [b"1.2.3.4, 5.6.7.8"], "5.6.7.8", id="rightmost-untrusted"
        ),
        pytest.param(
            ["127.0.0.0/8", "10.0.0.0/8"],
            [b"1.2.3.4, 10.1.1.1"],
            "1.2.3.4",
            id="cidr-skips-trusted-hops",
        ),
        pytest.param(
            ["127.0.0.1"], [b"1.2.3.4", b"5.6.7.8"], "5.6.7.8", id="several-fields"
        ),
        pytest.param(["127.0.0.1"], [b"2001:db8::1"], "2001:db8::1", id="ipv6-client"),
        pytest.param(["10.0.0.0/8"], [b"1.2.3.4"], "127.0.0.1", id="peer-not-trusted"),
        pytest.param([], [b"1.2.3.4"], "127.0.0.1", id="no-trusted-proxies"),
        pytest.param(["127.0.0.1"], [], "127.0.0.1", id="no-header"),
        pytest.param(
            ["127.0.0.1"], [b"1.2.3.4, not-an-address"], "127.0.0.1", id="garbage"
        ),
    ],
)
def test_proxiedFormatterClient(
    trusted: list[str], forwarded: list[bytes], client: str
) -> None:
    """
    C{proxiedLogFormatter} names the client from C{X-Forwarded-For} only when
    the connecting peer is a trusted proxy, and then the right-most address
    that is not itself trusted (addresses further left could be forged); a
    hop that is not an address is never logged.
    """
    fields = b"".join(b"X-Forwarded-For: " + value + b"\r\n" for value in forwarded)
    raw = b"GET / HTTP/1.1\r\n" + HOST + fields + b"\r\n"
    _, request = served(
        raw, trustedProxies=trusted, logFormatter=http.proxiedLogFormatter
    )
    line = http.proxiedLogFormatter(TIMESTAMP, request)
    assert line.split(" ", 1)[0] == client
    assert "not-an-address" not in line


def test_proxiedFormatterUsedByFactory(accessEvents: list[dict[str, Any]]) -> None:
    """
    A factory given C{proxiedLogFormatter} and trusted proxies logs the
    forwarded client.
    """
    server = Server(
        hello, trustedProxies=["127.0.0.1"], logFormatter=http.proxiedLogFormatter
    )
    server.feed(b"GET / HTTP/1.1\r\n" + HOST + b"X-Forwarded-For: 203.0.113.9\r\n\r\n")
    server.clock.advance(LOG_WAIT)
    [event] = accessEvents
    assert event["log_access"].startswith("203.0.113.9 - - [")


def test_combinedFormatterNamesForwardedClient() -> None:
    """
    C{combinedLogFormatter} names the client a trusted proxy forwarded for,
    as C{getClientAddress} does; without trusted proxies, the peer.
    """
    data = b"GET / HTTP/1.1\r\n" + HOST + b"X-Forwarded-For: 1.2.3.4\r\n\r\n"
    _, request = served(data, trustedProxies=["127.0.0.1"])
    assert http.combinedLogFormatter(TIMESTAMP, request).startswith("1.2.3.4 ")
    _, request = served(data)
    assert http.combinedLogFormatter(TIMESTAMP, request).startswith("127.0.0.1 ")


@pytest.mark.parametrize("proxy", ["not an address", "10.0.0.0/33", ""])
def test_invalidTrustedProxyRejected(proxy: str) -> None:
    """
    An invalid trusted proxy address or network raises C{ValueError}.
    """
    with pytest.raises(ValueError):
        http.HTTPFactory(trustedProxies=[proxy])


# -- every started response logged once --------------------------------------------


def _fileLines(path: Path) -> list[str]:
    """The lines of the access log at C{path} (none if it is not there yet)."""
    return path.read_text().splitlines() if path.exists() else []


def test_responseCutShortByClientLogged(tmp_path: Path) -> None:
    """
    A client that leaves while its response is being sent still earns one
    line, with the status and the body bytes sent before it left; the
    application finishing afterwards adds no second line.
    """
    path = tmp_path / "access.log"
    server = Server(logPath=str(path))
    server.handler = server.later
    server.factory.doStart()
    try:
        server.feed(GET_FULL)
        [request] = server.pending
        request.setResponseCode(206)
        request.setHeader(b"Content-Length", b"100")
        request.write(b"x" * 40)
        server.channel.connectionLost(Failure(ConnectionDone()))
        request.write(b"y" * 60)
        with pytest.raises(RuntimeError):
            request.finish()
        server.clock.advance(LOG_WAIT)
        [line] = _fileLines(path)
    finally:
        server.factory.doStop()
    match = LINE.fullmatch(line)
    assert match is not None
    assert (match["request"], match["status"], match["size"]) == (
        "GET /path HTTP/1.1",
        "206",
        "40",
    )
    assert len(_fileLines(path)) == 1


def test_clientLeavingBeforeResponseNotLogged(tmp_path: Path) -> None:
    """
    A request whose client left before any of its response was started is
    not logged: nothing was served.
    """
    path = tmp_path / "access.log"
    server = Server(logPath=str(path))
    server.handler = server.later
    server.factory.doStart()
    try:
        server.feed(GET_FULL)
        server.channel.connectionLost(Failure(ConnectionDone()))
        server.clock.advance(LOG_WAIT)
    finally:
        server.factory.doStop()
    assert _fileLines(path) == []


def test_finishedAfterStopWrittenAtOnce(tmp_path: Path) -> None:
    """
    A request that finishes after the factory stopped (during a shutdown's
    grace period) is written to the log file at once: the reactor may never
    run a later flush.
    """
    path = tmp_path / "access.log"
    server = Server(logPath=str(path))
    server.handler = server.later
    server.factory.doStart()
    server.feed(GET_FULL)
    [request] = server.pending
    server.factory.doStop()
    assert _fileLines(path) == []
    hello(request)
    [line] = _fileLines(path)
    assert '"GET /path HTTP/1.1" 200 13 ' in line


def test_abandonedAfterStopWrittenAtOnce(tmp_path: Path) -> None:
    """
    A response cut short when the connections are dropped at the end of a
    shutdown is logged at once, too.
    """
    path = tmp_path / "access.log"
    server = Server(logPath=str(path))
    server.handler = server.later
    server.factory.doStart()
    server.feed(GET_FULL)
    [request] = server.pending
    request.write(b"partial")
    server.factory.doStop()
    server.channel.connectionLost(Failure(ConnectionDone()))
    [line] = _fileLines(path)
    assert '"GET /path HTTP/1.1" 200 7 ' in line


def test_twistedLogFinishedAfterStopAtOnce(
    accessEvents: list[dict[str, Any]],
) -> None:
    """
    Without a log file, a request finishing after the factory stopped reaches
    the Twisted log at once.
    """
    server = Server()
    server.handler = server.later
    server.factory.doStart()
    server.feed(GET_FULL)
    [request] = server.pending
    server.factory.doStop()
    hello(request)
    [event] = accessEvents
    assert '"GET /path HTTP/1.1" 200 13 ' in event["log_access"]


# -- the JSON format -------------------------------------------------------------------

JSON_FIELDS = {
    "time",
    "client",
    "method",
    "target",
    "protocol",
    "status",
    "bytes",
    "duration",
    "referer",
    "user_agent",
    "host",
}


def test_jsonLineFields() -> None:
    """
    C{jsonLogFormatter} makes one JSON object holding the time (ISO 8601 UTC,
    to the millisecond), client, method, target, protocol, status, body
    bytes, duration, referer, user agent and host of the request.
    """
    _, request = served(GET_FULL)
    before = time.time()
    line = http.jsonLogFormatter(TIMESTAMP, request)
    entry = json.loads(line)
    assert set(entry) == JSON_FIELDS
    assert entry["client"] == "127.0.0.1"
    assert (entry["method"], entry["target"], entry["protocol"]) == (
        "GET",
        "/path",
        "HTTP/1.1",
    )
    assert (entry["status"], entry["bytes"]) == (200, 13)
    assert entry["referer"] == "http://example.com/from"
    assert entry["user_agent"] == "Agent/1.0 (test)"
    assert entry["host"] == "example.com"
    assert 0 <= entry["duration"] < 5
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    stamp = datetime.datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    logged = stamp.replace(tzinfo=datetime.timezone.utc).timestamp()
    assert before - 1 <= logged <= time.time()


def test_jsonAbsentFieldsAreNull() -> None:
    """
    A request without referer, user agent or host logs them as C{null}, and
    a response with no body as 0 bytes.
    """

    def empty(request: http.Request) -> None:
        request.setResponseCode(204)
        request.finish()

    server = Server(empty)
    server.feed(GET_BARE)
    [request] = server.processed
    entry = json.loads(http.jsonLogFormatter(TIMESTAMP, request))
    assert (entry["referer"], entry["user_agent"], entry["host"]) == (None,) * 3
    assert (entry["status"], entry["bytes"], entry["protocol"]) == (
        204,
        0,
        "HTTP/1.0",
    )


def _assertOneSafeLine(line: str) -> dict[str, Any]:
    """
    Check that C{line} is one line of printable ASCII holding one JSON object
    with exactly the access-log fields, and return that object.
    """
    assert line.isascii()
    assert all(" " <= c <= "~" for c in line), repr(line)
    entry = json.loads(line)
    assert isinstance(entry, dict)
    assert set(entry) == JSON_FIELDS
    return entry


def test_jsonEscapesForgingBytes() -> None:
    """
    Quotes, backslashes, line breaks, control characters, DEL, non-ASCII
    text and bytes that are not UTF-8, in the target and any header, cannot
    end a field or a line: the line stays one JSON object, and each field
    reads back as what was sent (UTF-8 as its text, other bytes as C{\\xNN}).
    """
    _, request = served(
        b'GET /a"b\\c HTTP/1.1\r\nHost: example.com\r\n'
        b"User-Agent: caf\xc3\xa9\tx\r\nReferer: \xc3\r\n\r\n"
    )
    entry = _assertOneSafeLine(http.jsonLogFormatter(TIMESTAMP, request))
    assert entry["target"] == '/a"b\\c'
    assert entry["user_agent"] == "caf\u00e9\tx"
    assert entry["referer"] == "\\xc3"
    # What the parser refuses on the wire, an application may still set.
    agent = b'evil"}\n{"status":200,\\\r\x00\x1b[31m\x7f\xe2\x80\xa8 \xff\xfe'
    request.requestHeaders._raw[b"user-agent"] = [agent]
    request.uri = b'/x\r\n{"forged": 1}\n\xff'
    request.requestHeaders._raw[b"host"] = [b'h"\\\t\x01\xff']
    line = http.jsonLogFormatter(TIMESTAMP, request)
    entry = _assertOneSafeLine(line)
    assert entry["user_agent"] == agent.decode("utf-8", "backslashreplace")
    assert entry["user_agent"].endswith("\u2028 \\xff\\xfe")
    assert entry["target"] == '/x\r\n{"forged": 1}\n\\xff'
    assert entry["host"] == 'h"\\\t\x01\\xff'
    assert entry["status"] == 200


@given(
    target=st.binary(max_size=40),
    agent=st.binary(max_size=40),
    referer=st.binary(max_size=40),
    host=st.binary(max_size=40),
)
def test_jsonNoRequestBreaksALine(
    target: bytes, agent: bytes, referer: bytes, host: bytes
) -> None:
    """
    Whatever bytes a request's target and header fields hold, its JSON line
    is one line of printable ASCII, one object with exactly the access-log
    fields, each reading back as what the request held.
    """
    _, request = served(GET_FULL)
    request.uri = target
    headers = request.requestHeaders._raw
    headers[b"user-agent"] = [agent]
    headers[b"referer"] = [referer]
    headers[b"host"] = [host]
    entry = _assertOneSafeLine(http.jsonLogFormatter(TIMESTAMP, request))
    for field, value in (
        ("target", target),
        ("user_agent", agent),
        ("referer", referer),
        ("host", host),
    ):
        assert entry[field] == value.decode("utf-8", "backslashreplace")


def test_accessLogFormatChoosesFormatter(
    accessEvents: list[dict[str, Any]],
) -> None:
    """
    C{accessLogFormat="json"} makes a factory (and a site) log JSON lines;
    C{"combined"} the Combined Log Format.
    """
    server = Server(hello, accessLogFormat="json")
    server.feed(GET_FULL)
    server.clock.advance(LOG_WAIT)
    [event] = accessEvents
    assert json.loads(event["log_access"])["target"] == "/path"
    site = Site(Resource(), accessLogFormat="json")
    assert site._logFormatter is http.jsonLogFormatter
    factory = http.HTTPFactory(accessLogFormat="combined")
    assert factory._logFormatter is http.combinedLogFormatter


@pytest.mark.parametrize(
    "arguments",
    [
        {"accessLogFormat": "xml"},
        {"accessLogFormat": "json", "logFormatter": http.combinedLogFormatter},
    ],
    ids=["unknown", "both"],
)
def test_accessLogFormatChecked(arguments: dict[str, Any]) -> None:
    """
    An unknown C{accessLogFormat}, or one given with a C{logFormatter},
    raises C{ValueError}.
    """
    with pytest.raises(ValueError):
        http.HTTPFactory(**arguments)


# -- the twistd log --------------------------------------------------------------------


def _fileObserved() -> tuple[LogPublisher, io.StringIO, Any]:
    """A publisher whose one observer is twistd's kind, writing to a string."""
    out = io.StringIO()
    observer = textFileLogObserver(out)
    publisher = LogPublisher(observer)
    return publisher, out, observer


def test_twistdLogLinesWrittenWithOwnTime() -> None:
    """
    When the Twisted log's one observer is twistd's file observer, a batch of
    lines is written to its file directly, each exactly as the observer
    would write an event of its own with that line and time.
    """
    publisher, out, observer = _fileObserved()
    clock = MemoryReactorClock()
    writer = AccessLogWriter(None, clock, publisher)
    times = [1795256220.1, 1795256220.9, 1795256222.5]
    for when, line in zip(times, ["first", "second", "third"], strict=True):
        writer.add(when, line)
    assert out.getvalue() == ""
    clock.advance(LOG_WAIT)
    expected = "".join(
        observer.formatEvent(
            {
                "log_format": "{log_access}",
                "log_access": line,
                "log_time": when,
                "log_level": LogLevel.info,
                "log_namespace": "twisted_web_re.http",
            }
        )
        for when, line in zip(times, ["first", "second", "third"], strict=True)
    )
    assert out.getvalue() == expected
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert all(" [twisted_web_re.http#info] " in line for line in lines)
    assert lines[0][:19] != lines[2][:19]


def test_twistdLogSubSecondTimestamps() -> None:
    """
    An observer whose timestamps are finer than a second gets each line's
    own, not its second's.
    """
    out = io.StringIO()
    observer = textFileLogObserver(out, timeFormat="%H:%M:%S.%f")
    writer = AccessLogWriter(None, MemoryReactorClock(), LogPublisher(observer))
    writer.add(1795256220.25, "a")
    writer.add(1795256220.75, "b")
    writer.flush()
    first, second = out.getvalue().splitlines()
    assert first.split(" ")[0].endswith(".250000")
    assert second.split(" ")[0].endswith(".750000")


def test_multilineCustomLineLikeAnEvent() -> None:
    """
    A custom formatter's line holding a line break is written as the
    observer writes such an event (continuation lines indented).
    """
    publisher, out, _ = _fileObserved()
    writer = AccessLogWriter(None, MemoryReactorClock(), publisher)
    writer.add(1795256220.0, "one\ntwo")
    writer.flush()
    assert out.getvalue().endswith(" one\n\ttwo\n")


def test_otherObserversGetAnEventPerLine() -> None:
    """
    With observers other than a single file observer, each line is published
    as an event of its own, with its own time.
    """
    events: list[dict[str, Any]] = []
    publisher = LogPublisher(events.append, lambda event: None)
    writer = AccessLogWriter(None, MemoryReactorClock(), publisher)
    writer.add(1.5, "first")
    writer.add(2.5, "second")
    writer.flush()
    assert [(e["log_time"], e["log_access"]) for e in events] == [
        (1.5, "first"),
        (2.5, "second"),
    ]
