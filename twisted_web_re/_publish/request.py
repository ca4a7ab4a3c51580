"""
L{Request}: one HTTP request and the response to it, at the protocol level.

The channel fills a request in (head, then body), calls L{Request.requestReceived},
and the application answers through L{Request.write} and L{Request.finish}.  The
response head is serialised here; framing (Content-Length, chunked, or
close-delimited) is chosen as late as it can be, so a response written whole
inside C{process()} gets a Content-Length and goes out in one write.
"""

from __future__ import annotations

import math
import time
from io import BytesIO
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qs

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import IAddress, IPullProducer, IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re._protocols.forwarded import forwardedClientHost
from twisted_web_re._publish import headerparse as _headerparse
from twisted_web_re._publish.spool import (
    closeQuietly,
    openSpool,
    spoolWrite,
    storageError,
)
from twisted_web_re._version import SERVER_NAME
from twisted_web_re._wire.limits import BODY_MEMORY_LIMIT
from twisted_web_re._wire.parser import (
    TargetAuthority,
    connectionTokens,
    targetAuthority,
)
from twisted_web_re._wire.serialise import (
    CANONICAL_NAMES,
    LAST_CHUNK,
    canonicalName,
    checkReason,
    chunk,
    httpDate,
    statusLine,
)
from twisted_web_re._wire.status import NO_BODY_CODES, RESPONSES
from twisted_web_re.http_headers import Headers
from twisted_web_re.iweb import IRequest

if TYPE_CHECKING:
    from twisted_web_re._protocols.http1 import HTTPChannel

#: Returned by L{Request.setLastModified} and L{Request.setETag} when the client's
#: cached copy is current: the caller should send no body.
CACHED = b"cached"

#: The C{Server} header value sent unless the application sets its own.
_SERVER_LINE = b"\r\nServer: " + SERVER_NAME + b"\r\n"

_log = Logger()

# Fields the request writes itself from its own decisions about framing and
# persistence; the application's values for them are read, not copied.
_MANAGED = frozenset({b"content-length", b"transfer-encoding", b"connection"})

# A 304 names the validators and caching fields of the 200 it stands for, but
# not the representation's metadata (RFC 9110 section 15.4.5).
_MANAGED_304 = _MANAGED | {b"content-type", b"content-encoding"}

_STATUS_LINES: dict[tuple[int, bytes], bytes] = {}


def _statusLine(code: int, message: bytes) -> bytes:
    """Return the cached status line for C{code} and C{message}."""
    line = _STATUS_LINES.get((code, message))
    if line is None:
        line = statusLine(code, message)
        if len(_STATUS_LINES) < 512:
            _STATUS_LINES[(code, message)] = line
    return line


