"""
The relay's trust model: what either side accepts from the other, and what
the user directory will serve and list.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from _relay import fetch, reactor
from _stream import FakeStream
from twisted.internet.testing import StringTransport
from twisted.spread import jelly, pb

from twisted_web_re import distrib, resource, server
from twisted_web_re._distrib.jellying import LimitedBroker, RelaySecurity
from twisted_web_re._distrib.wire import REQUEST_TYPE, readResponseHead
from twisted_web_re.resource import NoResource
from twisted_web_re.server import Request
from twisted_web_re.static import File


class TestJelly:
    """Only plain data, PB references, failures and the request unjelly."""

    def test_plainData(self) -> None:
        """Plain data goes through both ways."""
        value = {"a": [1, 2.5, b"x", None, True, ("t",)]}
        security = RelaySecurity()
        assert jelly.unjelly(jelly.jelly(value, security), security) == value

    @pytest.mark.parametrize(
        "sexp",
        [
            [b"os.system", [b"dictionary"]],
            [b"module", b"os"],
            [b"class", b"os.system"],
            [b"function", b"os.system"],
            [b"instance", [b"class", b"os.system"], [b"dictionary"]],
            [b"cached", 1, [b"dictionary"]],
            [b"datetime", b"2020 1 1 0 0 0 0"],
            [b"twisted.spread.pb.CopyableFailure"[:-7] + b"Cacheable", [b"dictionary"]],
            [REQUEST_TYPE, [b"dictionary"]],
        ],
    )
    def test_refused(self, sexp: list[object]) -> None:
        """
        A module, class, function, instance, cached object or any type by
        dotted name is refused, however Twisted's global registry knows it;
        the copied request is refused where no request is expected (on the
        front).
        """
        with pytest.raises(jelly.InsecureJelly):
            jelly.unjelly(sexp, RelaySecurity())

    def test_requestAcceptedOnPersonal(self) -> None:
        """
        The copied request's type is accepted where it is allowed (on a
        personal server), and its state is checked: one without a remote
        reference is refused.
        """
        security = RelaySecurity((REQUEST_TYPE,))
        with pytest.raises(jelly.InsecureJelly):
            jelly.unjelly(
                [REQUEST_TYPE, [b"dictionary", [[b"unicode", b"method"], b"GET"]]],
                security,
            )

    def test_messageLimit(self) -> None:
        """
        A peer that sends more than the message limit without completing a
        message is disconnected before it is buffered.
        """
        broker = LimitedBroker(isClient=False, security=RelaySecurity())
        broker.messageLimit = 1000
        transport = StringTransport()
        broker.makeConnection(transport)
        # A banana list header announcing one long string, then its bytes.
        broker.dataReceived(b"\x01\x80" + b"\x05\x82" + b"A" * 2000)
        assert transport.disconnecting


class TestResponseHead:
    """What a personal server sends as a head is checked before it is used."""

    def test_fieldsKept(self) -> None:
        """Fields, cookies and the status are taken; hop-by-hop ones dropped."""
        code, reason, fields, cookies = readResponseHead(
            201,
            b"Created",
            [(b"x-a", [b"1", b"2"]), (b"connection", [b"close"])],
            [b"a=1"],
        )
        assert (code, reason, cookies) == (201, b"Created", [b"a=1"])
        assert fields.getRawHeaders(b"x-a") == [b"1", b"2"]
        assert not fields.hasHeader(b"connection")

    @pytest.mark.parametrize(
        "head",
        [
            ("200", b"OK", [], []),
            (200, b"OK\r\nX: y", [], []),
            (200, b"OK", [(b"x-a", [b"1\r\nSet-Cookie: evil"])], []),
            (200, b"OK", [(b"bad name", [b"1"])], []),
            (200, b"OK", [], [b"a=1\nx"]),
            (200, b"OK", [(b"x", [b"v" * 300_000])], []),
        ],
    )
    def test_refused(self, head: tuple[object, object, object, object]) -> None:
        """
        A status that is not an int, a reason or value that would split the
        response, a bad field name or an oversized head is refused.
        """
        with pytest.raises(ValueError):
            readResponseHead(*head)


class FakeUsers:
    """A user database of the users given."""

    def __init__(self, *entries: tuple[str, int, str, str]) -> None:
        self.entries = [
            (name, "x", uid, uid, gecos, home, "/bin/sh")
            for name, uid, gecos, home in entries
        ]

    def getpwall(self) -> list[tuple[str, str, int, int, str, str, str]]:
        return list(self.entries)

    def getpwnam(self, name: str) -> tuple[str, str, int, int, str, str, str]:
        for entry in self.entries:
            if entry[0] == name:
                return entry
        raise KeyError(name)


class TestUserDirectory:
    """The front's users: who is listed, what is served."""

    def homes(self, tmp_path: Path) -> FakeUsers:
        me = os.getuid()
        withHtml = tmp_path / "alice"
        (withHtml / "public_html").mkdir(parents=True)
        withSocket = tmp_path / "bob"
        withSocket.mkdir()
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(withSocket / ".twistd-web-pb"))
        self.listener = listener
        nothing = tmp_path / "carol"
        nothing.mkdir()
        linked = tmp_path / "dave"
        linked.mkdir()
        os.symlink("/", linked / "public_html")
        return FakeUsers(
            ("alice", me, "Alice <A>,,", str(withHtml)),
            ("bob", me, "", str(withSocket)),
            ("carol", me, "Carol", str(nothing)),
            ("dave", me, "Dave", str(linked)),
            ("eve", me + 1, "Eve", str(withHtml)),
        )

    def test_listing(self, tmp_path: Path) -> None:
        """
        Users are listed only with a C{public_html} or a personal server's
        socket of their own; names are escaped and linked.
        """
        directory = distrib.UserDirectory(self.homes(tmp_path))
        request = Request(FakeStream())
        page = directory.render_GET(request).decode()
        self.listener.close()
        assert '<a href="alice/">Alice &lt;A&gt; (file)</a>' in page
        assert '<a href="bob.twistd/">bob (twistd)</a>' in page
        for absent in ("carol", "dave", "eve"):
            assert absent not in page

    def test_children(self, tmp_path: Path) -> None:
        """
        A user's C{public_html} is a File; a personal server a subscription
        to the socket; unknown users, missing entries, a C{public_html} that
        links out of the home, or one owned by someone else are 404.
        """
        directory = distrib.UserDirectory(self.homes(tmp_path))
        self.listener.close()
        alice = directory.getChild(b"alice", None)  # type: ignore[arg-type]
        assert isinstance(alice, File)
        assert alice.path == str(tmp_path / "alice" / "public_html")
        bob = directory.getChild(b"bob.twistd", None)  # type: ignore[arg-type]
        assert isinstance(bob, distrib.ResourceSubscription)
        assert bob.port == str(tmp_path / "bob" / ".twistd-web-pb")
        for name in [
            b"nobody",
            b"nobody.twistd",
            b"carol",
            b"alice.twistd",
            b"bob",
            b"dave",
            b"eve",
            b"..",
            b".twistd",
        ]:
            child = directory.getChild(name, None)  # type: ignore[arg-type]
            assert isinstance(child, NoResource), name
        assert directory.getChild(b"", None) is directory  # type: ignore[arg-type]


