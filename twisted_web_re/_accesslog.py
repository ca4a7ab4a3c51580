"""
Access-log lines in the Combined Log Format, and the client address they name.
"""

from __future__ import annotations

import re
import time
from typing import Any

from zope.interface import provider

from twisted_web_re.iweb import IAccessLogFormatter

# Bytes that could end a quoted log field, forge a line, or are not ASCII.
_UNSAFE_BYTES = re.compile(rb'["\\\x00-\x1f\x7f-\xff]')

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


def datetimeToLogString(msSinceEpoch: float | None = None) -> str:
    """
    Return a time (default: now) as a Common Log Format timestamp,
    C{[21/Nov/2026:10:17:00 +0000]}; the current time is formatted once a second.
    """
    global _logDateCache
    if msSinceEpoch is None:
        now = int(time.time())
        if _logDateCache[0] == now:
            return _logDateCache[1]
        stamp = _formatLogDate(now)
        _logDateCache = (now, stamp)
        return stamp
    return _formatLogDate(msSinceEpoch)


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


def _formatLine(host: str, timestamp: str, request: Any) -> str:
    length = request.sentLength
    headers = request.requestHeaders._raw
    referer = headers.get(b"referer")
    agent = headers.get(b"user-agent")
    method = request.method
    uri = request.uri
    proto = request.clientproto
    refererValue = referer[-1] if referer else b"-"
    agentValue = agent[-1] if agent else b"-"
    unsafe = _UNSAFE_BYTES.search
    if (
        unsafe(uri)
        or unsafe(agentValue)
        or unsafe(refererValue)
        or unsafe(method)
        or unsafe(proto)
    ):
        method, uri, proto, refererValue, agentValue = (
            _escape(method),
            _escape(uri),
            _escape(proto),
            _escape(refererValue),
            _escape(agentValue),
        )
    return '%s - - %s "%s %s %s" %d %s "%s" "%s"' % (
        host,
        timestamp,
        method.decode("ascii"),
        uri.decode("ascii"),
        proto.decode("ascii"),
        request.code,
        length if length else "-",
        refererValue.decode("ascii"),
        agentValue.decode("ascii"),
    )


@provider(IAccessLogFormatter)
def combinedLogFormatter(timestamp: str, request: Any) -> str:
    """
    Format C{request} as one line of the Combined Log Format, naming the peer
    that connected.
    """
    return _formatLine(_peerHost(request), timestamp, request)


def _peerHost(request: Any) -> str:
    """The host part of the address C{request} came from, or C{"-"}."""
    return str(getattr(request.getClientAddress(), "host", "-"))


@provider(IAccessLogFormatter)
def proxiedLogFormatter(timestamp: str, request: Any) -> str:
    """
    Format C{request} like L{combinedLogFormatter}.

    Kept for twisted.web compatibility: there it trusts C{X-Forwarded-For}
    from anyone.  Here every formatter names the client behind the factory's
    C{trustedProxies} (see L{twisted_web_re._forwarded}), and nobody else's
    forwarding headers are believed.
    """
    return _formatLine(_peerHost(request), timestamp, request)
