"""
L{ResourceSubscription}: a leaf of the front server's tree that relays each
request under it to a personal server (twisted.web's name and arguments).
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.spread import pb

from twisted_web_re._distrib.connection import PublisherConnection, endpointFor
from twisted_web_re._distrib.limits import RESPONSE_TIMEOUT
from twisted_web_re._distrib.relay import ResponseRelay
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._publish.rendering import NOT_DONE_YET
from twisted_web_re.iweb import IRequest
from twisted_web_re.resource import Resource


class ResourceSubscription(Resource):
    """
    Relays every request for itself and what is below it to the personal
    server listening at C{host}, C{port}.

    @ivar host: a host name or address, or C{"unix"}.
    @ivar port: a TCP port, or with C{host == "unix"} a socket's path.
    @ivar timeout: seconds to wait for each message of the personal server
        (see L{RESPONSE_TIMEOUT}).
    """

    isLeaf = True
    timeout = RESPONSE_TIMEOUT

    def __init__(
        self, host: str, port: int | str, reactor: IReactorTime | None = None
    ) -> None:
        """
        @param host: a host name or address, or C{"unix"}.
        @param port: a TCP port, or with C{host == "unix"} a socket's path.
        @param reactor: the reactor to connect and time with; the global
            one when L{None}.
        """
        super().__init__()
        self.host = host
        self.port = port
        self._reactor = resolveReactor(reactor)
        self.connection = PublisherConnection(endpointFor(self._reactor, host, port))

    def render(self, request: IRequest) -> int:
        """
        Relay C{request}: the personal server's response is written to it
        as it comes.

        @return: L{NOT_DONE_YET}.
        """
        relay = ResponseRelay(request, self._reactor, self.timeout)
        publisher = self.connection.getPublisher()

        def send(root: pb.RemoteReference) -> None:
            if relay.over:
                return
            relay.watch(root)
            root.callRemote("request", relay.copy()).addCallbacks(
                relay.answered, relay.failed
            )

        def unreachable(reason: Failure) -> None:
            relay.failed(reason)

        publisher.addCallbacks(send, unreachable)
        return NOT_DONE_YET
