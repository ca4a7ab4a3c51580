"""
L{Request}: one HTTP request and the response to it, at the protocol level.

A protocol carries the request through the stream contract
(L{twisted_web_re.iweb.IStream}, L{twisted_web_re.iweb.IStreamRequest}): it
fills the request in (head, then body) and calls L{Request.requestReceived};
the application answers through L{Request.write} and L{Request.finish}, which
hand the response head and body to the stream.  The request never builds wire
bytes; it only holds what C{process()} writes until C{process()} returns, so
that a response written whole reaches the stream whole (and goes out with its
length, in one piece).
"""

from __future__ import annotations

import math
import time
from functools import cached_property
from io import BytesIO
from typing import IO
from urllib.parse import parse_qs

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.interfaces import (
    IAddress,
    IPullProducer,
    IPushProducer,
    IReactorTime,
    ITransport,
)
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
from twisted_web_re._publish.whole import plainFor, wholeReady
from twisted_web_re._wire.limits import BODY_MEMORY_LIMIT
from twisted_web_re._wire.parser import TargetAuthority, targetAuthority
from twisted_web_re._wire.serialise import checkReason, httpDate
from twisted_web_re._wire.status import RESPONSES
from twisted_web_re.http_headers import Headers
from twisted_web_re.iweb import IHTTPRequest, IStream, IStreamRequest

#: Returned by L{Request.setLastModified} and L{Request.setETag} when the client's
#: cached copy is current: the caller should send no body.
CACHED = b"cached"

_log = Logger()