def test_copiedRequestIsRegistered() -> None:
    """
    The copied request's jelly type is twisted.web's, bound to our
    L{distrib.Request}.
    """
    registry: dict[bytes, object] = jelly.unjellyableRegistry  # type: ignore[assignment]
    assert registry[REQUEST_TYPE] is distrib.Request
    assert issubclass(distrib.Request, pb.RemoteCopy)


@pytest.mark.parametrize(
    ("operatorAllows", "userAsks", "followed"),
    [
        (False, False, False),
        (False, True, False),
        (True, False, False),
        (True, True, True),
    ],
)
def test_userSymlinksOut(
    tmp_path: Path, operatorAllows: bool, userAsks: bool, followed: bool
) -> None:
    """
    A link in a user's C{public_html} that leads out of it is followed only
    when the site's operator allows users to ask for it
    (C{allowUserSymlinks}) and the user asked (a C{~/.twistd-web-symlinks}
    file of theirs); else it is 404.  A link inside is always followed.
    """
    home = tmp_path / "alice"
    html = home / "public_html"
    html.mkdir(parents=True)
    (html / "inside.txt").write_bytes(b"inside")
    os.symlink(html / "inside.txt", html / "in-link.txt")
    outside = tmp_path / "elsewhere.txt"
    outside.write_bytes(b"elsewhere")
    os.symlink(outside, html / "out-link.txt")
    if userAsks:
        (home / ".twistd-web-symlinks").write_bytes(b"")
    users = FakeUsers(("alice", os.getuid(), "Alice", str(home)))
    directory = distrib.UserDirectory(users, allowUserSymlinks=operatorAllows)
    root = resource.Resource()
    root.putChild(b"users", directory)
    port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
    try:
        inLink = fetch(port.getHost().port, "/users/alice/in-link.txt")
        outLink = fetch(port.getHost().port, "/users/alice/out-link.txt")
    finally:
        port.stopListening()
    assert (inLink.status, inLink.body) == (200, b"inside")
    if followed:
        assert (outLink.status, outLink.body) == (200, b"elsewhere")
    else:
        assert outLink.status == 404
