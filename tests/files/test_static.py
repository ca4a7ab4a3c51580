"""
Tests for L{twisted_web_re.static}: serving files with L{static.File} (types,
validators, conditional and range requests, HEAD, streaming with
back-pressure), directories (redirects, index pages, listings), the File's
attributes and options, and the small resources beside it (L{static.Data},
L{static.Redirect}, L{static.Registry}, L{static.ASISProcessor}).

Most tests run a real channel from C{site.buildProtocol} over a
L{StringTransport}, with a L{MemoryReactorClock} as the site's reactor; a few
fetch from a server process over a real socket with L{http.client}.

Every conditional and range test runs against a small file (read whole) and a
large one (streamed), which must answer alike.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _httpparse import PEER, Incomplete, Response, parseResponses
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from twisted_web_re import resource, server, static
from twisted_web_re._files import producer as _fileproducer
from twisted_web_re._publish.conditional import (
    MAX_RANGES,
    applyRange,
    layoutRanges,
    selectRanges,
)
from twisted_web_re._publish.headerparse import formatHTTPDate, parseMediaType
from twisted_web_re.resource import EncodingResourceWrapper, Resource

#: The modification time of every file in the test trees.
MTIME = 1_700_000_000
LAST_MODIFIED = formatHTTPDate(MTIME)
EARLIER = formatHTTPDate(MTIME - 60)
LATER = formatHTTPDate(MTIME + 60)

#: Sizes on either side of the streaming threshold.
SMALL_SIZE = 1000
BIG_SIZE = static.SMALL_FILE + 5000
STREAM_SIZE = 5 * 1024 * 1024


def pattern(size: int) -> bytes:
    """Content in which every position is told apart by its neighbours."""
    block = bytes(range(256)) + bytes(range(255, -1, -1)) + bytes(range(0, 256, 3))
    return (block * (size // len(block) + 1))[:size]


def write(path: Path, content: bytes | str, mtime: int = MTIME) -> Path:
    """Write C{content} at C{path} with the fixed modification time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    os.utime(path, (mtime, mtime))
    return path


# -- the harness -------------------------------------------------------------------


class RecordingTransport(StringTransport):
    """A transport that records the size of every write."""

    def __init__(self) -> None:
        super().__init__(
            hostAddress=IPv4Address("TCP", "127.0.0.2", 80), peerAddress=PEER
        )
        self.sizes: list[int] = []

    def write(self, data: bytes) -> None:
        self.sizes.append(len(data))
        super().write(data)


