"""
A reverse proxy for the end-to-end tests, run in its own process: a Site
whose root is a C{ReverseProxyResource} for one backend on 127.0.0.1.

Run::

    python tests/e2e/_proxyserver.py BACKEND_PORT [--impl twisted_web_re|twisted_web]
        [--stream] [--response-timeout S] [--max-body-size N] [--tls]
        [--tls-ca FILE] [--forward [--connect-allow HOST:PORT]...]

C{--stream} locates resources before the body, so that request bodies are
streamed to the backend as they arrive (twisted_web_re only).  C{--tls}
speaks TLS to the backend, verifying its certificate by the system's CAs,
or by those of C{--tls-ca}.  C{--forward} runs a forward proxy
(C{proxy.Proxy}) instead, BACKEND_PORT unused, tunnelling C{CONNECT} to the
C{--connect-allow} targets, if any.  It prints
C{PORT <port>} once listening, as C{_servers.py} does.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

LOOPBACK = "127.0.0.1"


def forwardFactory(allowed: list[str]) -> Any:
    """A factory of forward proxy channels tunnelling to C{allowed} targets."""
    from twisted_web_re import http, proxy

    allowList = None
    if allowed:
        targets = [target.rpartition(":") for target in allowed]
        allowList = proxy.ConnectAllowList(
            [host for host, _, _ in targets], [int(port) for _, _, port in targets]
        )

    class Request(proxy.ProxyRequest):
        connectAllowList = allowList

    class Channel(proxy.Proxy):
        requestFactory = Request

    factory = http.HTTPFactory()
    factory.protocol = Channel
    return factory


def main() -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("backendPort", type=int)
    parser.add_argument("--impl", default="twisted_web_re")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--response-timeout", type=float, default=None)
    parser.add_argument("--max-body-size", type=int, default=None)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--tls-ca", default=None)
    parser.add_argument("--forward", action="store_true")
    parser.add_argument("--connect-allow", action="append", default=[])
    parser.add_argument("--backend-host", default=LOOPBACK)
    options = parser.parse_args()

    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    globalLogBeginner.beginLoggingTo([textFileLogObserver(sys.stderr)])
    package = "twisted.web" if options.impl == "twisted_web" else "twisted_web_re"
    proxy = importlib.import_module(package + ".proxy")
    server = importlib.import_module(package + ".server")
    kwargs: dict[str, Any] = {}
    if options.impl != "twisted_web":
        from twisted_web_re._proxy.pool import BackendPool

        pool = BackendPool(reactor)
        if options.response_timeout is not None:
            pool.responseTimeout = options.response_timeout
            pool.bodyIdleTimeout = options.response_timeout
        kwargs["pool"] = pool
        if options.tls or options.tls_ca:
            kwargs.update(tls=True, caFile=options.tls_ca)
    if options.forward:
        port = reactor.listenTCP(  # type: ignore[attr-defined]
            0, forwardFactory(options.connect_allow), interface=LOOPBACK
        )
        os.write(1, f"PORT {port.getHost().port}\n".encode())
        reactor.run()  # type: ignore[attr-defined]
        return 0
    root = proxy.ReverseProxyResource(
        options.backend_host, options.backendPort, b"", reactor, **kwargs
    )
    siteArgs: dict[str, Any] = {}
    if options.max_body_size is not None:
        siteArgs["maxBodySize"] = options.max_body_size or None
    site = server.Site(root, **siteArgs)
    if options.stream:
        site.locateBeforeBody = True
    port = reactor.listenTCP(0, site, interface=LOOPBACK)  # type: ignore[attr-defined]
    # The log observer has replaced sys.stdout: write to the descriptor.
    os.write(1, f"PORT {port.getHost().port}\n".encode())
    reactor.run()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
