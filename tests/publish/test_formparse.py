"""
Tests for L{twisted_web_re._publish.forms}: urlencoded and multipart/form-data
request bodies, parsed incrementally, with large uploads spooled to disk.

Every multipart case is parsed three ways: whole, one byte at a time, and in
pieces split at every position (or at random positions, for the properties).
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, quote_from_bytes

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twisted_web_re._publish import forms as _formparse
from twisted_web_re._publish.forms import (
    DEFAULT_FORM_LIMITS,
    FormError,
    FormLimits,
    FormPart,
    FormTooLarge,
    MalformedForm,
    MultipartParser,
    boundaryFromContentType,
    formArgs,
    formFiles,
    parseUrlencoded,
)

# -- raw inputs -----------------------------------------------------------------

#: (body, the args it parses to).
URLENCODED_CASES = [
    (b"", {}),
    (b"a=1", {b"a": [b"1"]}),
    (b"a=1&a=2&b=3", {b"a": [b"1", b"2"], b"b": [b"3"]}),
    (b"a+b=c+d", {b"a b": [b"c d"]}),
    (b"a%20b=c%20d", {b"a b": [b"c d"]}),
    (b"a=%2B%26%3d", {b"a": [b"+&="]}),
    (b"a=%zz%4%", {b"a": [b"%zz%4%"]}),
    (b"a=", {b"a": [b""]}),
    (b"a", {b"a": [b""]}),
    (b"=x", {b"": [b"x"]}),
    (b"a=b=c", {b"a": [b"b=c"]}),
    (b"&&a=1&&", {b"a": [b"1"]}),
    (b"a;b=1", {b"a;b": [b"1"]}),
    (b"a=%E9&%C3%A9=\xe9", {b"a": [b"\xe9"], b"\xc3\xa9": [b"\xe9"]}),
]

#: (Content-Type value, the boundary found, or None: not multipart/form-data).
CONTENT_TYPES = [
    (b"multipart/form-data; boundary=AaB03x", b"AaB03x"),
    (b"Multipart/Form-Data;BOUNDARY=AaB03x", b"AaB03x"),
    (b'multipart/form-data; boundary="AaB03x"', b"AaB03x"),
    (b'multipart/form-data; boundary="a b:c?"', b"a b:c?"),
    (b'multipart/form-data; charset=utf-8; boundary="x"; ', b"x"),
    (b"multipart/form-data; boundary=" + b"x" * 70, b"x" * 70),
    (b"multipart/form-data;; boundary=----WebKit123", b"----WebKit123"),
    (b"application/x-www-form-urlencoded", None),
    (b"multipart/mixed; boundary=x", None),
    (b"text/plain", None),
    (b"", None),
    (b"multipart", None),
]

#: Content-Type values that name multipart/form-data but give no usable
#: boundary.
BAD_CONTENT_TYPES = [
    b"multipart/form-data",
    b"multipart/form-data; boundary=",
    b'multipart/form-data; boundary=""',
    b"multipart/form-data; boundary=" + b"x" * 71,
    b'multipart/form-data; boundary="x "',
    b'multipart/form-data; boundary="a\x01b"',
    b"multipart/form-data; boundary=a; boundary=b",
    b"multipart/form-data; boundary=a garbage",
    b'multipart/form-data; boundary="unterminated',
    b"multipart/form-data; boundary=a@b",
]

BOUNDARY = b"AaB03x"

#: RFC 7578 section 4.1's example, with a field and a file.
FIELD_AND_FILE = (
    b"--AaB03x\r\n"
    b'Content-Disposition: form-data; name="submit-name"\r\n'
    b"\r\n"
    b"Larry\r\n"
    b"--AaB03x\r\n"
    b'Content-Disposition: form-data; name="files"; filename="file1.txt"\r\n'
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"... contents of file1.txt ...\r\n"
    b"--AaB03x--\r\n"
)

#: A body exercising everything at once: preamble and epilogue, transport
#: padding, empty parts, repeated names, delimiter look-alikes, binary file
#: content with CRLFs, filename*, quoted-pairs, extra header fields.
SAMPLE = (
    b"This is the preamble.\r\n--AaB03 is not a boundary\r\n"
    b"--AaB03x \t\r\n"
    b'content-disposition: form-data; name="a"\r\n'
    b"\r\n"
    b"one\r\n--AaB03\r\n-- AaB03x\r\n--aab03x--AaB03x\r\r\n\r\n-\r\n--\r\n"
    b"--AaB03x\r\n"
    b'Content-Disposition: form-data; name="a"\r\n'
    b"\r\n"
    b"\r\n"
    b"--AaB03x\r\n"
    b"Content-Disposition: form-data; name=empty\r\n"
    b"\r\n"
    b"\r\n"
    b"--AaB03x\r\n"
    b'Content-Disposition: form-data; name="bin\\"ary"; filename="a\\\\b.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n"
    b"X-Extra:  spaced value \r\n"
    b"\r\n"
    b"\x00\xff\r\n\r\n\r\n--\r\n--AaB03\r--AaB03x-\r\n\r\n"
    b"--AaB03x\r\n"
    b'Content-Disposition: form-data; name="euro"; filename="fallback.txt";'
    b" filename*=UTF-8''%E2%82%AC%20rates.txt\r\n"
    b"\r\n"
    b"\r\n"
    b"--AaB03x--  \r\n"
    b"This is the epilogue.  --AaB03x\r\n--AaB03x\r\ngarbage\n\n"
)

#: What L{SAMPLE} parses to, as L{describe} describes it.
SAMPLE_PARTS = [
    (
        b"a",
        None,
        None,
        b"one\r\n--AaB03\r\n-- AaB03x\r\n--aab03x--AaB03x\r\r\n\r\n-\r\n--",
    ),
    (b"a", None, None, b""),
    (b"empty", None, None, b""),
    (
        b'bin"ary',
        "a\\b.bin",
        b"application/octet-stream",
        b"\x00\xff\r\n\r\n\r\n--\r\n--AaB03\r--AaB03x-\r\n",
    ),
    (b"euro", "\u20ac rates.txt", None, b""),
]

#: (name, body, status) for bodies (with boundary L{BOUNDARY}) that must be
#: rejected, by feed() or by close().
MALFORMED = [
    ("empty body", b"", 400),
    ("only a preamble", b"no boundary here\r\n", 400),
    ("no closing delimiter", FIELD_AND_FILE[:-12], 400),
    ("closing delimiter cut short", FIELD_AND_FILE[:-5], 400),
    ("delimiter not preceded by CRLF", b"x--AaB03x--\r\n", 400),
    (
        "no Content-Disposition",
        b"--AaB03x\r\nContent-Type: text/plain\r\n\r\nx\r\n--AaB03x--\r\n",
        400,
    ),
    ("empty part head", b"--AaB03x\r\n\r\nx\r\n--AaB03x--\r\n", 400),
    (
        "Content-Disposition not form-data",
        b'--AaB03x\r\nContent-Disposition: attachment; name="a"\r\n\r\n'
        b"x\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "no name",
        b'--AaB03x\r\nContent-Disposition: form-data; filename="a"\r\n\r\n'
        b"x\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "repeated name",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"; name="b"\r\n'
        b"\r\nx\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "repeated Content-Disposition",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\n'
        b'Content-Disposition: form-data; name="b"\r\n\r\nx\r\n--AaB03x--\r\n',
        400,
    ),
    (
        "repeated Content-Type",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\n'
        b"Content-Type: a/b\r\nContent-Type: c/d\r\n\r\nx\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "malformed Content-Disposition",
        b"--AaB03x\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "unterminated quoted name",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a\r\n\r\n'
        b"x\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "malformed filename*",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"; '
        b"filename*=UTF-8'%E2%82%AC\r\n\r\nx\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "filename* in an unknown charset",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"; '
        b"filename*=KOI8-R''%E2\r\n\r\nx\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "filename* not valid UTF-8",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"; '
        b"filename*=UTF-8''%E2%82\r\n\r\nx\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "header line without a colon",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\nbogus\r\n\r\n'
        b"x\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "folded header line",
        b"--AaB03x\r\nContent-Disposition: form-data;\r\n"
        b' name="a"\r\n\r\nx\r\n--AaB03x--\r\n',
        400,
    ),
    (
        "control character in a header value",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"\x00\r\n\r\n'
        b"x\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "bare CR in a header line",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"\rX: y\r\n\r\n'
        b"x\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "bare LF after the first boundary",
        b'--AaB03x\nContent-Disposition: form-data; name="a"\n\nx\n--AaB03x--\n',
        400,
    ),
    (
        "bare LF after a later boundary",
        FIELD_AND_FILE.replace(b"Larry\r\n--AaB03x\r\n", b"Larry\r\n--AaB03x\n"),
        400,
    ),
    (
        "bare LF ending a header line",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"\n\r\n'
        b"x\r\n--AaB03x--\r\n",
        400,
    ),
    (
        "bare LF ending the part head",
        b'--AaB03x\r\nContent-Disposition: form-data; name="a"\r\n\n'
        b"x\r\n--AaB03x--\r\n",
        400,
    ),
    ("data after a boundary", b"--AaB03xyz\r\n", 400),
    ("data after transport padding", b"--AaB03x  -\r\n", 400),
    ("boundary followed by a single dash", b"--AaB03x-\r\n", 400),
]


# -- helpers ----------------------------------------------------------------------


def feedAll(
    pieces: list[bytes],
    limits: FormLimits = DEFAULT_FORM_LIMITS,
    boundary: bytes = BOUNDARY,
) -> list[FormPart]:
    """Feed C{pieces} in turn to a new parser, then close it."""
    parser = MultipartParser(boundary, limits)
    for piece in pieces:
        parser.feed(piece)
    return parser.close()


def describe(parts: list[FormPart]) -> list[tuple[Any, ...]]:
    """
    Describe C{parts} as C{(name, filename, contentType, content)}, reading
    (and rewinding) each file and checking every part's invariants.
    """
    described: list[tuple[Any, ...]] = []
    for part in parts:
        if part.file is None:
            assert part.filename is None
            assert part.value is not None
            content = part.value
        else:
            assert part.filename is not None
            assert part.value is None
            assert part.file.tell() == 0
            content = part.file.read()
            part.file.seek(0)
        assert part.size == len(content)
        described.append((part.name, part.filename, part.contentType, content))
    return described


def splits(body: bytes) -> Iterator[tuple[str, list[bytes]]]:
    """Yield C{body} whole, one byte at a time, and in every 2-split."""
    yield "whole", [body]
    yield "bytewise", [body[i : i + 1] for i in range(len(body))]
    for i in range(len(body) + 1):
        yield f"split at {i}", [body[:i], body[i:]]


def rejection(pieces: list[bytes], limits: FormLimits = DEFAULT_FORM_LIMITS) -> int:
    """Feed C{pieces} and close; return the status of the L{FormError} raised."""
    with pytest.raises(FormError) as caught:
        feedAll(pieces, limits)
    return caught.value.status


def fieldPart(name: bytes, value: bytes) -> bytes:
    """Build one multipart field, without its delimiter."""
    return b'\r\nContent-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value


def filePart(name: bytes, filename: bytes, content: bytes) -> bytes:
    """Build one multipart file part, without its delimiter."""
    return (
        b'\r\nContent-Disposition: form-data; name="'
        + name
        + b'"; filename="'
        + filename
        + b'"\r\n\r\n'
        + content
    )


def assemble(parts: list[bytes], boundary: bytes = BOUNDARY) -> bytes:
    """Join parts built by L{fieldPart} and L{filePart} into a body."""
    dash = b"--" + boundary
    return dash + (b"\r\n" + dash).join(parts) + b"\r\n" + dash + b"--\r\n"


# -- parseUrlencoded ----------------------------------------------------------------


@pytest.mark.parametrize(("data", "expected"), URLENCODED_CASES)
def test_urlencoded(data: bytes, expected: dict[bytes, list[bytes]]) -> None:
    """
    A urlencoded body parses like C{parse_qs(keep_blank_values=True)}: C{+}
    and C{%XX} decoded, invalid escapes kept, blank values and names without
    C{=} kept, repeated names in order, C{;} not a separator, and bytes
    (even non-ASCII ones, on which C{parse_qs} fails) kept as they are.
    """
    assert parseUrlencoded(data) == expected


@given(
    st.lists(
        st.sampled_from(["x", "y", "=", "&", "+", "%", "2", "0", "z", "4A", ";"]),
        max_size=30,
    )
)
def test_urlencodedMatchesParseQs(pieces: list[str]) -> None:
    """
    On ASCII input whose escapes name ASCII bytes (all that C{parse_qs}
    accepts as bytes), a urlencoded body parses exactly as
    C{urllib.parse.parse_qs(data, keep_blank_values=True)} parses it.
    """
    data = "".join(pieces).encode("ascii")
    assert parseUrlencoded(data) == parse_qs(data, keep_blank_values=True)


def test_urlencodedFieldLimit() -> None:
    """
    A urlencoded body may hold C{maxFields} pairs (empty ones do not count);
    one more is refused with 413.
    """
    assert len(parseUrlencoded(b"&&".join(b"f%d=" % i for i in range(5)), 5)) == 5
    with pytest.raises(FormTooLarge) as caught:
        parseUrlencoded(b"&".join([b"a=1"] * 6), 5)
    assert caught.value.status == 413
    assert len(parseUrlencoded(b"&".join([b"a=1"] * 1000))[b"a"]) == 1000
    with pytest.raises(FormTooLarge):
        parseUrlencoded(b"&".join([b"a=1"] * 1001))


# -- boundaryFromContentType ------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), CONTENT_TYPES)
def test_boundaryFromContentType(value: bytes, expected: bytes | None) -> None:
    """
    The boundary of a multipart/form-data Content-Type is found, quoted or
    not, whatever the case of the media type and parameter name; any other
    media type gives C{None}.
    """
    assert boundaryFromContentType(value) == expected


@pytest.mark.parametrize("value", BAD_CONTENT_TYPES)
def test_badBoundary(value: bytes) -> None:
    """
    A multipart/form-data Content-Type without a boundary, with two, with
    malformed parameters, or with a boundary RFC 2046 does not allow (empty,
    over 70 characters, ending in a space, outside its character set) gives
    no boundary, without raising: the caller, which knows the media type,
    answers 400.
    """
    assert boundaryFromContentType(value) is None


@pytest.mark.parametrize("boundary", [b"", b"x" * 71, b"a ", b"a\r\n", b"a@b"])
def test_parserRejectsInvalidBoundary(boundary: bytes) -> None:
    """
    Constructing a parser with a boundary RFC 2046 does not allow is a
    programming error (ValueError): boundaries come from
    L{boundaryFromContentType}.
    """
    with pytest.raises(ValueError, match="invalid multipart boundary"):
        MultipartParser(boundary)


# -- well-formed multipart bodies --------------------------------------------------


def test_fieldAndFile() -> None:
    """
    RFC 7578's example gives a field with its value in memory and a file with
    its filename, content type, size and content in a file positioned at 0.
    """
    name, upload = feedAll([FIELD_AND_FILE])
    assert name.name == b"submit-name"
    assert name.value == b"Larry"
    assert name.file is None
    assert name.filename is None
    assert name.contentType is None
    assert name.size == 5
    assert name.headers == {b"content-disposition": [b'form-data; name="submit-name"']}
    assert upload.name == b"files"
    assert upload.filename == "file1.txt"
    assert upload.contentType == b"text/plain"
    assert upload.value is None
    assert upload.file is not None
    assert upload.file.read() == b"... contents of file1.txt ..."
    assert upload.size == len(b"... contents of file1.txt ...")
    assert upload.headers == {
        b"content-disposition": [b'form-data; name="files"; filename="file1.txt"'],
        b"content-type": [b"text/plain"],
    }


def test_sample() -> None:
    """
    However the sample body is split, it parses to the same parts: preamble
    and epilogue ignored, transport padding after boundaries accepted,
    empty fields kept, quoted-pairs unescaped, filename* preferred and
    decoded, and content that holds CRLFs, dashes, a CR before the delimiter
    and delimiter look-alikes (a boundary prefix, a boundary not preceded by
    CRLF, a differently-cased boundary) kept byte for byte.
    """
    for how, pieces in splits(SAMPLE):
        assert describe(feedAll(pieces)) == SAMPLE_PARTS, how


@pytest.mark.parametrize(
    ("disposition", "filename"),
    [
        (b'form-data; name="f"; filename="na\xc3\xafve.txt"', "na\u00efve.txt"),
        (b'form-data; name="f"; filename="bad\xff.txt"', "bad\ufffd.txt"),
        (b"form-data; name=f; filename=plain.txt", "plain.txt"),
        (b"form-data; name=\"f\"; filename*=UTF-8''%E2%82%AC.txt", "\u20ac.txt"),
        (b"form-data; name=\"f\"; filename*=utf-8'en'a%20b", "a b"),
        (b"form-data; name=\"f\"; filename*=ISO-8859-1''caf%E9", "caf\u00e9"),
        (b'form-data; name="f"; filename*="UTF-8\'\'quoted"', "quoted"),
        (b'form-data; name="f"; filename="a%22b"', "a%22b"),
        (b'FORM-DATA ; NAME="f" ; FILENAME="upper"', "upper"),
        (b'form-data; name="f"; filename=""', ""),
    ],
)
def test_filenames(disposition: bytes, filename: str) -> None:
    """
    A filename is decoded from UTF-8 (invalid bytes replaced) or from an RFC
    8187 C{filename*} in UTF-8 or ISO-8859-1, quoted or not, in any case;
    percent-escapes in a plain filename are left alone; an empty filename
    still makes a file part.
    """
    body = (
        b"--AaB03x\r\nContent-Disposition: "
        + disposition
        + b"\r\n\r\ndata\r\n--AaB03x--"
    )
    (part,) = feedAll([body])
    assert part.filename == filename
    assert part.name == b"f"
    assert part.file is not None
    assert part.file.read() == b"data"


def test_noParts() -> None:
    """
    A body of only the closing delimiter (what a browser sends for a form
    with no fields) is an empty form.
    """
    assert feedAll([b"--AaB03x--"]) == []
    assert feedAll([b"preamble\r\n--AaB03x--\r\nepilogue"]) == []


def test_epilogueIgnored() -> None:
    """
    After the closing delimiter, feeding more bytes (even malformed ones) is
    accepted and ignored.
    """
    parser = MultipartParser(BOUNDARY)
    parser.feed(FIELD_AND_FILE)
    parser.feed(b"\n\n--AaB03x\nanything\x00")
    assert len(parser.close()) == 2


def test_binaryContent() -> None:
    """
    Every byte value, CRLFs and the start of the delimiter survive in a file
    and in a field.
    """
    content = bytes(range(256)) * 4 + b"\r\n--AaB03\r\n--" + bytes(range(256))
    body = assemble([fieldPart(b"f", content), filePart(b"u", b"b.bin", content)])
    for how, pieces in [("whole", [body]), ("bytewise", list(splits(body))[1][1])]:
        field, upload = feedAll(pieces)
        assert field.value == content, how
        assert upload.file is not None
        assert upload.file.read() == content, how


def test_smallFileStaysInMemory() -> None:
    """
    A file part up to C{spoolSize} bytes is not written to disk; one byte
    more and it is.
    """
    limits = FormLimits(spoolSize=100)
    small, large = feedAll(
        [
            assemble(
                [filePart(b"a", b"a", b"x" * 100), filePart(b"b", b"b", b"x" * 101)]
            )
        ],
        limits,
    )
    assert isinstance(small.file, tempfile.SpooledTemporaryFile)
    assert isinstance(large.file, tempfile.SpooledTemporaryFile)
    # SpooledTemporaryFile has no public way to ask; _rolled is how it knows.
    assert not small.file._rolled
    assert large.file._rolled
    small.file.close()
    large.file.close()


# -- limits -------------------------------------------------------------------------


def test_fieldSizeLimit() -> None:
    """
    A field may hold exactly C{maxFieldSize} bytes; one more is 413, even
    when it arrives byte by byte.
    """
    limits = FormLimits(maxFieldSize=10)
    (part,) = feedAll([assemble([fieldPart(b"a", b"x" * 10)])], limits)
    assert part.value == b"x" * 10
    body = assemble([fieldPart(b"a", b"x" * 11)])
    assert rejection([body], limits) == 413
    assert rejection(list(splits(body))[1][1], limits) == 413


def test_fileSizeLimit() -> None:
    """
    A file may hold exactly C{maxFileSize} bytes; one more is 413.  Files are
    not held to C{maxFieldSize}, nor, by default, to any size of their own.
    """
    limits = FormLimits(maxFileSize=20, maxFieldSize=5)
    (part,) = feedAll([assemble([filePart(b"a", b"a", b"y" * 20)])], limits)
    assert part.size == 20
    assert rejection([assemble([filePart(b"a", b"a", b"y" * 21)])], limits) == 413
    assert DEFAULT_FORM_LIMITS.maxFileSize is None


def test_partLimit() -> None:
    """
    A body may hold C{maxParts} parts, fields and files together; one more is
    413, refused as soon as its head ends.
    """
    limits = FormLimits(maxParts=3)
    three = [fieldPart(b"a", b"1"), filePart(b"b", b"b", b"2"), fieldPart(b"c", b"")]
    assert len(feedAll([assemble(three)], limits)) == 3
    body = assemble([*three, filePart(b"d", b"d", b"")])
    parser = MultipartParser(BOUNDARY, limits)
    with pytest.raises(FormTooLarge) as caught:
        parser.feed(body[: body.index(b"\r\n\r\n", body.index(b'name="d"')) + 4])
    assert caught.value.status == 413


def test_fieldLimit() -> None:
    """
    A body may hold C{maxFields} parts without a filename; one more is 413.
    File parts do not count against it.
    """
    limits = FormLimits(maxFields=2)
    parts = [fieldPart(b"a", b"1"), filePart(b"f", b"f", b""), fieldPart(b"b", b"2")]
    assert len(feedAll([assemble(parts)], limits)) == 3
    assert rejection([assemble([*parts, fieldPart(b"c", b"3")])], limits) == 413


def test_headerSizeLimit() -> None:
    """
    A part head (header lines, CRLFs and the empty line) may be
    C{maxHeaderSize} bytes; one more is 400 (not 431, which is about the
    request's own header fields), refused before the head ends if it is
    still incomplete.
    """
    head = b'Content-Disposition: form-data; name="a"\r\nX: '
    size = len(head) + 10 + 4
    body = b"--AaB03x\r\n" + head + b"y" * 10 + b"\r\n\r\nv\r\n--AaB03x--"
    assert len(feedAll([body], FormLimits(maxHeaderSize=size))) == 1
    assert rejection([body], FormLimits(maxHeaderSize=size - 1)) == 400
    parser = MultipartParser(BOUNDARY, FormLimits(maxHeaderSize=100))
    with pytest.raises(MalformedForm, match="head too large"):
        for piece in [b"--AaB03x\r\n", head, *[b"y"] * 100]:
            parser.feed(piece)
    with pytest.raises(MalformedForm, match="head too large"):
        feedAll([b"--AaB03x\r\n", *[b"X: y\r\n"] * 5000])


def test_paddingLimit() -> None:
    """
    Transport padding after a boundary, with its CRLF, counts against
    C{maxHeaderSize}, so a boundary line cannot grow without end.
    """
    limits = FormLimits(maxHeaderSize=50)
    for padding, accepted in [(b" " * 48, True), (b" \t" * 24 + b" ", False)]:
        body = b"--AaB03x" + padding + fieldPart(b"a", b"1") + b"\r\n--AaB03x--"
        if accepted:
            assert len(feedAll([body], limits)) == 1
        else:
            assert rejection([body], limits) == 400
    parser = MultipartParser(BOUNDARY, limits)
    parser.feed(b"--AaB03x")
    with pytest.raises(MalformedForm, match="boundary line too long"):
        for _ in range(60):
            parser.feed(b" ")


@pytest.mark.parametrize(
    "changes",
    [
        {"maxFields": 0},
        {"maxFieldSize": -1},
        {"maxParts": 1.5},
        {"maxHeaderSize": True},
        {"spoolSize": 0},
        {"maxFileSize": 0},
    ],
)
def test_limitsValidated(changes: dict[str, Any]) -> None:
    """
    Every limit must be a positive int (C{maxFileSize} may also be C{None});
    anything else is a ValueError naming it.
    """
    with pytest.raises(ValueError, match=next(iter(changes))):
        FormLimits(**changes)


def test_limitDefaults() -> None:
    """The documented defaults."""
    expected = FormLimits(
        maxFields=1000,
        maxFieldSize=1024 * 1024,
        maxFileSize=None,
        maxParts=1000,
        maxHeaderSize=16 * 1024,
        spoolSize=256 * 1024,
    )
    assert expected == DEFAULT_FORM_LIMITS


# -- malformed multipart bodies ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [(body, status) for _, body, status in MALFORMED],
    ids=[name for name, _, _ in MALFORMED],
)
def test_malformed(body: bytes, status: int) -> None:
    """
    Malformed bodies are refused with a L{FormError} carrying the status to
    answer with, however they are split; its reason is fixed text that never
    echoes the body.
    """
    for how, pieces in list(splits(body))[:2]:
        with pytest.raises(FormError) as caught:
            feedAll(pieces)
        assert caught.value.status == status, how
        assert caught.value.reason == str(caught.value)
        assert caught.value.reason.isascii()
        assert "AaB03x" not in caught.value.reason


def test_finishedParser() -> None:
    """
    A parser is finished once close() returned or an error was raised:
    feeding or closing it again is a programming error (RuntimeError).
    """
    parser = MultipartParser(BOUNDARY)
    parser.feed(FIELD_AND_FILE)
    parser.close()
    with pytest.raises(RuntimeError):
        parser.feed(b"")
    with pytest.raises(RuntimeError):
        parser.close()
    parser = MultipartParser(BOUNDARY)
    with pytest.raises(MalformedForm):
        parser.feed(b"--AaB03x\nx")
    with pytest.raises(RuntimeError):
        parser.feed(b"")
    with pytest.raises(RuntimeError):
        parser.close()


#: The real class, for L{_FileSpy} to call while it stands in for it.
_SPOOLED = tempfile.SpooledTemporaryFile


class _FileSpy:
    """Stands in for C{SpooledTemporaryFile}, recording the files opened."""

    def __init__(self) -> None:
        self.opened: list[IO[bytes]] = []

    def __call__(self, max_size: int) -> IO[bytes]:
        file: IO[bytes] = _SPOOLED(max_size=max_size)
        self.opened.append(file)
        return file


@pytest.mark.parametrize("where", ["feed", "close"])
def test_errorClosesFiles(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """
    When a body is refused, by feed() or by close(), every temporary file
    the parser opened, for finished parts and for the one it was in, is
    closed, so no upload is left on disk.
    """
    spy = _FileSpy()
    monkeypatch.setattr(_formparse.tempfile, "SpooledTemporaryFile", spy)
    parser = MultipartParser(BOUNDARY, FormLimits(maxFileSize=10))
    parser.feed(
        b"--AaB03x"
        + filePart(b"a", b"a", b"1")
        + b"\r\n--AaB03x"
        + filePart(b"b", b"b", b"2")
        + b"\r\n--AaB03x"
        + filePart(b"c", b"c", b"3")
    )
    assert len(spy.opened) == 3
    assert not any(file.closed for file in spy.opened)
    with pytest.raises(FormError) as caught:
        if where == "feed":
            parser.feed(b"4" * 30)
        else:
            parser.close()
    assert caught.value.status == (413 if where == "feed" else 400)
    assert all(file.closed for file in spy.opened)


# -- formArgs and formFiles -----------------------------------------------------------


def test_formArgsAndFiles() -> None:
    """
    The args view holds field values and the content of files up to the
    inline size, in order; larger files are left out of it.  The files view
    holds every file part, whatever its size.  Reading files for args leaves
    them rewound.
    """
    body = assemble(
        [
            fieldPart(b"a", b"1"),
            filePart(b"up", b"small", b"s" * 8),
            filePart(b"up", b"big", b"b" * 9),
            fieldPart(b"a", b"2"),
            filePart(b"other", b"o", b""),
        ]
    )
    parts = feedAll([body])
    assert formArgs(parts, 8) == {
        b"a": [b"1", b"2"],
        b"up": [b"s" * 8],
        b"other": [b""],
    }
    files = formFiles(parts)
    assert [part.filename for part in files[b"up"]] == ["small", "big"]
    assert [part.filename for part in files[b"other"]] == ["o"]
    assert b"a" not in files
    assert all(part.file.tell() == 0 for part in files[b"up"] if part.file)
    assert formArgs(parts)[b"up"] == [b"s" * 8, b"b" * 9]


# -- streaming a large upload --------------------------------------------------------


def test_largeUploadStreamsToDisk() -> None:
    """
    A 20 MiB upload fed in 64 KiB pieces parses quickly, lands in a real
    temporary file on disk with the same content, and never has more than a
    few pieces' worth of memory allocated while it arrives.
    """
    boundary = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
    rng = random.Random(7)
    block = bytearray(rng.randbytes(64 * 1024))
    # Delimiter look-alikes inside the content, straddling piece edges too.
    block[-10:] = b"\r\n--" + boundary[:6]
    block[100:120] = b"\r\n--" + boundary[:16]
    head = b"--" + boundary + b"\r\n" + filePart(b"upload", b"big.bin", b"")[2:]
    sent = hashlib.sha256()
    parser = MultipartParser(boundary)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        parser.feed(head)
        for _ in range(320):
            piece = bytes(block)
            sent.update(piece)
            parser.feed(piece)
        parser.feed(b"\r\n--" + boundary + b"--\r\n")
        (part,) = parser.close()
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 5
    assert peak < 2 * 1024 * 1024
    assert part.size == 20 * 1024 * 1024
    assert isinstance(part.file, tempfile.SpooledTemporaryFile)
    assert part.file._rolled
    assert not isinstance(part.file._file, io.BytesIO)
    received = hashlib.sha256()
    while chunk := part.file.read(1024 * 1024):
        received.update(chunk)
    assert received.digest() == sent.digest()
    part.file.close()


# -- properties ------------------------------------------------------------------------

#: Characters RFC 2046 allows in a boundary (without the space, which may not
#: end one and would need quoting anyway).
BOUNDARY_CHARS = (
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'()+_,-./:=?"
)
#: Bytes a quoted-string may hold as they are.
QUOTABLE = bytes([0x09, 0x20, 0x21, *range(0x23, 0x5C), *range(0x5D, 0x7F)]) + bytes(
    range(0x80, 0x100)
)


def quoted(value: bytes) -> bytes:
    """Quote C{value} as a quoted-string, escaping C{"} and C{\\}."""
    return b'"' + re.sub(rb'(["\\])', rb"\\\1", value) + b'"'


@st.composite
def multipartBodies(
    draw: st.DrawFn,
) -> tuple[bytes, bytes, list[tuple[Any, ...]]]:
    """
    A valid multipart/form-data body: its boundary, its bytes, and the
    parts it holds as L{describe} describes them.
    """
    boundary = draw(st.text(BOUNDARY_CHARS, min_size=1, max_size=70)).encode()
    delimiter = b"\r\n--" + boundary
    fragments = st.sampled_from(
        [b"\r", b"\n", b"\r\n", b"-", b"--", b"\r\n--", b"x", b"\x00\xff", boundary]
        + [boundary[:k] for k in range(1, len(boundary))]
    )
    names = st.lists(st.sampled_from([*QUOTABLE, 0x22, 0x5C]), max_size=8).map(bytes)
    expected: list[tuple[Any, ...]] = []
    body = draw(st.sampled_from([b"", b"preamble\r\n", b"\r\n"])) + b"--" + boundary
    for _ in range(draw(st.integers(0, 4))):
        name = draw(names)
        content = draw(st.lists(fragments, max_size=12).map(b"".join))
        if delimiter in content:
            content = content.replace(b"\r", b"")
        filename = draw(
            st.none()
            | st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=8)
        )
        contentType = draw(st.sampled_from([None, b"text/plain", b"image/png"]))
        padding = draw(st.sampled_from([b"", b" ", b"\t \t"]))
        disposition = b"form-data; name=" + quoted(name)
        if filename is not None:
            encoded = filename.encode()
            if draw(st.booleans()):
                disposition += b"; filename=" + quoted(encoded)
            else:
                disposition += (
                    b"; filename*=UTF-8''" + quote_from_bytes(encoded, safe="").encode()
                )
        body += padding + b"\r\nContent-Disposition: " + disposition + b"\r\n"
        if contentType is not None:
            body += b"Content-Type: " + contentType + b"\r\n"
        body += b"\r\n" + content + delimiter
        expected.append((name, filename, contentType, content))
    body += b"--" + draw(st.sampled_from([b"", b"\r\n", b"  \r\nepilogue"]))
    return boundary, body, expected


@given(multipartBodies(), st.lists(st.integers(0, 10_000), max_size=8))
def test_anySplitParsesTheSame(
    generated: tuple[bytes, bytes, list[tuple[Any, ...]]], cuts: list[int]
) -> None:
    """
    However a valid body is split into pieces, feeding them in turn gives
    the parts it was built from, as feeding it whole does.
    """
    boundary, body, expected = generated
    positions = sorted({0, len(body), *(cut % (len(body) + 1) for cut in cuts)})
    pieces = [body[a:b] for a, b in pairwise(positions)]
    assert describe(feedAll([body], boundary=boundary)) == expected
    assert describe(feedAll(pieces, boundary=boundary)) == expected


#: Fragments that make fuzzed input look enough like multipart to reach deep
#: into the parser, mixed with arbitrary bytes.
FUZZ_VOCABULARY = [
    b"--AaB03x",
    b"\r\n--AaB03x",
    b"--",
    b"\r\n",
    b"\n",
    b"\r",
    b" ",
    b"Content-Disposition: form-data; name=",
    b"Content-Type: text/plain",
    b'"a"',
    b"; filename=",
    b"; filename*=UTF-8''%E2",
    b'"',
    b"\\",
    b"x" * 20,
]


@given(
    st.lists(st.sampled_from(FUZZ_VOCABULARY) | st.binary(max_size=12), max_size=40),
    st.booleans(),
)
def test_arbitraryBytesRaiseOnlyFormError(pieces: list[bytes], small: bool) -> None:
    """
    Arbitrary bytes, fed in arbitrary pieces, either parse or raise a
    L{FormError} with status 400 or 413: never any other exception.
    """
    limits = (
        FormLimits(
            maxFields=2,
            maxFieldSize=10,
            maxFileSize=20,
            maxParts=3,
            maxHeaderSize=80,
            spoolSize=5,
        )
        if small
        else DEFAULT_FORM_LIMITS
    )
    parser = MultipartParser(BOUNDARY, limits)
    try:
        for piece in pieces:
            parser.feed(piece)
        parts = parser.close()
    except FormError as error:
        assert error.status in (400, 413)
    else:
        describe(parts)


# -- the documentation --------------------------------------------------------------


def test_documentationExample() -> None:
    """
    The examples in the "Form bodies" section of C{doc/uploads.md} run.
    """
    text = (Path(__file__).parent.parent.parent / "doc" / "uploads.md").read_text()
    section = text.split("\n## Form bodies\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, "doc/uploads.md", "exec"), {})