class Client:
    """
    One client connection to a L{server.Site} publishing C{root}.

    @ivar clock: the site's reactor; L{pump} runs what is due on it.
    @ivar transport: what the server wrote is C{transport.value()}.
    """

    def __init__(self, root: Any, transport: StringTransport | None = None) -> None:
        self.clock = MemoryReactorClock()
        self.site = server.Site(root, reactor=self.clock)
        self.transport = transport or RecordingTransport()
        self.channel = self.site.buildProtocol(PEER)
        self.channel.makeConnection(self.transport)
        self.methods: list[bytes] = []

    def send(
        self,
        path: bytes = b"/",
        method: bytes = b"GET",
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        """Send one request; its answer may come now or once pumped."""
        self.methods.append(method)
        lines = [method + b" " + path + b" HTTP/1.1", b"Host: example.com"]
        lines.extend(name + b": " + value for name, value in headers)
        self.channel.dataReceived(b"\r\n".join(lines) + b"\r\n\r\n")

    def pump(self) -> None:
        """Run every call due now on the clock, and those they schedule."""
        while any(
            call.getTime() <= self.clock.seconds()
            for call in self.clock.getDelayedCalls()
        ):
            self.clock.advance(0)

    def responses(self) -> list[Response]:
        """
        Every response so far, once all are complete; nothing while one is
        still arriving.
        """
        try:
            return parseResponses(self.transport.value(), self.methods)
        except Incomplete:
            return []

    def request(
        self,
        path: bytes = b"/",
        method: bytes = b"GET",
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> Response:
        """Send one request and return its complete answer."""
        before = len(self.responses())
        self.send(path, method, headers)
        self.pump()
        responses = self.responses()
        assert len(responses) == before + 1, self.transport.value()[-500:]
        return responses[-1]


def get(
    root: Any,
    path: bytes = b"/",
    method: bytes = b"GET",
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> Response:
    """The answer a site publishing C{root} gives to one request."""
    return Client(root).request(path, method, headers)


def multipart(response: Response) -> list[tuple[bytes, bytes | None, bytes]]:
    """
    The parts of a C{multipart/byteranges} response: each part's
    C{Content-Range}, C{Content-Type} and data.
    """
    contentType = response.header(b"content-type")
    assert contentType is not None
    parsed = parseMediaType(contentType)
    assert parsed is not None and parsed[:2] == (b"multipart", b"byteranges")
    boundary = parsed[2][b"boundary"]
    body = response.body
    assert body.endswith(b"\r\n--" + boundary + b"--\r\n")
    found = []
    for chunk in body[: -len(boundary) - 8].split(b"\r\n--" + boundary + b"\r\n"):
        chunk = chunk.removeprefix(b"--" + boundary + b"\r\n")
        head, _, data = chunk.partition(b"\r\n\r\n")
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
        found.append((fields[b"Content-Range"], fields.get(b"Content-Type"), data))
    return found


# -- the tree ----------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """
    A directory to serve: files of several types, a small and a large file,
    subdirectories with and without an index page, and dotfiles.
    """
    root = tmp_path / "www"
    write(root / "small.bin", pattern(SMALL_SIZE))
    write(root / "big.bin", pattern(BIG_SIZE))
    write(root / "page.html", "<p>hello</p>")
    write(root / "style.css", "p { }")
    write(root / "notes.txt", "notes")
    write(root / "README", "read me")
    write(root / "archive.tar.gz", b"\x1f\x8b fake")
    write(root / "font.woff2", b"wOF2")
    write(root / "empty.txt", b"")
    write(root / "sub" / "index.html", "sub index")
    write(root / "sub" / "font.woff2", b"wOF2")
    write(root / "plain" / "a.txt", "a")
    write(root / "plain" / "b.txt", "bb")
    write(root / "plain" / ".hidden", "hidden")
    write(root / ".env", "SECRET=1")
    return root


@pytest.fixture(params=["small.bin", "big.bin"])
def served(request: pytest.FixtureRequest, tree: Path) -> tuple[Any, bytes, bytes]:
    """
    A File publishing the tree, the path of a file in it (small, read whole;
    large, streamed), and that file's content.
    """
    name: str = request.param
    return static.File(str(tree)), b"/" + name.encode(), (tree / name).read_bytes()


def etagOf(path: Path) -> bytes:
    """The entity tag the server gives the file at C{path}."""
    info = path.stat()
    return b'"%x-%x"' % (info.st_size, info.st_mtime_ns)


# -- serving a file ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "contentType", "encoding"),
    [
        (b"page.html", b"text/html", None),
        (b"style.css", b"text/css", None),
        (b"notes.txt", b"text/plain", None),
        (b"font.woff2", b"font/woff2", None),
        (b"README", b"text/html", None),
        (b"archive.tar.gz", b"application/x-tar", b"gzip"),
    ],
)
def test_typeAndEncoding(
    tree: Path, name: bytes, contentType: bytes, encoding: bytes | None
) -> None:
    """
    A file's C{Content-Type} comes from its extension (the default type when
    it has none), and a compression extension gives C{Content-Encoding} with
    the type of the extension before it.
    """
    response = get(static.File(str(tree)), b"/" + name)
    assert response.status == 200
    assert response.header(b"content-type") == contentType
    assert response.header(b"content-encoding") == encoding


def test_defaultType(tree: Path) -> None:
    """A File's C{defaultType} is the type of files of unknown extension."""
    response = get(static.File(str(tree), defaultType="text/plain"), b"/README")
    assert response.header(b"content-type") == b"text/plain"


def test_validatorsAndLength(served: tuple[Any, bytes, bytes], tree: Path) -> None:
    """
    A file is served whole with its C{Content-Length}, its modification time
    as C{Last-Modified}, a strong C{ETag}, and C{Accept-Ranges: bytes}.
    """
    root, path, content = served
    response = get(root, path)
    assert response.status == 200
    assert response.body == content
    assert response.framing == "length"
    assert response.header(b"content-length") == b"%d" % len(content)
    assert response.header(b"last-modified") == LAST_MODIFIED
    assert response.header(b"etag") == etagOf(tree / path[1:].decode())
    assert response.header(b"accept-ranges") == b"bytes"


def test_etagChangesWithFile(tree: Path) -> None:
    """
    The entity tag changes when the file's size or modification time does,
    and is the same for the same file otherwise.
    """
    root = static.File(str(tree))
    first = get(root, b"/notes.txt").header(b"etag")
    assert get(root, b"/notes.txt").header(b"etag") == first
    write(tree / "notes.txt", "notes", mtime=MTIME + 1)
    second = get(root, b"/notes.txt").header(b"etag")
    write(tree / "notes.txt", "Notes!", mtime=MTIME + 1)
    third = get(root, b"/notes.txt").header(b"etag")
    assert len({first, second, third}) == 3
    assert first is not None and first.startswith(b'"')


def test_emptyFile(tree: Path) -> None:
    """An empty file is a 200 with no body, even when ranges are asked for."""
    root = static.File(str(tree))
    assert get(root, b"/empty.txt").body == b""
    ranged = get(root, b"/empty.txt", headers=((b"range", b"bytes=0-"),))
    assert (ranged.status, ranged.body) == (200, b"")


def test_head(served: tuple[Any, bytes, bytes]) -> None:
    """HEAD gets GET's status and fields, its Content-Length included, and no body."""
    root, path, _ = served
    got = get(root, path)
    head = get(root, path, b"HEAD")
    assert (head.status, head.body, head.framing) == (200, b"", "none")
    dropDate = [(n, v) for n, v in got.headers if n != b"Date"]
    assert [(n, v) for n, v in head.headers if n != b"Date"] == dropDate


def test_otherMethods(tree: Path) -> None:
    """A method other than GET and HEAD gets 405, naming those two."""
    response = get(static.File(str(tree)), b"/notes.txt", b"POST")
    assert response.status == 405
    assert response.header(b"allow") == b"GET, HEAD"


# -- conditional requests ----------------------------------------------------------


def test_ifNoneMatch(served: tuple[Any, bytes, bytes], tree: Path) -> None:
    """
    C{If-None-Match} with the file's entity tag gets 304 with no body, its
    validators, and the Content-Length of the 200 it stands for; another
    tag gets the file.
    """
    root, path, content = served
    etag = etagOf(tree / path[1:].decode())
    response = get(root, path, headers=((b"if-none-match", etag),))
    assert (response.status, response.body) == (304, b"")
    assert response.header(b"etag") == etag
    assert response.header(b"last-modified") == LAST_MODIFIED
    assert response.header(b"content-length") == b"%d" % len(content)
    other = get(root, path, headers=((b"if-none-match", b'"other"'),))
    assert (other.status, other.body) == (200, content)


def test_ifNoneMatchHead(served: tuple[Any, bytes, bytes], tree: Path) -> None:
    """HEAD gets 304 too."""
    root, path, _ = served
    etag = etagOf(tree / path[1:].decode())
    assert get(root, path, b"HEAD", ((b"if-none-match", etag),)).status == 304


@pytest.mark.parametrize(
    ("since", "status"), [(LAST_MODIFIED, 304), (LATER, 304), (EARLIER, 200)]
)
def test_ifModifiedSince(
    served: tuple[Any, bytes, bytes], since: bytes, status: int
) -> None:
    """
    C{If-Modified-Since} at or after the file's modification time gets 304;
    before it, the file.
    """
    root, path, _ = served
    assert get(root, path, headers=((b"if-modified-since", since),)).status == status


def test_ifNoneMatchBeatsIfModifiedSince(
    served: tuple[Any, bytes, bytes],
) -> None:
    """
    With C{If-None-Match}, C{If-Modified-Since} is not looked at (RFC 9110
    section 13.2.2): a tag that does not match gets the file.
    """
    root, path, content = served
    response = get(
        root,
        path,
        headers=((b"if-none-match", b'"other"'), (b"if-modified-since", LATER)),
    )
    assert (response.status, response.body) == (200, content)


def test_ifMatch(served: tuple[Any, bytes, bytes], tree: Path) -> None:
    """
    C{If-Match} with another entity tag gets 412 with an empty body; with
    the file's, the file.
    """
    root, path, content = served
    etag = etagOf(tree / path[1:].decode())
    failed = get(root, path, headers=((b"if-match", b'"other"'),))
    assert (failed.status, failed.body) == (412, b"")
    assert failed.header(b"content-length") == b"0"
    passed = get(root, path, headers=((b"if-match", etag),))
    assert (passed.status, passed.body) == (200, content)


def test_ifUnmodifiedSince(served: tuple[Any, bytes, bytes]) -> None:
    """C{If-Unmodified-Since} before the modification time gets 412."""
    root, path, _ = served
    assert get(root, path, headers=((b"if-unmodified-since", EARLIER),)).status == 412
    assert get(root, path, headers=((b"if-unmodified-since", LATER),)).status == 200


# -- ranges ------------------------------------------------------------------------


def test_singleRange(served: tuple[Any, bytes, bytes]) -> None:
    """One range gets 206 with C{Content-Range} and those bytes."""
    root, path, content = served
    response = get(root, path, headers=((b"range", b"bytes=100-299"),))
    assert response.status == 206
    assert response.body == content[100:300]
    assert response.header(b"content-range") == b"bytes 100-299/%d" % len(content)
    assert response.header(b"content-length") == b"200"
    assert response.header(b"content-type") == b"application/octet-stream"


@pytest.mark.parametrize(
    ("spec", "start", "stop"),
    [(b"bytes=-10", -10, None), (b"bytes=900-", 900, None), (b"bytes=0-0", 0, 1)],
)
def test_openRanges(
    served: tuple[Any, bytes, bytes], spec: bytes, start: int, stop: int | None
) -> None:
    """A suffix range, an open-ended range, and a one-byte range."""
    root, path, content = served
    response = get(root, path, headers=((b"range", spec),))
    assert (response.status, response.body) == (206, content[start:stop])


def test_severalRanges(served: tuple[Any, bytes, bytes]) -> None:
    """
    Several ranges get a C{multipart/byteranges} 206, one part per range in
    the order asked for, each with the file's type and its C{Content-Range};
    its Content-Length is exact.
    """
    root, path, content = served
    size = len(content)
    response = get(root, path, headers=((b"range", b"bytes=500-599,0-9,-5"),))
    assert response.status == 206
    assert response.header(b"content-range") is None
    assert response.header(b"content-length") == b"%d" % len(response.body)
    assert multipart(response) == [
        (b"bytes 500-599/%d" % size, b"application/octet-stream", content[500:600]),
        (b"bytes 0-9/%d" % size, b"application/octet-stream", content[:10]),
        (
            b"bytes %d-%d/%d" % (size - 5, size - 1, size),
            b"application/octet-stream",
            content[-5:],
        ),
    ]


def test_overlappingRangesCoalesced(served: tuple[Any, bytes, bytes]) -> None:
    """Overlapping ranges are merged: C{bytes=0-,0-,0-} is the file once."""
    root, path, content = served
    response = get(root, path, headers=((b"range", b"bytes=0-,0-,0-"),))
    assert (response.status, response.body) == (206, content)


def test_tooManyRanges(served: tuple[Any, bytes, bytes]) -> None:
    """More distinct ranges than C{MAX_RANGES} get the whole file with 200."""
    root, path, content = served
    spec = b"bytes=" + b",".join(b"%d-%d" % (i * 10, i * 10) for i in range(50))
    response = get(root, path, headers=((b"range", spec),))
    assert (response.status, response.body) == (200, content)


def test_unsatisfiableRange(served: tuple[Any, bytes, bytes]) -> None:
    """
    A range beyond the end gets 416 with C{Content-Range: bytes */size}, no
    type and an empty body.
    """
    root, path, content = served
    response = get(root, path, headers=((b"range", b"bytes=999999-"),))
    assert (response.status, response.body) == (416, b"")
    assert response.header(b"content-range") == b"bytes */%d" % len(content)
    assert response.header(b"content-type") is None


def test_malformedRangeIgnored(served: tuple[Any, bytes, bytes]) -> None:
    """A Range field that does not parse is ignored: the whole file, 200."""
    root, path, content = served
    response = get(root, path, headers=((b"range", b"bytes=oops"),))
    assert (response.status, response.body) == (200, content)


def test_headIgnoresRange(served: tuple[Any, bytes, bytes]) -> None:
    """Ranges apply to GET only: HEAD with a Range gets the 200 head."""
    root, path, _ = served
    assert get(root, path, b"HEAD", ((b"range", b"bytes=0-9"),)).status == 200


@pytest.mark.parametrize(
    ("validator", "status"),
    [("etag", 206), ("date", 206), ("other", 200), ("weak", 200), ("old", 200)],
)
def test_ifRange(
    served: tuple[Any, bytes, bytes], tree: Path, validator: str, status: int
) -> None:
    """
    C{If-Range} with the file's entity tag or exact modification date gets
    the range; another tag, a weak one, or another date gets the whole file.
    (twisted.web ignores C{If-Range} and sends the range to a client whose
    copy is stale.)
    """
    root, path, content = served
    etag = etagOf(tree / path[1:].decode())
    value = {
        "etag": etag,
        "date": LAST_MODIFIED,
        "other": b'"other"',
        "weak": b"W/" + etag,
        "old": EARLIER,
    }[validator]
    response = get(root, path, headers=((b"range", b"bytes=0-9"), (b"if-range", value)))
    assert response.status == status
    assert response.body == (content[:10] if status == 206 else content)


def test_preconditionBeforeRange(served: tuple[Any, bytes, bytes], tree: Path) -> None:
    """A failed precondition wins over a range: 304, not 206."""
    root, path, _ = served
    etag = etagOf(tree / path[1:].decode())
    response = get(
        root, path, headers=((b"if-none-match", etag), (b"range", b"bytes=0-9"))
    )
    assert response.status == 304


def test_encodedResponseHasNoRanges(tree: Path) -> None:
    """
    A File wrapped to be gzip-encoded on the fly is sent whole and encoded,
    without C{Accept-Ranges}: its bytes are no longer the file's.  When the
    encoder declines (here, for an already compressed type), the file's
    bytes are sent as they are, and ranges of them too.
    """
    root = Resource()
    wrapped = EncodingResourceWrapper(
        static.File(str(tree / "big.bin")), [server.GzipEncoderFactory()]
    )
    root.putChild(b"big", wrapped)
    response = get(
        root,
        b"/big",
        headers=((b"accept-encoding", b"gzip"), (b"range", b"bytes=0-9")),
    )
    assert response.status == 206
    assert response.header(b"accept-ranges") == b"bytes"
    assert response.header(b"content-encoding") is None
    assert response.header(b"vary") == b"Accept-Encoding"
    textRoot = Resource()
    write(tree / "big.txt", pattern(BIG_SIZE))
    textRoot.putChild(
        b"big",
        EncodingResourceWrapper(
            static.File(str(tree / "big.txt")), [server.GzipEncoderFactory()]
        ),
    )
    encoded = get(
        textRoot,
        b"/big",
        headers=((b"accept-encoding", b"gzip"), (b"range", b"bytes=0-9")),
    )
    assert encoded.status == 200
    assert encoded.header(b"content-encoding") == b"gzip"
    assert encoded.header(b"accept-ranges") is None
    assert gzip.decompress(encoded.body) == pattern(BIG_SIZE)


# -- the planning functions in _conditional ----------------------------------------


@given(
    body=st.binary(min_size=1, max_size=300),
    specs=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(0, 400)),
            st.one_of(st.none(), st.integers(0, 400)),
        ),
        min_size=1,
        max_size=MAX_RANGES + 3,
    ),
)
def test_layoutMatchesApplyRange(
    body: bytes, specs: list[tuple[int | None, int | None]]
) -> None:
    """
    L{selectRanges} and L{layoutRanges}, from the length alone, describe the
    very answer L{applyRange} builds from the body.
    """
    rendered = ",".join(
        f"{'' if a is None else a}-{'' if b is None else b}" for a, b in specs
    )
    headers = {b"range": [b"bytes=" + rendered.encode()]}
    plan = selectRanges(b"GET", headers, 200, None, None, len(body))
    result = applyRange(b"GET", headers, 200, None, None, body, b"text/plain")
    if plan is None:
        assert result is None
        return
    assert result is not None
    boundary = None
    if len(plan.spans) > 1:
        contentType = dict(result.setHeaders)[b"content-type"]
        boundary = contentType.rpartition(b"=")[2]
    layout = layoutRanges(plan, b"text/plain", boundary)
    built = b"".join(
        piece if isinstance(piece, bytes) else body[piece[0] : piece[1] + 1]
        for piece in layout.pieces
    )
    assert (layout.status, layout.setHeaders, layout.removeHeaders) == (
        result.status,
        result.setHeaders,
        result.removeHeaders,
    )
    assert built == result.body
    assert layout.contentLength == len(built)


