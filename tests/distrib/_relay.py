"""
A front server and a personal server in the test's process, over real PB on
loopback (a UNIX socket or TCP), and a blocking client run in a thread while
the test's thread turns the global reactor.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from twisted.internet import reactor as _reactor
from twisted.internet.interfaces import IListeningPort

from twisted_web_re import distrib, resource, server, tap

reactor: Any = _reactor

#: Seconds any one wait in these tests may take.
DEADLINE = 30.0

T = TypeVar("T")


def turnUntil(done: Callable[[], bool], deadline: float = DEADLINE) -> None:
    """
    Turn the reactor until C{done()} is true.

    @raise AssertionError: C{deadline} seconds passed first.
    """
    end = time.monotonic() + deadline
    while not done():
        if time.monotonic() > end:
            raise AssertionError("the reactor did not get there in time")
        reactor.iterate(0.005)


def inThread(work: Callable[[], T], deadline: float = DEADLINE) -> T:
    """
    Run C{work} in a thread, turning the reactor meanwhile.

    @return: what C{work} returned.
    @raise BaseException: what C{work} raised.
    """
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append((True, work()))
        except BaseException as e:
            outcome.append((False, e))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    turnUntil(lambda: bool(outcome), deadline)
    thread.join(5)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


@dataclass
class Response:
    """What a client got: status, fields, body, and whether it was cut."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    cut: bool = False

    def header(self, name: str) -> str | None:
        """@return: the first value of field C{name}, or C{None}."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def all(self, name: str) -> list[str]:
        """@return: every value of field C{name}."""
        return [v for k, v in self.headers if k.lower() == name.lower()]


def fetch(
    port: int,
    path: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = DEADLINE,
) -> Response:
    """
    Make one request to the front with http.client, turning the reactor.

    @return: the response; C{cut} if the body ended early.
    """

    def work() -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            try:
                data = answer.read()
                cut = False
            except (http.client.IncompleteRead, ConnectionError) as e:
                data = getattr(e, "partial", b"")
                cut = True
            return Response(answer.status, answer.getheaders(), data, cut)
        finally:
            conn.close()

    return inThread(work, timeout + 5)


@dataclass
class Pair:
    """
    A personal server publishing C{personalRoot} and a front server relaying
    C{/me.twistd/} to it.

    @ivar frontPort: the front's HTTP port on 127.0.0.1.
    @ivar subscription: the front's subscription.
    @ivar personalSite: the personal server's Site.
    """

    frontPort: int
    subscription: distrib.ResourceSubscription
    personalSite: server.Site
    ports: list[IListeningPort] = field(default_factory=list)
    personal: IListeningPort | None = None
    address: tuple[str, Any] = ("unix", "")

    def stopPersonal(self) -> None:
        """Stop the personal server listening, and drop its connections."""
        port, self.personal = self.personal, None
        if port is not None:
            done: list[object] = []
            port.stopListening().addBoth(done.append)
            turnUntil(lambda: bool(done))
        self.subscription.connection.disconnect()

    def startPersonal(self) -> None:
        """Start the personal server listening again at its address."""
        factory = tap.makePersonalServerFactory(self.personalSite)
        host, where = self.address
        if host == "unix":
            self.personal = reactor.listenUNIX(where, factory, mode=0o600)
        else:
            self.personal = reactor.listenTCP(where, factory, interface="127.0.0.1")


def freePort() -> int:
    """@return: a TCP port on 127.0.0.1 free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def relayPair(
    personalRoot: resource.Resource,
    tmp_path: Path,
    over: str = "unix",
    front: bool = False,
) -> Iterator[Pair]:
    """
    Run a front and a personal server in this process for the test's
    duration, the personal one on a UNIX socket in C{tmp_path} or on TCP;
    with C{front}, the front's Site locates resources from the request head
    (so that it relays request bodies as they arrive).
    """
    personalSite = server.Site(personalRoot)
    address: tuple[str, Any]
    if over == "unix":
        address = ("unix", str(tmp_path / "pb.sock"))
    else:
        address = ("127.0.0.1", freePort())
    subscription = distrib.ResourceSubscription(*address)
    subscription.timeout = 5.0
    frontRoot = resource.Resource()
    frontRoot.putChild(b"me.twistd", subscription)
    frontSite = server.Site(frontRoot)
    frontSite.locateBeforeBody = front
    listening = reactor.listenTCP(0, frontSite, interface="127.0.0.1")
    pair = Pair(listening.getHost().port, subscription, personalSite, [listening])
    pair.address = address
    pair.startPersonal()
    try:
        yield pair
    finally:
        pair.stopPersonal()
        for port in pair.ports:
            stopped: list[object] = []
            port.stopListening().addBoth(stopped.append)
            turnUntil(lambda stopped=stopped: bool(stopped))
        # Let the connections that were dropped finish closing.
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            reactor.iterate(0.01)
