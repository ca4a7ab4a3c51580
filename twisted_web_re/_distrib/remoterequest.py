"""
L{Request}: a request relayed by a front server, as the personal server
that answers it sees it.

It is unjellied from the front's copy (checked by
L{readRequestState}), then attached to a L{RelayStream} and processed by
the personal server's Site like any request: the same traversal, rendering,
sessions and error pages.  It stands where the front mounted the personal
server: C{prepath} holds the front's segments (C{alice.twistd}), so URLs it
makes and its session cookie's path are the client's.
"""

from __future__ import annotations

from io import BytesIO
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb

from twisted_web_re._distrib.limits import PIECE_SIZE
from twisted_web_re._distrib.stream import RelayStream
from twisted_web_re._distrib.wire import REQUEST_TYPE, RequestState, readRequestState
from twisted_web_re.server import Request as SiteRequest

if TYPE_CHECKING:
    from twisted_web_re._publish.site import Site

_log = Logger()


class Request(pb.RemoteCopy, SiteRequest):
    """
    A request received from a front server over PB (twisted.web's
    C{distrib.Request}).

    @ivar relayed: the front's copy of the request, checked.
    """

    relayed: RequestState

    def unjellyFor(self, unjellier: Any, jellyList: list[object]) -> Request:
        """
        Rebuild the request from its jelly, checking its state always (PB's
        own L{pb.RemoteCopy.unjellyFor} would set an unchecked state when
        unjellied outside a broker).

        @raise twisted.spread.jelly.InsecureJelly: it is not a request.
        """
        self.setCopyableState(unjellier.unjelly(jellyList[1]))
        return self

    def setCopyableState(self, state: object) -> None:
        """
        Keep the front's copy of the request, checked.

        @raise twisted.spread.jelly.InsecureJelly: it is not a request.
        """
        self.relayed = readRequestState(state)

    def attach(self, site: Site, reactor: IReactorTime) -> RelayStream:
        """
        Start answering: read the rest of the body if the copy did not hold
        it all, then process the request with C{site}.

        @param site: the personal server's Site.
        @param reactor: the reactor timing the request.
        @return: the stream carrying the request.
        """
        relayed = self.relayed
        stream = RelayStream(relayed, site, reactor)
        SiteRequest.__init__(self, stream)
        stream.attach(self)
        self.headReceived(
            relayed.method, relayed.uri, relayed.clientproto, relayed.headers
        )
        if relayed.bodyLength == len(relayed.inlineBody):
            self.content = BytesIO(relayed.inlineBody)
            self._received()
        else:
            self.gotLength(relayed.bodyLength)
            self.storeContent(relayed.inlineBody)
            self._readRelayedBody(relayed.bodyLength - len(relayed.inlineBody))
        return stream

    def _readRelayedBody(self, remaining: int) -> None:
        """Ask the front for the next piece of the body, up to the end."""
        if remaining <= 0:
            self._received()
            return
        asked = min(remaining, PIECE_SIZE)

        def arrived(data: object) -> None:
            if type(data) is not bytes or not 0 < len(data) <= asked:
                raise pb.Error(f"the front sent {type(data).__name__} as body")
            self.storeContent(data)
            self._readRelayedBody(remaining - len(data))

        d = self.relayed.remote.callRemote("readBody", asked)
        d.addCallback(arrived)
        d.addErrback(self._bodyLost)

    def _bodyLost(self, reason: Failure) -> None:
        _log.info(
            "the body of {request!r} could not be read: {reason}",
            request=self,
            reason=reason.getErrorMessage(),
        )
        self.connectionLost(reason)

    def _received(self) -> None:
        relayed = self.relayed
        self.requestReceived(relayed.method, relayed.uri, relayed.clientproto)

    def process(self) -> None:
        """
        Locate the resource from where the front left off (its C{prepath}
        and C{postpath}), then render it as a Site's request does.
        """
        self.site = site = self.channel.site
        self.prepath = list(self.relayed.prepath)
        self.postpath = list(self.relayed.postpath)
        try:
            self._located = site.getResourceFor(self)
        except Exception:
            self.processingFailed(Failure())
            return
        super().process()


pb.setUnjellyableForClass(REQUEST_TYPE.decode("ascii"), Request)
