"""
Request bodies relayed to a personal server: through the stream contract,
as they arrive from the client, with back-pressure from the personal
server's resource back to the front's client.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from pathlib import Path

from _relay import DEADLINE, fetch, inThread, relayPair, turnUntil
from zope.interface import implementer

from twisted_web_re import http, resource, server
from twisted_web_re.iweb import IRequest


@implementer(resource.IResource, resource.IStreamingUpload)
class Taker(resource.Resource):
    """
    Takes its upload as it arrives, hashing it; pauses the upload after its
    first piece while C{holdAfterFirst} is set, until L{release}.
    """

    isLeaf = True

    def __init__(self, holdAfterFirst: bool = False) -> None:
        super().__init__()
        self.first = threading.Event()
        self.received = 0
        self.pieces = 0
        self.digest = hashlib.sha256()
        self.holdAfterFirst = holdAfterFirst
        self.held: http.Request | None = None

    def uploadStarted(self, request: http.Request, length: int | None) -> int | None:
        if request.getHeader(b"x-refuse"):
            return 413
        return None

    def uploadReceived(self, request: http.Request, data: bytes) -> None:
        self.received += len(data)
        self.pieces += 1
        self.digest.update(data)
        if not self.first.is_set():
            self.first.set()
            if self.holdAfterFirst:
                self.held = request
                request.pauseUpload()

    def release(self) -> None:
        held, self.held = self.held, None
        if held is not None:
            held.resumeUpload()

    def render_POST(self, request: IRequest) -> bytes:
        return b"%d %s" % (self.received, self.digest.hexdigest().encode())


class Form(resource.Resource):
    """Answers with the form's arguments."""

    isLeaf = True

    def render_POST(self, request: IRequest) -> bytes:
        return repr(sorted(request.args.items())).encode()


def personal(taker: Taker) -> resource.Resource:
    root = resource.Resource()
    root.putChild(b"take", taker)
    root.putChild(b"form", Form())
    return root


def upload(
    port: int,
    pieces: int,
    piece: bytes,
    beforeLast: threading.Event | None = None,
    chunked: bool = False,
) -> tuple[bytes, bool]:
    """
    POST C{pieces} copies of C{piece} to C{/me.twistd/take}; before the last
    one, wait for C{beforeLast} (set by the personal server's resource).

    @return: the response, and whether C{beforeLast} was set in time.
    """
    seen = True
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        framing = (
            b"transfer-encoding: chunked"
            if chunked
            else b"content-length: %d" % (pieces * len(piece))
        )
        s.sendall(
            b"POST /me.twistd/take HTTP/1.1\r\nhost: x\r\n" + framing + b"\r\n\r\n"
        )
        for i in range(pieces):
            if i == pieces - 1 and beforeLast is not None:
                seen = beforeLast.wait(DEADLINE)
            data = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
            s.sendall(data)
        if chunked:
            s.sendall(b"0\r\n\r\n")
        answer = readResponse(s)
    return answer, seen


