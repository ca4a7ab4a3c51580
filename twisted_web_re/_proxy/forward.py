"""
The forward proxy: L{Proxy} is a channel whose requests name absolute
C{http://} URLs, each relayed by a L{ProxyRequest} to the server it names,
the body streamed up as it arrives.  C{CONNECT} tunnels only to the hosts
and ports a user allows (none by default: an open tunnelling proxy is
abused).
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IReactorTCP

from twisted_web_re import http
from twisted_web_re._proxy.client import ProxyClientFactory
from twisted_web_re._proxy.connect import ConnectAllowList, ConnectTunnel, connectTarget
from twisted_web_re._proxy.headers import FORWARD_FORWARDING, Forwarding
from twisted_web_re._proxy.pool import CONNECT_TIMEOUT, Backend, sharedPool
from twisted_web_re._proxy.relay import Relay
from twisted_web_re._proxy.request import switcher
from twisted_web_re._proxy.reverse import _defaultReactor, _query
from twisted_web_re._publish.pagehtml import errorPageHTML
from twisted_web_re._wire.parser import targetAuthority


class ProxyRequest(http.Request):
    """
    A request for an absolute URL, relayed to the server it names.

    @cvar protocols: URL scheme to the client factory class for it.  Left
        as L{ProxyClientFactory}, requests go over pooled, streaming
        connections; another class is used as twisted.web uses it.
    @cvar ports: URL scheme to its default port.
    @cvar forwarding: which forwarding fields are added (only C{Via} by
        default: a forward proxy does not tell web sites who its clients
        are).
    @cvar connectAllowList: the hosts and ports C{CONNECT} may tunnel to;
        C{None} (the default) refuses every C{CONNECT} with 405, and a
        target not on the list is refused with 403.
    @cvar streamUploads: send a request body upstream as it arrives (the
        default); a subclass whose L{process} does not end by calling
        C{ProxyRequest.process} turns it off, to have the body stored in
        C{content} first.
    @ivar reactor: the reactor to connect with.
    """

    protocols: dict[bytes, type[ProxyClientFactory]] = {b"http": ProxyClientFactory}
    ports: dict[bytes, int] = {b"http": 80}
    forwarding: Forwarding = FORWARD_FORWARDING
    connectAllowList: ConnectAllowList | None = None
    streamUploads: bool = True
    reactor: Any = None
    _upload: Relay | None = None

    def __init__(
        self, channel: Any, queued: object = None, reactor: IReactorTCP | None = None
    ) -> None:
        """
        @param channel: the stream carrying the request.
        @param queued: ignored, as in twisted.web.
        @param reactor: the reactor to connect with; the global one by default.
        """
        super().__init__(channel, queued)
        self.reactor = reactor if reactor is not None else _defaultReactor()

    def _refuse(self, code: int, brief: str, detail: str) -> None:
        body = errorPageHTML(code, brief, detail)
        self.setResponseCode(code)
        self.setHeader(b"content-type", b"text/html; charset=utf-8")
        if code == 405:
            self.setHeader(b"allow", b"GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH")
        self.write(body)
        self.finish()

    def _relayFor(self) -> Relay | None:
        """
        The relay of this request over the pool, when its target is an
        absolute URL of a scheme relayed that way; else C{None}.
        """
        scheme, sep, _ = self.uri.partition(b"://")
        scheme = scheme.lower()
        authority = targetAuthority(self.uri) if sep else None
        if (
            authority is None
            or self.protocols.get(scheme) is not ProxyClientFactory
            or scheme not in self.ports
        ):
            return None
        backend = Backend(authority.host.decode("ascii").strip("[]"), authority.port)
        target = self.path + _query(self.uri)
        return Relay(self, backend, target, sharedPool(self.reactor), self.forwarding)

    def gotLength(self, length: int | None) -> None:
        """
        A body follows: when it can be relayed (see L{streamUploads}), send
        the request now and the body as it arrives, paced by the server.
        """
        if length == 0 or not self.streamUploads or self.method == b"CONNECT":
            super().gotLength(length)
            return
        relay = self._relayFor()
        if relay is None:
            super().gotLength(length)
            return
        self._upload = relay
        relay.startStreaming(length)

    def handleContentChunk(self, data: bytes) -> None:
        """Pass a piece of a streamed body on, or store it."""
        relay = self._upload
        if relay is None:
            super().handleContentChunk(data)
        else:
            relay.bodyReceived(data)

    def process(self) -> None:
        """
        Relay the request to the server its URL names: 400 for a target
        that is no absolute URL, 501 for a scheme not in L{protocols}; for
        C{CONNECT}, see L{connectAllowList}.
        """
        relay, self._upload = self._upload, None
        if relay is not None:
            relay.bodyEnded()
            return
        if self.method == b"CONNECT":
            self._connect()
            return
        scheme, sep, _ = self.uri.partition(b"://")
        scheme = scheme.lower()
        authority = targetAuthority(self.uri) if sep else None
        if authority is None:
            self._refuse(400, "Bad Request", "A proxy request names an absolute URL.")
            return
        factoryClass = self.protocols.get(scheme)
        if factoryClass is None or scheme not in self.ports:
            self._refuse(
                501,
                "Not Implemented",
                f"This proxy does not relay {scheme.decode('latin-1')}: URLs.",
            )
            return
        if factoryClass is not ProxyClientFactory:
            headers = self.getAllHeaders().copy()
            headers.setdefault(b"host", authority.authority)
            assert self.content is not None
            self.content.seek(0, 0)
            clientFactory = factoryClass(
                self.method,
                self.path + _query(self.uri),
                self.clientproto,
                headers,
                self.content.read(),
                self,
            )
            host = authority.host.decode("ascii").strip("[]")
            self.reactor.connectTCP(host, authority.port, clientFactory)
            return
        relay = self._relayFor()
        assert relay is not None
        relay.sendSpooled(self.content)

    def _connect(self) -> None:
        """Open a tunnel for C{CONNECT}, if the target is allowed."""
        allowed = self.connectAllowList
        if allowed is None:
            self._refuse(405, "Method Not Allowed", "This proxy does not tunnel.")
            return
        target = connectTarget(self.uri)
        if target is None:
            self._refuse(400, "Bad Request", "CONNECT names a host and a port.")
            return
        if switcher(self) is None:
            self._refuse(
                501, "Not Implemented", "This proxy tunnels over HTTP/1.1 only."
            )
            return
        host, port = target
        if not allowed.allows(host, port):
            self._refuse(403, "Forbidden", "This proxy does not tunnel there.")
            return
        ConnectTunnel(self, host, port).start(self.reactor, CONNECT_TIMEOUT)


class Proxy(http.HTTPChannel):
    """A channel whose every request is a L{ProxyRequest}: a web proxy."""

    requestFactory = ProxyRequest