# -- streaming ---------------------------------------------------------------------


class CountingFile:
    """An open file that records every read and whether it was closed."""

    def __init__(self, wrapped: Any, reads: list[int]) -> None:
        self._wrapped = wrapped
        self.reads = reads
        self.name = wrapped.name

    def fileno(self) -> int:
        return int(self._wrapped.fileno())

    def seek(self, offset: int) -> int:
        return int(self._wrapped.seek(offset))

    def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        data: bytes = self._wrapped.read(size)
        return data

    def close(self) -> None:
        self._wrapped.close()

    @property
    def closed(self) -> bool:
        return bool(self._wrapped.closed)

    def __enter__(self) -> CountingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CountingFileResource(static.File):
    """A File whose open files count their reads, through C{openForReading}."""

    opened: list[CountingFile] = []

    def openForReading(self) -> Any:
        counting = CountingFile(super().openForReading(), [])
        CountingFileResource.opened.append(counting)
        return counting


@pytest.fixture
def streamed(tmp_path: Path) -> Iterator[tuple[Any, bytes]]:
    """A File publishing a directory holding a 5 MiB C{big.bin}."""
    content = pattern(STREAM_SIZE)
    write(tmp_path / "big.bin", content)
    CountingFileResource.opened = []
    yield CountingFileResource(str(tmp_path)), content
    CountingFileResource.opened = []


