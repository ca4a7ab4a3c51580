"""
Which protocol a connection speaks: the ways an HTTP/1.1 connection may
become HTTP/2 (ALPN C{h2} over TLS, the cleartext preface of a client with
prior knowledge, C{Upgrade: h2c}), each switchable, and the HTTP/2
connections a factory's connections became, so that they can be shut down
gracefully together.

RFC 9113 section 3 (starting HTTP/2) and RFC 7540 section 3.2 (the h2c
Upgrade, which RFC 9113 deprecates but clients such as curl still send).
"""

from __future__ import annotations

import binascii
import re
from base64 import urlsafe_b64decode
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorTime, ITransport
from twisted.internet.protocol import Factory
from twisted.python.failure import Failure

from twisted_web_re._protocols.forwarded import Network
from twisted_web_re._wire.limits import Limits
from twisted_web_re.http_headers import Headers

if TYPE_CHECKING:
    from twisted_web_re._protocols.http1 import AccessLog, BodyRefusal, RequestFactory

#: The client connection preface (RFC 9113 section 3.4): what a client
#: speaking HTTP/2 sends first.
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

#: What a server answers to an h2c Upgrade it accepts (RFC 7540 section 3.2).
SWITCHING_TO_H2C = (
    b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
)

#: Bytes of an C{HTTP2-Settings} value accepted: a SETTINGS payload is six
#: bytes a setting, and a client has no reason to send more than a few
#: dozen settings.
_MAX_SETTINGS_FIELD = 1024

#: The base64url alphabet (RFC 4648 section 5), padding allowed though
#: RFC 7540 section 3.2.1 omits it.
_BASE64URL = re.compile(rb"[A-Za-z0-9_-]*={0,2}")


class HTTP2Protocol(Protocol):
    """
    What negotiation needs of an HTTP/2 connection (the package's
    C{HTTP2Connection} is one): it is configured as the HTTP/1.1 channel
    was, told of an h2c Upgrade, connected to the transport, then given the
    bytes that arrive.
    """

    requestFactory: RequestFactory | None
    factory: Factory | None
    site: object | None

    def configure(
        self,
        *,
        limits: Limits,
        reactor: IReactorTime | None,
        accessLog: AccessLog | None,
        refuseBody: BodyRefusal | None,
        trustedProxies: tuple[Network, ...],
    ) -> None:
        """Take the settings the channel had (see C{HTTPChannel.configure})."""

    def upgradedFrom(
        self, settings: bytes, method: bytes, target: bytes, headers: Headers
    ) -> None:
        """Answer, as stream 1, the HTTP/1.1 request that asked for h2c."""

    def makeConnection(self, transport: ITransport) -> None:
        """Take the connection over."""

    def dataReceived(self, data: bytes) -> None:
        """Read bytes from the client."""

    def connectionLost(self, reason: Failure) -> None:
        """The connection is gone."""

    def shutDown(self, deadline: float) -> Deferred[None]:
        """
        Close gracefully within C{deadline} seconds; fire once closed.  Asked
        before the connection is made, it takes effect once it is.
        """

    def notifyClosed(self) -> Deferred[None]:
        """Fire once the connection is lost."""


def makeHTTP2Connection() -> HTTP2Protocol:
    """
    Make one of the package's HTTP/2 connections.

    The HTTP/2 core is imported when a first connection becomes HTTP/2: it
    imports the HTTP/1.1 channel's module, which imports this one, and it
    loads the C{h2} library, which a server that never speaks HTTP/2 need
    not load.
    """
    from twisted_web_re._protocols.http2 import HTTP2Connection

    return HTTP2Connection()


def isPrefacePrefix(data: bytes) -> bool:
    """
    @param data: the first bytes of a connection, fewer than the preface's.
    @return: whether they are the start of the HTTP/2 client preface, so
        that more must be read to tell.
    """
    return PREFACE.startswith(data)


def _tokens(values: list[bytes] | None) -> set[bytes]:
    """The lower-cased tokens of a comma-separated header's values."""
    if not values:
        return set()
    return {
        token.strip(b" \t").lower() for value in values for token in value.split(b",")
    }


