"""
The forward proxy: L{Proxy} is a channel whose requests name absolute
C{http://} URLs, each relayed by a L{ProxyRequest} to the server it names.
C{CONNECT} is refused: an open tunnelling proxy is abused.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.interfaces import IReactorTCP

from twisted_web_re import http
from twisted_web_re._proxy.client import ProxyClientFactory
from twisted_web_re._proxy.headers import FORWARD_FORWARDING, Forwarding
from twisted_web_re._proxy.pool import Backend, sharedPool
from twisted_web_re._proxy.relay import Relay
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
    @ivar reactor: the reactor to connect with.
    """

    protocols: dict[bytes, type[ProxyClientFactory]] = {b"http": ProxyClientFactory}
    ports: dict[bytes, int] = {b"http": 80}
    forwarding: Forwarding = FORWARD_FORWARDING
    reactor: Any = None

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

    def process(self) -> None:
        """
        Relay the request to the server its URL names: 400 for a target
        that is no absolute URL, 501 for a scheme not in L{protocols}, 405
        for C{CONNECT}.
        """
        if self.method == b"CONNECT":
            self._refuse(405, "Method Not Allowed", "This proxy does not tunnel.")
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
        host = authority.host.decode("ascii").strip("[]")
        port = authority.port
        target = self.path + _query(self.uri)
        if factoryClass is not ProxyClientFactory:
            headers = self.getAllHeaders().copy()
            headers.setdefault(b"host", authority.authority)
            assert self.content is not None
            self.content.seek(0, 0)
            clientFactory = factoryClass(
                self.method,
                target,
                self.clientproto,
                headers,
                self.content.read(),
                self,
            )
            self.reactor.connectTCP(host, port, clientFactory)
            return
        relay = Relay(
            self, Backend(host, port), target, sharedPool(self.reactor), self.forwarding
        )
        relay.sendSpooled(self.content)


class Proxy(http.HTTPChannel):
    """A channel whose every request is a L{ProxyRequest}: a web proxy."""

    requestFactory = ProxyRequest