def test_streamedInBlocks(streamed: tuple[Any, bytes]) -> None:
    """
    A 5 MiB file goes out through a producer: the render returns before the
    body is written, the file is read in blocks of at most 64 KiB and never
    whole, every write to the transport is at most a block (and the head),
    and the file is closed at the end.
    """
    root, content = streamed
    client = Client(root)
    client.send(b"/big.bin")
    assert client.responses() == []
    assert len(client.transport.value()) < 2 * _fileproducer.BLOCK_SIZE
    client.pump()
    (response,) = client.responses()
    assert response.body == content
    (opened,) = CountingFileResource.opened
    assert max(opened.reads) <= _fileproducer.BLOCK_SIZE
    assert len(opened.reads) >= STREAM_SIZE // _fileproducer.BLOCK_SIZE
    transport = client.transport
    assert isinstance(transport, RecordingTransport)
    assert max(transport.sizes) <= _fileproducer.BLOCK_SIZE + 1024
    assert opened.closed


def oneTurn(clock: MemoryReactorClock) -> None:
    """
    Run the calls due now, but not those they schedule: one turn of a real
    reactor (C{advance(0)} would run those too).
    """
    due = [
        call for call in clock.getDelayedCalls() if call.getTime() <= clock.seconds()
    ]
    assert due, "nothing scheduled"
    for call in due:
        clock.calls.remove(call)
        call.called = 1
        call.func(*call.args, **call.kw)


def test_streamingYieldsToTheReactor(streamed: tuple[Any, bytes]) -> None:
    """
    A streamed response writes at most C{TURN_BUDGET} bytes per reactor turn,
    so one large download does not hold up every other connection.
    """
    root, content = streamed
    client = Client(root)
    client.send(b"/big.bin")
    turns = 0
    while not client.responses():
        before = len(client.transport.value())
        oneTurn(client.clock)
        assert len(client.transport.value()) - before <= _fileproducer.TURN_BUDGET
        turns += 1
    assert turns >= STREAM_SIZE // _fileproducer.TURN_BUDGET
    assert client.responses()[0].body == content


