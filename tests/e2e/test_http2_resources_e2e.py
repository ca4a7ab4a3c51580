"""
Every kind of resource over HTTP/2, end to end: one C{twistd -n web-re}
serving a tree with a static file (ranges, conditionals), a directory listing,
an C{.rpy}, a CGI program, a WSGI application, a gzip-encoded resource, a
session counter, a streaming upload, a C{NOT_DONE_YET} resource and a
producer, each fetched with curl over HTTP/1.1 and over HTTP/2 (cleartext by
prior knowledge, and over TLS by ALPN): the answers must agree.

Skipped, with the reason, where curl with HTTP/2 is not installed.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from _servers import Server, startWebRe, stopServer
from conftest import writeSelfSignedCertificate

LOOPBACK = "127.0.0.1"
#: Seconds curl may take for one request.
DEADLINE = 60.0

CURL = shutil.which("curl")


def _curlHasHTTP2() -> bool:
    """Whether the installed curl was built with HTTP/2."""
    if CURL is None:
        return False
    features = subprocess.run(
        [CURL, "--version"], capture_output=True, timeout=DEADLINE, check=False
    ).stdout
    return b"HTTP2" in features


pytestmark = pytest.mark.skipif(
    not _curlHasHTTP2(), reason="curl with HTTP/2 is not installed"
)

#: The site's tree, imported by C{twistd web-re --class h2tree.Root}.  The
#: streaming upload needs the site to locate resources from the request's
#: head (C{Site.locateBeforeBody}), which no option of C{twistd web-re} sets:
#: this server process sets it on the class before its site is made.
TREE = '''\
import hashlib
import os

from twisted.internet import reactor
from zope.interface import implementer

from twisted_web_re import resource, script, server, static, twcgi, wsgi

server.Site.locateBeforeBody = True

FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "files")


def application(environ, startResponse):
    body = environ["wsgi.input"].read()
    text = "wsgi %s %s %s %d %s" % (
        environ["REQUEST_METHOD"],
        environ["PATH_INFO"],
        environ["QUERY_STRING"],
        len(body),
        hashlib.sha256(body).hexdigest(),
    )
    startResponse("200 OK", [("Content-Type", "text/plain"), ("X-App", "wsgi")])
    return [text.encode()]


class Later(resource.Resource):
    """NOT_DONE_YET: three pieces written from the reactor, 20 ms apart."""

    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        for i in range(3):
            reactor.callLater(0.02 * i, request.write, b"piece %d\\n" % i)
        reactor.callLater(0.07, request.finish)
        return server.NOT_DONE_YET


class Counter(resource.Resource):
    """Counts the visits of the client's session."""

    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()
        session.count = getattr(session, "count", 0) + 1
        return b"visit %d" % session.count


@implementer(resource.IStreamingUpload)
class Upload(resource.Resource):
    """
    Takes its body as it arrives, pausing after each piece and resuming
    10 ms later; answers its length, SHA-256 and whether it streamed.
    """

    isLeaf = True

    def uploadStarted(self, request, length):
        request.streamed = hashlib.sha256()
        request.streamedLength = 0
        return 413 if length is not None and length > 10**7 else None

    def uploadReceived(self, request, data):
        request.streamed.update(data)
        request.streamedLength += len(data)
        request.pauseUpload()
        reactor.callLater(0.01, request.resumeUpload)

    def render_POST(self, request):
        streamed = getattr(request, "streamed", None)
        if streamed is None:
            return b"not streamed"
        return b"streamed %d %s" % (
            request.streamedLength, streamed.hexdigest().encode()
        )


class Root(resource.Resource):
    def __init__(self):
        super().__init__()
        files = static.File(FILES)
        files.processors = {".rpy": script.ResourceScript, ".cgi": twcgi.CGIScript}
        self.putChild(b"files", files)
        self.putChild(b"later", Later())
        self.putChild(b"count", Counter())
        self.putChild(b"upload", Upload())
        self.putChild(
            b"gzip",
            resource.EncodingResourceWrapper(
                static.Data(b"compress me " * 500, "text/plain"),
                [server.GzipEncoderFactory()],
            ),
        )
        self.putChild(
            b"wsgi", wsgi.WSGIResource(reactor, reactor.getThreadPool(), application)
        )
