"""
Access-log lines, in the Combined Log Format or as JSON objects, and the
client address they name.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

from twisted.internet.interfaces import IAddress
from zope.interface import provider

from twisted_web_re.iweb import IAccessLogFormatter, IHTTPRequest

# Bytes that could end a quoted log field, forge a line, or are not ASCII.
_UNSAFE_BYTES = re.compile(rb'["\\\x00-\x1f\x7f-\xff]')
# The same as _UNSAFE_BYTES but for the quote and the newline, which a batch
# counts instead.
_UNSAFE_BUT_QUOTE_OR_NEWLINE = re.compile(rb"[\\\x00-\x09\x0b-\x1f\x7f-\xff]")
# Stands for "no client host yet" in a batch.
_NO_HOST = object()

_MONTHS = [
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
]

_logDateCache: tuple[int, str] = (-1, "")
_isoSecondCache: tuple[int, str] = (-1, "")


def datetimeToLogString(msSinceEpoch: float | None = None) -> str:
    """
    Return a time (default: now) as a Common Log Format timestamp,
    C{[21/Nov/2026:10:17:00 +0000]}; the current time is formatted once a second.
    """
    if msSinceEpoch is None:
        return logDate(time.time())
    return _formatLogDate(msSinceEpoch)


def logDate(when: float) -> str:
    """
    Return C{when} (seconds since the epoch) as a Common Log Format
    timestamp; formatted once a second, for times that go forward.
    """
    global _logDateCache
    second = int(when)
    if _logDateCache[0] == second:
        return _logDateCache[1]
    stamp = _formatLogDate(second)
    _logDateCache = (second, stamp)
    return stamp


def _isoTime(when: float) -> str:
    """C{when} as ISO 8601 UTC to the millisecond: C{2026-11-21T10:17:00.250Z}."""
    global _isoSecondCache
    second = int(when)
    if _isoSecondCache[0] != second:
        _isoSecondCache = (
            second,
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)),
        )
    return "%s.%03dZ" % (_isoSecondCache[1], int((when - second) * 1000))


def _formatLogDate(when: float) -> str:
    t = time.gmtime(when)
    return "[%02d/%s/%04d:%02d:%02d:%02d +0000]" % (
        t.tm_mday,
        _MONTHS[t.tm_mon - 1],
        t.tm_year,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
    )


def _escape(value: bytes) -> bytes:
    """Render peer-controlled bytes safely inside a double-quoted log field."""
    return _UNSAFE_BYTES.sub(lambda m: b"\\x%02x" % m.group()[0], value)


def _formatLine(host: str, timestamp: str, request: IHTTPRequest) -> str:
    return _line(host, timestamp, *_requestFields(request))


def _requestFields(
    request: IHTTPRequest,
) -> tuple[bytes, bytes, bytes, int, int, bytes, bytes]:
    """
    The request's part of its line: method, target, protocol, status, body
    bytes sent, and the last Referer and User-Agent (C{b"-"} when absent).
    """
    headers = request.requestHeaders.lowered()
    referer = headers.get(b"referer")
    agent = headers.get(b"user-agent")
    return (
        request.method,
        request.uri,
        request.clientproto,
        request.code,
        request.sentLength,
        referer[-1] if referer else b"-",
        agent[-1] if agent else b"-",
    )


def _line(
    host: str,
    timestamp: str,
    method: bytes,
    uri: bytes,
    proto: bytes,
    code: int,
    length: int,
    referer: bytes,
    agent: bytes,
) -> str:
    """One Combined Log Format line, the peer's fields escaped."""
    # One search over the peer's fields together, and the quoted part made
    # and decoded as bytes in one go: this runs for every request.
    if _UNSAFE_BYTES.search(b"".join((method, uri, proto, referer, agent))):
        method, uri, proto, referer, agent = [
            _escape(field) for field in (method, uri, proto, referer, agent)
        ]
    quoted = b'"%s %s %s" %d %s "%s" "%s"' % (
        method,
        uri,
        proto,
        code,
        b"%d" % length if length else b"-",
        referer,
        agent,
    )
    return "%s - - %s %s" % (host, timestamp, quoted.decode("ascii"))


#: What a Combined Log Format line is made of, taken as its request ends:
#: the time (seconds since the epoch), the client's address, the method,
#: target and protocol, the status, the body bytes sent, and the last
#: Referer and User-Agent (C{b"-"} when absent).
CombinedFields: TypeAlias = tuple[
    float, "IAddress | None", bytes, bytes, bytes, int, int, bytes, bytes
]


def combinedFields(when: float, request: IHTTPRequest) -> CombinedFields:
    """
    Take what L{combinedLogFormatter} would make C{request}'s line of at
    C{when}, for L{combinedLines} to format later, with others.
    """
    return (when, request.getClientAddress(), *_requestFields(request))


