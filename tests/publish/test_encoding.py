"""
Tests for content coding: L{GzipEncoderFactory} used through an
L{EncodingResourceWrapper}, as the Twisted Web howto shows.

Every test renders through a real L{server.Site} over a L{StringTransport}
and decompresses what the client receives.
"""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from _httpparse import PEER, Response, parseResponses
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from zope.interface import implementer
from zope.interface.verify import verifyObject

from twisted_web_re import server, static
from twisted_web_re._publish.encoding import IEncoderFactory, IRequestEncoder
from twisted_web_re.http import CACHED
from twisted_web_re.resource import EncodingResourceWrapper, Resource

#: A page long enough, and repetitive enough, to compress well.
PAGE = b"<html><body>" + b"<p>Hello, world!</p>\n" * 200 + b"</body></html>"

GZIP = ((b"Accept-Encoding", b"gzip"),)


class Client:
    """
    One client connection to a L{server.Site} publishing C{root}.
    """

    def __init__(self, root: Any) -> None:
        self.clock = MemoryReactorClock()
        self.site = server.Site(root, reactor=self.clock)
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.2", 80), peerAddress=PEER
        )
        self.channel = self.site.buildProtocol(PEER)
        self.channel.makeConnection(self.transport)
        self.methods: list[bytes] = []

    def send(
        self,
        method: bytes = b"GET",
        path: bytes = b"/",
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        """Send one request; its answer may come now or later."""
        self.methods.append(method)
        lines = [method + b" " + path + b" HTTP/1.1", b"Host: example.com"]
        lines.extend(name + b": " + value for name, value in headers)
        self.channel.dataReceived(b"\r\n".join(lines) + b"\r\n\r\n")

    def responses(self) -> list[Response]:
        """Every complete response so far."""
        return parseResponses(self.transport.value(), self.methods)

    def request(
        self, method: bytes = b"GET", path: bytes = b"/", **kw: Any
    ) -> Response:
        """Send one request and return the response it got at once."""
        before = len(self.responses())
        self.send(method, path, **kw)
        responses = self.responses()
        assert len(responses) == before + 1, self.transport.value()
        return responses[-1]


class Page(Resource):
    """A leaf rendering a fixed body with a given Content-Type."""

    isLeaf = True

    def __init__(self, body: bytes = PAGE, contentType: bytes | None = None) -> None:
        super().__init__()
        self.body = body
        self.contentType = contentType

    def render_GET(self, request: Any) -> bytes:
        if self.contentType is not None:
            request.setHeader(b"content-type", self.contentType)
        return self.body


def gzipped(resource: Any) -> EncodingResourceWrapper:
    """C{resource} wrapped to be gzipped for clients that accept it."""
    return EncodingResourceWrapper(resource, [server.GzipEncoderFactory()])


def get(resource: Any, headers: tuple[tuple[bytes, bytes], ...] = GZIP) -> Response:
    """One GET of C{resource}, gzip-wrapped, with C{headers}."""
    return Client(gzipped(resource)).request(headers=headers)


# -- whole bodies ----------------------------------------------------------------------


def test_gzipWhenAccepted() -> None:
    """
    A client sending C{Accept-Encoding: gzip} gets the body gzip-coded,
    says so in C{Content-Encoding}, and the body decompresses to the page.
    """
    response = get(Page())
    assert response.status == 200
    assert response.header(b"content-encoding") == b"gzip"
    assert response.header(b"vary") == b"Accept-Encoding"
    assert response.body[:2] == b"\x1f\x8b"
    assert gzip.decompress(response.body) == PAGE
    assert len(response.body) < len(PAGE)


def test_gzipContentLength() -> None:
    """
    A body rendered whole is sent with the Content-Length of the compressed
    bytes, not chunked.
    """
    response = get(Page())
    assert response.framing == "length"
    assert response.header(b"content-length") == b"%d" % len(response.body)


@pytest.mark.parametrize(
    "accept",
    [b"gzip", b"deflate, gzip", b"gzip;q=0.5, identity;q=1", b"x-gzip", b"GZIP"],
)
def test_gzipAcceptedSpellings(accept: bytes) -> None:
    """
    gzip is used whenever the client lists it with a non-zero weight, in any
    case, or as its alias C{x-gzip}.
    """
    response = get(Page(), ((b"Accept-Encoding", accept),))
    assert response.header(b"content-encoding") == b"gzip"
    assert gzip.decompress(response.body) == PAGE


def test_noAcceptEncodingPlain() -> None:
    """
    A client that sends no C{Accept-Encoding} gets the page as it is, with
    its Content-Length, and still C{Vary: Accept-Encoding} (caches must know
    the answer depends on that header).
    """
    response = get(Page(), ())
    assert response.header(b"content-encoding") is None
    assert response.header(b"vary") == b"Accept-Encoding"
    assert response.body == PAGE
    assert response.header(b"content-length") == b"%d" % len(PAGE)


@pytest.mark.parametrize(
    "accept", [b"gzip;q=0", b"identity", b"deflate", b"br, gzip;q=0.0", b""]
)
def test_gzipNotAcceptedPlain(accept: bytes) -> None:
    """
    A client refusing gzip (weight 0) or listing only other codings gets the
    page as it is, still with C{Vary: Accept-Encoding}.
    """
    response = get(Page(), ((b"Accept-Encoding", accept),))
    assert response.header(b"content-encoding") is None
    assert response.header(b"vary") == b"Accept-Encoding"
    assert response.body == PAGE


def test_varyAddedToExisting() -> None:
    """
    A Vary the resource sets itself is kept, and Accept-Encoding is named
    too.
    """

    class Varying(Page):
        def render_GET(self, request: Any) -> bytes:
            request.setHeader(b"vary", b"Cookie")
            return super().render_GET(request)

    response = get(Varying())
    tokens = {
        token.strip().lower()
        for value in response.values(b"vary")
        for token in value.split(b",")
    }
    assert tokens == {b"cookie", b"accept-encoding"}
    assert gzip.decompress(response.body) == PAGE


def test_emptyBody() -> None:
    """
    An empty body gzipped is still a valid (empty) gzip stream.
    """
    response = get(Page(b""))
    assert response.status == 200
    if response.header(b"content-encoding") == b"gzip":
        assert gzip.decompress(response.body) == b""
    else:
        assert response.body == b""


def test_headGzip() -> None:
    """
    HEAD gets the headers GET would get, C{Content-Encoding: gzip}
    included, and no body.
    """
    client = Client(gzipped(Page()))
    head = client.request(b"HEAD", headers=GZIP)
    got = client.request(b"GET", headers=GZIP)
    assert head.body == b""
    assert head.header(b"content-encoding") == b"gzip"
    assert head.header(b"content-length") == got.header(b"content-length")


def test_declaredContentLengthReplaced() -> None:
    """
    A resource that declares its (uncompressed) Content-Length itself still
    gets a correct response: the length sent is that of the compressed body,
    all of it arrives, and the connection stays usable.
    """

    class Declaring(Page):
        def render_GET(self, request: Any) -> bytes:
            request.setHeader(b"content-length", b"%d" % len(self.body))
            return self.body

    client = Client(gzipped(Declaring()))
    response = client.request(headers=GZIP)
    assert response.header(b"content-encoding") == b"gzip"
    assert response.header(b"content-length") == b"%d" % len(response.body)
    assert gzip.decompress(response.body) == PAGE
    assert not client.transport.disconnecting


def test_notModifiedThroughGzip() -> None:
    """
    A conditional GET of a gzipped page answered 304 Not Modified has no
    body, and a Content-Length only if it is that of the gzipped 200
    response (RFC 9110 section 8.6: a 304 must not state another length).
    """

    class Tagged(Page):
        def render_GET(self, request: Any) -> bytes:
            request.setHeader(b"etag", b'"v1"')
            return self.body

    client = Client(gzipped(Tagged()))
    full = client.request(headers=GZIP)
    assert full.header(b"content-encoding") == b"gzip"
    assert full.header(b"etag") == b'"v1-gzip"'
    cached = client.request(headers=(*GZIP, (b"If-None-Match", b'"v1-gzip"')))
    assert cached.status == 304
    assert cached.body == b""
    assert cached.header(b"content-length") in (None, full.header(b"content-length"))


# -- streaming -------------------------------------------------------------------------


class Streaming(Resource):
    """
    Writes C{count} pieces, one per second of the site's clock, then
    finishes.
    """

    isLeaf = True

    def __init__(self, clock: Any, count: int = 50) -> None:
        super().__init__()
        self.clock = clock
        self.count = count
        self.pieces = [b"piece %03d of the streamed body\n" % i for i in range(count)]

    def render_GET(self, request: Any) -> int:
        def send(index: int) -> None:
            if index == self.count:
                request.finish()
                return
            request.write(self.pieces[index])
            self.clock.callLater(1, send, index + 1)

        self.clock.callLater(1, send, 0)
        return server.NOT_DONE_YET


def streamingClient() -> tuple[Client, Streaming]:
    """A client of a gzip-wrapped L{Streaming} resource on the site's clock."""
    client = Client(None)
    streaming = Streaming(client.clock)
    client.site.resource = gzipped(streaming)
    return client, streaming


def test_streamingGzip() -> None:
    """
    A C{NOT_DONE_YET} resource writing 50 pieces later is sent chunked, and
    the chunks, joined, decompress to the 50 pieces.
    """
    client, streaming = streamingClient()
    client.send(headers=GZIP)
    for _ in range(streaming.count + 1):
        client.clock.advance(1)
    [response] = client.responses()
    assert response.framing == "chunked"
    assert response.header(b"content-encoding") == b"gzip"
    assert response.header(b"vary") == b"Accept-Encoding"
    assert gzip.decompress(response.body) == b"".join(streaming.pieces)


def test_streamingGzipDecompressesIncrementally() -> None:
    """
    What has been sent of a streamed gzip body is always a valid prefix of
    the gzip stream: a client can decompress it as it arrives.
    """
    client, streaming = streamingClient()
    client.send(headers=GZIP)
    client.clock.advance(1)
    head, _, _ = client.transport.value().partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    for _ in range(10):
        client.clock.advance(1)
    raw = client.transport.value().partition(b"\r\n\r\n")[2]
    data = b""
    while raw:
        size, _, rest = raw.partition(b"\r\n")
        length = int(size, 16)
        data += rest[:length]
        raw = rest[length + 2 :]
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    decompressed = decompressor.decompress(data)
    assert b"".join(streaming.pieces).startswith(decompressed)


def test_streamingPlainWithoutAcceptEncoding() -> None:
    """
    The streamed body goes out as it is to a client that does not accept
    gzip.
    """
    client, streaming = streamingClient()
    client.send()
    for _ in range(streaming.count + 1):
        client.clock.advance(1)
    [response] = client.responses()
    assert response.header(b"content-encoding") is None
    assert response.body == b"".join(streaming.pieces)


# -- what is not compressed ------------------------------------------------------------


@pytest.mark.parametrize(
    "contentType",
    [b"image/png", b"application/zip"],
)
def test_compressedTypesNotGzipped(contentType: bytes) -> None:
    """
    Content that is already compressed (a PNG image, a zip archive...),
    as its resource's Content-Type says, is sent as it is: gzipping it again
    would cost time and save nothing.
    """
    data = bytes(range(256)) * 8
    response = get(Page(data, contentType))
    assert response.header(b"content-type") == contentType
    assert response.header(b"content-encoding") is None
    assert response.body == data


@pytest.mark.parametrize(
    "contentType", [b"text/plain", b"application/json", b"image/svg+xml"]
)
def test_textTypesGzipped(contentType: bytes) -> None:
    """
    Text, JSON and SVG (which is text) are gzipped.
    """
    response = get(Page(PAGE, contentType))
    assert response.header(b"content-encoding") == b"gzip"
    assert gzip.decompress(response.body) == PAGE


def test_alreadyEncodedNotEncodedAgain() -> None:
    """
    A resource that sends its own Content-Encoding is not encoded again.
    """
    precompressed = gzip.compress(PAGE)

    class Precompressed(Page):
        def render_GET(self, request: Any) -> bytes:
            request.setHeader(b"content-encoding", b"gzip")
            return precompressed

    response = get(Precompressed())
    assert response.values(b"content-encoding") == [b"gzip"]
    assert gzip.decompress(response.body) == PAGE


def test_errorPageNotGzipped() -> None:
    """
    When the wrapped resource fails, the 500 page is sent plain, without a
    Content-Encoding, whatever the client accepts.
    """

    class Failing(Page):
        def render_GET(self, request: Any) -> bytes:
            request.write(b"some of the page")
            raise RuntimeError("broken")

    response = get(Failing())
    assert response.status == 500
    assert response.header(b"content-encoding") is None
    assert response.body.startswith(b"<!DOCTYPE html>")


def test_childrenNotEncoded() -> None:
    """
    The wrapper encodes only its own resource: a child found through it is
    rendered as it is (wrap the child too to encode it).
    """
    parent = Page()
    parent.isLeaf = False
    parent.putChild(b"kid", Page(b"kid page"))
    response = Client(gzipped(parent)).request(path=b"/kid", headers=GZIP)
    assert response.body == b"kid page"
    assert response.header(b"content-encoding") is None


# -- the encoder factories -------------------------------------------------------------


@implementer(IEncoderFactory)
class Never:
    """An encoder factory that never encodes, and counts the requests it saw."""

    def __init__(self) -> None:
        self.asked = 0

    def encoderForRequest(self, request: Any) -> None:
        self.asked += 1


@implementer(IEncoderFactory)
class Upper:
    """An encoder factory that always encodes, by upper-casing."""

    def encoderForRequest(self, request: Any) -> Any:
        request.setHeader(b"content-encoding", b"x-upper")
        return UpperEncoder()


@implementer(IRequestEncoder)
class UpperEncoder:
    def encode(self, data: bytes) -> bytes:
        return data.upper()

    def finish(self) -> bytes:
        return b"!"


def test_firstEncoderWins() -> None:
    """
    The encoder factories are asked in order; the first to give an encoder
    encodes the response, and the ones after it are not asked.
    """
    never, after = Never(), Never()
    wrapper = EncodingResourceWrapper(Page(b"shout"), [never, Upper(), after])
    response = Client(wrapper).request(headers=GZIP)
    assert response.body == b"SHOUT!"
    assert response.header(b"content-encoding") == b"x-upper"
    assert (never.asked, after.asked) == (1, 0)


def test_noEncoderPlain() -> None:
    """
    When no factory gives an encoder, the response is sent as it is.
    """
    never = Never()
    wrapper = EncodingResourceWrapper(Page(b"calm"), [never])
    response = Client(wrapper).request(headers=GZIP)
    assert response.body == b"calm"
    assert never.asked == 1


def test_gzipFactoryProvidesInterface() -> None:
    """
    L{GzipEncoderFactory} provides L{IEncoderFactory}, and is importable
    from C{server} as in twisted.web.
    """
    assert verifyObject(IEncoderFactory, server.GzipEncoderFactory())


def test_compressLevel() -> None:
    """
    The compression level can be chosen; every level gives a valid stream.
    """
    for level in (1, 9):
        wrapper = EncodingResourceWrapper(
            Page(), [server.GzipEncoderFactory(compressLevel=level)]
        )
        response = Client(wrapper).request(headers=GZIP)
        assert gzip.decompress(response.body) == PAGE


# -- one representation per coding: HEAD, GET and 304 agree ---------------------------


def fileClient(tmp_path: Any, body: bytes = PAGE, name: str = "page.html") -> Client:
    """A client of a gzip-wrapped L{static.File} of one file holding C{body}."""
    path = tmp_path / name
    path.write_bytes(body)
    return Client(atRoot(gzipped(static.File(str(path)))))


def atRoot(child: Any) -> Resource:
    """A root whose child at C{/} is C{child}: a file cannot be the root."""
    root = Resource()
    root.putChild(b"", child)
    return root


class TaggedPage(Page):
    """A page whose body is returned whole, with a strong ETag."""

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"etag", b'"v1"')
        return super().render_GET(request)


