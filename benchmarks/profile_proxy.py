"""
Profile the reverse proxy in process, with nothing but this package's code
(and Twisted's, under it) running: a L{Site} serving a
L{ReverseProxyResource} over one C{StringTransport}, its backend connection
over another, answered by hand with a small response.  The figures are
deterministic (function calls per request) or nearly so (microseconds per
request), unlike a load test on a shared machine.

Run::

    python benchmarks/profile_proxy.py [--requests N] [--top K] [--no-profile]

It prints the CPU time per request without the profiler, the function calls
per request and the timer calls per request under it, and the top
functions by their own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from twisted.internet.address import IPv4Address  # noqa: E402
from twisted.internet.testing import MemoryReactorClock, StringTransport  # noqa: E402

from twisted_web_re import server  # noqa: E402
from twisted_web_re._proxy.pool import BackendPool  # noqa: E402
from twisted_web_re.proxy import ReverseProxyResource  # noqa: E402

#: What wrk sends.
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"

#: What the benchmark's backend (C{servers.py request}) answers, give or take
#: the date.
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nServer: TwistedWeb/re\r\n"
    b"Date: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Type: text/plain\r\n"
    b"Content-Length: 13\r\n\r\nHello, world!"
)


class _CountingClock(MemoryReactorClock):
    """A memory reactor that counts the timers set."""

    def __init__(self) -> None:
        super().__init__()
        self.timersSet = 0

    def callLater(self, *args: Any, **kwargs: Any) -> Any:
        self.timersSet += 1
        return super().callLater(*args, **kwargs)


class Harness:
    """One client connection to a proxy site, and its backend connection."""

    def __init__(self) -> None:
        self.reactor = _CountingClock()
        pool = BackendPool(self.reactor)
        resource = ReverseProxyResource(
            "127.0.0.1", 8081, b"", reactor=self.reactor, pool=pool
        )
        self.site = server.Site(resource, reactor=self.reactor, timeout=None)
        self.site.log = lambda request: None  # type: ignore[method-assign]
        self.channel = self.site.buildProtocol(IPv4Address("TCP", "127.0.0.1", 5000))
        self.client = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.1", 8080),
            peerAddress=IPv4Address("TCP", "127.0.0.1", 5000),
        )
        self.channel.makeConnection(self.client)
        self.backend = StringTransport()
        self.upstream: Any = None

    def once(self) -> None:
        """Relay one request and its response; check the client got it."""
        self.channel.dataReceived(REQUEST)
        if self.upstream is None:
            _host, _port, factory, _timeout, _ = self.reactor.tcpClients[-1]
            self.upstream = factory.buildProtocol(None)
            self.upstream.makeConnection(self.backend)
        sent = self.backend.value()
        if not sent.startswith(b"GET / HTTP/1.1\r\n"):
            raise RuntimeError(f"unexpected upstream request {sent!r}")
        self.backend.clear()
        self.upstream.dataReceived(RESPONSE)
        answer = self.client.value()
        if not answer.endswith(b"Hello, world!"):
            raise RuntimeError(f"unexpected response {answer!r}")
        self.client.clear()


def main() -> int:
    """Time, then profile, C{--requests} proxied requests."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true")
    options = parser.parse_args()
    n = options.requests

    harness = Harness()
    for _ in range(200):
        harness.once()
    # CPU time, the best of several runs: the machine may be shared.
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(n):
            harness.once()
        best = min(best, time.process_time() - started)
    print(f"{1e6 * best / n:.1f} us CPU per request (best of 5 x {n})")
    if options.no_profile:
        return 0

    harness = Harness()
    harness.once()
    before = harness.reactor.timersSet
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        harness.once()
    profiler.disable()
    timers = harness.reactor.timersSet - before
    stats = pstats.Stats(profiler)
    total: int = stats.total_calls  # type: ignore[attr-defined]
    print(f"{total / n:.1f} function calls per request; {timers / n:.2f} timers set")
    stats.sort_stats("tottime").print_stats(options.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