def test_backPressure(streamed: tuple[Any, bytes]) -> None:
    """
    While the connection is paused (its transport's buffer full), the
    producer reads nothing; resumed, it carries on to the end.
    """
    root, content = streamed
    client = Client(root)
    client.send(b"/big.bin")
    client.channel.pauseProducing()
    (opened,) = CountingFileResource.opened
    reads = len(opened.reads)
    written = len(client.transport.value())
    client.pump()
    client.clock.advance(10)
    assert len(opened.reads) == reads
    assert len(client.transport.value()) == written
    client.channel.resumeProducing()
    client.pump()
    assert client.responses()[0].body == content


class SmallBufferTransport(RecordingTransport):
    """
    A transport with a buffer of C{limit} bytes: writing past it pauses its
    producer, as Twisted's TCP transport does, until L{drain} empties it.
    """

    limit = 256 * 1024

    def __init__(self) -> None:
        super().__init__()
        self.buffered = 0
        self.highest = 0
        self.received = bytearray()

    def write(self, data: bytes) -> None:
        super().write(data)
        self.buffered += len(data)
        self.highest = max(self.highest, self.buffered)
        if self.buffered > self.limit and self.producer is not None:
            self.producer.pauseProducing()

    def drain(self) -> None:
        """The peer read everything: empty the buffer and resume."""
        self.received += self.value()
        self.clear()
        self.buffered = 0
        if self.producer is not None:
            self.producer.resumeProducing()


def test_memoryStaysSmall(streamed: tuple[Any, bytes]) -> None:
    """
    Against a transport that pushes back, no more than its buffer and one
    block is ever waiting to be sent, and the whole file arrives intact.
    """
    root, content = streamed
    transport = SmallBufferTransport()
    client = Client(root, transport)
    client.send(b"/big.bin")
    for _ in range(1000):
        client.pump()
        transport.drain()
        if len(transport.received) > len(content):
            break
    body = bytes(transport.received).partition(b"\r\n\r\n")[2]
    assert body == content
    assert transport.highest <= transport.limit + _fileproducer.BLOCK_SIZE + 1024


def test_connectionLostStopsStreaming(streamed: tuple[Any, bytes]) -> None:
    """
    When the client goes away mid-stream, reading stops, nothing more is
    scheduled, and the file is closed.
    """
    root, _ = streamed
    client = Client(root)
    client.send(b"/big.bin")
    client.channel.connectionLost(Failure(ConnectionDone("gone")))
    (opened,) = CountingFileResource.opened
    reads = len(opened.reads)
    client.pump()
    assert len(opened.reads) == reads
    assert opened.closed


def test_streamedRangesReadOnlyThoseBytes(streamed: tuple[Any, bytes]) -> None:
    """
    A multipart answer from a large file reads the ranges asked for, part by
    part, not the whole file.
    """
    root, content = streamed
    spans = b"bytes=0-99,1000000-1199999,-100"
    response = get(root, b"/big.bin", headers=((b"range", spans),))
    assert [data for _, _, data in multipart(response)] == [
        content[:100],
        content[1000000:1200000],
        content[-100:],
    ]
    (opened,) = CountingFileResource.opened
    assert sum(opened.reads) <= 100 + 200000 + 100


def test_keepAliveAfterStream(streamed: tuple[Any, bytes]) -> None:
    """A connection answers its next request once a streamed one is done."""
    root, content = streamed
    client = Client(root)
    assert client.request(b"/big.bin").body == content
    assert (
        client.request(b"/big.bin", headers=((b"range", b"bytes=0-4"),)).body
        == (content[:5])
    )


def test_fileShrinksWhileServed(tmp_path: Path) -> None:
    """
    A file cut short while it is being streamed ends the response early and
    closes the connection: the client sees fewer bytes than announced.
    """
    path = write(tmp_path / "big.bin", pattern(STREAM_SIZE))
    client = Client(static.File(str(tmp_path)))
    client.send(b"/big.bin")
    os.truncate(path, 200000)
    client.pump()
    assert client.transport.disconnecting
    assert client.responses() == []


def test_encodedFileShrinksWhileServed(tmp_path: Path) -> None:
    """
    A gzip-coded file cut short while it is streamed has its response cut
    too: the chunked body gets no last chunk, so the client cannot take the
    compressed part for the whole.
    """
    path = write(tmp_path / "big.txt", pattern(STREAM_SIZE))
    root = Resource()
    root.putChild(
        b"big.txt",
        EncodingResourceWrapper(static.File(str(path)), [server.GzipEncoderFactory()]),
    )
    client = Client(root)
    client.send(b"/big.txt", headers=((b"accept-encoding", b"gzip"),))
    assert b"Transfer-Encoding: chunked" in client.transport.value()
    os.truncate(path, 200000)
    client.pump()
    assert client.transport.disconnecting
    assert not client.transport.value().endswith(b"0\r\n\r\n")


# -- directories -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        (b"/sub", b"/sub/"),
        (b"/sub?x=1&y=2", b"/sub/?x=1&y=2"),
        (b"/plain", b"/plain/"),
    ],
)
def test_directoryRedirect(tree: Path, path: bytes, location: bytes) -> None:
    """
    A directory asked for without its trailing slash is redirected (301) to
    the URL with one, its query kept.
    """
    response = get(static.File(str(tree)), path)
    assert response.status == 301
    assert response.header(b"location") == location


def test_directoryRedirectBelowPutChild(tree: Path) -> None:
    """A File published below another resource redirects to its own URL."""
    root = Resource()
    root.putChild(b"files", static.File(str(tree)))
    response = get(root, b"/files")
    assert (response.status, response.header(b"location")) == (301, b"/files/")
    assert get(root, b"/files/sub/").body == b"sub index"


def test_indexPage(tree: Path) -> None:
    """A directory with an index page serves it at its slash URL."""
    response = get(static.File(str(tree)), b"/sub/")
    assert (response.status, response.body) == (200, b"sub index")
    assert response.header(b"content-type") == b"text/html"


