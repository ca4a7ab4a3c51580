"""
The spreadable web over real PB on loopback: a front server relays
C{/me.twistd/} to a personal server in the same process, over a UNIX socket
or TCP, and a real HTTP client talks to the front.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from _relay import fetch, relayPair, turnUntil
from twisted.internet import reactor as _reactor

from twisted_web_re import distrib, resource, server, static
from twisted_web_re.iweb import IRequest

reactor = _reactor


class Hello(resource.Resource):
    """Sets a status, fields both ways, two cookies; says hello."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> bytes:  # type: ignore[override]
        request.setResponseCode(201)
        request.setHeader(b"x-personal", b"yes")
        # As a WSGI application does: straight into the response headers.
        request.responseHeaders.addRawHeader(b"x-raw", b"one")
        request.responseHeaders.addRawHeader(b"x-raw", b"two")
        request.addCookie(b"a", b"1", path=b"/")
        request.addCookie(b"b", b"2", path=b"/")
        return b"hello " + request.uri + b" " + b"/".join(request.prepath)


class Redirect(resource.Resource):
    """Redirects elsewhere."""

    isLeaf = True

    def render_GET(self, request: IRequest) -> bytes:
        request.redirect(b"/me.twistd/hello")
        return b""


class SessionUid(resource.Resource):
    """Answers with the session's uid."""

    isLeaf = True

    def render_GET(self, request: IRequest) -> bytes:
        return request.getSession().uid  # type: ignore[no-any-return]


class Echo(resource.Resource):
    """Answers a POST with its body's length and SHA-256."""

    isLeaf = True

    def render_POST(self, request: IRequest) -> bytes:
        assert request.content is not None
        data = request.content.read()
        return b"%d %s" % (len(data), hashlib.sha256(data).hexdigest().encode())


class Never(resource.Resource):
    """Never answers."""

    isLeaf = True

    def render_GET(self, request: IRequest) -> int:
        return server.NOT_DONE_YET


class Half(resource.Resource):
    """Writes part of a chunked body, then waits for ever."""

    isLeaf = True
    started: list[IRequest] = []

    def render_GET(self, request: IRequest) -> int:
        request.write(b"part of it")
        self.started.append(request)
        return server.NOT_DONE_YET


def personalRoot(files: Path) -> resource.Resource:
    root = resource.Resource()
    root.putChild(b"hello", Hello())
    root.putChild(b"redirect", Redirect())
    root.putChild(b"session", SessionUid())
    root.putChild(b"echo", Echo())
    root.putChild(b"never", Never())
    root.putChild(b"half", Half())
    root.putChild(b"files", static.File(str(files)))
    return root


