"""
A reverse proxy for the end-to-end tests, run in its own process: a Site
whose root is a C{ReverseProxyResource} for one backend on 127.0.0.1.

Run::

    python tests/e2e/_proxyserver.py BACKEND_PORT [--impl twisted_web_re|twisted_web]
        [--stream] [--response-timeout S] [--max-body-size N] [--tls-ca FILE]

C{--stream} locates resources before the body, so that request bodies are
streamed to the backend as they arrive (twisted_web_re only).  It prints
C{PORT <port>} once listening, as C{_servers.py} does.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

LOOPBACK = "127.0.0.1"


def main() -> int:
    """Serve until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("backendPort", type=int)
    parser.add_argument("--impl", default="twisted_web_re")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--response-timeout", type=float, default=None)
    parser.add_argument("--max-body-size", type=int, default=None)
    parser.add_argument("--tls-ca", default=None)
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
        if options.tls_ca:
            kwargs.update(tls=True, caFile=options.tls_ca)
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
