"""
Interfaces of the web server, declared with C{zope.interface}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.interfaces import IAddress, IPullProducer, IPushProducer
from twisted.python.failure import Failure
from twisted.python.urlpath import URLPath
from zope.interface import Attribute, Interface
from zope.interface.interface import InterfaceClass

from twisted_web_re.http_headers import Headers


class IHTTPRequest(Interface):
    """
    An HTTP request and the means to answer it, as the protocol level
    (L{twisted_web_re.http.Request}) offers them: all of L{IRequest} but
    where the request stands in a tree of resources.  The access log, and
    a protocol through L{IStreamRequest}, see a request as this.
    """

    method = Attribute("The request method, as bytes.")
    uri = Attribute("The full request-target, as bytes.")
    path = Attribute("The path part of the request-target, as bytes.")
    args = Attribute("Query arguments: bytes name to list of bytes values.")
    clientproto = Attribute("The request's HTTP version, as bytes.")
    requestHeaders = Attribute("The request's header fields, a Headers.")
    responseHeaders = Attribute("The response's header fields, a Headers.")
    content = Attribute("The request body, a file positioned at 0.")
    code = Attribute("The response status code.")
    sentLength = Attribute("How many body bytes have been sent.")

    def getHeader(key: bytes | str) -> bytes | str | None:
        """Return the last value of a request header, or None."""

    def getAllHeaders() -> dict[bytes, bytes]:
        """Return every request header, lower-cased name to last value."""

    def getCookie(key: bytes) -> bytes | None:
        """Return the value of a cookie the client sent, or None."""

    def getUser() -> bytes:
        """Return the user name of Basic credentials, or empty bytes."""

    def getPassword() -> bytes:
        """Return the password of Basic credentials, or empty bytes."""

    def getClientAddress() -> IAddress:
        """
        Return the address of the client: the peer, or the client a trusted
        proxy forwarded for.
        """

    def getClientIP() -> str | None:
        """
        Return the client's IP address as text (see L{getClientAddress}), or
        None when it is not an IPv4 or IPv6 address.
        """

    def getHost() -> IAddress:
        """Return the local address the request arrived on."""

    def getRequestHostname() -> bytes:
        """
        Return the host name the client asked for (without its port): from
        an absolute-form request-target, else the Host field, else the local
        address.
        """

    def setHost(host: bytes | str, port: int, ssl: int | bool = 0) -> None:
        """
        Make the request appear addressed to host:port (over TLS if ssl),
        for a server behind a proxy.
        """

    def isSecure() -> bool:
        """Return whether the request arrived over TLS."""

    def setResponseCode(code: int, message: bytes | None = None) -> None:
        """Set the response status code and reason phrase."""

    def setHeader(name: bytes | str, value: bytes | str) -> None:
        """Set a response header, replacing earlier values."""

    def addCookie(k: bytes | str, v: bytes | str) -> None:
        """Send a cookie with the response."""

    def redirect(url: bytes | str) -> None:
        """Make the response a redirect to url."""

    def setLastModified(when: float) -> bytes | None:
        """Set Last-Modified; return CACHED if the client's copy is current."""

    def setETag(etag: bytes | str) -> bytes | None:
        """Set ETag; return CACHED if the client's copy is current."""

    def write(data: bytes) -> None:
        """Write part of the response body."""

    def finish() -> None:
        """End the response."""

    def finishWith(body: bytes) -> None:
        """
        Write C{body} as the rest of the response body and end the response:
        the same response as C{write(body)} then C{finish()}, sent in one step
        where nothing stands in the way.
        """

    def notifyFinish() -> object:
        """Return a Deferred firing on finish, failing on connection loss."""

    def registerProducer(
        producer: IPushProducer | IPullProducer, streaming: bool
    ) -> None:
        """Register a producer of the response body."""

    def unregisterProducer() -> None:
        """Unregister the response body producer."""


class IRequest(IHTTPRequest):
    """
    A request to a L{Site <twisted_web_re.server.Site>}, as resources are
    given it: an L{IHTTPRequest} that also knows where it stands in the
    site's tree of resources, its URLs, and its client's session.
    """

    prepath = Attribute(
        "The path segments traversal has consumed, a list of bytes (decoded)."
    )
    postpath = Attribute("The path segments still to consume, a list of bytes.")

    def prePathURL() -> bytes:
        """Return the absolute URL of the resource being rendered."""

    def URLPath() -> URLPath:
        """Return L{prePathURL} as a L{twisted.python.urlpath.URLPath}."""

    def rememberRootURL() -> None:
        """Remember the URL of the resource before this one as the app root."""

    def getRootURL() -> bytes | None:
        """Return the URL L{rememberRootURL} remembered, if any."""

    def getSession(
        sessionInterface: InterfaceClass | None = None,
        forceNotSecure: bool = False,
    ) -> Any:
        """
        Return the client's session, made (with its cookie) if it has none;
        with C{sessionInterface}, that session's component for it.
        """


class IAccessLogFormatter(Interface):
    """
    A callable that formats one access-log line.
    """

    def __call__(timestamp: str, request: IHTTPRequest) -> str:
        """Return the log line for request, finished at timestamp."""


class RequestBodyError(Exception):
    """
    A request body cannot be taken (stored, say): raised by
    L{IStreamRequest.gotLength} or L{IStreamRequest.handleContentChunk}.  The
    protocol answers C{status} at once, unless part of a response has already
    gone out, and stops reading that stream.

    @ivar status: the status to answer with.
    @ivar reason: a fixed explanation, safe to send to the client.
    @ivar problem: the detailed explanation, for the server's log.
    """

    def __init__(self, status: int, reason: str, problem: str) -> None:
        super().__init__(status, reason, problem)
        self.status = status
        self.reason = reason
        self.problem = problem


