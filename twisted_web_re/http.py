"""
The HTTP/1.1 server protocol: L{HTTPChannel}, L{Request}, L{HTTPFactory}, the
access log, status codes and date helpers, under twisted.web.http's names.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IAddress,
    IProtocolNegotiationFactory,
    IReactorTime,
)
from twisted.internet.protocol import ServerFactory
from zope.interface import implementer

from twisted_web_re._protocols import http1
from twisted_web_re._protocols.accesslog import (
    chooseLogFormatter,
    combinedFields,
    combinedLines,
    combinedLogFormatter,
    datetimeToLogString,
    jsonLogFormatter,
    logDate,
    proxiedLogFormatter,
)
from twisted_web_re._protocols.accesslogwriter import AccessLogWriter, appendTo
from twisted_web_re._protocols.forwarded import parseTrustedProxies
from twisted_web_re._protocols.negotiation import HTTP2Protocol, Negotiation
from twisted_web_re._publish.headerparse import parseHTTPDate
from twisted_web_re._publish.request import CACHED, Request
from twisted_web_re._publish.urlparse import parse_qs, urlparse
from twisted_web_re._wire.limits import DEFAULT_LIMITS, IDLE_TIMEOUT, Limits
from twisted_web_re._wire.serialise import LAST_CHUNK, chunk, httpDate
from twisted_web_re._wire.status import NO_BODY_CODES, RESPONSES
from twisted_web_re.iweb import IStreamRequest

__all__ = [
    "CACHED",
    "NO_BODY_CODES",
    "RESPONSES",
    "HTTPChannel",
    "HTTPFactory",
    "Request",
    "combinedLogFormatter",
    "datetimeToLogString",
    "datetimeToString",
    "fromChunk",
    "jsonLogFormatter",
    "parse_qs",
    "proxiedLogFormatter",
    "stringToDatetime",
    "timegm",
    "toChunk",
    "urlparse",
]

CONTINUE = 100
SWITCHING = 101
OK = 200
CREATED = 201
ACCEPTED = 202
NON_AUTHORITATIVE_INFORMATION = 203
NO_CONTENT = 204
RESET_CONTENT = 205
PARTIAL_CONTENT = 206
MULTI_STATUS = 207
MULTIPLE_CHOICE = 300
MOVED_PERMANENTLY = 301
FOUND = 302
SEE_OTHER = 303
NOT_MODIFIED = 304
USE_PROXY = 305
TEMPORARY_REDIRECT = 307
PERMANENT_REDIRECT = 308
BAD_REQUEST = 400
UNAUTHORIZED = 401
PAYMENT_REQUIRED = 402
FORBIDDEN = 403
NOT_FOUND = 404
NOT_ALLOWED = 405
NOT_ACCEPTABLE = 406
PROXY_AUTH_REQUIRED = 407
REQUEST_TIMEOUT = 408
CONFLICT = 409
GONE = 410
LENGTH_REQUIRED = 411
PRECONDITION_FAILED = 412
REQUEST_ENTITY_TOO_LARGE = 413
REQUEST_URI_TOO_LONG = 414
UNSUPPORTED_MEDIA_TYPE = 415
REQUESTED_RANGE_NOT_SATISFIABLE = 416
EXPECTATION_FAILED = 417
IM_A_TEAPOT = 418
REQUEST_HEADER_FIELDS_TOO_LARGE = 431
INTERNAL_SERVER_ERROR = 500
NOT_IMPLEMENTED = 501
BAD_GATEWAY = 502
SERVICE_UNAVAILABLE = 503
GATEWAY_TIMEOUT = 504
HTTP_VERSION_NOT_SUPPORTED = 505
INSUFFICIENT_STORAGE_SPACE = 507
NOT_EXTENDED = 510

#: The protocol version this server speaks.
protocol_version = "HTTP/1.1"


def datetimeToString(msSinceEpoch: float | None = None) -> bytes:
    """
    Return a time (default: now) as an HTTP date, e.g.
    C{b"Sat, 21 Nov 2026 10:17:00 GMT"}.
    """
    return httpDate(msSinceEpoch)


def stringToDatetime(dateString: bytes) -> int:
    """
    Parse an HTTP date in any of its three forms into seconds since the epoch.

    @raise ValueError: C{dateString} is not an HTTP date.
    """
    parsed = parseHTTPDate(dateString)
    if parsed is None:
        raise ValueError(f"not an HTTP date: {dateString!r}")
    return parsed


def timegm(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """
    Return the seconds since the epoch of a UTC date and time, as
    L{calendar.timegm} does for the same six fields.

    @raise ValueError: C{month} is not 1 to 12, or C{year} is before 1970
        (the epoch; twisted.web's refuses those years too).
    """
    if year < 1970:
        raise ValueError(f"years before 1970 are not supported: {year!r}")
    return calendar.timegm((year, month, day, hour, minute, second))


def toChunk(data: bytes) -> tuple[bytes, ...]:
    """
    Return C{data} framed as one chunk of a chunked body (empty C{data} gives
    the last chunk).
    """
    return (chunk(data),) if data else (LAST_CHUNK,)


def fromChunk(data: bytes) -> tuple[bytes, bytes]:
    """
    Split the first chunk off a chunked body.

    @return: C{(chunkData, rest)}.
    @raise ValueError: C{data} does not start with a complete, valid chunk.
    """
    line, sep, rest = data.partition(b"\r\n")
    size = line.split(b";", 1)[0].strip()
    if not sep or not size or any(c not in b"0123456789abcdefABCDEF" for c in size):
        raise ValueError(f"invalid chunk-size line {line!r}")
    length = int(size, 16)
    if rest[length : length + 2] != b"\r\n":
        raise ValueError("chunk data not followed by CRLF")
    return rest[:length], rest[length + 2 :]


_UNSET: Any = object()

#: The ALPN names (RFC 7301) of the HTTP/1 versions a channel speaks,
#: preferred first.
ALPN_PROTOCOLS = (b"http/1.1", b"http/1.0")

#: The ALPN name of HTTP/2 over TLS (RFC 9113 section 3.2), offered before
#: L{ALPN_PROTOCOLS} when it is on.
ALPN_H2 = b"h2"


class HTTPChannel(http1.HTTPChannel):
    """
    An HTTP/1.1 server connection whose requests are L{Request}s, unless a
    subclass (or the L{HTTPFactory} that builds it) names another
    C{requestFactory}.
    """

    requestFactory: http1.RequestFactory | None = Request


@implementer(IProtocolNegotiationFactory)
class HTTPFactory(ServerFactory):
    """
    A factory of L{HTTPChannel}s, holding what every connection shares: its
    limits, its reactor and its access log.

    Over TLS it names the protocols it speaks to ALPN (RFC 7301), so that
    clients offering ALPN, as browsers and curl do, can connect.

    @ivar limits: the L{Limits} applied to every connection.
    @ivar timeOut: seconds an idle connection is kept (C{None}: forever).
    @ivar trustedProxies: networks whose C{X-Forwarded-For} is believed.
    """

    protocol = HTTPChannel  # type: ignore[assignment]

    #: Makes the HTTP/2 connection a connection becomes; C{None} for the
    #: package's own.
    http2Protocol: Callable[[], HTTP2Protocol] | None = None

    def __init__(
        self,
        logPath: str | None = None,
        timeout: float | None = _UNSET,
        logFormatter: Callable[[str, Any], str] | None = None,
        reactor: IReactorTime | None = None,
        *,
        accessLogFormat: str | None = None,
        maxRequestLine: int = DEFAULT_LIMITS.maxRequestLine,
        maxHeadSize: int = DEFAULT_LIMITS.maxHeadSize,
        maxHeaderCount: int = DEFAULT_LIMITS.maxHeaderCount,
        maxBodySize: int | None = DEFAULT_LIMITS.maxBodySize,
        maxChunkLine: int = DEFAULT_LIMITS.maxChunkLine,
        headTimeout: float | None = DEFAULT_LIMITS.headTimeout,
        bodyTimeout: float | None = DEFAULT_LIMITS.bodyTimeout,
        bodyMinRate: int = DEFAULT_LIMITS.bodyMinRate,
        bodyMemoryLimit: int = DEFAULT_LIMITS.bodyMemoryLimit,
        maxUnsentOutput: int = DEFAULT_LIMITS.maxUnsentOutput,
        trustedProxies: Iterable[str] = (),
        h2: bool = True,
        h2cPriorKnowledge: bool = True,
        h2cUpgrade: bool = False,
        **http2Limits: float | None,
    ) -> None:
        """
        @param logPath: a file to append the access log to; C{None} sends it to
            the Twisted log instead.
        @param timeout: seconds an idle keep-alive connection is kept open.
        @param logFormatter: makes each access-log line; by default
            L{combinedLogFormatter}.
        @param accessLogFormat: instead of C{logFormatter}, the name of the
            access-log format: C{"combined"} (the default) or C{"json"} (one
            JSON object per line, see L{jsonLogFormatter}).
        @param reactor: the reactor for timers; the global one by default.
        @param trustedProxies: addresses or networks of proxies whose
            C{X-Forwarded-For} may name the real client.
        @param h2: serve HTTP/2 to a TLS client choosing C{h2} by ALPN.
        @param h2cPriorKnowledge: serve HTTP/2 on a cleartext connection
            that starts with the HTTP/2 preface.
        @param h2cUpgrade: serve HTTP/2 on a cleartext connection whose
            first request asks for it with C{Upgrade: h2c}.  Off by default:
            a proxy in front that passes the Upgrade on and then relays the
            connection blindly lets a client send HTTP/2 requests the proxy
            never sees ("h2c smuggling"), past its access rules.
        @param http2Limits: the HTTP/2 limits to change, by their L{Limits}
            names (C{h2MaxConcurrentStreams=50}, C{h2SendTimeout=30}, ...);
            C{doc/http2.md} lists them with their defaults.
        @raise TypeError: a keyword argument names no HTTP/2 limit.
        @raise ValueError: a limit or proxy address is invalid, the access-log
            format unknown, or given with C{logFormatter}.
        """
        unknown = sorted(
            name
            for name in http2Limits
            if not name.startswith("h2") or name not in Limits.__dataclass_fields__
        )
        if unknown:
            raise TypeError(f"not an HTTP/2 limit: {', '.join(unknown)}")
        self.logPath = logPath
        self.timeOut = IDLE_TIMEOUT if timeout is _UNSET else timeout
        self._logFormatter = chooseLogFormatter(logFormatter, accessLogFormat)
        self._reactor = reactor
        self.trustedProxies = parseTrustedProxies(trustedProxies)
        self._limits = Limits(
            maxRequestLine=maxRequestLine,
            maxHeadSize=maxHeadSize,
            maxHeaderCount=maxHeaderCount,
            maxBodySize=maxBodySize,
            maxChunkLine=maxChunkLine,
            idleTimeout=self.timeOut,
            headTimeout=headTimeout,
            bodyTimeout=bodyTimeout,
            bodyMinRate=bodyMinRate,
            bodyMemoryLimit=bodyMemoryLimit,
            maxUnsentOutput=maxUnsentOutput,
            **http2Limits,  # type: ignore[arg-type]
        )
        # The package's own Combined Log Format lines are made a batch at a
        # time as they are written, of the fields taken as each request ends.
        self._deferFormat = self._logFormatter in (
            combinedLogFormatter,
            proxiedLogFormatter,
        )
        self._accessLog = AccessLogWriter(
            logPath,
            reactor,
            render=combinedLines if self._deferFormat else None,
            opener=self._openLogFile,
        )
        self._negotiation = Negotiation(
            h2=h2,
            h2cPriorKnowledge=h2cPriorKnowledge,
            h2cUpgrade=h2cUpgrade,
            connectionClass=self.http2Protocol,
        )

    @property
    def limits(self) -> Limits:
        """The limits every new connection applies (follows L{timeOut})."""
        if self._limits.idleTimeout != self.timeOut:
            self._limits = self._limits.replace(idleTimeout=self.timeOut)
        return self._limits

    def buildProtocol(self, addr: IAddress | None) -> HTTPChannel:  # type: ignore[override]
        """
        Make a channel for a new connection.
        """
        channel: HTTPChannel = self.protocol()
        channel.factory = self
        channel.configure(
            limits=self.limits,
            reactor=self._reactor,
            accessLog=self.log,
            refuseBody=self.refuseBody,
            trustedProxies=self.trustedProxies,
            negotiation=self._negotiation,
        )
        return channel

    @property
    def negotiation(self) -> Negotiation:
        """
        Which ways to HTTP/2 are on (those asked for, where this server has
        HTTP/2), and how many HTTP/2 connections are live.
        """
        return self._negotiation

    def shutDownHTTP2(self, deadline: float) -> Deferred[None]:
        """
        Shut every live HTTP/2 connection down gracefully: GOAWAY at once,
        the streams in flight let finish, each connection closed within
        C{deadline} seconds at the latest.

        @return: a L{Deferred} firing once all of them are closed.
        """
        return self._negotiation.shutDown(deadline)

    def acceptableProtocols(self) -> list[bytes]:
        """
        Name the protocols a TLS client may choose by ALPN.

        Twisted's TLS endpoints ask this of every connection's factory.  A
        factory naming none there makes every handshake in which the client
        offers ALPN fail, so every browser and curl would be refused.

        @return: L{ALPN_H2} when HTTP/2 over TLS is on, then
            L{ALPN_PROTOCOLS}, HTTP/1.1 first.
        """
        if self._negotiation.h2:
            return [ALPN_H2, *ALPN_PROTOCOLS]
        return list(ALPN_PROTOCOLS)

    def startFactory(self) -> None:
        """
        Open the access log file, if one was named.
        """
        self._accessLog.path = self.logPath
        self._accessLog.open()

    def stopFactory(self) -> None:
        """
        Write the access-log lines waiting, and close the access log file;
        requests still finishing are logged at once from now on.
        """
        self._accessLog.close()

    @property
    def logFile(self) -> IO[str] | None:
        """The open access log file, if any."""
        return self._accessLog.file

    def _openLogFile(self, path: str) -> IO[str]:
        """
        Open the access log file at C{path} for appending text, as the
        factory starts.  Override to open it otherwise: with
        L{twisted.python.logfile.DailyLogFile}, say, for rotation here.
        """
        return appendTo(path)

    def refuseBody(self, request: IStreamRequest, length: int | None) -> int | None:
        """
        Decide, from the head alone, whether to read a request's body.

        Called for every request that has a body, before any of it is read and
        before C{100 Continue} is sent.  Override to refuse early (e.g. 401 for
        an upload without credentials, 413 for a smaller per-path limit).

        @param length: the declared Content-Length, or C{None} when chunked.
        @return: C{None} to read the body, or the status code to answer with
            at once (the connection is then closed).
        """
        return None

    def log(self, request: IStreamRequest) -> None:
        """
        Log C{request}, finished or cut short by its client.

        Lines are written in batches, a quarter of a second after the first
        of them (or at once when a thousand are waiting, or once the factory
        has stopped): to the log file, or to the Twisted log, each line a
        record of its own with its own time (see
        L{twisted_web_re._protocols.accesslogwriter}).
        """
        when = time.time()
        if self._deferFormat:
            self._accessLog.addEntry(combinedFields(when, request))
        else:
            self._accessLog.addEntry((when, self._logFormatter(logDate(when), request)))

    def flushLog(self) -> None:
        """
        Write the queued access-log lines now.
        """
        self._accessLog.flush()
