"""
The publishing layer over HTTP/2: a real L{server.Site} and its resources
served through L{HTTP2Connection}, as over HTTP/1.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from _h2client import H2Client
from twisted.internet.task import Clock
from zope.interface import implementer

from twisted_web_re import resource, server, static
from twisted_web_re.resource import IStreamingUpload

LATER: list[server.Request] = []


class _Later(resource.Resource):
    """Answers later, with NOT_DONE_YET."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> Any:
        LATER.append(request)
        return server.NOT_DONE_YET


class _Form(resource.Resource):
    """Echoes a form field."""

    isLeaf = True

    def render_POST(self, request: server.Request) -> bytes:
        return b"name=" + request.args[b"name"][0]


class _Counter(resource.Resource):
    """Counts visits in the client's session."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> bytes:
        session = request.getSession()
        count = getattr(session, "count", 0) + 1
        session.count = count  # type: ignore[attr-defined]
        return b"%d" % count


def _site(tmp_path: Path) -> tuple[server.Site, H2Client]:
    (tmp_path / "hello.txt").write_bytes(b"0123456789" * 10)
    root = resource.Resource()
    root.putChild(b"files", static.File(str(tmp_path)))
    root.putChild(b"later", _Later())
    root.putChild(b"form", _Form())
    root.putChild(b"count", _Counter())
    site = server.Site(root, reactor=Clock())
    return site, H2Client(site.requestFactory, site=site)


def test_staticFileRangeOverHTTP2(tmp_path: Path) -> None:
    """A static file is served over HTTP/2, a Range answered 206."""
    _, h2 = _site(tmp_path)
    stream = h2.request(b"/files/hello.txt", headers=[(b"range", b"bytes=2-5")])
    response = h2.response(stream)
    assert response.status == 206
    assert response.body == b"2345"
    assert response.header(b"content-range") == b"bytes 2-5/100"
    assert response.ended


def test_staticFileIfNoneMatchOverHTTP2(tmp_path: Path) -> None:
    """A static file's ETag sent back in If-None-Match is answered 304."""
    _, h2 = _site(tmp_path)
    first = h2.response(h2.request(b"/files/hello.txt"))
    assert first.status == 200
    assert first.body == b"0123456789" * 10
    etag = first.header(b"etag")
    assert etag
    second = h2.response(
        h2.request(b"/files/hello.txt", headers=[(b"if-none-match", etag)])
    )
    assert second.status == 304
    assert second.body == b""
    assert second.ended


def test_notDoneYetFinishesLater(tmp_path: Path) -> None:
    """A resource answering NOT_DONE_YET finishes its stream later."""
    LATER.clear()
    _, h2 = _site(tmp_path)
    stream = h2.request(b"/later")
    assert h2.response(stream).status is None
    LATER[0].write(b"at last")
    LATER[0].finish()
    h2.pump()
    response = h2.response(stream)
    assert response.body == b"at last"
    assert response.ended
    assert LATER[0].clientproto == b"HTTP/2"


def test_formPostOverHTTP2(tmp_path: Path) -> None:
    """A form POST's fields reach C{request.args}."""
    _, h2 = _site(tmp_path)
    stream = h2.request(
        b"/form",
        b"POST",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
        body=b"name=alice&x=1",
    )
    assert h2.response(stream).body == b"name=alice"


def test_sessionCookieOverHTTP2(tmp_path: Path) -> None:
    """A session's cookie, sent back, finds the same session."""
    _, h2 = _site(tmp_path)
    first = h2.response(h2.request(b"/count"))
    assert first.body == b"1"
    cookie = first.headers[b"set-cookie"][0].split(b";")[0]
    second = h2.response(h2.request(b"/count", headers=[(b"cookie", cookie)]))
    assert second.body == b"2"


@implementer(IStreamingUpload)
class _Upload(resource.Resource):
    """Takes its body as it arrives, pausing after the first piece."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[bytes] = []
        self.request: Any = None

    def uploadStarted(self, request: Any, length: int | None) -> int | None:
        self.request = request
        return 413 if length is not None and length > 10**6 else None

    def uploadReceived(self, request: Any, data: bytes) -> None:
        self.pieces.append(data)
        if len(self.pieces) == 1:
            request.pauseUpload()

    def render_POST(self, request: Any) -> bytes:
        return b"got %d bytes" % len(b"".join(self.pieces))


def test_streamingUploadOverHTTP2() -> None:
    """
    A streaming upload takes its body as it arrives and may pause it (its
    stream's window then stays closed), or refuse it from the head (413).
    """
    upload = _Upload()
    root = resource.Resource()
    root.putChild(b"up", upload)
    site = server.Site(root, reactor=Clock())
    site.locateBeforeBody = True
    h2 = H2Client(site.requestFactory, site=site, refuseBody=site.refuseBody)
    stream = h2.request(b"/up", b"POST", end=False)
    h2.sendBody(stream, b"a" * 40000, end=False)
    h2.sendBody(stream, b"b" * 25535, end=False)
    assert len(upload.pieces) == 1
    assert h2.client.local_flow_control_window(stream) == 0
    upload.request.resumeUpload()
    h2.pump()
    h2.sendBody(stream, b"", end=True)
    assert h2.response(stream).body == b"got 65535 bytes"
    refused = h2.request(
        b"/up", b"POST", headers=[(b"content-length", b"2000000")], end=False
    )
    assert h2.response(refused).status == 413
