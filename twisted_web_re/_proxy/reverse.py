"""
The reverse proxy: L{ReverseProxyResource} relays the requests for its part
of the URL space to one backend; L{ReverseProxyRequest} and
L{ReverseProxy} do the same for a whole channel, as in twisted.web.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from twisted.internet.interfaces import IReactorTCP
from zope.interface import implementer

from twisted_web_re import http, resource
from twisted_web_re._proxy.client import ProxyClientFactory
from twisted_web_re._proxy.headers import REVERSE_FORWARDING, Forwarding
from twisted_web_re._proxy.pool import Backend, BackendPool, sharedPool
from twisted_web_re._proxy.relay import Relay
from twisted_web_re._proxy.request import ProxiedRequest
from twisted_web_re.server import NOT_DONE_YET


def _defaultReactor() -> Any:
    from twisted.internet import reactor

    return reactor


def _query(uri: bytes) -> bytes:
    """The query string of a request-target, with its C{?}, or nothing."""
    query = uri.partition(b"?")[2]
    return b"?" + query if query else b""


@implementer(resource.IResource, resource.IStreamingUpload)
class ReverseProxyResource(resource.Resource):
    """
    Relays every request for itself and the paths below it to a backend, as
    C{path} followed by the rest of the URL and the query.

    Bodies stream both ways: the response as it arrives, paced by the
    client's reading; the request body as it arrives on a L{Site} with
    C{locateBeforeBody} (paced by the backend's), or else once it has all
    arrived (held in a temporary file, never in memory, beyond
    C{bodyMemoryLimit}).  Connections to the backend are HTTP/1.1 and
    reused.

    @ivar host: the backend's host.
    @ivar port: the backend's port.
    @ivar path: the path prefix on the backend.
    @ivar reactor: the reactor to connect with.
    @ivar proxyClientFactoryClass: twisted.web's per-request client factory.
        Left as L{ProxyClientFactory}, requests go over pooled, streaming
        connections; set to another class, each request is sent through that
        class, as twisted.web does, with the whole body in memory.
    @ivar tls: whether the backend is spoken to over TLS (C{https}).
    @ivar caFile: with C{tls}, a PEM file of CA certificates to trust
        instead of the system's.
    @ivar forwarding: which forwarding fields are added (all of them by
        default; see L{Forwarding}).
    @ivar pool: the connection pool (one shared per reactor by default).
    """

    proxyClientFactoryClass: type[ProxyClientFactory] = ProxyClientFactory
    isLeaf = False

    def __init__(
        self,
        host: str,
        port: int,
        path: bytes,
        reactor: IReactorTCP | None = None,
        *,
        tls: bool = False,
        caFile: str | None = None,
        forwarding: Forwarding = REVERSE_FORWARDING,
        pool: BackendPool | None = None,
    ) -> None:
        """
        @param host: the backend's host name or address.
        @param port: the backend's port.
        @param path: the path on the backend that this resource stands for
            (C{b""} for its root).
        @param reactor: the reactor; the global one by default.
        @raise ValueError: C{caFile} is given without C{tls}.
        """
        super().__init__()
        if caFile is not None and not tls:
            raise ValueError("caFile is only used with tls=True")
        self.host = host
        self.port = port
        self.path = path
        self.reactor = reactor if reactor is not None else _defaultReactor()
        self.tls = tls
        self.caFile = caFile
        self.forwarding = forwarding
        self.pool = pool
        self._uploads: dict[ProxiedRequest, Relay] = {}
        self._backend: Backend | None = None

    def getChild(self, path: bytes, request: Any) -> ReverseProxyResource:
        """
        A proxy for the same backend, one path segment further: the segment
        is quoted, and joined to C{path} with exactly one slash.
        """
        base = self.path if self.path.endswith(b"/") else self.path + b"/"
        child = type(self)(
            self.host,
            self.port,
            base + quote(path, safe="").encode("ascii"),
            self.reactor,
            tls=self.tls,
            caFile=self.caFile,
            forwarding=self.forwarding,
            pool=self._pool(),
        )
        child.proxyClientFactoryClass = self.proxyClientFactoryClass
        child._backend = self._currentBackend()
        return child

    def _pool(self) -> BackendPool:
        if self.pool is None:
            self.pool = sharedPool(self.reactor)
        return self.pool

    def _currentBackend(self) -> Backend:
        """The backend named by the attributes, made once, not per request."""
        backend = self._backend
        if (
            backend is None
            or backend.host != self.host
            or backend.port != self.port
            or backend.tls != self.tls
            or backend.caFile != self.caFile
        ):
            # The attributes are public: a change is noticed.
            backend = self._backend = Backend(
                self.host, self.port, self.tls, self.caFile
            )
        return backend

    def _relay(self, request: ProxiedRequest) -> Relay:
        path = self.path if self.path.startswith(b"/") else b"/" + self.path
        return Relay(
            request,
            self._currentBackend(),
            path + _query(request.uri),
            self._pool(),
            self.forwarding,
        )

    def uploadStarted(self, request: Any, length: int | None) -> int | None:
        """
        On a site that locates resources before the body: send the request
        now, and its body as it arrives.
        """
        if self.proxyClientFactoryClass is not ProxyClientFactory:
            return None
        relay = self._relay(request)
        self._uploads[request] = relay
        relay.startStreaming(length)
        return None

    def uploadReceived(self, request: Any, data: bytes) -> None:
        """Pass the next piece of the body on to the backend."""
        relay = self._uploads.get(request)
        if relay is not None:
            relay.bodyReceived(data)

    def render(self, request: Any) -> int:
        """
        Relay C{request} to the backend; the response follows.
        """
        relay = self._uploads.pop(request, None)
        if relay is not None:
            relay.bodyEnded()
            return NOT_DONE_YET
        if self.proxyClientFactoryClass is not ProxyClientFactory:
            return self._renderThroughFactory(request)
        self._relay(request).sendSpooled(request.content)
        return NOT_DONE_YET

    def _renderThroughFactory(self, request: Any) -> int:
        """twisted.web's way, for a custom C{proxyClientFactoryClass}."""
        host = self.host if self.port == 80 else f"{self.host}:{self.port}"
        request.requestHeaders.setRawHeaders(b"host", [host.encode("ascii")])
        request.content.seek(0, 0)
        factory = self.proxyClientFactoryClass(
            request.method,
            (self.path or b"/") + _query(request.uri),
            request.clientproto,
            request.getAllHeaders(),
            request.content.read(),
            request,
        )
        self.reactor.connectTCP(self.host, self.port, factory)
        return NOT_DONE_YET


class ReverseProxyRequest(http.Request):
    """
    A request relayed whole to the backend its channel's factory names (its
    C{host} and C{port} attributes), as twisted.web's.

    @ivar proxyClientFactoryClass: see
        L{ReverseProxyResource.proxyClientFactoryClass}.
    @ivar forwarding: which forwarding fields are added.
    """

    proxyClientFactoryClass: type[ProxyClientFactory] = ProxyClientFactory
    forwarding: Forwarding = REVERSE_FORWARDING
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

    def process(self) -> None:
        """Relay the request to the factory's backend."""
        factory: Any = getattr(self, "factory", None) or getattr(
            self.channel, "factory", None
        )
        if self.proxyClientFactoryClass is not ProxyClientFactory:
            self.requestHeaders.setRawHeaders(b"host", [factory.host.encode("ascii")])
            assert self.content is not None
            clientFactory = self.proxyClientFactoryClass(
                self.method,
                self.uri,
                self.clientproto,
                self.getAllHeaders(),
                self.content.read(),
                self,
            )
            self.reactor.connectTCP(factory.host, factory.port, clientFactory)
            return
        backend = Backend(factory.host, factory.port)
        target = self.uri if self.uri[:1] == b"/" else self.path + _query(self.uri)
        relay = Relay(self, backend, target, sharedPool(self.reactor), self.forwarding)
        relay.sendSpooled(self.content)


class ReverseProxy(http.HTTPChannel):
    """A channel whose every request is a L{ReverseProxyRequest}."""

    requestFactory = ReverseProxyRequest