@implementer(IRequest)
class Request:
    """
    An HTTP request received by an L{HTTPChannel}, and its response.

    Subclass it and override L{process} to answer requests (see the book
    chapter's C{requesthandler.py}); L{twisted_web_re.server.Request} does so
    by publishing resources.

    @ivar method: the request method, e.g. C{b"GET"}.
    @ivar uri: the request-target as sent, query string included.
    @ivar path: the path part of the target, without the query string.
    @ivar clientproto: the request's version, C{b"HTTP/1.1"} or C{b"HTTP/1.0"}.
    @ivar requestHeaders: the request's header fields.
    @ivar responseHeaders: the response's header fields, sent at the first write.
    @ivar content: the request body, a file positioned at 0 when C{process()}
        runs (in memory when small, a temporary file when large).
    @ivar code: the response status code (200 until changed).
    @ivar code_message: the response reason phrase.
    @ivar sentLength: body bytes sent so far.
    @ivar startedWriting: true once the response head is committed.
    @ivar finished: true once L{finish} has been called.
    @ivar cookies: C{Set-Cookie} values to send, from L{addCookie}.
    @ivar etag: the entity tag given to L{setETag}, if any.
    @ivar lastModified: the time given to L{setLastModified}, if any.
    @ivar producer: the producer registered with L{registerProducer}, if any.
    """

    method: bytes = b"GET"
    uri: bytes = b""
    path: bytes = b""
    clientproto: bytes = b"HTTP/1.1"
    code: int = 200
    code_message: bytes = b"OK"
    sentLength: int = 0
    startedWriting: int = 0
    finished: int = 0
    etag: bytes | None = None
    lastModified: int | None = None
    producer: IPushProducer | IPullProducer | None = None
    streamingProducer: bool = False
    content: IO[bytes] | None = None
    queued: int = 0
    _disconnected: bool = False
    _forceSSL: int = 0
    _query: bytes = b""
    _holding: bool = False
    _keepAlive: bool = True
    _chunked: bool = False
    _bodyAllowed: bool = True
    _lengthLeft: int | None = None
    _head: bytes | None = None
    _held: list[bytes] | None = None
    _args: dict[bytes, list[bytes]] | None = None
    _cookies: dict[bytes, bytes] | None = None
    _credentials: tuple[bytes, bytes] | None = None
    _host: IAddress | None = None
    _authority: TargetAuthority | None = None

    def __init__(self, channel: HTTPChannel | Any, queued: object = None) -> None:
        """
        @param channel: the channel the request arrived on.
        @param queued: ignored; accepted for compatibility with twisted.web.
        """
        self.channel = channel
        self.transport = getattr(channel, "transport", None)
        # When the head arrived, for the access log's duration.
        self._startedAt = time.monotonic()
        self.requestHeaders = Headers()
        self.responseHeaders = Headers()
        self.cookies: list[bytes] = []
        self.notifications: list[Deferred[None]] = []

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} at 0x{id(self):x} method={self.method!r} "
            f"uri={self.uri!r} clientproto={self.clientproto!r}>"
        )

    # -- filled in by the channel -------------------------------------------

    def gotLength(self, length: int | None) -> None:
        """
        Prepare L{content} for a body of C{length} bytes (C{None}: unknown,
        chunked).  Called once the head has arrived, before any body bytes.

        @raise BodyStorageError: no temporary file could be made for it.
        """
        if length == 0:
            self.content = BytesIO()
            return
        limit = getattr(
            getattr(self.channel, "_limits", None), "bodyMemoryLimit", BODY_MEMORY_LIMIT
        )
        self.content = openSpool(length, limit)

    def handleContentChunk(self, data: bytes) -> None:
        """
        Store C{data}, the next piece of the request body, in L{content}.

        @raise BodyStorageError: it could not be stored (the disk is full,
            say); L{content} is then closed and dropped.
        """
        self._storeBody(data)

    def _storeBody(self, data: bytes) -> None:
        """
        Add C{data} to L{content}; what L{handleContentChunk} does, for
        overrides that store only some bodies.

        @raise BodyStorageError: as for L{handleContentChunk}.
        """
        assert self.content is not None, "gotLength was not called"
        try:
            spoolWrite(self.content, data)
        except OSError as error:
            self._dropBody()
            raise storageError(error) from None

    def _dropBody(self) -> None:
        """
        Close and forget L{content} at once (its temporary file, if it has
        one, is deleted): the body could not be stored, and will never be
        read.
        """
        content, self.content = self.content, None
        if content is not None:
            closeQuietly(content)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        """
        The whole request has arrived: record its line and call L{process}.

        @param command: the method.
        @param path: the request-target.
        @param version: the protocol version.
        """
        if self.content is None:
            self.content = BytesIO()
        else:
            self.content.seek(0, 0)
        self.method = command
        self.uri = path
        self.clientproto = version
        self._setTarget(path)
        self.process()

    def _setTarget(self, target: bytes) -> None:
        """Set L{path} and the query string from a request-target."""
        path, _, self._query = target.partition(b"?")
        self._authority = None
        if path[:1] != b"/" and b"://" in path:
            # RFC 9112 section 3.2.2: absolute-form; its authority replaces
            # the Host field, and the path is what follows the authority.
            self._authority = targetAuthority(target)
            rest = path.split(b"://", 1)[1]
            slash = rest.find(b"/")
            path = rest[slash:] if slash >= 0 else b"/"
        self.path = path
        self._args = None

    def process(self) -> None:
        """
        Answer the request.  Override this; by default every request is
        answered 404, since a bare protocol-level request has nothing to serve.
        """
        self.setResponseCode(404)
        self.setHeader(b"content-type", b"text/plain; charset=utf-8")
        self.write(b"No resource is published here.\n")
        self.finish()

    # -- reading the request --------------------------------------------------

    @property
    def args(self) -> dict[bytes, list[bytes]]:
        """
        The query string's arguments: name to the list of its values, both
        C{bytes}, blank values kept.
        """
        args = self._args
        if args is None:
            args = self._args = (
                parse_qs(self._query, keep_blank_values=True) if self._query else {}
            )
        return args

    @args.setter
    def args(self, value: dict[bytes, list[bytes]]) -> None:
        self._args = value

    @property
    def received_cookies(self) -> dict[bytes, bytes]:
        """
        The cookies the client sent: name to value, both C{bytes}.
        """
        cookies = self._cookies
        if cookies is None:
            cookies = self._cookies = _headerparse.parseCookies(
                self.requestHeaders.getRawHeaders(b"cookie", [])
            )
        return cookies

    @received_cookies.setter
    def received_cookies(self, value: dict[bytes, bytes]) -> None:
        self._cookies = value

    def parseCookies(self) -> None:
        """
        Parse the C{Cookie} header into L{received_cookies} again.
        """
        self._cookies = None

    def getHeader(self, key: bytes | str) -> bytes | str | None:
        """
        Return the last value of request header C{key}, or C{None}.

        A C{str} key gives a C{str} value.
        """
        values = self.requestHeaders.getRawHeaders(key)
        if values:
            return values[-1]
        return None

    def getAllHeaders(self) -> dict[bytes, bytes]:
        """
        Return every request header: lower-cased name to its last value.
        """
        return {name: values[-1] for name, values in self.requestHeaders._raw.items()}

    def getCookie(self, key: bytes) -> bytes | None:
        """
        Return the value of the cookie C{key} the client sent, or C{None}.
        """
        return self.received_cookies.get(key)

    def _basicCredentials(self) -> tuple[bytes, bytes]:
        creds = self._credentials
        if creds is None:
            value = self.requestHeaders.getRawHeaders(b"authorization")
            parsed = _headerparse.parseBasicAuth(value[-1]) if value else None
            creds = self._credentials = parsed or (b"", b"")
        return creds

    def getUser(self) -> bytes:
        """
        Return the user name of the request's Basic credentials, or C{b""}.
        """
        return self._basicCredentials()[0]

    def getPassword(self) -> bytes:
        """
        Return the password of the request's Basic credentials, or C{b""}.
        """
        return self._basicCredentials()[1]

    def getClientAddress(self) -> IAddress:
        """
        Return the address of the client: the connecting peer, or, when that
        peer is one of the factory's C{trustedProxies}, the client it forwarded
        for (with port 0, which the forwarding headers do not give).
        """
        peer = self.channel.getPeer()
        trusted = getattr(self.channel, "_trustedProxies", None)
        if not trusted:
            return peer
        host = forwardedClientHost(
            getattr(peer, "host", ""), self.requestHeaders._raw, trusted
        )
        if host == getattr(peer, "host", None):
            return peer
        return (IPv6Address if ":" in host else IPv4Address)("TCP", host, 0)

    def getClientIP(self) -> str | None:
        """
        Return the client's IP address as text, or C{None} when it connected
        over something other than IPv4 or IPv6 (a UNIX socket, say).
        """
        address = self.getClientAddress()
        if isinstance(address, (IPv4Address, IPv6Address)):
            return address.host
        return None

    @property
    def chunked(self) -> bool:
        """Whether the response body is being sent with chunked coding."""
        return self._chunked

    @property
    def client(self) -> IAddress:
        """
        The peer's address (deprecated in twisted.web in favour of
        L{getClientAddress}).
        """
        return self.getClientAddress()

    def getHost(self) -> IAddress:
        """
        Return the local address the request arrived on (or the one given to
        L{setHost}), even for a target in absolute form, which names a host
        rather than this server's socket (see L{getRequestHostname}).
        """
        if self._host is not None:
            return self._host
        return self.channel.getHost()

    @property
    def host(self) -> IAddress:
        """The same as L{getHost}."""
        return self.getHost()

    def setHost(self, host: bytes | str, port: int, ssl: int | bool = 0) -> None:
        """
        Make the request appear to have been made to C{host}:C{port}, over TLS
        if C{ssl}; for servers behind a proxy.  This replaces the C{Host}
        field, and wins over an absolute-form target's authority.
        """
        self._forceSSL = int(bool(ssl))
        self._authority = None
        name = host.decode("ascii") if isinstance(host, bytes) else host
        self._host = IPv4Address("TCP", name, port)
        raw = name.encode("ascii")
        value = raw if port == (443 if ssl else 80) else b"%s:%d" % (raw, port)
        self.requestHeaders.setRawHeaders(b"host", [value])

    def getRequestHostname(self) -> bytes:
        """
        Return the host name the client asked for: the host of a target in
        absolute form (RFC 9112 section 3.2.2: the C{Host} field is then
        ignored), else the C{Host} field without its port, else the local
        host's address.
        """
        authority = self._authority
        if authority is not None:
            return authority.host
        value = self.requestHeaders.getRawHeaders(b"host")
        if value:
            host = value[-1]
            if host.startswith(b"["):
                return host[: host.find(b"]") + 1]
            return host.rpartition(b":")[0] if b":" in host else host
        return str(getattr(self.getHost(), "host", "")).encode("ascii")

    def _requestPort(self) -> int | None:
        """
        Return the port the client addressed, for the URLs built from the
        request: the port of a target in absolute form (its scheme's default
        if it gives none), else the local port (or the one given to
        L{setHost}).
        """
        authority = self._authority
        if authority is not None:
            return authority.port
        return getattr(self.getHost(), "port", None)

    def isSecure(self) -> bool:
        """
        Return whether the request arrived over TLS.
        """
        if self._forceSSL:
            return True
        channel = self.channel
        if channel is None:
            return False
        return bool(channel.isSecure())

    # -- shaping the response -------------------------------------------------

    def setResponseCode(self, code: int, message: bytes | None = None) -> None:
        """
        Set the response status, and its reason phrase (by default the
        standard one for C{code}).

        @raise TypeError: C{code} is not an int.
        @raise ValueError: C{code} is out of range or C{message} is invalid.
        """
        if not isinstance(code, int) or isinstance(code, bool):
            raise TypeError(f"HTTP response code must be int, not {code!r}")
        if not 100 <= code <= 999:
            raise ValueError(f"HTTP response code {code} is out of range")
        self.code = code
        if message is None:
            self.code_message = RESPONSES.get(code, b"Unknown Status")
        else:
            if isinstance(message, str):
                message = message.encode("iso-8859-1")
            checkReason(message)
            self.code_message = message

    def setHeader(self, name: bytes | str, value: bytes | str) -> None:
        """
        Set response header C{name} to C{value}, replacing earlier values.
        """
        self.responseHeaders._setOne(name, value)

    def addCookie(
        self,
        k: str | bytes,
        v: str | bytes,
        expires: str | bytes | None = None,
        domain: str | bytes | None = None,
        path: str | bytes | None = None,
        max_age: str | bytes | int | None = None,
        comment: str | bytes | None = None,
        secure: bool | None = None,
        httpOnly: bool = False,
        sameSite: str | bytes | None = None,
    ) -> None:
        """
        Send a cookie with the response.

        @raise ValueError: a part would break the cookie or header syntax.
        """
        self.cookies.append(
            _headerparse.formatSetCookie(
                k,
                v,
                expires,
                domain,
                path,
                max_age,
                comment,
                secure,
                httpOnly,
                sameSite,
            )
        )

    def redirect(self, url: bytes | str) -> None:
        """
        Make the response a 302 redirect to C{url}.
        """
        self.setResponseCode(302)
        self.setHeader(b"location", url)

    def setLastModified(self, when: float) -> bytes | None:
        """
        Record when the resource last changed, and answer a conditional request.

        Sets C{Last-Modified}.  If the request's C{If-Modified-Since} (consulted
        only when there is no C{If-None-Match}, per RFC 9110 section 13.2.2) is
        not older, the status becomes 304.

        @return: L{CACHED} if the response should have no body, else C{None}.
        """
        when = math.ceil(when)
        if self.lastModified is None or when > self.lastModified:
            self.lastModified = when
        self.responseHeaders.setRawHeaders(b"last-modified", [httpDate(when)])
        if self.method not in (b"GET", b"HEAD"):
            return None
        if self.requestHeaders.hasHeader(b"if-none-match"):
            return None
        since = self.requestHeaders.getRawHeaders(b"if-modified-since")
        if since:
            parsed = _headerparse.parseHTTPDate(since[0])
            if parsed is not None and self.lastModified <= parsed:
                self.setResponseCode(304)
                return CACHED
        return None

    def setETag(self, etag: bytes | str) -> bytes | None:
        """
        Record the response's entity tag (with its quotes, e.g. C{b'"v1"'}) and
        answer C{If-None-Match}: 304 for GET and HEAD, 412 otherwise.

        @return: L{CACHED} if the response should have no body, else C{None}.
        """
        if isinstance(etag, str):
            etag = etag.encode("ascii")
        if not etag:
            return None
        self.etag = etag
        self.responseHeaders.setRawHeaders(b"etag", [etag])
        values = self.requestHeaders.getRawHeaders(b"if-none-match")
        if values and _headerparse.etagMatchesWeakly(etag, values):
            self.setResponseCode(304 if self.method in (b"GET", b"HEAD") else 412)
            return CACHED
        return None

    # -- writing the response -------------------------------------------------

    def _startHead(self) -> None:
        """
        Commit the status and headers: serialise everything but the framing.
        """
        self.startedWriting = 1
        code = self.code
        self._bodyAllowed = (
            code >= 200 and code not in NO_BODY_CODES and self.method != b"HEAD"
        )
        raw = self.responseHeaders._raw
        line = _STATUS_LINES.get((code, self.code_message))
        lines = [line or _statusLine(code, self.code_message)]
        append = lines.append
        managed = _MANAGED if code != 304 else _MANAGED_304
        for name, values in raw.items():
            if name in managed:
                continue
            canonical = CANONICAL_NAMES.get(name) or canonicalName(name)
            for value in values:
                append(canonical + b": " + value + b"\r\n")
        for cookie in self.cookies:
            append(b"Set-Cookie: " + cookie + b"\r\n")
        if b"date" not in raw:
            if b"server" not in raw:
                append(b"Date: " + httpDate() + _SERVER_LINE)
            else:
                append(b"Date: " + httpDate() + b"\r\n")
        elif b"server" not in raw:
            append(_SERVER_LINE[2:])
        self._head = b"".join(lines)

    def _declaredLength(self) -> int | None:
        """Return the Content-Length the application set, if valid."""
        values = self.responseHeaders._raw.get(b"content-length")
        if values is None:
            return None
        if len(values) == 1 and values[0].isdigit():
            return int(values[0])
        _log.error(
            "Ignoring invalid response Content-Length {values!r} for {request!r}",
            values=values,
            request=self,
        )
        return None

    def _finishHead(self, knownLength: int | None) -> bytes:
        """
        Choose the framing now that C{knownLength} is, or is not, known, and
        return the complete head.
        """
        head = self._head
        assert head is not None
        code = self.code
        declared = (
            self._declaredLength()
            if b"content-length" in self.responseHeaders._raw
            else None
        )
        framing = b""
        if self._bodyAllowed:
            if declared is not None:
                framing = b"Content-Length: %d\r\n" % declared
                self._lengthLeft = declared
            elif knownLength is not None:
                framing = b"Content-Length: %d\r\n" % knownLength
            elif self.clientproto == b"HTTP/1.1":
                framing = b"Transfer-Encoding: chunked\r\n"
                self._chunked = True
            else:
                self._keepAlive = False
        elif declared is not None:
            if code >= 200 and code != 204:
                framing = b"Content-Length: %d\r\n" % declared
        elif knownLength and code >= 200 and code not in NO_BODY_CODES:
            # A HEAD answered by writing the body GET would send.
            framing = b"Content-Length: %d\r\n" % knownLength

        keepAlive = self._keepAlive
        connection = self.responseHeaders._raw.get(b"connection")
        if connection is not None:
            tokens = connectionTokens(connection)
            if b"close" in tokens:
                keepAlive = self._keepAlive = False
            value = b", ".join(connection)
            if not keepAlive and b"close" not in tokens:
                value += b", close"
            framing += b"Connection: " + value + b"\r\n"
        elif not keepAlive:
            framing += b"Connection: close\r\n"
        elif self.clientproto == b"HTTP/1.0":
            framing += b"Connection: keep-alive\r\n"
        self._head = None
        return head + framing + b"\r\n"

    def _frameBody(self, data: bytes) -> bytes:
        """Account for C{data} and return it framed for the wire."""
        left = self._lengthLeft
        if left is not None:
            if len(data) > left:
                _log.error(
                    "{request!r} wrote more than its Content-Length; "
                    "the excess is dropped and the connection closed",
                    request=self,
                )
                data = data[:left]
                self._keepAlive = False
            self._lengthLeft = left - len(data)
        self.sentLength += len(data)
        if self._chunked and data:
            return chunk(data)
        return data

    def write(self, data: bytes) -> None:
        """
        Write C{data} as part of the response body, committing the head on the
        first call.

        @raise RuntimeError: the request is already finished.
        @raise TypeError: C{data} is not bytes.
        """
        if self.finished:
            raise RuntimeError(
                "Request.write called on a request after Request.finish was called."
            )
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"Request.write takes bytes, not {type(data).__name__}")
        if self._disconnected:
            return
        if not self.startedWriting:
            self._startHead()
            if self._holding:
                self._held = [data] if data else []
                return
            out = self._finishHead(None)
        elif self._holding:
            if data:
                self._held.append(data)  # type: ignore[union-attr]
            return
        else:
            out = b""
        if data and self._bodyAllowed:
            out += self._frameBody(bytes(data))
        if out:
            self.channel._send(out)

    def _resetResponse(self) -> bool:
        """
        Forget the response so far, if none of it has been sent.

        @return: whether it could be forgotten (so another response, an error
            page say, can be sent instead).
        """
        if self.finished or (self.startedWriting and self._head is None):
            return False
        self.startedWriting = 0
        self._head = None
        self._held = None
        self.code = 200
        self.code_message = b"OK"
        self.responseHeaders = Headers()
        self.cookies = []
        return True

    def _release(self) -> None:
        """
        C{process()} has returned: send what it wrote but did not finish.
        """
        self._holding = False
        if self.finished or self._head is None:
            return
        held = self._held or []
        self._held = None
        out = self._finishHead(None)
        if held and self._bodyAllowed:
            out += self._frameBody(b"".join(held))
        self.channel._send(out)

    def finish(self) -> None:
        """
        End the response.  The channel then logs it and moves on to the next
        request, or closes the connection.

        @raise RuntimeError: the connection was lost first.
        """
        if self._disconnected:
            raise RuntimeError(
                "Request.finish called on a request after its connection was lost; "
                "use Request.notifyFinish to keep track of this."
            )
        if self.finished:
            _log.warn(
                "Warning! request.finish called twice on {request!r}", request=self
            )
            return
        if not self.startedWriting:
            self._startHead()
            self._held = []
        if self._head is not None:
            held = self._held or []
            self._held = None
            body = held[0] if len(held) == 1 else b"".join(held)
            out = self._finishHead(len(body))
            if body and self._bodyAllowed:
                if self._lengthLeft is None:
                    self.sentLength += len(body)
                    out += body
                else:
                    out += self._frameBody(body)
        elif self._chunked:
            out = LAST_CHUNK
        else:
            out = b""
        if self._lengthLeft:
            _log.error(
                "{request!r} finished {missing} bytes short of its Content-Length; "
                "closing the connection",
                request=self,
                missing=self._lengthLeft,
            )
            self._keepAlive = False
        self._holding = False
        self.finished = 1
        if out:
            self.channel._send(out)
        self.channel._requestDone(self)
        notifications, self.notifications = self.notifications, []
        for d in notifications:
            d.callback(None)

    def notifyFinish(self) -> Deferred[None]:
        """
        Return a Deferred that fires with C{None} when the response is finished,
        or fails if the connection is lost first.
        """
        if self.finished:
            return succeed(None)
        if self._disconnected:
            return fail(Failure(ConnectionError("connection lost before finish")))
        d: Deferred[None] = Deferred()
        self.notifications.append(d)
        return d

    def connectionLost(self, reason: Failure) -> None:
        """
        The connection went away before the response was finished: stop the
        producer and fail every L{notifyFinish} Deferred with C{reason}.
        """
        self._disconnected = True
        producer = self.producer
        if producer is not None:
            self.producer = None
            try:
                producer.stopProducing()
            except Exception:
                _log.failure("stopping producer of {request!r}", request=self)
        notifications, self.notifications = self.notifications, []
        for d in notifications:
            d.errback(reason)

    def registerProducer(
        self, producer: IPushProducer | IPullProducer, streaming: bool
    ) -> None:
        """
        Register a producer of the response body: streaming (push) producers are
        paused and resumed with the connection's back-pressure; pull producers
        are asked for more whenever the connection can take it.

        @raise ValueError: a producer is already registered.
        """
        if self.producer is not None:
            raise ValueError(
                f"registering producer {producer!r} before previous one "
                f"({self.producer!r}) was unregistered"
            )
        self.producer = producer
        self.streamingProducer = streaming
        self.channel.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        """
        Unregister the body producer.
        """
        self.producer = None
        self.channel.unregisterProducer()

    def pauseUpload(self) -> None:
        """
        Stop receiving the request body for now: back-pressure for code that
        consumes the body as it arrives.  The body timeout is suspended.
        """
        self.channel._pauseBody()

    def resumeUpload(self) -> None:
        """
        Receive the request body again after L{pauseUpload}.
        """
        self.channel._resumeBody()

    def abortConnection(self) -> None:
        """
        Drop the connection at once, discarding whatever is unsent: for a
        response that cannot be completed (its producer failed after the
        head went out), so that the client sees it cut (no last chunk, fewer
        bytes than its Content-Length) instead of taking part for the whole.
        """
        transport: Any = self.channel.transport
        abort = getattr(transport, "abortConnection", None)
        if abort is not None:
            abort()
        else:
            transport.loseConnection()

    def loseConnection(self) -> None:
        """
        Close the connection once what has been written is sent.
        """
        self.channel.transport.loseConnection()  # type: ignore[union-attr]