'''

#: A resource script answering with its method and URI.
RPY = """\
from twisted_web_re import resource


class Echo(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"x-script", b"rpy")
        return b"rpy " + request.method + b" " + request.uri

    render_POST = render_GET


resource = Echo()
"""

#: A CGI program answering with its method, query and the SHA-256 of its input.
CGI = """\
#!{python}
import hashlib, os, sys
body = sys.stdin.buffer.read()
sys.stdout.write("Content-Type: text/plain\\r\\nX-Cgi: yes\\r\\n\\r\\n")
sys.stdout.write("cgi %s %s %d %s" % (
    os.environ["REQUEST_METHOD"], os.environ.get("QUERY_STRING", ""),
    len(body), hashlib.sha256(body).hexdigest()))
"""

#: The response fields that must be the same over both protocols, when
#: the HTTP/1.1 response has them.
SAME_FIELDS = (
    "content-type",
    "content-length",
    "content-range",
    "content-encoding",
    "etag",
    "last-modified",
    "location",
    "accept-ranges",
    "vary",
    "x-script",
    "x-cgi",
    "x-app",
)


@dataclass
class Answer:
    """
    What curl got.

    @ivar version: the HTTP version curl says it used (C{1.1}, C{2}).
    @ivar status: the final status code.
    @ivar fields: the final response's fields, names lower-cased.
    @ivar body: the body (decoded when fetched C{--compressed}).
    """

    version: str
    status: int
    fields: dict[str, list[str]]
    body: bytes


@dataclass
class Tree:
    """
    The running server.

    @ivar server: its process, listening on cleartext.
    @ivar tlsPort: its TLS port.
    @ivar work: a directory for curl's files.
    @ivar big: the content of C{/files/big.bin}.
    """

    server: Server
    tlsPort: int
    work: Path
    big: bytes

    def fetch(
        self, path: str, protocol: str, *options: str, tls: bool = False
    ) -> Answer:
        """
        Fetch C{path} with curl speaking C{protocol} (C{"1.1"} or C{"2"}),
        with the curl C{options} given.
        """
        if tls:
            url = f"https://{LOOPBACK}:{self.tlsPort}{path}"
            version = ["--http2"] if protocol == "2" else ["--http1.1"]
            version.append("--insecure")
        else:
            url = f"http://{LOOPBACK}:{self.server.port}{path}"
            version = ["--http2-prior-knowledge"] if protocol == "2" else ["--http1.1"]
        head = self.work / "head.txt"
        body = self.work / "body.bin"
        for leftover in (head, body):
            leftover.unlink(missing_ok=True)
        assert CURL is not None
        done = subprocess.run(
            [
                CURL,
                "--silent",
                "--show-error",
                "--max-time",
                str(DEADLINE),
                *version,
                "--dump-header",
                str(head),
                "--output",
                str(body),
                "--write-out",
                "%{http_version}",
                *options,
                url,
            ],
            capture_output=True,
            timeout=DEADLINE + 10,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        # Only the final response's head (after any 100 Continue).
        blocks = head.read_text("latin-1").replace("\r\n", "\n").strip().split("\n\n")
        lines = blocks[-1].split("\n")
        fields: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields.setdefault(name.strip().lower(), []).append(value.strip())
        return Answer(
            version=done.stdout.decode(),
            status=int(lines[0].split()[1]),
            fields=fields,
            # With --head, curl writes the head where the body would go.
            body=body.read_bytes()
            if body.exists() and "--head" not in options
            else b"",
        )

    def both(
        self, path: str, *options: str, tls: bool = False
    ) -> tuple[Answer, Answer]:
        """
        Fetch C{path} over HTTP/1.1 and over HTTP/2; check each used the
        protocol asked for and that they agree on the status, the body and
        the fields of L{SAME_FIELDS}; return both answers.
        """
        one = _sameBoundary(self.fetch(path, "1.1", *options, tls=tls))
        two = _sameBoundary(self.fetch(path, "2", *options, tls=tls))
        assert (one.version, two.version) == ("1.1", "2")
        assert two.status == one.status, path
        assert two.body == one.body, path
        for name in SAME_FIELDS:
            if name in one.fields:
                assert two.fields.get(name) == one.fields[name], (path, name)
        return one, two


def _sameBoundary(answer: Answer) -> Answer:
    """
    Put C{BOUNDARY} in place of a multipart answer's boundary, which is
    random for each response.
    """
    for index, value in enumerate(answer.fields.get("content-type", [])):
        _, found, boundary = value.partition("boundary=")
        if found:
            answer.fields["content-type"][index] = value.replace(boundary, "BOUNDARY")
            answer.body = answer.body.replace(boundary.encode(), b"BOUNDARY")
    return answer


def _freePort() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tree]:
    """One C{twistd web-re --class h2tree.Root}, on cleartext and TLS."""
    tmp = tmp_path_factory.mktemp("h2tree")
    (tmp / "h2tree.py").write_text(TREE)
    files = tmp / "files"
    (files / "sub").mkdir(parents=True)
    (files / "hello.txt").write_bytes(b"0123456789abcdef" * 64)
    (files / "sub" / "one.txt").write_text("one\n")
    (files / "sub" / "two.txt").write_text("two\n")
    (files / "echo.rpy").write_text(RPY)
    cgi = files / "hello.cgi"
    cgi.write_text(CGI.replace("{python}", sys.executable))
    cgi.chmod(0o755)
    big = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB
    (files / "big.bin").write_bytes(big)
    certificate, key = writeSelfSignedCertificate(tmp)
    tlsPort = _freePort()
    work = tmp / "curl"
    work.mkdir()
    server = startWebRe(
        tmp,
        "--listen",
        f"ssl:{tlsPort}:interface={LOOPBACK}:privateKey={key}:certKey={certificate}",
        "--class",
        "h2tree.Root",
    )
    try:
        yield Tree(server, tlsPort, work, big)
    finally:
        stopServer(server)


def test_staticFile(tree: Tree) -> None:
    """A static file is the same over HTTP/2, with its validators and length."""
    one, two = tree.both("/files/hello.txt")
    assert one.status == 200
    assert two.fields["etag"] and two.fields["content-length"] == ["1024"]


def test_staticFileRanges(tree: Tree) -> None:
    """A single range and several ranges are answered alike (206)."""
    one, _ = tree.both("/files/hello.txt", "--range", "16-31")
    assert one.status == 206 and one.body == b"0123456789abcdef"
    many, _ = tree.both("/files/hello.txt", "--range", "0-3,100-103")
    assert many.status == 206
    assert many.fields["content-type"][0].startswith("multipart/byteranges")


def test_staticFileConditionals(tree: Tree) -> None:
    """If-None-Match and If-Modified-Since give the same 304 over HTTP/2."""
    first = tree.fetch("/files/hello.txt", "1.1")
    etag = first.fields["etag"][0]
    modified = first.fields["last-modified"][0]
    byTag, _ = tree.both("/files/hello.txt", "--header", f"If-None-Match: {etag}")
    assert byTag.status == 304 and byTag.body == b""
    byDate, _ = tree.both(
        "/files/hello.txt", "--header", f"If-Modified-Since: {modified}"
    )
    assert byDate.status == 304


def test_headOfStaticFile(tree: Tree) -> None:
    """HEAD gets the same head and no body over HTTP/2."""
    one, _ = tree.both("/files/hello.txt", "--head")
    assert one.status == 200 and one.body == b""


def test_directoryListing(tree: Tree) -> None:
    """A directory is listed the same, and its URL without a slash redirected."""
    one, _ = tree.both("/files/sub/")
    assert one.status == 200 and b"one.txt" in one.body and b"two.txt" in one.body
    redirect, _ = tree.both("/files/sub")
    assert redirect.status in (301, 302) and redirect.fields["location"]


def test_largeFileFromItsProducer(tree: Tree) -> None:
    """A 1 MiB file, sent by its producer within the windows, arrives whole."""
    _, two = tree.both("/files/big.bin")
    assert two.body == tree.big


def test_resourceScript(tree: Tree) -> None:
    """An .rpy resource answers GET and POST the same over HTTP/2."""
    one, _ = tree.both("/files/echo.rpy?a=1")
    assert one.body == b"rpy GET /files/echo.rpy?a=1"
    posted, _ = tree.both("/files/echo.rpy", "--data-binary", "x=1")
    assert posted.body == b"rpy POST /files/echo.rpy"


def test_cgi(tree: Tree) -> None:
    """A CGI program gets the same request, body included, over HTTP/2."""
    one, _ = tree.both("/files/hello.cgi?q=1")
    assert one.body.startswith(b"cgi GET q=1 0 ")
    body = tree.work / "upload.bin"
    body.write_bytes(bytes(range(256)) * 800)
    posted, _ = tree.both("/files/hello.cgi", "--data-binary", f"@{body}")
    digest = hashlib.sha256(body.read_bytes()).hexdigest()
    assert posted.body == f"cgi POST  204800 {digest}".encode()


def test_wsgi(tree: Tree) -> None:
    """A WSGI application gets the same environ and body over HTTP/2."""
    one, _ = tree.both("/wsgi/some/path?x=y")
    assert one.body.startswith(b"wsgi GET /some/path x=y 0 ")
    body = tree.work / "upload.bin"
    body.write_bytes(b"w" * 150000)
    posted, _ = tree.both("/wsgi/in", "--data-binary", f"@{body}")
    digest = hashlib.sha256(b"w" * 150000).hexdigest()
    assert posted.body == f"wsgi POST /in  150000 {digest}".encode()


def test_gzip(tree: Tree) -> None:
    """EncodingResourceWrapper gzips the same way over HTTP/2."""
    one, two = tree.both("/gzip", "--compressed")
    assert one.body == b"compress me " * 500
    assert two.fields["content-encoding"] == ["gzip"]


def test_sessions(tree: Tree) -> None:
    """A session cookie set over HTTP/2 finds its session on the next request."""
    for protocol in ("1.1", "2"):
        jar = tree.work / f"cookies-{protocol}.txt"
        jar.unlink(missing_ok=True)
        jarOptions = ("--cookie-jar", str(jar), "--cookie", str(jar))
        first = tree.fetch("/count", protocol, *jarOptions)
        second = tree.fetch("/count", protocol, *jarOptions)
        assert (first.body, second.body) == (b"visit 1", b"visit 2"), protocol
        assert first.fields["set-cookie"][0].startswith("TWISTED_SESSION=")


def test_streamingUpload(tree: Tree) -> None:
    """
    An IStreamingUpload resource takes a body larger than the stream's
    window as it arrives, pausing it piece by piece, over HTTP/2 as over
    HTTP/1.1.
    """
    data = hashlib.sha256(b"up").digest() * 8000  # 256000 bytes
    body = tree.work / "streamed.bin"
    body.write_bytes(data)
    one, _ = tree.both("/upload", "--data-binary", f"@{body}")
    assert one.body == b"streamed %d %s" % (
        len(data),
        hashlib.sha256(data).hexdigest().encode(),
    )


def test_notDoneYet(tree: Tree) -> None:
    """A response written later, piece by piece, arrives whole over HTTP/2."""
    one, _ = tree.both("/later")
    assert one.body == b"piece 0\npiece 1\npiece 2\n"


def test_overTLSByALPN(tree: Tree) -> None:
    """Over TLS, curl chooses h2 by ALPN and gets the same answers."""
    tree.both("/files/hello.txt", "--range", "5-9", tls=True)
    tree.both("/files/sub/", tls=True)
    tree.both("/wsgi/tls", tls=True)
    tree.both("/files/hello.cgi?tls=1", tls=True)