def readResponse(s: socket.socket) -> bytes:
    """@return: one response with a C{Content-Length}, read from C{s}."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        data = s.recv(65536)
        if not data:
            return answer
        answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        data = s.recv(65536)
        if not data:
            break
        body += data
    return head + b"\r\n\r\n" + body


def test_uploadStreamsAsItArrives(tmp_path: Path) -> None:
    """
    With Sites that locate from the head on both sides, a streaming-upload
    resource on the personal server gets the first piece of a large upload
    while the client has not yet sent the last, and gets all of it, in
    order, with a known length and chunked.
    """
    piece = bytes(range(256)) * 1024
    for chunked in (False, True):
        taker = Taker()
        with relayPair(personal(taker), tmp_path, front=True) as pair:
            pair.personalSite.locateBeforeBody = True
            answer, seen = inThread(
                lambda t=taker, c=chunked: upload(  # type: ignore[misc]
                    pair.frontPort, 40, piece, t.first, c
                )
            )
        expected = hashlib.sha256(piece * 40).hexdigest().encode()
        assert seen, "the personal server saw nothing before the last piece"
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert answer.endswith(b"%d %s" % (40 * len(piece), expected))


def test_pausedUploadHoldsTheClient(tmp_path: Path) -> None:
    """
    While the personal server's resource has paused its upload, the front
    stops reading its client: the client cannot send more than a bounded
    amount (socket buffers and the front's small buffer); once resumed, the
    whole upload arrives.
    """
    taker = Taker(holdAfterFirst=True)
    total = 64 * 1024 * 1024
    sent: list[int] = [0]
    outcome: list[bytes] = []

    def client(port: int) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
            s.sendall(
                b"POST /me.twistd/take HTTP/1.1\r\nhost: x\r\n"
                b"content-length: %d\r\n\r\n" % total
            )
            piece = b"x" * 65536
            while sent[0] < total:
                s.sendall(piece)
                sent[0] += len(piece)
            outcome.append(readResponse(s))

    with relayPair(personal(taker), tmp_path, front=True) as pair:
        pair.personalSite.locateBeforeBody = True
        thread = threading.Thread(target=client, args=(pair.frontPort,), daemon=True)
        thread.start()
        turnUntil(lambda: taker.held is not None)
        end = time.monotonic() + 1.5
        turnUntil(lambda: time.monotonic() > end)
        heldAt = sent[0]
        received = taker.received
        taker.release()
        turnUntil(lambda: bool(outcome), DEADLINE * 2)
        thread.join(5)
    # Kernel buffers on loopback hold some MiB; the relay itself holds at
    # most a few hundred KiB.
    assert heldAt < 24 * 1024 * 1024, heldAt
    assert received <= 2 * 65536
    assert outcome[0].startswith(b"HTTP/1.1 200 ")
    assert taker.received == total


def test_refusedUploadAnswersAtOnce(tmp_path: Path) -> None:
    """
    A streaming-upload resource on the personal server that refuses the
    body (413) has its answer reach the client without the body being read.
    """
    taker = Taker()
    with relayPair(personal(taker), tmp_path, front=True) as pair:
        pair.personalSite.locateBeforeBody = True
        answer = fetch(
            pair.frontPort,
            "/me.twistd/take",
            "POST",
            b"y" * (300 * 1024),
            {"x-refuse": "1"},
        )
    assert answer.status == 413
    assert taker.received == 0


def test_formArgumentsThroughRelay(tmp_path: Path) -> None:
    """
    A form posted through the front is parsed on the personal server into
    C{request.args}, whether the front relays it whole or as it arrives.
    """
    for front in (False, True):
        with relayPair(personal(Taker()), tmp_path, front=front) as pair:
            answer = fetch(
                pair.frontPort,
                "/me.twistd/form?q=1",
                "POST",
                b"a=1&b=two",
                {"content-type": "application/x-www-form-urlencoded"},
            )
        assert answer.status == 200
        assert (
            answer.body
            == repr(
                sorted({b"a": [b"1"], b"b": [b"two"], b"q": [b"1"]}.items())
            ).encode()
        )


def test_sitesLocateOnce(tmp_path: Path) -> None:
    """
    A personal server's Site that locates from the head locates the
    relayed request's resource once, from where the front left off.
    """
    calls: list[bytes] = []

    class Counting(resource.Resource):
        def getChild(self, path: bytes, request: IRequest) -> resource.Resource:
            calls.append(path)
            return Form()

    with relayPair(Counting(), tmp_path, front=True) as pair:
        pair.personalSite.locateBeforeBody = True
        answer = fetch(pair.frontPort, "/me.twistd/x", "POST", b"a=1")
    assert answer.status == 200
    assert calls == [b"x"]


def test_userFrontLocatesFromHead() -> None:
    """
    C{twistd web-re --user} finds a user's personal server from the request
    head, so that uploads to it are relayed as they arrive; other roots keep
    twisted.web's order.
    """
    from twisted.application.internet import StreamServerEndpointService
    from twisted.internet.testing import MemoryReactorClock

    from twisted_web_re import tap

    def siteFor(*args: str) -> server.Site:
        options = tap.Options(reactor=MemoryReactorClock())
        options.parseOptions(list(args))
        service = tap.makeService(options)
        return next(
            c.factory for c in service if isinstance(c, StreamServerEndpointService)
        )

    assert siteFor("--user").locateBeforeBody
    assert not siteFor().locateBeforeBody


def test_largeBodyCalledAFormIsRelayed(tmp_path: Path) -> None:
    """
    A large body that says it is a form (as curl's C{--data-binary} does)
    is relayed as it is: the front does not parse it, nor fail on it.
    """
    from test_distrib_relay import personalRoot

    files = tmp_path / "files"
    files.mkdir()
    body = b"a=1&" * 80000
    with relayPair(personalRoot(files), tmp_path) as pair:
        answer = fetch(
            pair.frontPort,
            "/me.twistd/echo",
            "POST",
            body,
            {"content-type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
    assert answer.status == 200
    assert answer.body == b"%d %s" % (
        len(body),
        hashlib.sha256(body).hexdigest().encode(),
    )
