"""
Tests for the package's own Combined Log Format lines being made a batch at a
time, as they are written: the same lines as the formatter makes, the same
bounds on how long and how many wait, and none lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _httpparse import Server
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.logger import LogPublisher

from twisted_web_re import http
from twisted_web_re._protocols.accesslog import (
    combinedFields,
    combinedLines,
    logDate,
)
from twisted_web_re._protocols.accesslogwriter import (
    LOG_FLUSH_DELAY,
    LOG_FLUSH_LINES,
    AccessLogWriter,
)

GET = (
    b"GET /path HTTP/1.1\r\nHost: example.com\r\n"
    b"Referer: http://example.com/from\r\nUser-Agent: Agent/1.0 (test)\r\n\r\n"
)


def hello(request: http.Request) -> None:
    """Answer with a 13-byte body."""
    request.write(b"Hello, world!")
    request.finish()


_fields = st.fixed_dictionaries(
    {
        "method": st.sampled_from([b"GET", b"POST", b'G"T', b"\xffX"]),
        "uri": st.binary(max_size=12),
        "proto": st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2"]),
        "code": st.integers(100, 599),
        "length": st.integers(0, 10**9),
        "referer": st.none() | st.binary(max_size=8),
        "agent": st.none() | st.binary(max_size=8),
        "address": st.sampled_from(
            [
                IPv4Address("TCP", "10.0.0.7", 80),
                IPv6Address("TCP", "::1", 80),
                UNIXAddress(None),
                None,
            ]
        ),
        "when": st.floats(1e9, 2e9),
    }
)


_PLAIN = {
    "method": b"GET",
    "uri": b"/ok",
    "proto": b"HTTP/1.1",
    "code": 200,
    "length": 2,
    "referer": None,
    "agent": None,
    "address": None,
}


class _Fields:
    """Request header fields holding any bytes."""

    def __init__(self, raw: dict[bytes, list[bytes]]) -> None:
        self._raw = raw

    def lowered(self) -> dict[bytes, list[bytes]]:
        return self._raw


class _Request:
    """A finished request as the access log reads it."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.method = fields["method"]
        self.uri = fields["uri"]
        self.clientproto = fields["proto"]
        self.code = fields["code"]
        self.sentLength = fields["length"]
        # Any bytes at all, as an application may set after the head's checks.
        self.requestHeaders = _Fields(
            {
                name: [b"first", value]
                for name, value in (
                    (b"referer", fields["referer"]),
                    (b"user-agent", fields["agent"]),
                )
                if value is not None
            }
        )
        self._address = fields["address"]

    def getClientAddress(self) -> Any:
        return self._address


@settings(max_examples=300)
@given(st.lists(_fields, min_size=1, max_size=6))
def test_batchLinesAreTheFormattersLines(batch: list[dict[str, Any]]) -> None:
    """
    Whatever bytes the requests of a batch hold (quotes, backslashes,
    control and non-ASCII bytes, in some lines and not others), the lines
    written for them are exactly those C{combinedLogFormatter} makes of each
    request at its time.
    """
    requests = [(fields["when"], _Request(fields)) for fields in batch]
    expected = [
        http.combinedLogFormatter(logDate(when), request) for when, request in requests
    ]
    assert combinedLines([combinedFields(when, r) for when, r in requests]) == expected


def test_oddClientHostMadeAsTheFormatterMakesIt() -> None:
    """
    A client host that is not plain ASCII, or holds a quote, is written as
    the formatter writes it.
    """
    when = 1795256220.5
    for host in ["h\u00e9te", 'a"b', "a\nb"]:
        request = _Request({**_PLAIN, "address": IPv4Address("TCP", host, 1)})
        assert combinedLines([combinedFields(when, request)]) == [
            http.combinedLogFormatter(logDate(when), request)
        ]


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_waitsAtMostTheFlushDelay(tmp_path: Path) -> None:
    """
    A request's line is written no later than a quarter of a second after
    the request ends, and not before that while fewer than a thousand wait.
    """
    path = tmp_path / "access.log"
    server = Server(hello, logPath=str(path))
    server.factory.doStart()
    try:
        server.feed(GET)
        server.clock.advance(LOG_FLUSH_DELAY * 0.9)
        assert _lines(path) == []
        server.clock.advance(LOG_FLUSH_DELAY * 0.1)
        [line] = _lines(path)
        assert line.endswith(
            '"GET /path HTTP/1.1" 200 13 "http://example.com/from" "Agent/1.0 (test)"'
        )
    finally:
        server.factory.doStop()


def test_thousandLinesWrittenAtOnce(tmp_path: Path) -> None:
    """
    Once a thousand lines wait, they are written without waiting for the
    timer, so no more than that many are ever held.
    """
    path = tmp_path / "access.log"
    server = Server(hello, logPath=str(path))
    server.factory.doStart()
    try:
        for _ in range(LOG_FLUSH_LINES - 1):
            server.feed(GET)
        assert _lines(path) == []
        server.feed(GET)
        assert len(_lines(path)) == LOG_FLUSH_LINES
    finally:
        server.factory.doStop()


def test_badRequestLosesNoOtherLine() -> None:
    """
    A request whose fields cannot make a line (a status that is not a
    number, set by an application) is reported as an error, and the other
    lines of its batch are written all the same.
    """
    events: list[dict[str, Any]] = []
    writer = AccessLogWriter(
        None, None, LogPublisher(events.append), render=combinedLines
    )
    good = _Request(_PLAIN)
    bad = _Request({**_PLAIN, "uri": b"/bad", "code": "oops"})
    writer._pending = [
        combinedFields(1.0, good),
        combinedFields(2.0, bad),
        combinedFields(3.0, good),
    ]
    writer.flush()
    lines = [e["log_access"] for e in events if "log_access" in e]
    assert lines == [
        '- - - [01/Jan/1970:00:00:01 +0000] "GET /ok HTTP/1.1" 200 2 "-" "-"',
        '- - - [01/Jan/1970:00:00:03 +0000] "GET /ok HTTP/1.1" 200 2 "-" "-"',
    ]
    assert [e for e in events if e.get("log_failure")]


def test_stopWritesWaitingAndLaterLines(tmp_path: Path) -> None:
    """
    When the factory stops, the lines waiting are written, and a request
    ending after that is written at once, as the formatter makes it.
    """
    path = tmp_path / "access.log"
    server = Server(hello, logPath=str(path))
    server.factory.doStart()
    server.feed(GET)
    server.handler = server.later
    server.feed(GET.replace(b"/path", b"/late"))
    [late] = server.pending
    server.factory.doStop()
    assert len(_lines(path)) == 1
    hello(late)
    lines = _lines(path)
    assert len(lines) == 2
    assert lines[1].startswith("127.0.0.1 - - [")
    assert lines[1].endswith(
        '"GET /late HTTP/1.1" 200 13 "http://example.com/from" "Agent/1.0 (test)"'
    )


def test_batchOfOnlyABadLineWritesNothing(tmp_path: Path) -> None:
    """
    A batch whose one request cannot make a line adds nothing to the log
    file, not even an empty line; the error is reported.
    """
    path = tmp_path / "access.log"
    events: list[dict[str, Any]] = []
    writer = AccessLogWriter(
        str(path), None, LogPublisher(events.append), render=combinedLines
    )
    writer.open()
    try:
        writer._pending = [combinedFields(1.0, _Request({**_PLAIN, "code": "oops"}))]
        writer.flush()
    finally:
        writer.close()
    assert path.read_text() == ""
    assert [e for e in events if e.get("log_failure")]