@pytest.fixture
def files(tmp_path: Path) -> Path:
    d = tmp_path / "files"
    d.mkdir()
    (d / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    return d


@pytest.mark.parametrize("over", ["unix", "tcp"])
def test_headersStatusCookies(over: str, files: Path, tmp_path: Path) -> None:
    """
    The status, every response field (those set straight into
    C{responseHeaders}, as WSGI applications do, included: twisted issue
    #5528) and every cookie the personal server sets reach the client, over
    a UNIX socket and over TCP; the personal server sees where the front
    mounted it.
    """
    with relayPair(personalRoot(files), tmp_path, over) as pair:
        answer = fetch(pair.frontPort, "/me.twistd/hello?x=1")
    assert answer.status == 201
    assert answer.header("x-personal") == "yes"
    assert answer.all("x-raw") in (["one", "two"], ["one, two"])
    assert sorted(answer.all("set-cookie")) == ["a=1; Path=/", "b=2; Path=/"]
    assert answer.body == b"hello /me.twistd/hello?x=1 me.twistd/hello"


def test_redirectAndSession(files: Path, tmp_path: Path) -> None:
    """
    A redirect reaches the client; a session's cookie does too, and brings
    back the same session on the next request.
    """
    with relayPair(personalRoot(files), tmp_path) as pair:
        moved = fetch(pair.frontPort, "/me.twistd/redirect")
        first = fetch(pair.frontPort, "/me.twistd/session")
        cookie = first.header("set-cookie")
        assert cookie is not None
        again = fetch(
            pair.frontPort,
            "/me.twistd/session",
            headers={"Cookie": cookie.split(";")[0]},
        )
    assert moved.status == 302
    assert moved.header("location") == "/me.twistd/hello"
    # The session's cookie is named for where the site is mounted.
    assert cookie.startswith("TWISTED_SESSION_me.twistd=")
    assert again.body == first.body
    assert again.header("set-cookie") is None


def test_largeFileAndUpload(files: Path, tmp_path: Path) -> None:
    """
    A file of several MiB served by the personal server arrives whole with
    its length; an upload of a few MiB reaches the personal server whole.
    """
    data = (files / "big.bin").read_bytes()
    upload = os.urandom(2 * 1024 * 1024 + 5)
    with relayPair(personalRoot(files), tmp_path) as pair:
        got = fetch(pair.frontPort, "/me.twistd/files/big.bin")
        echoed = fetch(pair.frontPort, "/me.twistd/echo", "POST", upload)
    assert got.status == 200
    assert got.header("content-length") == str(len(data))
    assert hashlib.sha256(got.body).digest() == hashlib.sha256(data).digest()
    assert echoed.body == b"%d %s" % (
        len(upload),
        hashlib.sha256(upload).hexdigest().encode(),
    )


def test_downIsBadGateway(files: Path, tmp_path: Path) -> None:
    """
    While the personal server is down the client gets 502 with a page
    saying so; once it is back, the front reconnects by itself.
    """
    with relayPair(personalRoot(files), tmp_path) as pair:
        assert fetch(pair.frontPort, "/me.twistd/hello").status == 201
        pair.stopPersonal()
        down = fetch(pair.frontPort, "/me.twistd/hello")
        pair.startPersonal()
        back = fetch(pair.frontPort, "/me.twistd/hello")
    assert down.status == 502
    assert b"Bad Gateway" in down.body
    assert back.status == 201


def test_tooSlowIsGatewayTimeout(files: Path, tmp_path: Path) -> None:
    """
    A personal server that does not answer in the subscription's timeout
    gets the client a 504 page, not a hang.
    """
    with relayPair(personalRoot(files), tmp_path) as pair:
        pair.subscription.timeout = 0.5
        answer = fetch(pair.frontPort, "/me.twistd/never")
    assert answer.status == 504
    assert b"Gateway Timeout" in answer.body


def test_deathMidResponseIsAborted(files: Path, tmp_path: Path) -> None:
    """
    When the personal server goes away after the head and part of the body
    went out, the client's response is cut (no last chunk), never complete.
    """
    Half.started = []
    with relayPair(personalRoot(files), tmp_path) as pair:
        outcome: list[tuple[int, bytes, bool]] = []
        import threading

        def client() -> None:
            outcome.append(fetch_blocking(pair.frontPort, "/me.twistd/half"))

        thread = threading.Thread(target=client, daemon=True)
        thread.start()
        turnUntil(lambda: bool(Half.started))
        # Let the head and first piece reach the client, then kill.
        end = reactor.seconds() + 0.3
        turnUntil(lambda: reactor.seconds() > end)
        pair.stopPersonal()
        turnUntil(lambda: bool(outcome))
        thread.join(5)
    status, body, cut = outcome[0]
    assert status == 200
    assert body.startswith(b"part of it") or body == b""
    assert cut


def fetch_blocking(port: int, path: str) -> tuple[int, bytes, bool]:
    """A blocking GET: status, what of the body came, whether it was cut."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request("GET", path)
        answer = conn.getresponse()
        try:
            return answer.status, answer.read(), False
        except (http.client.IncompleteRead, ConnectionError) as e:
            return answer.status, getattr(e, "partial", b""), True
    finally:
        conn.close()


def test_peerDroppingBeforePBIsBadGateway(tmp_path: Path) -> None:
    """
    A peer that accepts the connection and drops it before PB is ready (no
    PB server, or a TLS handshake refused) gets the client a 502 at once,
    not a request left waiting for ever.
    """
    from twisted.internet.protocol import Factory, Protocol

    class Dropper(Protocol):
        def connectionMade(self) -> None:
            assert self.transport is not None
            self.transport.loseConnection()

    listening = reactor.listenTCP(  # type: ignore[attr-defined]
        0, Factory.forProtocol(Dropper), interface="127.0.0.1"
    )
    try:
        subscription = distrib.ResourceSubscription(
            "127.0.0.1", listening.getHost().port
        )
        root = resource.Resource()
        root.putChild(b"me.twistd", subscription)
        front = reactor.listenTCP(  # type: ignore[attr-defined]
            0, server.Site(root), interface="127.0.0.1"
        )
        try:
            answer = fetch(front.getHost().port, "/me.twistd/", timeout=10)
        finally:
            front.stopListening()
    finally:
        listening.stopListening()
    assert answer.status == 502
    assert b"cannot be reached" in answer.body