@implementer(IHTTPRequest, IStreamRequest)
class Request:
    """
    An HTTP request, and its response, carried by an L{IStream} (the
    HTTP/1.1 channel, say).

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
    @ivar startedAt: when the request was made (its head had arrived), in
        C{time.monotonic()} seconds: the start of the duration the JSON
        access log gives.
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
    _headSent: bool = False
    _target: bytes | None = None
    _held: list[bytes] | None = None
    _args: dict[bytes, list[bytes]] | None = None
    _cookies: dict[bytes, bytes] | None = None
    _credentials: tuple[bytes, bytes] | None = None
    _host: IAddress | None = None
    _authority: TargetAuthority | None = None

    def __init__(self, channel: IStream, queued: object = None) -> None:
        """
        @param channel: the stream that carries the request.
        @param queued: ignored; accepted for compatibility with twisted.web.
        """
        self.channel = channel
        self.startedAt = time.monotonic()
        self.responseHeaders = Headers()
        self.cookies: list[bytes] = []
        self.notifications: list[Deferred[None]] = []

    @cached_property
    def requestHeaders(self) -> Headers:
        """
        The request's header fields: those its stream gave L{headReceived},
        or, for a request made by hand, empty ones made when first read.
        """
        return Headers()

    @cached_property
    def transport(self) -> ITransport | None:
        """
        The transport of the request's stream, or C{None} if it has none
        (asked for when first read: most requests never are).
        """
        transport: ITransport | None = getattr(self.channel, "transport", None)
        return transport

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} at 0x{id(self):x} method={self.method!r} "
            f"uri={self.uri!r} clientproto={self.clientproto!r}>"
        )

    # -- filled in by the stream ---------------------------------------------

    def headReceived(
        self, method: bytes, target: bytes, version: bytes, headers: Headers
    ) -> None:
        """
        The request head arrived: record it, so that hooks that see the head
        before the body (L{twisted_web_re.http.HTTPFactory.refuseBody}) see
        its method, path and fields.
        """
        self.method = method
        self.uri = target
        self.clientproto = version
        self.requestHeaders = headers
        self._target = target
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

    def gotLength(self, length: int | None) -> None:
        """
        Prepare L{content} for a body of C{length} bytes (C{None}: unknown,
        chunked).  Called once the head has arrived, before any body bytes.

        @raise BodyStorageError: no temporary file could be made for it.
        """
        if length == 0:
            self.content = BytesIO()
            return
        limit = getattr(self.channel, "bodyMemoryLimit", BODY_MEMORY_LIMIT)
        self.content = openSpool(length, limit)

    def handleContentChunk(self, data: bytes) -> None:
        """
        Store C{data}, the next piece of the request body, in L{content}.

        @raise BodyStorageError: it could not be stored (the disk is full,
            say); L{content} is then closed and dropped.
        """
        self.storeContent(data)

    def storeContent(self, data: bytes) -> None:
        """
        Add C{data}, the next piece of the request body, to L{content}: what
        L{handleContentChunk} does, for code that takes the body as it
        arrives (a streamed upload) but stores some of it after all.

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
        if path is self._target:
            self.method = command
            self.clientproto = version
        else:
            # Not the target of the head received, if any (a request made by
            # hand, or processed again): recorded as a head's would be.
            self.headReceived(command, path, version, self.requestHeaders)
        self._holding = True
        self.process()
        if self._holding:
            self._release()

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
        return {
            name: values[-1] for name, values in self.requestHeaders.lowered().items()
        }

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
        channel = self.channel
        peer = channel.getPeer()
        try:
            trusted = channel.trustedProxies
        except AttributeError:
            # A stream that does not provide all of IStream: a test double.
            return peer
        if not trusted:
            return peer
        host = forwardedClientHost(
            getattr(peer, "host", ""), self.requestHeaders.lowered(), trusted
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
        """
        Whether the response body is being sent with chunked coding (by an
        HTTP/1.1 stream; never by others).
        """
        return bool(getattr(self.channel, "chunked", False))

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

    def getRequestPort(self) -> int | None:
        """
        Return the port the client addressed, for the URLs built from the
        request (and a gateway's C{SERVER_PORT}): the port of a target in
        absolute form (its scheme's default if it gives none), else the
        local port (or the one given to L{setHost}); C{None} when the local
        address has no port (a UNIX socket).
        """
        authority = self._authority
        if authority is not None:
            return authority.port
        return getattr(self.getHost(), "port", None)

    def getTargetAuthority(self) -> bytes | None:
        """
        Return the authority (host and any port, as sent) of a
        request-target in absolute form, which stands for the C{Host} field
        (RFC 9112 section 3.2.2); C{None} for any other target, or once
        L{setHost} was called.
        """
        authority = self._authority
        return None if authority is None else authority.authority

    @property
    def reactor(self) -> IReactorTime:
        """
        The reactor of the stream carrying the request (see
        L{IStream.reactor}): what a response's producer times its turns with.
        """
        reactor: IReactorTime = self.channel.reactor
        return reactor

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

    def _commit(self) -> None:
        """
        Commit the status and headers: the stream takes them now, so later
        changes to them have no effect on this response.
        """
        self.startedWriting = 1
        self.channel.writeHead(
            self.code, self.code_message, self.responseHeaders.lowered(), self.cookies
        )

    def write(self, data: bytes) -> None:
        """
        Write C{data} as part of the response body, committing the head on the
        first call.

        While L{process} runs, what is written is held, and sent when it
        returns or with L{finish}: a response written whole inside
        C{process()} is then sent with its length, in one piece.

        @raise RuntimeError: the request is already finished.
        @raise TypeError: C{data} is not bytes.
        """
        if self.finished:
            raise RuntimeError(
                "Request.write called on a request after Request.finish was called."
            )
        if type(data) is not bytes:
            if not isinstance(data, (bytearray, memoryview)):
                raise TypeError(f"Request.write takes bytes, not {type(data).__name__}")
            data = bytes(data)
        if self._disconnected:
            return
        if not self.startedWriting:
            self.startedWriting = 1
            self.channel.writeHead(
                self.code,
                self.code_message,
                self.responseHeaders.lowered(),
                self.cookies,
            )
        if self._holding:
            held = self._held
            if held is None:
                self._held = [data] if data else []
            elif data:
                held.append(data)
            return
        self._headSent = True
        self.channel.writeBody(data)

    def _resetResponse(self) -> bool:
        """
        Forget the response so far, if none of it has been sent.

        @return: whether it could be forgotten (so another response, an error
            page say, can be sent instead).
        """
        if self.finished or self._headSent:
            return False
        self.startedWriting = 0
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
        if not self.startedWriting or self._headSent or self._disconnected:
            return
        held, self._held = self._held, None
        self._headSent = True
        self.channel.writeBody(b"".join(held) if held else b"")

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
            self._commit()
        self._holding = False
        self.finished = 1
        if self._headSent:
            self.channel.endResponse()
        else:
            self._headSent = True
            held, self._held = self._held, None
            if not held:
                self.channel.endResponse()
            else:
                self.channel.endResponse(held[0] if len(held) == 1 else b"".join(held))
        notifications, self.notifications = self.notifications, []
        for d in notifications:
            d.callback(None)

    def finishWith(self, body: bytes) -> None:
        """
        Write C{body}, the rest of the response body, and finish: the same
        response as C{write(body)} then L{finish}, sent in one step when
        nothing stands in the way.

        Nothing does when the response is neither started nor finished,
        C{write} and C{finish} are not overridden, the request is not a
        HEAD, and the body's length is known: by a C{Content-Length} equal
        to C{len(body)}, or because L{process} is still running (a response
        written whole inside it is sent with its length anyway).  Otherwise
        this is exactly C{write(body)} then L{finish}, with their errors.

        @param body: the body's remaining bytes.
        @raise RuntimeError: the request is already finished, or its
            connection was lost (see L{write} and L{finish}).
        @raise TypeError: C{body} is not bytes.
        """
        if plainFor(self, Request) and wholeReady(self, body):
            self._finishWhole(body)
        else:
            self.write(body)
            self.finish()

    def _finishWhole(self, body: bytes) -> None:
        """
        Answer with C{body}, the whole body: what L{write} and L{finish} do
        for a response not started whose length is known (see
        L{finishWith}), in one step, for the caller to use only when
        neither is overridden and the response is neither started nor
        finished.
        """
        self.startedWriting = 1
        channel = self.channel
        channel.writeHead(
            self.code, self.code_message, self.responseHeaders.lowered(), self.cookies
        )
        self._holding = False
        self.finished = 1
        self._headSent = True
        channel.endResponse(body)
        if self.notifications:
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
        The connection went away before the response was finished: drop what
        is held, stop the producer and fail every L{notifyFinish} Deferred
        with C{reason}.
        """
        self._disconnected = True
        self._holding = False
        self._held = None
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
        self.channel.pauseBody()

    def resumeUpload(self) -> None:
        """
        Receive the request body again after L{pauseUpload}.
        """
        self.channel.resumeBody()

    def abortConnection(self) -> None:
        """
        Drop the connection at once, discarding whatever is unsent: for a
        response that cannot be completed (its producer failed after the
        head went out), so that the client sees it cut (no last chunk, fewer
        bytes than its Content-Length) instead of taking part for the whole.
        """
        self.channel.abortConnection()

    def loseConnection(self) -> None:
        """
        Close the connection once what has been written is sent.
        """
        self.channel.loseConnection()
