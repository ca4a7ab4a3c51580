"""
HTTP/2 benchmark servers: a small resource or the files of a directory,
served by C{twisted.web} or C{twisted_web_re} over TLS (h2 and HTTP/1.1 by
ALPN) or over cleartext (h2c by prior knowledge, and HTTP/1.1).

The site is built by L{servers.buildFactory}, the same code for both
implementations: C{site} is a leaf resource answering C{Hello, world!};
C{file1k} publishes C{--root} with C{static.File}.  Run one server::

    python benchmarks/h2servers.py IMPL KIND PORT --root DIR [--tls CERT KEY]
        [--need-h2]

It prints C{READY <port> <pid>} once listening, or C{UNAVAILABLE <reason>}
(and exits with L{servers.EXIT_UNAVAILABLE}) when the implementation cannot
serve HTTP/2 (C{--need-h2}) or lacks a module.  Over TLS, C{twisted_web_re}
sets its context up as C{twistd web-re} sets up its C{ssl:} ports.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
for path in (str(_HERE.parent), str(_HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

import servers  # noqa: E402


def http2Available(impl: str) -> str | None:
    """
    @param impl: a key of L{servers.IMPLS}.
    @return: why C{impl} cannot serve HTTP/2 here, or C{None} if it can.
    """
    if impl == "twisted_web":
        from twisted.web import http

        return None if http.H2_ENABLED else "twisted.web needs h2 and priority"
    return None


def main(argv: list[str] | None = None) -> int:
    """
    Serve until signalled.

    @return: the exit status.
    """
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("impl", choices=sorted(servers.IMPLS))
    parser.add_argument("kind", choices=["site", "file1k"])
    parser.add_argument("port", type=int)
    parser.add_argument("--root", required=True)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--need-h2", action="store_true")
    args = parser.parse_args(argv)

    from twisted.internet import epollreactor

    epollreactor.install()
    from twisted.internet import reactor, ssl
    from twisted.internet.endpoints import SSL4ServerEndpoint, TCP4ServerEndpoint

    servers.raiseFileLimit()
    servers._discardLogs()
    if args.need_h2:
        why = http2Available(args.impl)
        if why is not None:
            print(f"UNAVAILABLE {why}", flush=True)
            return servers.EXIT_UNAVAILABLE
    try:
        factory = servers.buildFactory(args.impl, args.kind, args.root)
    except servers.UnavailableError as e:
        print(f"UNAVAILABLE {e}", flush=True)
        return servers.EXIT_UNAVAILABLE

    endpoint: Any
    if args.tls:
        cert, key = (Path(name).read_text() for name in args.tls)
        options = ssl.PrivateCertificate.loadPEM(cert + key).options()
        endpoint = SSL4ServerEndpoint(
            reactor, args.port, options, backlog=1024, interface="127.0.0.1"
        )
        if args.impl == "twisted_web_re":
            from twisted_web_re._protocols.tlshandshake import (
                useOwnSelection,
                useSecureDefaults,
            )

            useOwnSelection(endpoint)
            useSecureDefaults(endpoint)
    else:
        endpoint = TCP4ServerEndpoint(
            reactor, args.port, backlog=1024, interface="127.0.0.1"
        )

    def ready(port: Any) -> None:
        print(f"READY {port.getHost().port} {os.getpid()}", flush=True)

    endpoint.listen(factory).addCallback(ready)
    reactor.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
