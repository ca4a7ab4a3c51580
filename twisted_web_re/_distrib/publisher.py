"""
L{ResourcePublisher}: what a personal server publishes over PB, answering
each request a front server relays with its own Site.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from twisted.internet.interfaces import IReactorTime
from twisted.spread import pb

from twisted_web_re._distrib.remoterequest import Request
from twisted_web_re._distrib.stream import RelayStream
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._publish.rendering import NOT_DONE_YET

if TYPE_CHECKING:
    from twisted_web_re._publish.site import Site


class ResourcePublisher(pb.Root):
    """
    The PB root of a personal server (twisted.web's C{ResourcePublisher}):
    C{request} answers a relayed request with L{site}.

    @ivar site: the Site whose resources answer.
    """

    def __init__(self, site: Site, reactor: IReactorTime | None = None) -> None:
        """
        @param site: the Site whose resources answer.
        @param reactor: the reactor timing the requests; the global one when
            L{None}.
        """
        self.site = site
        self._reactor = reactor

    def getPerspectiveNamed(self, name: object) -> ResourcePublisher:
        """@return: this publisher, whatever the name, as twisted.web's does."""
        return self

    def remote_request(self, request: object) -> RelayStream | int:
        """
        Answer C{request}: its response is sent to the front's relay as it
        is made.

        @param request: the front's copy of its request.
        @return: the request's stream, for the front to say its client went
            away; L{NOT_DONE_YET} to a twisted.web front, which expects it.
        @raise pb.Error: C{request} is not a request.
        """
        if not isinstance(request, Request):
            raise pb.Error("a request was expected")
        stream = request.attach(self.site, resolveReactor(self._reactor))
        if request.relayed.relayVersion is None:
            return NOT_DONE_YET
        return stream
