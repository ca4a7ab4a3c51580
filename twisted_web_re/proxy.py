"""
Proxying, with twisted.web's names: L{ReverseProxyResource} puts a backend
under a URL of a site; L{Proxy} (with L{ProxyRequest}) is a forward web
proxy and L{ReverseProxy} (with L{ReverseProxyRequest}) a channel relaying
everything to one backend; L{ProxyClient} and L{ProxyClientFactory} are
twisted.web's one-request client, for code that subclasses them.

Unlike twisted.web's, the proxies speak HTTP/1.1 to backends over pooled
connections, stream bodies both ways with back-pressure, pass on every value
of a repeated field, remove hop-by-hop fields, add C{Via} and the forwarding
fields, frame every request they send themselves, and answer 502 or 504 when
the backend fails.  The work is done in C{twisted_web_re._proxy}.
"""

from __future__ import annotations

from twisted_web_re._proxy.client import ProxyClient, ProxyClientFactory
from twisted_web_re._proxy.connect import ConnectAllowList
from twisted_web_re._proxy.forward import Proxy, ProxyRequest
from twisted_web_re._proxy.headers import Forwarding
from twisted_web_re._proxy.pool import BackendPool
from twisted_web_re._proxy.reverse import (
    ReverseProxy,
    ReverseProxyRequest,
    ReverseProxyResource,
)

__all__ = [
    "BackendPool",
    "ConnectAllowList",
    "Forwarding",
    "Proxy",
    "ProxyClient",
    "ProxyClientFactory",
    "ProxyRequest",
    "ReverseProxy",
    "ReverseProxyRequest",
    "ReverseProxyResource",
]
