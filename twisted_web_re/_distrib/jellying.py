"""
What either end of a relay accepts from the other: a whitelist of jelly
types and a bound on the size of each PB message.

Jelly can rebuild instances of any class whose name it is given, and
Twisted's own L{SecurityOptions} lets every dotted type name through to the
global registry of unjellyable classes.  A relay needs only plain data,
references to the other side's objects, failures and (on a personal server)
the copied request, so those are all it takes: anything else is refused with
L{InsecureJelly}, and a message larger than L{MESSAGE_LIMIT} ends the
connection before it is buffered whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.spread import pb
from twisted.spread.jelly import SecurityOptions

from twisted_web_re._distrib.limits import MESSAGE_LIMIT

_log = Logger()

#: The jelly types of plain data: what L{jelly} makes of None, booleans,
#: text, lists, tuples, dictionaries and shared references (bytes, ints and
#: floats travel untagged).
_DATA_TYPES = (
    b"None",
    b"boolean",
    b"unicode",
    b"list",
    b"tuple",
    b"dictionary",
    b"reference",
    b"dereference",
)

#: The names L{jelly} checks as it sends plain data.  Were one of them to
#: come back as a type, it would name no unjellier and be refused: no module
#: is allowed.
_SENT_TYPES = tuple(
    b"builtins." + name
    for name in (
        b"bytes",
        b"int",
        b"float",
        b"str",
        b"bool",
        b"NoneType",
        b"list",
        b"tuple",
        b"dict",
    )
)

#: What twisted.web's front sends for the attributes of its request it cannot
#: copy (its response headers, say): a placeholder holding a message.
UNPERSISTABLE = b"unpersistable"

#: PB's own types: a reference to an object on the other side, one of ours
#: coming back, and a failure of a remote call.
_PB_TYPES = (b"remote", b"local", b"twisted.spread.pb.CopyableFailure")


class RelaySecurity(SecurityOptions):
    """
    Jelly options that allow exactly the types named, and no class or module
    by name.
    """

    def __init__(self, extraTypes: Iterable[bytes] = ()) -> None:
        """
        @param extraTypes: type names to accept beyond plain data and PB's
            own (the copied request's, on a personal server).
        """
        super().__init__()
        self.allowedTypes = dict.fromkeys(
            (*_DATA_TYPES, *_SENT_TYPES, *_PB_TYPES, *extraTypes), 1
        )

    def isTypeAllowed(self, typeName: bytes | str) -> bool:
        """
        @return: whether C{typeName} is one of the types allowed; unlike
            L{SecurityOptions}, a dotted name is not allowed for being dotted.
        """
        if isinstance(typeName, str):
            typeName = typeName.encode("utf-8")
        return typeName in self.allowedTypes

    def isModuleAllowed(self, moduleName: bytes | str) -> bool:
        """@return: C{False}: no module is rebuilt by name."""
        return False

    def isClassAllowed(self, klass: type) -> bool:
        """@return: C{False}: no class is rebuilt by name."""
        return False


class LimitedBroker(pb.Broker):
    """
    A PB broker that drops the connection when one message grows past
    L{MESSAGE_LIMIT} bytes.

    @ivar messageLimit: the bound, in bytes.
    """

    messageLimit = MESSAGE_LIMIT
    _pendingBytes = 0

    def dataReceived(self, chunk: bytes) -> None:
        """
        Count C{chunk} towards the message being received, and parse it
        unless the message is now too large.
        """
        self._pendingBytes += len(chunk)
        transport = self.transport
        if self._pendingBytes > self.messageLimit and transport is not None:
            _log.warn(
                "PB peer {peer} sent a message over {limit} bytes: disconnecting",
                peer=transport.getPeer(),
                limit=self.messageLimit,
            )
            getattr(transport, "abortConnection", transport.loseConnection)()
            return
        super().dataReceived(chunk)

    def expressionReceived(self, lst: list[object]) -> None:
        """A whole message arrived: the next one starts from nothing."""
        self._pendingBytes = 0
        super().expressionReceived(lst)


class ClientBroker(LimitedBroker):
    """
    The front's broker: its factory hears when its connection is lost, as
    it would from a connector, so that a connection lost before PB is
    ready (a TLS handshake refused, a peer that is no PB server) fails
    the wait for the root object instead of leaving it pending for ever.
    """

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Tell the factory, after the broker's own clean-up."""
        super().connectionLost(reason)
        factory = self.factory
        if isinstance(factory, pb.PBClientFactory):
            factory.clientConnectionLost(None, reason)


def clientFactory() -> pb.PBClientFactory:
    """
    @return: a PB client factory (the front's) with L{RelaySecurity} and
        L{ClientBroker}.
    """
    factory = pb.PBClientFactory(security=RelaySecurity())
    factory.protocol = ClientBroker
    return factory


def serverFactory(
    root: pb.IPBRoot,
    *requestTypes: bytes,
    factoryClass: type[pb.PBServerFactory] = pb.PBServerFactory,
) -> pb.PBServerFactory:
    """
    @param root: the object the factory publishes.
    @param requestTypes: the jelly types of the copied request and what it
        holds, which the personal server alone accepts.
    @param factoryClass: the class of the factory.
    @return: a PB server factory publishing C{root} with L{RelaySecurity}
        and L{LimitedBroker}.
    """
    factory = factoryClass(root, security=RelaySecurity(requestTypes))
    factory.protocol = LimitedBroker
    return factory


__all__ = ["LimitedBroker", "RelaySecurity", "clientFactory", "serverFactory"]
