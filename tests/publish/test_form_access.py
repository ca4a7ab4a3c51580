"""
Tests for the order in which a resource reads a form POST: whatever it did
with C{request.content} first (read it all, read part of it, seek elsewhere),
C{request.args} holds the form's fields, C{request.files} its files, and
C{request.content} is where the resource left it; and C{request.content} is
at 0 when C{render} starts, even after C{getChild} peeked at it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from twisted_web_re import resource, server

URLENCODED = (b"application/x-www-form-urlencoded", b"a=1&b=two+words&a=3")
URLENCODED_FIELDS = {
    b"a": [b"1", b"3"],
    b"b": [b"two words"],
    b"q": [b"query"],
}

MULTIPART_BODY = (
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="a"\r\n\r\n'
    b"1\r\n"
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="up"; filename="f.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"file content\r\n"
    b"--XX--\r\n"
)
MULTIPART = (b"multipart/form-data; boundary=XX", MULTIPART_BODY)
MULTIPART_FIELDS = {
    b"a": [b"1"],
    b"up": [b"file content"],
    b"q": [b"query"],
}

FORMS = [
    pytest.param(URLENCODED, URLENCODED_FIELDS, id="urlencoded"),
    pytest.param(MULTIPART, MULTIPART_FIELDS, id="multipart"),
]


def post(
    render: Callable[[Any], bytes],
    form: tuple[bytes, bytes],
    *,
    locateBeforeBody: bool = False,
    getChild: Callable[[Any], None] | None = None,
    chunked: bool = False,
    **siteArgs: Any,
) -> bytes:
    """
    POST C{form} (its content type and body) to C{/form?q=query} of a site
    whose leaf renders with C{render}, and return the response body.

    @param getChild: called with the request while the root looks the leaf
        up.
    @param chunked: send the body with chunked coding.
    """

    class Leaf(resource.Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            return render(request)

    class Root(resource.Resource):
        def getChild(self, name: bytes, request: Any) -> Any:
            if getChild is not None:
                getChild(request)
            return Leaf()

    site = server.Site(Root(), reactor=Clock(), **siteArgs)
    site.locateBeforeBody = locateBeforeBody
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    contentType, body = form
    head = b"POST /form?q=query HTTP/1.1\r\nHost: example.com\r\nContent-Type: %s\r\n"
    if chunked:
        channel.dataReceived(
            head % contentType
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        )
    else:
        channel.dataReceived(
            head % contentType + b"Content-Length: %d\r\n\r\n" % len(body) + body
        )
    response = transport.value()
    assert response.startswith(b"HTTP/1.1 200 "), response
    return response.split(b"\r\n\r\n", 1)[1]


def argsRepr(request: Any) -> bytes:
    """The request's arguments, sorted, as bytes."""
    return repr(sorted(request.args.items())).encode()


def expected(fields: dict[bytes, list[bytes]]) -> bytes:
    return repr(sorted(fields.items())).encode()


@pytest.mark.parametrize(("form", "fields"), FORMS)
def test_argsAfterReadingAllContent(
    form: tuple[bytes, bytes], fields: dict[bytes, list[bytes]]
) -> None:
    """
    A resource that reads the whole body from C{request.content} first still
    finds the form's fields in C{request.args}, and C{request.content} stays
    at the end where the resource left it.
    """

    def render(request: Any) -> bytes:
        content = request.content.read()
        assert content == form[1]
        args = argsRepr(request)
        assert request.content.read() == b""
        return args

    assert post(render, form) == expected(fields)


@pytest.mark.parametrize(("form", "fields"), FORMS)
def test_argsFirstThenContent(
    form: tuple[bytes, bytes], fields: dict[bytes, list[bytes]]
) -> None:
    """
    A resource that reads C{request.args} first then gets the whole body
    from C{request.content}, from its first byte.
    """

    def render(request: Any) -> bytes:
        args = argsRepr(request)
        assert request.content.tell() == 0
        assert request.content.read() == form[1]
        return args

    assert post(render, form) == expected(fields)


@pytest.mark.parametrize(("form", "fields"), FORMS)
def test_argsAfterPartialRead(
    form: tuple[bytes, bytes], fields: dict[bytes, list[bytes]]
) -> None:
    """
    A resource that reads part of the body, then C{request.args}, gets all
    the fields, and then reads on from where it stopped.
    """

    def render(request: Any) -> bytes:
        start = request.content.read(5)
        args = argsRepr(request)
        rest = request.content.read()
        assert start + rest == form[1]
        return args

    assert post(render, form) == expected(fields)


