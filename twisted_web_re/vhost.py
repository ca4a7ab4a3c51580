"""
Virtual hosting, under twisted.web.vhost's names: one server answering for
several host names, each with its own resource tree (L{NameVirtualHost}), and
a site behind a reverse proxy generating URLs with the proxy's scheme, host
and port rather than its own (L{VHostMonsterResource}).

Host names are compared in one canonical form (see
L{twisted_web_re._publish.hostnames.canonicalHost}): without the port,
case-insensitively, without a trailing dot, an internationalised name in
its Unicode form or its C{xn--} form alike, and given as C{str} or as
C{bytes} alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from twisted.python import roots

from twisted_web_re import pages
from twisted_web_re._protocols.forwarded import Network, isTrusted, parseTrustedProxies
from twisted_web_re._publish.hostnames import canonicalHost, hostAndPort, requestedHost
from twisted_web_re._publish.traversal import siteRequest
from twisted_web_re.iweb import IRequest
from twisted_web_re.resource import IResource, Resource

if TYPE_CHECKING:
    from twisted_web_re.server import Request

__all__ = ["NameVirtualHost", "VHostMonsterResource", "VirtualHostCollection"]


class VirtualHostCollection(roots.Homogenous):
    """
    The hosts of a L{NameVirtualHost} seen as a collection of resources
    named by host, for configuration tools.

    @ivar nvh: the L{NameVirtualHost} whose hosts these are.
    """

    entityType = Resource

    def __init__(self, nvh: NameVirtualHost) -> None:
        """
        @param nvh: the L{NameVirtualHost} whose hosts to show.
        """
        self.nvh = nvh

    def listStaticEntities(self) -> list[tuple[bytes, IResource]]:
        """Return every C{(host, resource)} pair, hosts in canonical form."""
        return list(self.nvh.hosts.items())

    def getStaticEntity(self, name: bytes | str) -> IResource | None:
        """Return the resource of host C{name}, or C{None} if it has none."""
        try:
            return self.nvh.hosts.get(canonicalHost(name))
        except ValueError:
            return None

    def reallyPutEntity(self, name: bytes | str, entity: IResource) -> None:
        """Serve C{entity} for host C{name} (see L{NameVirtualHost.addHost})."""
        self.nvh.addHost(name, entity)

    def delEntity(self, name: bytes | str) -> None:
        """Stop serving host C{name} (see L{NameVirtualHost.removeHost})."""
        self.nvh.removeHost(name)


class NameVirtualHost(Resource):
    """
    A root resource answering each request with the resource of the host it
    was sent to (its C{Host} field, or the authority of a target in absolute
    form): name-based virtual hosting.

    A request for a host not served is answered by L{default}, or, when
    there is none, with a 404 page naming the host.

    @ivar default: the resource for hosts not in L{hosts}, if any.
    @ivar hosts: each host's resource, by the host's canonical name (see
        L{addHost}); set it through L{addHost} and L{removeHost}.
    """

    default: IResource | None = None

    def __init__(self) -> None:
        super().__init__()
        self.hosts: dict[bytes, IResource] = {}

    def listStaticEntities(self) -> list[tuple[bytes | str, object]]:  # type: ignore[override]
        """
        Return the static children, and the hosts as one more entity named
        C{"Virtual Hosts"} (a L{VirtualHostCollection}).
        """
        entities: list[tuple[bytes | str, object]] = list(super().listStaticEntities())
        entities.append(("Virtual Hosts", VirtualHostCollection(self)))
        return entities

    def getStaticEntity(self, name: bytes | str) -> object:  # type: ignore[override]
        """
        Return the L{VirtualHostCollection} for C{"Virtual Hosts"}, else the
        static child C{name}.
        """
        if name == "Virtual Hosts":
            return VirtualHostCollection(self)
        return super().getStaticEntity(name)  # type: ignore[arg-type]

    def addHost(self, name: bytes | str, resrc: IResource) -> None:
        """
        Serve C{resrc} for requests to host C{name}, replacing the resource it
        had.

        @param name: a host name (C{"example.com"}, C{b"example.com"}, a
            Unicode name or its C{xn--} form) or an IP address, without a
            port: it matches every port.
        @raise ValueError: C{name} is not a host name (it has a port, say).
        """
        self.hosts[canonicalHost(name)] = resrc

    def removeHost(self, name: bytes | str) -> None:
        """
        Stop serving host C{name}: its requests go to L{default}.

        @raise KeyError: C{name} is not served.
        @raise ValueError: C{name} is not a host name.
        """
        del self.hosts[canonicalHost(name)]

    def _getResourceForRequest(self, request: IRequest) -> IResource:
        """
        Return the resource for the host C{request} was sent to, else
        L{default}, else a 404 page naming the host.
        """
        host = requestedHost(siteRequest(request))
        found = self.hosts.get(host) if host is not None else None
        if found is None:
            found = self.default
        if found is not None:
            return found
        if host is None:
            return pages.notFound()
        name = request.getRequestHostname().decode("ascii", "replace")
        return pages.notFound("Not Found", f"host {name!r} not in vhost map")

    def render(self, request: IRequest) -> bytes | int:
        """Render the resource of the request's host."""
        return self._getResourceForRequest(request).render(request)

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """
        Return the child C{path} of the request's host's resource; a leaf
        resource is returned itself, with C{path} given back to
        C{request.postpath}, so that it sees the whole path.
        """
        found = self._getResourceForRequest(request)
        if found.isLeaf:
            request.postpath.insert(0, request.prepath.pop())
            return found
        return found.getChildWithDefault(path, request)