class SetETagPage(Page):
    """A page that asks L{server.Request.setETag} whether the client's copy
    is current, as twisted.web resources do."""

    def render_GET(self, request: Any) -> bytes:
        if request.setETag(b'"v1"') is CACHED:
            return b""
        return super().render_GET(request)


def roots(tmp_path: Any) -> list[Client]:
    """One client for each way a resource states its validators."""
    return [
        fileClient(tmp_path),
        fileClient(tmp_path, PAGE * 10, "big.html"),
        Client(gzipped(TaggedPage())),
        Client(gzipped(SetETagPage())),
    ]


def test_headLengthMatchesGet(tmp_path: Any) -> None:
    """
    HEAD of a gzipped resource states either no Content-Length or the very
    length GET sends (RFC 9110 section 8.6), for files, small and large, and
    for bodies returned whole.
    """
    for client in roots(tmp_path):
        head = client.request(b"HEAD", headers=GZIP)
        got = client.request(b"GET", headers=GZIP)
        assert got.header(b"content-encoding") == b"gzip"
        assert head.header(b"content-encoding") == b"gzip"
        assert head.header(b"content-length") in (
            None,
            b"%d" % len(got.body),
        ), client.site.resource
        assert head.header(b"vary") == got.header(b"vary") == b"Accept-Encoding"
        assert head.header(b"etag") == got.header(b"etag")