@pytest.mark.parametrize(("form", "fields"), FORMS)
def test_argsAfterSeek(
    form: tuple[bytes, bytes], fields: dict[bytes, list[bytes]]
) -> None:
    """
    A resource that moved C{request.content} elsewhere (to its end, or into
    the middle) finds all the fields, and C{request.content} where it put it.
    """

    def render(request: Any) -> bytes:
        request.content.seek(0, 2)
        args = argsRepr(request)
        assert request.content.tell() == len(form[1])
        request.content.seek(7)
        assert argsRepr(request) == args
        assert request.content.tell() == 7
        return args

    assert post(render, form) == expected(fields)


def test_filesAfterReadingContent() -> None:
    """
    C{request.files} of a multipart form read after the whole body has the
    file parts, and C{request.content} is not moved by looking.
    """

    def render(request: Any) -> bytes:
        request.content.read()
        part = request.files[b"up"][0]
        assert request.content.read() == b""
        return part.filename.encode() + b" " + part.file.read()

    assert post(render, MULTIPART) == b"f.txt file content"


def test_filesFirstThenContent() -> None:
    """
    A resource that reads C{request.files} first then gets the whole body
    from C{request.content}.
    """

    def render(request: Any) -> bytes:
        part = request.files[b"up"][0]
        assert request.content.read() == MULTIPART_BODY
        return part.file.read()

    assert post(render, MULTIPART) == b"file content"


@pytest.mark.parametrize(("form", "fields"), FORMS)
def test_contentAtZeroAfterGetChildPeeked(
    form: tuple[bytes, bytes], fields: dict[bytes, list[bytes]]
) -> None:
    """
    C{getChild} may peek at C{request.content}; the resource's C{render}
    still starts with C{request.content} at its first byte, and the fields
    are all in C{request.args}.
    """

    def peek(request: Any) -> None:
        request.content.read(4)

    def render(request: Any) -> bytes:
        assert request.content.tell() == 0
        args = argsRepr(request)
        assert request.content.read() == form[1]
        return args

    assert post(render, form, getChild=peek) == expected(fields)


@pytest.mark.parametrize(("form", "fields"), FORMS)
def test_locatedBeforeBody(
    form: tuple[bytes, bytes], fields: dict[bytes, list[bytes]]
) -> None:
    """
    With C{Site.locateBeforeBody}, a resource that is no streaming upload
    gets its form in C{request.args} and its body in C{request.content},
    from 0, whichever it reads first.
    """

    def render(request: Any) -> bytes:
        assert request.content.tell() == 0
        assert request.content.read() == form[1]
        return argsRepr(request)

    assert post(render, form, locateBeforeBody=True) == expected(fields)


@pytest.mark.parametrize(("form", "fields"), FORMS)
def test_largeChunkedBodyOnDisk(
    form: tuple[bytes, bytes], fields: dict[bytes, list[bytes]]
) -> None:
    """
    A chunked body larger than the in-memory limit (so spooled to a
    temporary file) behaves the same: fields after a full read, the content
    left where the resource left it.
    """

    def render(request: Any) -> bytes:
        content = request.content.read()
        args = argsRepr(request)
        assert request.content.read() == b""
        assert content == form[1]
        return args

    assert post(render, form, chunked=True, bodyMemoryLimit=8) == expected(fields)
    assert post(render, form, bodyMemoryLimit=8) == expected(fields)


def test_replacedContentDoesNotChangeArgs() -> None:
    """
    The fields are those of the body as received, as in twisted.web (which
    parses it before rendering): a resource that puts something else in
    C{request.content} does not change them.
    """

    def render(request: Any) -> bytes:
        from io import BytesIO

        request.content = BytesIO(b"a=other")
        return argsRepr(request)

    assert post(render, URLENCODED) == expected(URLENCODED_FIELDS)


def test_filesNotSharedBetweenRequests() -> None:
    """
    C{request.files} of a request without a form is its own empty mapping:
    a resource that adds to it changes nothing for the next request.
    """
    seen = []

    class Leaf(resource.Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            seen.append(dict(request.files))
            request.files[b"planted"] = []
            return b"ok"

    site = server.Site(Leaf(), reactor=Clock())
    channel = site.buildProtocol(None)
    channel.makeConnection(StringTransport())
    channel.dataReceived(
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
        b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    )
    assert seen == [{}, {}]