class IStream(Interface):
    """
    The stream contract, carrier's side: what carries one request and its
    response (an HTTP/1.1 connection answering it, an HTTP/2 stream, a test
    double).  The request knows its protocol only through this: it never
    sees wire bytes, and never decides how a body is delimited.

    The response goes out as a head (L{writeHead}), body data
    (L{writeBody}) and an end (L{endResponse}); the head is sent with the
    first body data or the end, so that a response given whole can be sent
    with its length, in one piece.

    @ivar transport: the connection's transport, for code that asks for it
        (C{None} where there is none).
    @ivar bodyMemoryLimit: bytes of request body the request may keep in
        memory before it stores the rest in a file.
    @ivar trustedProxies: networks whose forwarding headers name the real
        client (see L{twisted_web_re._protocols.forwarded}).
    @ivar chunked: whether the response body goes out in chunks (HTTP/1.1
        only; false elsewhere).
    @ivar reactor: the reactor timing this stream, an C{IReactorTime}
        provider (never C{None} once the stream is connected): what times
        the turns of a request's producers too.
    @ivar site: the L{Site <twisted_web_re.server.Site>} whose requests the
        stream carries, or C{None} for a stream no Site made.
    """

    transport = Attribute("The transport, or None.")
    reactor = Attribute("The reactor timing this stream, an IReactorTime.")
    site = Attribute("The Site whose requests this stream carries, or None.")
    bodyMemoryLimit = Attribute("Bytes of body kept in memory, an int.")
    trustedProxies = Attribute("Trusted proxy networks, a tuple.")
    chunked = Attribute("Whether the response body is chunked, a bool.")

    def getPeer() -> IAddress:
        """Return the address of the connection's other end."""

    def getHost() -> IAddress:
        """Return the local address the request arrived on."""

    def isSecure() -> bool:
        """Return whether the request arrived over TLS."""

    def pauseBody() -> None:
        """
        Deliver no more request body until L{resumeBody}: back-pressure from
        a request that cannot take its body as fast as it arrives.  The
        body's timeout does not run meanwhile.
        """

    def resumeBody() -> None:
        """Deliver the request body again, starting with what is buffered."""

    def writeHead(
        code: int,
        reason: bytes,
        headers: Mapping[bytes, list[bytes]],
        cookies: Sequence[bytes],
    ) -> None:
        """
        Commit the response head: status, reason phrase, fields by
        lower-cased name, and C{Set-Cookie} values (a sequence of bytes).
        The stream takes the head now (later changes to C{headers} have no
        effect) and sends it with the first L{writeBody} or L{endResponse};
        until then a second call replaces it.  The stream may add the fields
        its protocol needs (C{Date}, C{Server}, framing) and ignores the
        application's framing fields where its protocol decides them.
        """

    def writeBody(data: bytes) -> None:
        """
        Send C{data} as the next part of the response body, after the head if
        it is still waiting (then framed for a body of unknown length).
        Empty C{data} sends a waiting head alone.  The stream counts what it
        sends in its request's C{sentLength}: nothing for a response that has
        no body (a HEAD, a 304), nothing past a declared length.
        """

    def endResponse(last: bytes = b"") -> None:
        """
        Send C{last} as the end of the response body and end the response.
        When the head is still waiting, C{last} is the whole body: its length
        is known, and head and body go out together.  The stream then moves
        on (to its next request, or to its close), having counted what it
        sent as L{writeBody} does.  Calls after the stream was given up (or
        handed to another protocol) do nothing.
        """

    def registerProducer(
        producer: IPushProducer | IPullProducer, streaming: bool
    ) -> None:
        """
        Make C{producer} the source of the response body: a streaming one
        is paused and resumed as the client reads; a pull one is asked for
        more whenever the stream can take it.

        @raise RuntimeError: a producer is already registered.
        """

    def unregisterProducer() -> None:
        """Forget the producer registered with L{registerProducer}."""

    def abortConnection() -> None:
        """
        Give up at once, discarding what is unsent, so that the client sees
        the response cut rather than complete.
        """

    def loseConnection() -> None:
        """End the connection once what has been written is sent."""


class IStreamRequest(IHTTPRequest):
    """
    The stream contract, request's side: an L{IHTTPRequest} that a protocol
    can feed.  What a protocol tells the request it carries, in this
    order: L{headReceived}, L{gotLength}, any number of
    L{handleContentChunk}, L{requestReceived}; L{connectionLost} at any
    time the stream is given up before the request has finished.  The protocol
    makes the request with the request factory, given the L{IStream}.

    Its L{IHTTPRequest.sentLength} is kept by the stream (see
    L{IStream.writeBody}), which may lower it to what really left the
    process when the connection is lost.

    @ivar finished: true once the request has ended its response.
    @ivar startedWriting: true once the response head is committed.
    """

    finished = Attribute("Whether the response has ended.")
    startedWriting = Attribute("Whether the response head is committed.")

    def headReceived(
        method: bytes, target: bytes, version: bytes, headers: Headers
    ) -> None:
        """
        The request head arrived: its method, request-target, version label
        (C{b"HTTP/1.1"}) and header fields (a L{Headers}).
        """

    def gotLength(length: int | None) -> None:
        """
        A body of C{length} bytes follows (C{None}: unknown); C{0}: none.

        @raise RequestBodyError: the body cannot be stored.
        """

    def handleContentChunk(data: bytes) -> None:
        """
        The next piece of the request body arrived.

        @raise RequestBodyError: it cannot be stored.
        """

    def requestReceived(command: bytes, path: bytes, version: bytes) -> None:
        """The whole request has arrived: answer it."""

    def connectionLost(reason: Failure) -> None:
        """The stream was given up before the response ended."""