def h2cSettings(headers: dict[bytes, list[bytes]]) -> bytes | None:
    """
    Tell whether a request head (without a body) asks for h2c as RFC 7540
    section 3.2 has it: C{Upgrade} naming C{h2c}, exactly one
    C{HTTP2-Settings} of valid base64url (section 3.2.1), and both named in
    C{Connection}.

    @param headers: the head's fields, names lower-cased.
    @return: the C{HTTP2-Settings} value; C{None} if the head does not ask,
        or asks in a way that must be ignored (then it is answered in
        HTTP/1.1).
    """
    if b"h2c" not in _tokens(headers.get(b"upgrade")):
        return None
    if not {b"upgrade", b"http2-settings"} <= _tokens(headers.get(b"connection")):
        return None
    settings = headers.get(b"http2-settings")
    if settings is None or len(settings) != 1:
        return None
    value = settings[0].strip(b" \t")
    if len(value) > _MAX_SETTINGS_FIELD:
        return None
    if _BASE64URL.fullmatch(value) is None:
        return None
    try:
        payload = urlsafe_b64decode(value + b"=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None
    if len(payload) % 6:
        return None
    return value


class Negotiation:
    """
    The ways a factory's HTTP/1.1 connections may become HTTP/2, and the
    HTTP/2 connections they became.

    @ivar h2: whether a TLS client may choose C{h2} by ALPN.
    @ivar h2cPriorKnowledge: whether a cleartext connection starting with
        the HTTP/2 preface is served in HTTP/2.
    @ivar h2cUpgrade: whether the first request of a cleartext connection
        may ask for h2c with C{Upgrade}.
    """

    def __init__(
        self,
        *,
        h2: bool = True,
        h2cPriorKnowledge: bool = True,
        h2cUpgrade: bool = False,
        connectionClass: Callable[[], HTTP2Protocol] | None = None,
    ) -> None:
        """
        @param h2: see L{h2}.
        @param h2cPriorKnowledge: see L{h2cPriorKnowledge}.
        @param h2cUpgrade: see L{h2cUpgrade}.
        @param connectionClass: makes each HTTP/2 connection; the package's
            by default.
        """
        self.h2 = h2
        self.h2cPriorKnowledge = h2cPriorKnowledge
        self.h2cUpgrade = h2cUpgrade
        self._connectionClass = connectionClass or makeHTTP2Connection
        self._live: set[HTTP2Protocol] = set()
        self._stopping: float | None = None
        self._whenNoneLive: list[Deferred[None]] = []

    @property
    def cleartext(self) -> bool:
        """Whether a cleartext connection may become HTTP/2 at all."""
        return self.h2cPriorKnowledge or self.h2cUpgrade

    def connect(self) -> HTTP2Protocol:
        """
        Make an HTTP/2 connection, counted among the live ones until it
        closes; one made once L{shutDown} was called (its client chose HTTP/2
        while the server stops) is shut down as soon as it is connected.
        """
        connection = self._connectionClass()
        self._live.add(connection)
        connection.notifyClosed().addBoth(self._closed, connection)
        if self._stopping is not None:
            connection.shutDown(self._stopping)
        return connection

    def _closed(self, result: object, connection: HTTP2Protocol) -> None:
        self._live.discard(connection)
        if not self._live:
            waiting, self._whenNoneLive = self._whenNoneLive, []
            for done in waiting:
                done.callback(None)

    @property
    def live(self) -> int:
        """How many HTTP/2 connections are open."""
        return len(self._live)

    def shutDown(self, deadline: float) -> Deferred[None]:
        """
        Shut every live HTTP/2 connection down gracefully (GOAWAY, the
        streams in flight let finish), closing each within C{deadline}
        seconds at the latest, and any connection that becomes HTTP/2 from
        now on as soon as it does.

        @return: a L{Deferred} firing once no HTTP/2 connection is live.
        """
        self._stopping = deadline
        for connection in list(self._live):
            connection.shutDown(deadline)
        done: Deferred[None] = Deferred()
        if self._live:
            self._whenNoneLive.append(done)
        else:
            done.callback(None)
        return done