def test_eachCodingItsOwnETag(tmp_path: Any) -> None:
    """
    The gzipped and the plain representation of a resource have different
    entity tags (RFC 9110 section 8.8.3), so a cache holding one is never
    told by a 304 that it may serve it as the other.
    """
    for client in roots(tmp_path):
        plain = client.request(b"GET")
        coded = client.request(b"GET", headers=GZIP)
        assert plain.header(b"content-encoding") is None
        assert coded.header(b"content-encoding") == b"gzip"
        assert plain.header(b"etag") is not None
        assert coded.header(b"etag") is not None
        assert plain.header(b"etag") != coded.header(b"etag")
        # The plain copy's tag does not validate the gzipped representation ...
        stale = client.request(
            b"GET", headers=(*GZIP, (b"If-None-Match", plain.header(b"etag")))
        )
        assert stale.status == 200
        assert gzip.decompress(stale.body) in (PAGE, PAGE * 10)
        # ... nor the gzipped copy's the plain one ...
        other = client.request(
            b"GET", headers=((b"If-None-Match", coded.header(b"etag")),)
        )
        assert other.status == 200
        assert other.header(b"content-encoding") is None
        # ... while each validates its own.
        for tag, headers in ((plain, ()), (coded, GZIP)):
            fresh = client.request(
                b"GET", headers=(*headers, (b"If-None-Match", tag.header(b"etag")))
            )
            assert fresh.status == 304, client.site.resource
            assert fresh.header(b"etag") == tag.header(b"etag")


