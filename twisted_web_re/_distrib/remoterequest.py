"""
L{Request}: a request relayed by a front server, as the personal server
that answers it sees it.

It is unjellied from the front's copy (checked by
L{readRequestState}), then attached to a L{RelayStream}, which feeds it its
body as it is read from the front, and processed by
the personal server's Site like any request: the same traversal, rendering,
sessions and error pages.  It stands where the front mounted the personal
server: C{prepath} holds the front's segments (C{alice.twistd}), so URLs it
makes and its session cookie's path are the client's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.spread import pb

from twisted_web_re._distrib.stream import RelayStream
from twisted_web_re._distrib.wire import REQUEST_TYPE, RequestState, readRequestState
from twisted_web_re.server import Request as SiteRequest

if TYPE_CHECKING:
    from twisted_web_re._publish.site import Site
    from twisted_web_re.resource import IResource


class Request(pb.RemoteCopy, SiteRequest):
    """
    A request received from a front server over PB (twisted.web's
    C{distrib.Request}).

    @ivar relayed: the front's copy of the request, checked.
    """

    relayed: RequestState
    _locatedFromHead = False

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
        Start answering: the stream gives this request its head and its
        body as it reads it from the front, then has C{site} process it.

        @param site: the personal server's Site.
        @param reactor: the reactor timing the request.
        @return: the stream carrying the request.
        """
        stream = RelayStream(self.relayed, site, reactor)
        SiteRequest.__init__(self, stream)
        stream.attach(self)
        stream.start()
        return stream

    def locateFromHead(self) -> IResource:
        """
        Find the resource from where the front left off (its C{prepath} and
        C{postpath}), before the body is read: for a Site with
        C{locateBeforeBody}.

        @return: the resource located.
        """
        self._locatedFromHead = True
        return self.locateAt(self.relayed.prepath, self.relayed.postpath)

    def process(self) -> None:
        """
        Locate the resource from where the front left off, unless it was
        located from the head already, then render it as a Site's request
        does.
        """
        if not self._locatedFromHead:
            try:
                self.locateAt(self.relayed.prepath, self.relayed.postpath)
            except Exception:
                self.processingFailed(Failure())
                return
            if self.content is not None:
                self.content.seek(0)
        super().process()


pb.setUnjellyableForClass(REQUEST_TYPE.decode("ascii"), Request)