def test_indexNamesOrder(tree: Path) -> None:
    """The first of C{indexNames} present is the directory's page."""
    write(tree / "sub" / "index", "bare index")
    write(tree / "sub" / "home.htm", "home")
    root = static.File(str(tree))
    assert root.indexNames == ["index", "index.html", "index.htm", "index.rpy"]
    assert get(root, b"/sub/").body == b"bare index"
    root.indexNames = ["home.htm", "index.html"]
    assert get(root, b"/sub/").body == b"home"
    root.indexNames = ["missing", "index.html"]
    assert get(root, b"/sub/").body == b"sub index"


def test_indexNamesPerInstance(tree: Path) -> None:
    """Changing one File's C{indexNames} leaves other Files' alone."""
    one, two = static.File(str(tree)), static.File(str(tree))
    one.indexNames.append("home.htm")
    assert two.indexNames == ["index", "index.html", "index.htm", "index.rpy"]
    assert static.File.indexNames == two.indexNames


def test_listing(tree: Path) -> None:
    """
    A directory without an index page is listed: its files, but not its
    dotfiles.
    """
    response = get(static.File(str(tree)), b"/plain/")
    assert response.status == 200
    assert b"a.txt" in response.body and b"b.txt" in response.body
    assert b".hidden" not in response.body


def test_directoryListingMethod(tree: Path) -> None:
    """
    C{directoryListing()} is a L{static.DirectoryLister} of the directory
    with the names C{listNames()} gives.
    """
    root = static.File(str(tree))
    lister = root.directoryListing()
    assert isinstance(lister, static.DirectoryLister)
    assert lister.path == root.path
    assert lister.dirs == root.listNames()
    assert ".env" not in root.listNames()
    assert root.listNames() == sorted(root.listNames())
    assert [entity.path for entity in root.listEntities()] == [
        os.path.join(root.path, name) for name in root.listNames()
    ]


def test_showHiddenListing(tree: Path) -> None:
    """With C{showHidden}, dotfiles are listed and served."""
    root = static.File(str(tree), showHidden=True)
    assert ".env" in root.listNames()
    assert get(root, b"/.env").body == b"SECRET=1"
    assert b".hidden" in get(root, b"/plain/").body


def test_fileHasNoChildren(tree: Path) -> None:
    """A file's URL with a slash or more segments after it is 404."""
    root = static.File(str(tree))
    assert get(root, b"/notes.txt/").status == 404
    assert get(root, b"/notes.txt/more").status == 404


# -- the File's attributes ---------------------------------------------------------


def markup(path: str, registry: Any) -> Resource:
    """A processor: serves the file's path, as a resource of its own."""
    return static.Data(b"processed " + os.path.basename(path).encode(), "text/plain")


def test_processors(tree: Path) -> None:
    """
    A file whose extension has a processor is served by what the processor
    makes of it (given its path and the File's registry); others as files.
    """
    write(tree / "doc.mark", "source")
    root = static.File(str(tree))
    seen: list[Any] = []

    def processor(path: str, registry: Any) -> Resource:
        seen.append(registry)
        return markup(path, registry)

    root.processors = {".mark": processor}
    assert get(root, b"/doc.mark").body == b"processed doc.mark"
    assert get(root, b"/notes.txt").body == b"notes"
    assert seen == [root.registry]


def test_processorsIgnoreCase(tree: Path) -> None:
    """
    A processor's extension matches whatever its case, so that a file
    system that ignores case cannot be made to serve a script's source.
    """
    write(tree / "DOC.MARK", "source")
    root = static.File(str(tree))
    root.processors = {".mark": markup}
    assert get(root, b"/DOC.MARK").body == b"processed DOC.MARK"


def test_processorForIndex(tree: Path) -> None:
    """An index page with a processor's extension is processed."""
    write(tree / "scripted" / "index.mark", "source")
    root = static.File(str(tree))
    root.processors = {".mark": markup}
    root.indexNames = ["index.mark"]
    assert get(root, b"/scripted/").body == b"processed index.mark"


def test_processorsPerInstance(tree: Path) -> None:
    """Adding a processor to one File does not add it to every File."""
    one, two = static.File(str(tree)), static.File(str(tree))
    one.processors[".mark"] = markup
    assert two.processors == {}
    assert static.File.processors == {}


def test_ignoreExt(tree: Path) -> None:
    """
    With C{ignoreExt(".mark")}, C{/doc} is served from C{doc.mark} when no
    C{doc} exists; an existing C{doc} wins.
    """
    write(tree / "doc.mark", "source")
    root = static.File(str(tree))
    root.processors = {".mark": markup}
    root.ignoreExt(".mark")
    assert get(root, b"/doc").body == b"processed doc.mark"
    assert get(root, b"/nothing").status == 404
    write(tree / "doc", "plain doc")
    assert get(root, b"/doc").body == b"plain doc"


@pytest.mark.parametrize(
    "make",
    [
        lambda path: static.File(path, ignoredExts=["*"]),
        lambda path: static.File(path, allowExt=1),
        lambda path: static.File(path, ignoredExts=True),
    ],
)
def test_ignoreAnyExt(tree: Path, make: Any) -> None:
    """
    C{"*"} (or C{allowExt}, or the old C{ignoredExts=True}) serves C{/notes}
    from C{notes.txt}, and C{/archive} from C{archive.tar.gz}, but never a
    dotfile.
    """
    root = make(str(tree))
    assert get(root, b"/notes").body == b"notes"
    assert get(root, b"/archive").header(b"content-encoding") == b"gzip"
    write(tree / ".x.txt", "hidden")
    assert get(root, b"/.x").status == 404


def test_contentTypesPerInstance(tree: Path, tmp_path: Path) -> None:
    """
    The howto's C{root.contentTypes[".woff2"] = ...} changes that File and
    the Files it makes for its children, and no other File (in twisted.web
    it changes every File).
    """
    fonts = static.File(str(tree))
    other = static.File(str(tree))
    fonts.contentTypes[".woff2"] = "application/font-woff2"
    assert get(fonts, b"/font.woff2").header(b"content-type") == (
        b"application/font-woff2"
    )
    assert get(fonts, b"/sub/font.woff2").header(b"content-type") == (
        b"application/font-woff2"
    )
    assert get(other, b"/font.woff2").header(b"content-type") == b"font/woff2"
    assert static.File.contentTypes[".woff2"] == "font/woff2"
    assert static.File(str(tree)).contentTypes[".woff2"] == "font/woff2"


