"""
L{ResourceSubscription}: a leaf of the front server's tree that relays each
request under it to a personal server (twisted.web's name and arguments),
over TCP, TLS or a UNIX socket.
"""

from __future__ import annotations

from typing import cast

from twisted.internet.endpoints import wrapClientTLS
from twisted.internet.interfaces import IOpenSSLClientConnectionCreator, IReactorTime
from twisted.python.failure import Failure
from twisted.spread import pb
from zope.interface import implementer

from twisted_web_re import http
from twisted_web_re._distrib.connection import PublisherConnection, endpointFor
from twisted_web_re._distrib.limits import INLINE_BODY_LIMIT, RESPONSE_TIMEOUT
from twisted_web_re._distrib.relay import ResponseRelay
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._publish.rendering import NOT_DONE_YET
from twisted_web_re.iweb import IRequest
from twisted_web_re.resource import IResource, IStreamingUpload, Resource


@implementer(IResource, IStreamingUpload)
class ResourceSubscription(Resource):
    """
    Relays every request for itself and what is below it to the personal
    server listening at C{host}, C{port}.

    A request body is relayed as it arrives from the client when the front's
    Site locates resources from the request head (C{locateBeforeBody}, as
    C{twistd web-re --user} does), paced by the personal server's reading;
    else once it has all arrived.

    @ivar host: a host name or address, or C{"unix"}.
    @ivar port: a TCP port, or with C{host == "unix"} a socket's path.
    @ivar contextFactory: with TLS, what checks the personal server's
        certificate; L{None} for plain TCP or a UNIX socket.
    @ivar timeout: seconds to wait for each message of the personal server
        (see L{RESPONSE_TIMEOUT}).
    """

    isLeaf = True
    timeout = RESPONSE_TIMEOUT

    def __init__(
        self,
        host: str,
        port: int | str,
        reactor: IReactorTime | None = None,
        contextFactory: IOpenSSLClientConnectionCreator | None = None,
    ) -> None:
        """
        @param host: a host name or address, or C{"unix"}.
        @param port: a TCP port, or with C{host == "unix"} a socket's path.
        @param reactor: the reactor to connect and time with; the global
            one when L{None}.
        @param contextFactory: to reach the personal server over TLS, the
            client's TLS settings, made by
            L{twisted.internet.ssl.optionsForClientTLS} with the host name
            its certificate must name (and a C{trustRoot}, for a certificate
            of your own authority); a personal server whose certificate it
            does not trust is not relayed to (502).
        @raise ValueError: C{contextFactory} is given with C{host == "unix"}.
        """
        super().__init__()
        if contextFactory is not None and host == "unix":
            raise ValueError("TLS is for TCP, not for a UNIX socket")
        self.host = host
        self.port = port
        self.contextFactory = contextFactory
        self._reactor = resolveReactor(reactor)
        endpoint = endpointFor(self._reactor, host, port)
        where = f"{host}:{port}"
        if contextFactory is not None:
            endpoint = wrapClientTLS(contextFactory, endpoint)
            where = f"tls:{where}"
        self.connection = PublisherConnection(endpoint, where)
        self._uploads: dict[object, ResponseRelay] = {}

    def uploadStarted(self, request: http.Request, length: int | None) -> None:
        """
        The front's Site located this subscription from the head of a
        request with a body: relay the body as it arrives.  A body of known
        length small enough to travel with the request is gathered first;
        a larger one, or a chunked one, is relayed at once.

        @return: L{None}: the body is always taken.
        """
        relay = ResponseRelay(cast(IRequest, request), self._reactor, self.timeout)
        relay.streamBody(length)
        self._uploads[request] = relay

        def forget(result: object) -> None:
            self._uploads.pop(request, None)

        request.notifyFinish().addBoth(forget)
        if length is None or length > INLINE_BODY_LIMIT:
            self._send(relay)

    def uploadReceived(self, request: http.Request, data: bytes) -> None:
        """The next piece of a body being relayed as it arrives."""
        relay = self._uploads.get(request)
        if relay is not None:
            relay.bodyReceived(data)

    def render(self, request: IRequest) -> int:
        """
        Relay C{request}: the personal server's response is written to it
        as it comes.

        @return: L{NOT_DONE_YET}.
        """
        relay = self._uploads.pop(request, None)
        if relay is not None:
            relay.bodyEnded()
            if not relay.sent:
                self._send(relay)
            return NOT_DONE_YET
        relay = ResponseRelay(request, self._reactor, self.timeout)
        self._send(relay)
        return NOT_DONE_YET

    def _send(self, relay: ResponseRelay) -> None:
        """Send the request's copy to the personal server, connecting first
        if need be."""
        relay.sent = True
        publisher = self.connection.getPublisher()

        def send(root: pb.RemoteReference) -> None:
            if relay.over:
                return
            relay.watch(root)
            try:
                sent = root.callRemote("request", relay.copy())
            except Exception:
                relay.failed(Failure())
                return
            sent.addCallbacks(relay.answered, relay.failed)

        def unreachable(reason: Failure) -> None:
            relay.unreachable()

        publisher.addCallbacks(send, unreachable)