class _HostResource(Resource):
    """
    The C{host[:port]} segment after L{VHostMonsterResource}'s scheme: it
    makes the request appear to have been sent to that scheme, host and
    port, and finds the rest of the path from the site's root.
    """

    def __init__(self, secure: bool = False) -> None:
        """
        @param secure: whether the scheme given was C{https}.
        """
        super().__init__()
        self.secure = secure

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """
        Set the request's host, port and scheme from C{path}, drop the
        segments consumed so far from its path, and return what the site
        finds for the rest from its root.

        @raise TypeError: C{request} is not a Site's request.
        """
        request = siteRequest(request)
        try:
            host, port = hostAndPort(path, self.secure)
        except ValueError:
            return pages.errorPage(
                400, "Bad Request", "The virtual host segment is not a host and port."
            )
        request.setHost(host, port, self.secure)
        if not self.secure and request.isSecure():
            # The proxy says its client used http, but the proxy reached this
            # server over TLS: setHost cannot say "not secure", so the answer
            # is given here, as twisted.web's VHostMonsterResource does.
            request.isSecure = _notSecure  # type: ignore[method-assign]
        consumed = len(request.prepath)
        target, query = request.uri, b""
        if b"?" in target:
            query = b"?" + target.partition(b"?")[2]
        segments = request.path.split(b"/")[1 + consumed :]
        request.path = b"/" + b"/".join(segments)
        request.uri = request.path + query
        # Traversal walks the lists it started with: they are changed in
        # place, never replaced.
        del request.prepath[:]
        if not request.postpath:
            request.postpath.append(b"")
        site = request.site
        if site is None:
            raise RuntimeError(f"{request!r} has no site: it was not processed")
        return site.getResourceFor(request)


#: The answer to a peer that is not one of the trusted proxies.
_FORBIDDEN = pages.forbidden(
    "Forbidden", "Only a trusted proxy may name the virtual host."
)


def _notSecure() -> bool:
    """Say the request did not arrive over TLS."""
    return False


class VHostMonsterResource(Resource):
    """
    A resource that lets a reverse proxy tell the site behind it which
    scheme, host and port its client used, in the URL itself: published at
    C{/vhost.rpy}, a request for C{/vhost.rpy/https/example.com:8443/a/b}
    is served as a request for C{/a/b} made to C{https://example.com:8443}:
    C{isSecure()}, C{getHost()}, C{getRequestHostname()}, C{prePathURL()},
    C{URLPath()}, redirects and session cookies all say so.

    Any client that reaches the site can send such a URL, and so choose the
    host and scheme the site believes in: serve a site with this resource
    only through the proxy, or restrict it to the proxy's address with
    C{trustedProxies}.

    @ivar trustedProxies: the networks whose requests may use it; when
        empty, those of the site's C{trustedProxies} setting, and when both
        are empty, every client.
    """

    def __init__(self, trustedProxies: Iterable[str] | None = None) -> None:
        """
        @param trustedProxies: addresses or networks (C{"10.0.0.1"},
            C{"10.0.0.0/8"}, C{"::1"}) of the proxies allowed to use this
            resource; others are answered 403.  By default, the site's own
            C{trustedProxies}, if it has any.
        @raise ValueError: one of them is not an address or network.
        """
        super().__init__()
        self.trustedProxies: tuple[Network, ...] = parseTrustedProxies(
            trustedProxies or ()
        )

    def _allowed(self, request: Request) -> bool:
        """Whether C{request} comes from a peer allowed to use this resource."""
        channel = request.channel
        trusted = self.trustedProxies or getattr(channel, "trustedProxies", ())
        if not trusted:
            return True
        return isTrusted(str(getattr(channel.getPeer(), "host", "")), trusted)

    def render_GET(self, request: Request) -> bytes:
        """
        Say, in plain text, how the resource is used (twisted.web's answers
        405): what a proxy setup is checked with first.
        """
        if not self._allowed(request):
            return _FORBIDDEN.render(request)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return (
            b"VHostMonster: request <this URL>/http/<host>[:<port>]/<path> or "
            b"<this URL>/https/<host>[:<port>]/<path> to have <path> served as "
            b"if sent to that scheme, host and port.\n"
        )

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """
        Take C{path} as the scheme, C{http} or C{https}: the next segment is
        the host and port.

        @raise TypeError: C{request} is not a Site's request.
        """
        if not self._allowed(siteRequest(request)):
            return _FORBIDDEN
        if path == b"http":
            return _HostResource(secure=False)
        if path == b"https":
            return _HostResource(secure=True)
        return pages.notFound("Not Found", "The scheme must be http or https.")