def test_contentTypesReplaced(tree: Path) -> None:
    """A File's C{contentTypes} may be replaced whole, and its children use it."""
    root = static.File(str(tree))
    root.contentTypes = {".txt": "text/x-notes"}
    assert get(root, b"/notes.txt").header(b"content-type") == b"text/x-notes"
    assert get(root, b"/style.css").header(b"content-type") == b"text/html"


def test_contentEncodingsPerInstance(tree: Path) -> None:
    """C{contentEncodings} is per File tree too."""
    write(tree / "data.br", b"brotli")
    root = static.File(str(tree))
    root.contentEncodings[".br"] = "br"
    assert get(root, b"/data.br").header(b"content-encoding") == b"br"
    other = static.File(str(tree))
    assert get(other, b"/data.br").header(b"content-encoding") is None


def test_putChildOverridesFilesystem(tree: Path) -> None:
    """A child given to C{putChild} wins over the file of the same name."""
    root = static.File(str(tree))
    root.putChild(b"notes.txt", static.Data(b"from putChild", "text/plain"))
    root.putChild(b"virtual", static.Data(b"virtual", "text/plain"))
    assert get(root, b"/notes.txt").body == b"from putChild"
    assert get(root, b"/virtual").body == b"virtual"
    assert get(root, b"/style.css").body == b"p { }"


def test_childNotFound(tree: Path) -> None:
    """A File's C{childNotFound} answers for missing children."""
    root = static.File(str(tree))
    assert isinstance(root.childNotFound, resource.NoResource)
    root.childNotFound = static.Data(b"custom 404", "text/plain")
    assert get(root, b"/missing").body == b"custom 404"
    assert get(root, b"/sub/missing").body == b"custom 404"


def test_createSimilarFile(tree: Path) -> None:
    """
    C{createSimilarFile} makes a File of the same class sharing the
    processors, content types, registry and options, with its own copy of
    the index names.
    """

    class MyFile(static.File):
        pass

    root = MyFile(str(tree), "text/plain", [".x"], followSymlinks=True, showHidden=True)
    root.processors = {".mark": markup}
    root.indexNames = ["home"]
    similar = root.createSimilarFile(str(tree / "sub"))
    assert type(similar) is MyFile
    assert similar.path == str(tree / "sub")
    assert similar.processors is root.processors
    assert similar.contentTypes is root.contentTypes
    assert similar.contentEncodings is root.contentEncodings
    assert similar.registry is root.registry
    assert similar.indexNames == ["home"]
    assert similar.indexNames is not root.indexNames
    assert similar.ignoredExts == [".x"]
    assert similar.defaultType == "text/plain"
    assert (similar.followSymlinks, similar.showHidden) == (True, True)


def test_getChild(tree: Path) -> None:
    """
    C{getChild} gives a File for an entry, the index page for the empty
    segment, and C{childNotFound} for a missing one.
    """
    root = static.File(str(tree))
    child = root.getChild(b"notes.txt", None)
    assert isinstance(child, static.File) and child.path == str(tree / "notes.txt")
    assert root.getChild(b"missing", None) is root.childNotFound
    index = root.getChild(b"sub", None).getChild(b"", None)
    assert index.path == str(tree / "sub" / "index.html")
    assert root.getChild(b"..", None) is static.dangerousPathError


def test_isFilePath(tree: Path) -> None:
    """As in twisted.web, a File is a L{FilePath}."""
    from twisted.python.filepath import FilePath

    root = static.File(tree)
    assert isinstance(root, FilePath)
    assert root.path == str(tree)
    assert root.isdir()


# -- helpers and the small resources -----------------------------------------------


@pytest.mark.parametrize(
    ("segment", "dangerous"),
    [
        (b"..", True),
        (b".", True),
        (b"a/b", True),
        (b"a\\b", True),
        (b"a\x00b", True),
        (b"...", False),
        (b"a..b", False),
        (b".env", False),
        (b"caf\xc3\xa9", False),
    ],
)
def test_isDangerous(segment: bytes, dangerous: bool) -> None:
    """C{isDangerous} rejects segments that could name something else."""
    assert static.isDangerous(segment) is dangerous


class FakeRequest:
    """Just a URI, for L{static.addSlash}."""

    def __init__(self, uri: bytes) -> None:
        self.uri = uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (b"/docs", b"/docs/"),
        (b"/docs?page=2", b"/docs/?page=2"),
        (b"/a/b%20c", b"/a/b%20c/"),
        (b"//evil.example", b"/.//evil.example/"),
        (b"/\\evil.example", b"/./\\evil.example/"),
        (b"http://host/x?y", b"http://host/x/?y"),
    ],
)
def test_addSlash(uri: bytes, expected: bytes) -> None:
    """
    C{addSlash} adds a slash to the path and keeps the query; a path that a
    browser would take for another host keeps to this one.
    """
    assert static.addSlash(FakeRequest(uri)) == expected


def published(child: Any) -> Resource:
    """A root with C{child} at C{/it}."""
    root = Resource()
    root.putChild(b"it", child)
    return root


def test_data() -> None:
    """L{static.Data} serves its bytes with its type, for GET and HEAD."""
    data = published(static.Data(b"some data", "text/x-thing"))
    response = get(data, b"/it")
    assert (response.status, response.body) == (200, b"some data")
    assert response.header(b"content-type") == b"text/x-thing"
    assert response.header(b"etag") is None
    head = get(data, b"/it", b"HEAD")
    assert head.header(b"content-length") == b"9"
    assert head.body == b""


def test_redirect() -> None:
    """L{static.Redirect} redirects to a URL, or to a request's URL with a slash."""
    response = get(published(static.Redirect(b"http://example.org/")), b"/it")
    assert (response.status, response.header(b"location")) == (
        302,
        b"http://example.org/",
    )
    fromRequest = static.Redirect(FakeRequest(b"/dir?q"))
    assert fromRequest.url == b"/dir/?q"


def test_registry() -> None:
    """
    L{static.Registry} keeps components by interface and resources by path.
    """
    from zope.interface import Interface, implementer

    class ICounter(Interface):
        pass

    @implementer(ICounter)
    class Counter:
        pass

    registry = static.Registry()
    assert registry.getComponent(ICounter) is None
    counter = Counter()
    registry.setComponent(ICounter, counter)
    assert registry.getComponent(ICounter) is counter
    page = static.Data(b"x", "text/plain")
    assert registry.getCachedPath("/a.rpy") is None
    registry.cachePath("/a.rpy", page)
    assert registry.getCachedPath("/a.rpy") is page


