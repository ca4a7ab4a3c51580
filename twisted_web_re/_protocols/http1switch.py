"""
How the HTTP/1.1 channel hands its connection to another protocol, through
its one C{SWITCHED} state: after a C{101} the application committed
(WebSocket, say); on the first bytes of a connection, to HTTP/2 when TLS
chose C{h2} by ALPN or a cleartext client sends the HTTP/2 preface (prior
knowledge); and to HTTP/2 when the first request of a cleartext connection
asks for it with C{Upgrade: h2c}.

Each of these is decided once, when a connection starts: the requests that
follow on an HTTP/1.1 connection pay nothing for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IDelayedCall, IProtocol, IPushProducer
from twisted.logger import Logger

from twisted_web_re._protocols.http1state import (
    IDLE,
    OPENING,
    RESPONDING,
    SWITCHED,
    State,
)
from twisted_web_re._protocols.negotiation import (
    PREFACE,
    SWITCHING_TO_H2C,
    HTTP2Protocol,
    Negotiation,
    h2cSettings,
    isPrefacePrefix,
)
from twisted_web_re._wire.parser import NO_BODY, RequestHead
from twisted_web_re.http_headers import Headers

if TYPE_CHECKING:
    from twisted.internet.protocol import Factory

    from twisted_web_re._protocols.forwarded import Network
    from twisted_web_re._protocols.http1 import AccessLog, BodyRefusal, RequestFactory
    from twisted_web_re._protocols.output import Output
    from twisted_web_re._wire.limits import Limits
    from twisted_web_re._wire.writer import ResponseWriter
    from twisted_web_re.iweb import IStreamRequest

_log = Logger()


class ProtocolSwitching:
    """
    The part of L{twisted_web_re._protocols.http1.HTTPChannel} that hands
    the connection over to another protocol.

    @ivar _negotiation: the ways to HTTP/2 that are on, or C{None} for an
        HTTP/1.1-only channel.
    """

    _negotiation: Negotiation | None = None

    if TYPE_CHECKING:
        # The channel's own, used here.
        transport: Any
        requestFactory: RequestFactory | None
        factory: Factory | None
        trustedProxies: tuple[Network, ...]
        _state: State
        _buffer: bytes
        _request: IStreamRequest | None
        _writer: ResponseWriter
        _out: Output
        _readPaused: bool
        _producer: IPushProducer | None
        _switched: IProtocol | HTTP2Protocol | None
        _timer: IDelayedCall | None
        _handshaken: bool
        _limits: Limits
        _reactor: Any
        _accessLog: AccessLog | None
        _refuseBody: BodyRefusal | None

        def _setState(self, state: State) -> None: ...
        def _startRequest(self, head: RequestHead) -> None: ...
        def dataReceived(self, data: bytes) -> None: ...
        def _checkScheme(self, target: bytes) -> None: ...
        def isSecure(self) -> bool: ...

    def switchProtocol(self, protocol: IProtocol) -> None:
        """
        Hand the connection to C{protocol} (WebSocket, say): the request
        being answered committed a C{101 Switching Protocols} head (or a 2xx
        answer to C{CONNECT}, sent without framing fields), which is sent
        now; then C{protocol} is connected to the transport and given
        the bytes the client sent after that request, already read.  From
        then on the channel only passes input and the connection's loss on.

        The request is logged, and is no longer the channel's: what it
        writes or finishes afterwards is ignored.

        @raise RuntimeError: no request is being answered (its body all
            read) with a committed C{101} head, or 2xx head to C{CONNECT}.
        """
        request = self._request
        writer = self._writer
        # A 2xx answer to CONNECT opens a tunnel too (RFC 9110 section 9.3.6).
        tunnel = (
            request is not None
            and request.method == b"CONNECT"
            and 200 <= writer.code < 300
        )
        if (
            self._state is not RESPONDING
            or request is None
            or not (writer.code == 101 or tunnel)
        ):
            raise RuntimeError(
                f"cannot switch protocols in state {self._state.name} "
                f"with response code {writer.code}"
            )
        if writer.pending:
            self._out.send(writer.tunnelHead() if tunnel else writer.head(None))
        self._request = None
        self._producer = None
        if self._accessLog is not None:
            self._accessLog(request)
        buffered, self._buffer = self._buffer, b""
        self._handOver(protocol, buffered)

    def _handOver(self, protocol: IProtocol | HTTP2Protocol, buffered: bytes) -> None:
        """
        Move to C{SWITCHED}: send what the channel wrote, stop its timer and
        its hold on the transport, connect C{protocol} to the transport and
        give it C{buffered}, the bytes already read for it.
        """
        self._out.uncork()
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        self._setState(SWITCHED)
        self._switched = protocol
        transport = self.transport
        transport.unregisterProducer()
        if self._readPaused:
            self._readPaused = False
            transport.resumeProducing()
        protocol.makeConnection(transport)
        if buffered:
            protocol.dataReceived(buffered)

    # -- HTTP/2 ---------------------------------------------------------------

    def _http2(self) -> HTTP2Protocol:
        """
        Make the HTTP/2 connection this connection becomes, configured as
        the channel is.
        """
        negotiation = self._negotiation
        assert negotiation is not None
        connection = negotiation.connect()
        connection.requestFactory = self.requestFactory
        connection.factory = self.factory
        connection.site = getattr(self, "site", None)
        connection.configure(
            limits=self._limits,
            reactor=self._reactor,
            accessLog=self._accessLog,
            refuseBody=self._refuseBody,
            trustedProxies=self.trustedProxies,
        )
        return connection

    def handshakeCompleted(self) -> None:
        """
        The TLS handshake has ended well (Twisted's TLS layer says so before
        any data): a later TLS error is no handshake failure; and if the
        client chose C{h2} by ALPN, the connection is HTTP/2 from now on.
        """
        self._handshaken = True
        negotiation = self._negotiation
        if (
            negotiation is not None
            and negotiation.h2
            and self._state is OPENING
            and getattr(self.transport, "negotiatedProtocol", None) == b"h2"
        ):
            self._handOver(self._http2(), b"")

    def _opening(self, data: bytes) -> None:
        """
        The first bytes of the connection (with any held before them):
        decide whether it is HTTP/2 by prior knowledge (RFC 9113 section
        3.3), holding them while they are the start of the preface (at most
        23 bytes); otherwise serve HTTP/1.1 from them on.
        """
        negotiation = self._negotiation
        if negotiation is not None and negotiation.cleartext and not self.isSecure():
            if negotiation.h2cPriorKnowledge:
                if len(data) < len(PREFACE) and isPrefacePrefix(data):
                    self._buffer = data
                    return
                if data.startswith(PREFACE):
                    self._handOver(self._http2(), data)
                    return
            if negotiation.h2cUpgrade:
                # This one head may ask for h2c; the instance's own
                # attribute shadows the method until then, so that later
                # requests pay nothing for it.
                vars(self)["_startRequest"] = self._startFirstRequest
        self._setState(IDLE)
        self.dataReceived(data)

    def _startFirstRequest(self, head: RequestHead) -> None:
        """
        Start the first request of a cleartext connection: an h2c Upgrade
        (RFC 7540 section 3.2) without a body is answered C{101} and by
        HTTP/2, as stream 1; any other request, or one with a body (which
        would have to be read in HTTP/1.1 first), in HTTP/1.1 as usual.
        """
        del vars(self)["_startRequest"]
        settings = None
        if head.bodyLength == NO_BODY and head.version == b"HTTP/1.1":
            settings = h2cSettings(head.headers)
        if settings is None:
            self._startRequest(head)
            return
        if head.target[:1] != b"/":
            self._checkScheme(head.target)
        connection = self._http2()
        connection.upgradedFrom(
            settings, head.method, head.target, Headers.fromLowered(head.headers)
        )
        self._setState(RESPONDING)
        self._out.send(SWITCHING_TO_H2C)
        self._handOver(connection, b"")
