"""
Property tests for L{twisted_web_re.http.HTTPChannel}: how the bytes arrive
(split anywhere, in any number of reads) never changes what the server does,
and no input at all makes C{dataReceived} raise.
"""

from __future__ import annotations

import string

from _httpparse import Server, parseResponses, withoutDate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from twisted_web_re import http

_PATH_CHARS = string.ascii_letters + string.digits + "-._~/%!$&'()*+,;=:@"

paths = st.text(alphabet=_PATH_CHARS, max_size=20).map(lambda p: ("/" + p).encode())
queries = st.one_of(
    st.just(b""),
    st.text(alphabet=string.ascii_letters + "=&", max_size=10).map(
        lambda q: b"?" + q.encode()
    ),
)
tokens = st.text(
    alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=8
)
fieldValues = st.binary(max_size=12).map(
    lambda v: bytes(b for b in v if b == 0x09 or 0x20 <= b <= 0x7E or b >= 0x80).strip()
)


@st.composite
def chunkedBody(draw: st.DrawFn, body: bytes) -> bytes:
    """C{body} framed as chunks of drawn sizes, with optional extensions and
    trailer fields."""
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=4)))
    pieces = [
        body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True) if b > a
    ]
    out = []
    for piece in pieces:
        ext = draw(st.sampled_from([b"", b";x=1", b';name="q v"', b" ; flag"]))
        size = b"%x" % len(piece)
        if draw(st.booleans()):
            size = size.upper()
        out.append(size + ext + b"\r\n" + piece + b"\r\n")
    out.append(b"0\r\n")
    for name in draw(st.lists(tokens, max_size=2)):
        out.append(b"X-T-" + name.encode() + b": " + draw(fieldValues) + b"\r\n")
    out.append(b"\r\n")
    return b"".join(out)


@st.composite
def requests(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """
    One valid HTTP/1.1 request: GET, HEAD, or POST with a Content-Length or
    chunked body, with a few extra fields; lines end in CRLF or (as RFC 9112
    section 2.2 lets a server accept) bare LF in the head.

    @return: C{(method, raw bytes)}.
    """
    kind = draw(st.sampled_from(["GET", "HEAD", "POST-length", "POST-chunked"]))
    method = kind.split("-")[0].encode()
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    lines = [method + b" " + draw(paths) + draw(queries) + b" HTTP/1.1"]
    lines.append(
        b"Host: " + draw(st.sampled_from([b"example.com", b"a:8080", b"[::1]"]))
    )
    for name in draw(st.lists(tokens, max_size=3)):
        lines.append(b"X-" + name.encode() + b": " + draw(fieldValues))
    body = b""
    if kind == "POST-length":
        data = draw(st.binary(max_size=64))
        lines.append(b"Content-Length: %d" % len(data))
        body = data
    elif kind == "POST-chunked":
        lines.append(b"Transfer-Encoding: chunked")
        body = draw(chunkedBody(draw(st.binary(max_size=64))))
    if draw(st.integers(0, 9)) == 0:
        lines.append(b"Connection: close")
    return method, eol.join(lines) + eol + eol + body


def _serve(pieces: list[bytes]) -> Server:
    server = Server()
    server.feedPieces(pieces)
    return server


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted(set(cuts))
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests(), min_size=1, max_size=5), st.data())
def test_anySplitGivesSameOutput(
    pipeline: list[tuple[bytes, bytes]], data: st.DataObject
) -> None:
    """
    Feeding a pipeline of valid requests split at arbitrary points gives
    exactly the same output (apart from the Date value) and the same
    connection state as feeding it whole, and every request up to the first
    C{Connection: close} is answered, in order.
    """
    raw = b"".join(r for _, r in pipeline)
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=12), label="cuts")
    whole = _serve([raw])
    split = _serve(_split(raw, cuts))
    assert withoutDate(split.value()) == withoutDate(whole.value())
    assert split.closed == whole.closed
    methods = [m for m, _ in pipeline]
    expected = len(pipeline)
    for index, (_, request) in enumerate(pipeline):
        if b"Connection: close" in request:
            expected = index + 1
            break
    responses = parseResponses(whole.value(), methods)
    assert len(responses) == expected
    assert all(r.status == 200 for r in responses)
    assert [r.method for r in whole.processed] == methods[:expected]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=300),
        st.tuples(requests(), st.binary(max_size=100)).map(lambda t: t[0][1] + t[1]),
        st.lists(
            st.sampled_from(
                [
                    b"GET / HTTP/1.1\r\n",
                    b"POST / HTTP/1.1\r\n",
                    b"Host: x\r\n",
                    b"Content-Length: 3\r\n",
                    b"Transfer-Encoding: chunked\r\n",
                    b"Expect: 100-continue\r\n",
                    b"Connection: close\r\n",
                    b"\r\n",
                    b"\n",
                    b"\r",
                    b"3\r\nabc\r\n",
                    b"0\r\n\r\n",
                    b"abc",
                    b" ",
                    b":",
                    b"\x00",
                ]
            ),
            max_size=20,
        ).map(b"".join),
    ),
    st.data(),
)
def test_arbitraryBytesNeverRaise(raw: bytes, data: st.DataObject) -> None:
    """
    Whatever bytes a client sends, however they are split, C{dataReceived}
    never raises, timers and a lost connection afterwards raise nothing
    either, and the output is either nothing or starts with an HTTP/1.1
    status line.
    """
    cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=8), label="cuts")
    server = _serve(_split(raw, cuts))
    output = server.value()
    assert output == b"" or output.startswith(b"HTTP/1.1 ")
    server.clock.advance(30)
    server.clock.advance(100)
    output = server.value()
    assert output == b"" or output.startswith(b"HTTP/1.1 ")
    server.channel.connectionLost(Failure(ConnectionDone()))


def test_requestMethodRecorded() -> None:
    """
    The harness's processed requests carry the methods sent (a sanity check
    for the properties above).
    """
    server = _serve([b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"])
    assert [r.method for r in server.processed] == [b"HEAD"]
    assert isinstance(server.processed[0], http.Request)