def combinedLines(entries: Sequence[CombinedFields]) -> list[str]:
    """
    The lines L{combinedLogFormatter} makes of the requests C{entries} were
    taken from by L{combinedFields}, in order.
    """
    # The whole batch is made as bytes and checked at once: when no field
    # holds a byte to escape (the common case), each line holds exactly six
    # quotes, the lines are told apart by their newlines, and nothing else
    # is unsafe.  Otherwise each line is made on its own, as the formatter
    # makes it.
    made: list[bytes] = []
    append = made.append
    second = -1
    stamp = b""
    lastHost: object = _NO_HOST
    host = b""
    try:
        for when, address, method, uri, proto, code, length, referer, agent in entries:
            now = int(when)
            if now != second:
                second = now
                stamp = logDate(now).encode("ascii")
            hostText = getattr(address, "host", "-")
            if hostText is not lastHost:
                lastHost = hostText
                host = str(hostText).encode("ascii")
            append(
                b'%s - - %s "%s %s %s" %d %s "%s" "%s"'
                % (
                    host,
                    stamp,
                    method,
                    uri,
                    proto,
                    code,
                    b"%d" % length if length else b"-",
                    referer,
                    agent,
                )
            )
    except UnicodeEncodeError:
        return _eachLine(entries)
    batch = b"\n".join(made)
    if (
        batch.count(b'"') != 6 * len(made)
        or batch.count(b"\n") != len(made) - 1
        or _UNSAFE_BUT_QUOTE_OR_NEWLINE.search(batch) is not None
    ):
        return _eachLine(entries)
    return batch.decode("ascii").split("\n")


def _eachLine(entries: Sequence[CombinedFields]) -> list[str]:
    """L{combinedLines}, one line at a time, escaping where needed."""
    return [
        _line(
            str(getattr(address, "host", "-")),
            logDate(when),
            method,
            uri,
            proto,
            code,
            length,
            referer,
            agent,
        )
        for when, address, method, uri, proto, code, length, referer, agent in entries
    ]


@provider(IAccessLogFormatter)
def combinedLogFormatter(timestamp: str, request: IHTTPRequest) -> str:
    """
    Format C{request} as one line of the Combined Log Format, naming the peer
    that connected.
    """
    return _formatLine(_peerHost(request), timestamp, request)


def _peerHost(request: IHTTPRequest) -> str:
    """The host part of the address C{request} came from, or C{"-"}."""
    return str(getattr(request.getClientAddress(), "host", "-"))


@provider(IAccessLogFormatter)
def proxiedLogFormatter(timestamp: str, request: IHTTPRequest) -> str:
    """
    Format C{request} like L{combinedLogFormatter}.

    Kept for twisted.web compatibility: there it trusts C{X-Forwarded-For}
    from anyone.  Here every formatter names the client behind the factory's
    C{trustedProxies} (see L{twisted_web_re._protocols.forwarded}), and nobody else's
    forwarding headers are believed.
    """
    return _formatLine(_peerHost(request), timestamp, request)


def _text(value: bytes) -> str:
    """
    Peer-controlled bytes as text for a JSON field: UTF-8 as itself, any
    other byte as the four characters C{\\xNN}.
    """
    return value.decode("utf-8", "backslashreplace")


def _lastHeader(request: IHTTPRequest, name: bytes) -> str | None:
    """The last C{name} field of C{request}'s head, as text, if there is one."""
    values = request.requestHeaders.getLowered(name)
    return _text(values[-1]) if values else None


@provider(IAccessLogFormatter)
def jsonLogFormatter(timestamp: str, request: IHTTPRequest) -> str:
    """
    Format C{request} as one JSON object on one line, with the fields
    C{time} (ISO 8601, UTC, to the millisecond), C{client}, C{method},
    C{target}, C{protocol}, C{status}, C{bytes} (body bytes sent),
    C{duration} (seconds since the request's head arrived), C{referer},
    C{user_agent} and C{host} (the last three C{null} when the request had
    none).

    Whatever bytes the request holds, the line is printable ASCII with no
    line break: quotes, backslashes and control characters are JSON escapes,
    other characters C{\\uXXXX} escapes, and bytes that are not UTF-8 the
    text C{\\xNN}.  C{timestamp} is not used: the time is taken afresh, to
    the millisecond.
    """
    now = time.time()
    started = getattr(request, "startedAt", None)
    duration = 0.0 if started is None else max(0.0, time.monotonic() - started)
    entry = {
        "time": _isoTime(now),
        "client": _peerHost(request),
        "method": _text(request.method),
        "target": _text(request.uri),
        "protocol": _text(request.clientproto),
        "status": request.code,
        "bytes": request.sentLength,
        "duration": round(duration, 6),
        "referer": _lastHeader(request, b"referer"),
        "user_agent": _lastHeader(request, b"user-agent"),
        "host": _lastHeader(request, b"host"),
    }
    # ensure_ascii escapes every control character but DEL.
    return json.dumps(entry, ensure_ascii=True, separators=(",", ":")).replace(
        "\x7f", "\\u007f"
    )


#: The formatters C{--access-log-format} and C{accessLogFormat} choose from.
ACCESS_LOG_FORMATS: dict[str, IAccessLogFormatter] = {
    "combined": combinedLogFormatter,
    "json": jsonLogFormatter,
}


def chooseLogFormatter(
    logFormatter: Callable[[str, Any], str] | None, accessLogFormat: str | None
) -> Callable[[str, Any], str]:
    """
    Return the formatter a factory given C{logFormatter} and
    C{accessLogFormat} logs with: either one, or L{combinedLogFormatter}.

    @raise ValueError: C{accessLogFormat} is not a key of
        L{ACCESS_LOG_FORMATS}, or both are given.
    """
    if accessLogFormat is None:
        return logFormatter or combinedLogFormatter
    if logFormatter is not None:
        raise ValueError("give a logFormatter or an accessLogFormat, not both")
    formatter = ACCESS_LOG_FORMATS.get(accessLogFormat)
    if formatter is None:
        raise ValueError(
            f"unknown access-log format {accessLogFormat!r}: "
            f"use one of {', '.join(ACCESS_LOG_FORMATS)}"
        )
    return formatter
