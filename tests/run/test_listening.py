"""
Tests for L{twisted_web_re._run.listening}: a port that cannot exist is refused
with the other options, and an endpoint that cannot be listened on ends the
server in one line.
"""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.error import CannotListenError
from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.python import usage

from twisted_web_re import tap
from twisted_web_re._run.listening import CannotListen, ListeningService, checkPort


@pytest.mark.parametrize(
    ("description", "port"),
    [
        ("tcp:65536", 65536),
        ("tcp:99999:interface=127.0.0.1", 99999),
        ("tcp:-1", -1),
        ("tcp6:port=70000", 70000),
        ("TCP:100000", 100000),
        ("ssl:port=65536:privateKey=key.pem", 65536),
    ],
)
def test_portOutOfRange(description: str, port: int) -> None:
    """
    A TCP port that is not between 0 and 65535 is a one-line usage error
    quoting the endpoint, found when the command line is read.
    """
    with pytest.raises(usage.UsageError) as raised:
        checkPort(description)
    assert str(raised.value) == (
        f"cannot listen on {description!r}: port {port} is out of range (0-65535)"
    )


@pytest.mark.parametrize(
    "description",
    [
        "tcp:0",
        "tcp:65535",
        "tcp:8080:interface=\\:\\:1",
        "tcp6:port=443:interface=\\:\\:1",
        "unix:/tmp/99999",
        "unix:address=/run/web.sock",
        "ssl:443:privateKey=my\\:key.pem",
    ],
)
def test_portInRange(description: str) -> None:
    """
    Ports from 0 to 65535, escaped colons in other arguments, and endpoints
    that have no port at all pass.
    """
    checkPort(description)


def test_optionsRefusePortOutOfRange() -> None:
    """
    C{--listen tcp:99999} fails the command line of C{twistd web-re}.
    """
    options = tap.Options(reactor=MemoryReactorClock())
    with pytest.raises(usage.UsageError, match="port 99999 is out of range"):
        options.parseOptions(["--listen", "tcp:99999"])


class RefusingReactor(MemoryReactorClock):
    """
    A memory reactor on which every TCP port is already in use.
    """

    def listenTCP(
        self, port: int, factory: Any, backlog: int = 50, interface: str = ""
    ) -> Any:
        raise CannotListenError(interface, port, OSError(98, "Address already in use"))


def _factory() -> Factory:
    return Factory.forProtocol(Protocol)


@pytest.mark.parametrize("start", ["privilegedStartService", "startService"])
def test_cannotListen(start: str) -> None:
    """
    An endpoint that cannot be listened on makes starting the service (as
    twistd does, or as twist does, with C{startService} alone) raise
    L{CannotListen}: a L{SystemExit} whose one-line message names the
    endpoint and the system's reason, which is also an L{Exception} so that
    twistd cleans up after it.
    """
    service = ListeningService(
        "tcp:8080:interface=127.0.0.1", _factory(), RefusingReactor()
    )
    with pytest.raises(CannotListen) as raised:
        getattr(service, start)()
    error = raised.value
    assert isinstance(error, SystemExit)
    assert isinstance(error, Exception)
    assert error.code == (
        "web-re: cannot listen on 'tcp:8080:interface=127.0.0.1':"
        " Address already in use"
    )
    assert error.description == "tcp:8080:interface=127.0.0.1"


def test_listens() -> None:
    """
    An endpoint that can be listened on is listened on with the factory.
    """
    reactor = MemoryReactorClock()
    factory = _factory()
    service = ListeningService("tcp:8080:interface=127.0.0.1", factory, reactor)
    service.privilegedStartService()
    service.startService()
    [(port, listening, _, interface)] = reactor.tcpServers
    assert (port, listening, interface) == (8080, factory, "127.0.0.1")