def test_notModifiedCarriesVaryNotRepresentation(tmp_path: Any) -> None:
    """
    A 304 for a gzip-wrapped resource carries the C{Vary: Accept-Encoding}
    its 200 would (RFC 9110 section 15.4.5), and neither the uncompressed
    length nor Content-Type or Content-Encoding.
    """
    for client in roots(tmp_path):
        coded = client.request(b"GET", headers=GZIP)
        cached = client.request(
            b"GET", headers=(*GZIP, (b"If-None-Match", coded.header(b"etag")))
        )
        assert cached.status == 304
        assert cached.header(b"vary") == b"Accept-Encoding"
        assert cached.header(b"content-type") is None
        assert cached.header(b"content-encoding") is None
        assert cached.header(b"content-length") in (None, b"%d" % len(coded.body))


def test_notModifiedWithoutContentType(tmp_path: Any) -> None:
    """
    No 304 carries Content-Type, wrapped or not (RFC 9110 section 15.4.5).
    """
    path = tmp_path / "page.html"
    path.write_bytes(PAGE)
    for root in (atRoot(static.File(str(path))), TaggedPage(), SetETagPage()):
        client = Client(root)
        full = client.request(b"GET")
        cached = client.request(
            b"GET", headers=((b"If-None-Match", full.header(b"etag")),)
        )
        assert cached.status == 304
        assert cached.header(b"content-type") is None
        assert cached.header(b"content-length") in (None, b"%d" % len(full.body))


def test_rangesWhenNotEncoded(tmp_path: Any) -> None:
    """
    A client that does not accept gzip gets ranges of a gzip-wrapped file,
    as of any file; one that does gets the whole gzipped body.
    """
    client = fileClient(tmp_path)
    part = client.request(b"GET", headers=((b"Range", b"bytes=0-9"),))
    assert part.status == 206
    assert part.body == PAGE[:10]
    whole = client.request(b"GET", headers=(*GZIP, (b"Range", b"bytes=0-9")))
    assert whole.status == 200
    assert gzip.decompress(whole.body) == PAGE