def test_registryPlainClass() -> None:
    """
    The howto's counter script keys its component by a plain class: that
    works (twisted.web's registry raises AttributeError).
    """

    class Counter:
        pass

    registry = static.Registry()
    assert not registry.getComponent(Counter)
    counter = Counter()
    registry.setComponent(Counter, counter)
    assert registry.getComponent(Counter) is counter
    assert registry.getComponent(Counter, "default") is counter
    assert static.Registry().getComponent(Counter, "default") == "default"


def test_reexports() -> None:
    """The helpers twisted.web.static offers are here under their names."""
    from twisted_web_re._files import listing as _listing
    from twisted_web_re._files import mime as _mime

    assert static.getTypeAndEncoding is _mime.getTypeAndEncoding
    assert static.loadMimeTypes is _mime.loadMimeTypes
    assert static.formatFileSize is _listing.formatFileSize
    assert static.DirectoryLister is _listing.DirectoryLister


def asis(tree: Path, content: bytes) -> Response:
    """The answer for an C{.asis} file with C{content}, served by a File."""
    write(tree / "page.asis", content)
    root = static.File(str(tree))
    root.processors = {".asis": static.ASISProcessor}
    return get(root, b"/page.asis")


def test_asis(tree: Path) -> None:
    """The howto's C{.asis} file: its status, its fields, its body."""
    response = asis(tree, b"HTTP/1.0 200 OK\nContent-Type: text/html\n\nHello world\n")
    assert (response.status, response.body) == (200, b"Hello world\n")
    assert response.header(b"content-type") == b"text/html"
    assert response.header(b"content-length") == b"12"


def test_asisStatusAndFields(tree: Path) -> None:
    """
    A status line or a C{Status} field sets the status; repeated fields are
    kept; CRLF line ends work; the file's own framing fields are not used.
    """
    response = asis(
        tree,
        b"HTTP/1.1 404 Gone Fishing\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"
        b"Content-Length: 999\r\nX-Thing: yes\r\n\r\nbody",
    )
    assert (response.status, response.reason, response.body) == (
        404,
        b"Gone Fishing",
        b"body",
    )
    assert response.values(b"set-cookie") == [b"a=1", b"b=2"]
    assert response.header(b"x-thing") == b"yes"
    moved = asis(tree, b"Status: 301 Moved\nLocation: /elsewhere\n\n")
    assert (moved.status, moved.header(b"location"), moved.body) == (
        301,
        b"/elsewhere",
        b"",
    )


@pytest.mark.parametrize(
    "content",
    [
        b"HTTP/1.0 200 OK\nContent-Type: text/html\nno blank line",
        b"HTTP/1.0 200 OK\nnot a field\n\nPAYLOAD",
        b"HTTP/1.0 200 OK\nX-Bad: a\x00b\n\nPAYLOAD",
        b"HTTP/1.0 200 OK\nX-Bad: a\rb\n\nPAYLOAD",
        b"HTTP/1.0 100 Continue\n\nPAYLOAD",
        b"Status: 99 Nope\n\nPAYLOAD",
        b"HTTP/1.0 200 \x01bad\n\nPAYLOAD",
    ],
)
def test_asisMalformed(tree: Path, content: bytes) -> None:
    """A malformed C{.asis} file gets a 500 page, never its raw bytes."""
    response = asis(tree, content)
    assert response.status == 500
    assert b"PAYLOAD" not in response.body


def test_asisLargeBodyStreams(tree: Path) -> None:
    """A large C{.asis} body is streamed, intact."""
    content = pattern(STREAM_SIZE // 4)
    response = asis(tree, b"Content-Type: application/x-data\n\n" + content)
    assert response.body == content


# -- over a real socket ------------------------------------------------------------

_SERVER = """
import sys
from twisted.internet import reactor
from twisted_web_re import server, static
from twisted_web_re._files import producer as _fileproducer
site = server.Site(static.File(sys.argv[1]))
port = reactor.listenTCP(0, site, interface="127.0.0.1")
print("PORT", port.getHost().port, flush=True)
reactor.run()
"""


@pytest.fixture(scope="module")
def liveServer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, bytes]]:
    """A server process publishing a directory with a 5 MiB file: its port."""
    root = tmp_path_factory.mktemp("live")
    content = pattern(STREAM_SIZE)
    write(root / "big.bin", content)
    write(root / "dir" / "a.txt", "a")
    process = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(b"PORT "), line
        yield int(line.split()[1]), content
    finally:
        process.kill()
        process.wait(timeout=10)


def fetch(
    connection: http.client.HTTPConnection,
    path: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
) -> tuple[http.client.HTTPResponse, bytes]:
    """One request on C{connection}: the response and its body."""
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    return response, response.read()


def test_liveDownload(liveServer: tuple[int, bytes]) -> None:
    """
    Over a real socket, a 5 MiB file arrives intact, the connection stays
    open for a range request and a HEAD after it.
    """
    port, content = liveServer
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        response, body = fetch(connection, "/big.bin")
        assert response.status == 200
        assert hashlib.sha256(body).digest() == hashlib.sha256(content).digest()
        response, body = fetch(connection, "/big.bin", headers={"Range": "bytes=-7"})
        assert (response.status, body) == (206, content[-7:])
        response, body = fetch(connection, "/big.bin", "HEAD")
        assert response.getheader("Content-Length") == str(len(content))
        assert body == b""
    finally:
        connection.close()


def test_liveRedirectAndMultipart(liveServer: tuple[int, bytes]) -> None:
    """Over a real socket: the directory redirect, and a multipart answer."""
    port, content = liveServer
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        response, _ = fetch(connection, "/dir?x=1")
        assert (response.status, response.getheader("Location")) == (301, "/dir/?x=1")
        response, body = fetch(
            connection, "/big.bin", headers={"Range": "bytes=0-1,4000000-4000001"}
        )
        assert response.status == 206
        assert body.count(b"Content-Range: ") == 2
        assert content[4000000:4000002] in body
    finally:
        connection.close()
