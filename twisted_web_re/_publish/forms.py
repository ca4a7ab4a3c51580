"""
Parsing form bodies without ever holding a large upload in memory.

C{application/x-www-form-urlencoded} bodies are parsed whole by
L{parseUrlencoded} (the caller bounds their size).  C{multipart/form-data}
bodies (RFC 7578, framed as RFC 2046 section 5.1.1 says) are parsed
incrementally by L{MultipartParser}: plain fields are kept in memory up to a
limit, and file parts are spooled to temporary files, so memory use does not
grow with the size of an upload.  Nothing here imports Twisted: the request
feeds body bytes in and takes L{FormPart}s out.
"""

from __future__ import annotations

import enum
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO
from urllib.parse import unquote_to_bytes

#: Most fields in one form, urlencoded pairs or multipart parts without a
#: filename: 413 beyond it.  Django's C{DATA_UPLOAD_MAX_NUMBER_FIELDS} and
#: Starlette's C{max_fields}; PHP's C{max_input_vars} is 1000 too.
MAX_FIELDS = 1000

#: Largest value of one multipart field without a filename, in bytes: 413
#: beyond it.  Starlette's C{max_part_size}.
MAX_FIELD_SIZE = 1024 * 1024

#: Largest file part in bytes: 413 beyond it.  C{None}: only the request body
#: limit bounds an upload, as it bounds the whole request.
MAX_FILE_SIZE: int | None = None

#: Most parts, fields and files together, in one multipart body: 413 beyond
#: it.  Every part costs a temporary file or a list entry, however small it is.
MAX_PARTS = 1000

#: Largest head of one part in bytes (its header lines with their CRLFs and the
#: empty line ending them; the transport padding after a boundary counts
#: against the same limit): 400 beyond it.  Equal to the request head limit.
MAX_HEADER_SIZE = 16384

#: A file part up to this many bytes stays in memory; a larger one is moved to
#: a temporary file on disk as it arrives.  Equal to the request body's own
#: memory limit.
SPOOL_SIZE = 256 * 1024

# RFC 9110 section 5.6.2 token and section 5.6.4 quoted-string, with obs-text.
_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
_QUOTED_PAIR = re.compile(rb"\\(.)", re.DOTALL)

# RFC 9110 section 5.6.6: parameters = *( OWS ";" OWS [ parameter ] ).
_PARAMETER = re.compile(
    rb"[ \t]*;[ \t]*(?:(" + _TOKEN + rb")=(" + _TOKEN + rb"|" + _QUOTED + rb"))?"
)
_MEDIA_TYPE = re.compile(rb"[ \t]*(" + _TOKEN + rb")/(" + _TOKEN + rb")")
_DISPOSITION_TYPE = re.compile(rb"[ \t]*(" + _TOKEN + rb")")

# RFC 2046 section 5.1.1: boundary := 0*69<bchars> bcharsnospace.
_BOUNDARY = re.compile(rb"[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]")

# RFC 8187 section 3.2.1: ext-value = charset "'" [ language ] "'" value-chars.
_EXT_VALUE = re.compile(
    rb"(UTF-8|ISO-8859-1)'[A-Za-z0-9-]*'"
    rb"((?:%[0-9A-Fa-f]{2}|[A-Za-z0-9!#$&+.^_`|~-])*)",
    re.IGNORECASE,
)

# A part's header line, without its CRLF.  A line starting with whitespace
# (obs-fold) does not match: RFC 7578 has no use for it.
_HEADER_LINE = re.compile(
    rb"(" + _TOKEN + rb"):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*"
)

# One name=value pair of a urlencoded body; empty pairs are skipped.
_URLENCODED_PAIR = re.compile(rb"[^&]+")


class FormError(Exception):
    """
    The peer sent a form body this server will not accept.

    @ivar status: the response status code this error earns: 400 for a
        malformed body, 413 for one beyond a L{FormLimits} limit.
    @ivar reason: a short, fixed explanation.  It never echoes peer bytes, so
        it is safe to send back as a response body.
    """

    status: int = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MalformedForm(FormError):
    """The form body is not valid for its content type (400)."""

    status = 400


class FormTooLarge(FormError):
    """The form body has too many fields or parts, or one too large (413)."""

    status = 413


@dataclass(frozen=True, slots=True)
class FormLimits:
    """
    The limits one server applies to form bodies; immutable and shared.

    The size of the whole body is not among them: the request body limit
    bounds it before any of these apply.

    @ivar maxFields: see L{MAX_FIELDS}.
    @ivar maxFieldSize: see L{MAX_FIELD_SIZE}.
    @ivar maxFileSize: see L{MAX_FILE_SIZE}; C{None} means no limit of its own.
    @ivar maxParts: see L{MAX_PARTS}.
    @ivar maxHeaderSize: see L{MAX_HEADER_SIZE}.
    @ivar spoolSize: see L{SPOOL_SIZE}.
    """

    maxFields: int = MAX_FIELDS
    maxFieldSize: int = MAX_FIELD_SIZE
    maxFileSize: int | None = MAX_FILE_SIZE
    maxParts: int = MAX_PARTS
    maxHeaderSize: int = MAX_HEADER_SIZE
    spoolSize: int = SPOOL_SIZE

    def __post_init__(self) -> None:
        for name in (
            "maxFields",
            "maxFieldSize",
            "maxFileSize",
            "maxParts",
            "maxHeaderSize",
            "spoolSize",
        ):
            value = getattr(self, name)
            if value is None and name == "maxFileSize":
                continue
            # A spoolSize of 0 would tell SpooledTemporaryFile never to spool.
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")


DEFAULT_FORM_LIMITS = FormLimits()


@dataclass(frozen=True, slots=True)
class FormPart:
    """
    One part of a C{multipart/form-data} body: a field or an uploaded file.

    Exactly one of L{value} and L{file} is set: L{value} for a part without a
    filename, L{file} for a part with one (even an empty filename, which is
    what a browser sends for a file input left empty).

    @ivar name: the C{name} parameter of its C{Content-Disposition}, as sent.
    @ivar filename: the file's name as the client claims it (from
        C{filename*} if present, else C{filename} decoded as UTF-8 with
        replacement characters), or C{None} for a field.  Never use it as a
        path without sanitising it.
    @ivar contentType: its C{Content-Type} value, or C{None} if it has none.
    @ivar headers: all its header fields, names lowercased, values in order.
    @ivar size: the length of its content in bytes.
    @ivar value: the content of a field; C{None} for a file.
    @ivar file: the content of a file, positioned at 0: in memory up to
        L{FormLimits.spoolSize} bytes, a temporary file on disk beyond.  The
        caller owns it and should close it; C{None} for a field.
    """

    name: bytes
    filename: str | None
    contentType: bytes | None
    headers: dict[bytes, list[bytes]]
    size: int
    value: bytes | None = None
    file: IO[bytes] | None = None


def parseUrlencoded(
    data: bytes, maxFields: int = MAX_FIELDS
) -> dict[bytes, list[bytes]]:
    """
    Parse an C{application/x-www-form-urlencoded} body into C{request.args}
    form, as C{urllib.parse.parse_qs(data, keep_blank_values=True)} would
    (and the WHATWG URL standard's urlencoded parser does), but on raw bytes.

    Pairs are separated by C{&} only; empty pairs are skipped; a pair without
    C{=} has an empty value; C{+} is a space; C{%XX} is the byte it names and
    an invalid escape is kept literally.  Bytes are never decoded, so any
    charset survives.

    @param data: the whole body; its size is bounded by the caller.
    @param maxFields: the most pairs accepted.
    @return: each name with its values in the order they came.
    @raise FormTooLarge: there are more than C{maxFields} pairs.
    """
    args: dict[bytes, list[bytes]] = {}
    for count, match in enumerate(_URLENCODED_PAIR.finditer(data), 1):
        if count > maxFields:
            raise FormTooLarge("too many form fields")
        name, _, value = match.group().partition(b"=")
        args.setdefault(unquote_to_bytes(name.replace(b"+", b" ")), []).append(
            unquote_to_bytes(value.replace(b"+", b" "))
        )
    return args


def _parseParameters(value: bytes, pos: int) -> dict[bytes, bytes] | None:
    """
    Parse the parameters of a field value from C{pos} to its end.

    @return: each parameter's lowercased name and its value, unquoted; C{None}
        if the parameters are malformed or one is repeated (two readers could
        disagree on which one counts).
    """
    params: dict[bytes, bytes] = {}
    while (match := _PARAMETER.match(value, pos)) is not None:
        pos = match.end()
        name = match.group(1)
        if name is None:
            continue
        name = name.lower()
        if name in params:
            return None
        raw = match.group(2)
        params[name] = (
            _QUOTED_PAIR.sub(rb"\1", raw[1:-1]) if raw.startswith(b'"') else raw
        )
    if value[pos:].strip(b" \t"):
        return None
    return params


def boundaryFromContentType(value: bytes) -> bytes | None:
    """
    Find the boundary of a C{multipart/form-data} body in its C{Content-Type}.

    Like the functions of C{_headerparse}, it never raises on peer data: a
    caller that needs to tell "not a form" from "a form that cannot be
    parsed" (400) checks the media type itself.

    @param value: the request's C{Content-Type} field value.
    @return: the boundary, unquoted; C{None} if C{value} does not name
        C{multipart/form-data}, or names it with malformed or repeated
        parameters, or with a boundary that is missing or not 1 to 70 of the
        characters RFC 2046 section 5.1.1 allows.
    """
    match = _MEDIA_TYPE.match(value)
    if match is None or (match.group(1).lower(), match.group(2).lower()) != (
        b"multipart",
        b"form-data",
    ):
        return None
    params = _parseParameters(value, match.end())
    boundary = None if params is None else params.get(b"boundary")
    if boundary is None or _BOUNDARY.fullmatch(boundary) is None:
        return None
    return boundary


def _decodeExtValue(value: bytes) -> str:
    """
    Decode an RFC 8187 C{ext-value} such as C{UTF-8''%e2%82%ac.txt}.

    @raise MalformedForm: it is malformed, names a charset other than UTF-8
        or ISO-8859-1, or its bytes are not valid in that charset.
    """
    match = _EXT_VALUE.fullmatch(value)
    if match is None:
        raise MalformedForm("malformed filename* parameter")
    try:
        return unquote_to_bytes(match.group(2)).decode(match.group(1).decode())
    except UnicodeDecodeError:
        raise MalformedForm("malformed filename* parameter") from None


def _parseDisposition(value: bytes) -> tuple[bytes, str | None]:
    """
    Parse a part's C{Content-Disposition} (RFC 7578 section 4.2).

    @return: its C{name}, and its filename or C{None}: C{filename*} wins over
        C{filename}, as RFC 6266 section 4.3 says.
    @raise MalformedForm: the value is malformed, its type is not
        C{form-data}, or it has no C{name}.
    """
    match = _DISPOSITION_TYPE.match(value)
    if match is None or match.group(1).lower() != b"form-data":
        raise MalformedForm("part disposition is not form-data")
    params = _parseParameters(value, match.end())
    if params is None:
        raise MalformedForm("malformed Content-Disposition parameters")
    name = params.get(b"name")
    if name is None:
        raise MalformedForm("part has no name")
    extended = params.get(b"filename*")
    if extended is not None:
        return name, _decodeExtValue(extended)
    filename = params.get(b"filename")
    # Browsers send the filename in the form's charset, UTF-8 in practice.
    return name, None if filename is None else filename.decode("utf-8", "replace")


class _OpenPart:
    """
    The part whose content is arriving: its head, parsed, and a sink holding
    its content so far within its size limit.
    """

    __slots__ = (
        "_file",
        "_limit",
        "_value",
        "contentType",
        "filename",
        "headers",
        "name",
        "size",
    )

    def __init__(self, headers: dict[bytes, list[bytes]], limits: FormLimits) -> None:
        """
        Open a part with the header fields C{headers}.

        @raise MalformedForm: its head lacks a single C{Content-Disposition}
            naming it, or has several C{Content-Type} fields.
        """
        dispositions = headers.get(b"content-disposition")
        if dispositions is None:
            raise MalformedForm("part has no Content-Disposition")
        contentTypes = headers.get(b"content-type", [])
        if len(dispositions) > 1 or len(contentTypes) > 1:
            raise MalformedForm("part has a repeated header field")
        self.name, self.filename = _parseDisposition(dispositions[0])
        self.contentType = contentTypes[0] if contentTypes else None
        self.headers = headers
        self.size = 0
        # One growing buffer, not a list of pieces: a field trickled in one
        # byte per read must not cost an object per byte.
        self._value = bytearray()
        self._file: IO[bytes] | None = None
        self._limit: int | None = limits.maxFieldSize
        if self.filename is not None:
            self._limit = limits.maxFileSize
            self._file = tempfile.SpooledTemporaryFile(max_size=limits.spoolSize)

    def write(self, data: bytearray) -> None:
        """
        Add C{data} to the content.

        @raise FormTooLarge: the content would exceed its limit.
        """
        self.size += len(data)
        if self._limit is not None and self.size > self._limit:
            if self._file is None:
                raise FormTooLarge("form field too large")
            raise FormTooLarge("uploaded file too large")
        if self._file is None:
            self._value += data
        else:
            self._file.write(data)

    def finish(self) -> FormPart:
        """Return the complete part, its file rewound."""
        file = self._file
        if file is None:
            return FormPart(
                self.name,
                None,
                self.contentType,
                self.headers,
                self.size,
                value=bytes(self._value),
            )
        file.seek(0)
        return FormPart(
            self.name,
            self.filename,
            self.contentType,
            self.headers,
            self.size,
            file=file,
        )

    def discard(self) -> None:
        """Release the content, deleting its temporary file if it has one."""
        if self._file is not None:
            self._file.close()


class _State(enum.Enum):
    """
    Where a multipart parser is in the body (RFC 2046 section 5.1.1; the
    delimiter is CRLF "--" boundary, and a CRLF is implied before the first):

        PREAMBLE --(delimiter)--> AFTER_DELIMITER
        AFTER_DELIMITER --(padding CRLF)--> HEAD --(empty line)--> CONTENT
        CONTENT --(delimiter)--> AFTER_DELIMITER
        AFTER_DELIMITER --("--")--> EPILOGUE
        any state --(close() or an error)--> CLOSED
    """

    PREAMBLE = "preamble"
    AFTER_DELIMITER = "after-delimiter"
    HEAD = "head"
    CONTENT = "content"
    EPILOGUE = "epilogue"
    CLOSED = "closed"


class MultipartParser:
    """
    An incremental C{multipart/form-data} parser (RFC 7578): feed it the body
    in pieces of any size, then close it to get the parts.

    Feeding takes time linear in the body's size and holds at most one piece
    plus a few bytes of look-behind, a part head, and the fields so far; file
    content goes to L{FormPart.file}.  The preamble and epilogue are ignored.
    Lines must end in CRLF: a bare LF in a boundary line or a part head is an
    error (400), because readers that accept it disagree with those that do
    not about where a part ends.  After an error, or after L{close}, the
    parser is finished and every temporary file it opened is closed except
    those of the parts L{close} returned.
    """

    __slots__ = (
        "_buffer",
        "_delimiter",
        "_fieldCount",
        "_headSize",
        "_headers",
        "_limits",
        "_part",
        "_partCount",
        "_parts",
        "_scanned",
        "_state",
    )

    def __init__(
        self, boundary: bytes, limits: FormLimits = DEFAULT_FORM_LIMITS
    ) -> None:
        """
        Prepare to parse a body whose parts are delimited by C{boundary}.

        @param boundary: the body's boundary, from L{boundaryFromContentType}.
        @param limits: the limits to enforce.
        @raise ValueError: C{boundary} is not a valid RFC 2046 boundary.
        """
        if _BOUNDARY.fullmatch(boundary) is None:
            raise ValueError(f"invalid multipart boundary {boundary!r}")
        self._delimiter = b"\r\n--" + boundary
        self._limits = limits
        # The body may start with the dash-boundary: start with the CRLF that
        # RFC 2046 puts before every other delimiter.
        self._buffer = bytearray(b"\r\n")
        self._state = _State.PREAMBLE
        # How many bytes past the unconsumed start were searched for an LF in
        # vain: a long line fed byte by byte is not re-scanned from its start.
        self._scanned = 0
        self._headSize = 0
        self._headers: dict[bytes, list[bytes]] = {}
        self._part: _OpenPart | None = None
        self._parts: list[FormPart] = []
        self._partCount = 0
        self._fieldCount = 0

    def feed(self, data: bytes) -> None:
        """
        Parse the next piece of the body.

        @raise FormError: the body is malformed or beyond a limit.
        @raise OSError: a file part could not be written (the disk is full,
            say); the parser is then finished, as after a L{FormError}.
        @raise RuntimeError: the parser is finished.
        """
        state = self._state
        if state is _State.EPILOGUE:
            return
        if state is _State.CLOSED:
            raise RuntimeError("feed() on a finished MultipartParser")
        self._buffer += data
        try:
            self._parse()
        except BaseException:
            self._abandon()
            raise

    def close(self) -> list[FormPart]:
        """
        Finish parsing: the body has ended.

        @return: the parts in the order they came; the caller owns their files.
        @raise MalformedForm: the body ended before its closing delimiter.
        @raise RuntimeError: the parser is already finished.
        """
        state = self._state
        if state is _State.CLOSED:
            raise RuntimeError("close() on a finished MultipartParser")
        if state is not _State.EPILOGUE:
            self._abandon()
            raise MalformedForm("multipart body ended before its closing delimiter")
        self._state = _State.CLOSED
        parts, self._parts = self._parts, []
        return parts

    def _abandon(self) -> None:
        """Finish without a result, closing every temporary file opened."""
        self._state = _State.CLOSED
        self._buffer.clear()
        if self._part is not None:
            self._part.discard()
            self._part = None
        for part in self._parts:
            if part.file is not None:
                part.file.close()
        self._parts = []

    def _parse(self) -> None:
        """Consume what the buffer holds, up to where more bytes are needed."""
        buf = self._buffer
        delimiter = self._delimiter
        limits = self._limits
        pos = 0
        while True:
            state = self._state
            if state is _State.CONTENT or state is _State.PREAMBLE:
                found = buf.find(delimiter, pos)
                if found < 0:
                    # Keep only what could be the start of a delimiter.
                    keep = max(pos, len(buf) - len(delimiter) + 1)
                    if self._part is not None and keep > pos:
                        self._part.write(buf[pos:keep])
                    pos = keep
                    break
                if self._part is not None:
                    if found > pos:
                        self._part.write(buf[pos:found])
                    self._parts.append(self._part.finish())
                    self._part = None
                pos = found + len(delimiter)
                self._state = _State.AFTER_DELIMITER
            elif state is _State.AFTER_DELIMITER:
                if len(buf) - pos < 2:
                    break
                if buf[pos : pos + 2] == b"--":
                    # The close-delimiter: what follows is the epilogue.
                    pos = len(buf)
                    self._state = _State.EPILOGUE
                    break
                lineEnd = buf.find(b"\n", pos + self._scanned)
                if lineEnd < 0:
                    if len(buf) - pos > limits.maxHeaderSize:
                        raise MalformedForm("multipart boundary line too long")
                    self._scanned = len(buf) - pos
                    break
                self._scanned = 0
                if lineEnd + 1 - pos > limits.maxHeaderSize:
                    raise MalformedForm("multipart boundary line too long")
                if lineEnd == pos or buf[lineEnd - 1] != 0x0D:
                    raise MalformedForm("bare LF in multipart body")
                # Only transport padding may follow a boundary (RFC 2046).
                if buf[pos : lineEnd - 1].strip(b" \t"):
                    raise MalformedForm("multipart boundary followed by data")
                pos = lineEnd + 1
                self._headSize = 0
                self._headers = {}
                self._state = _State.HEAD
            else:
                # HEAD: the loop stops where it enters EPILOGUE, and never
                # runs once the parser is CLOSED.
                lineEnd = buf.find(b"\n", pos + self._scanned)
                if lineEnd < 0:
                    if self._headSize + len(buf) - pos > limits.maxHeaderSize:
                        raise MalformedForm("multipart part head too large")
                    self._scanned = len(buf) - pos
                    break
                self._scanned = 0
                self._headSize += lineEnd + 1 - pos
                if self._headSize > limits.maxHeaderSize:
                    raise MalformedForm("multipart part head too large")
                if lineEnd == pos or buf[lineEnd - 1] != 0x0D:
                    raise MalformedForm("bare LF in multipart body")
                if lineEnd == pos + 1:
                    self._openPart()
                else:
                    match = _HEADER_LINE.fullmatch(buf, pos, lineEnd - 1)
                    if match is None:
                        raise MalformedForm("malformed multipart header field")
                    self._headers.setdefault(match.group(1).lower(), []).append(
                        match.group(2)
                    )
                pos = lineEnd + 1
        del buf[:pos]

    def _openPart(self) -> None:
        """
        Start receiving the content of the part whose head just ended.

        @raise FormError: the head is malformed, or this part is one too many.
        """
        limits = self._limits
        self._partCount += 1
        if self._partCount > limits.maxParts:
            raise FormTooLarge("too many multipart parts")
        part = _OpenPart(self._headers, limits)
        if part.filename is None:
            self._fieldCount += 1
            if self._fieldCount > limits.maxFields:
                raise FormTooLarge("too many form fields")
        self._part = part
        self._state = _State.CONTENT


def formArgs(
    parts: Iterable[FormPart], inlineFileSize: int = MAX_FIELD_SIZE
) -> dict[bytes, list[bytes]]:
    """
    Build the C{request.args} view of multipart parts, as twisted.web does,
    except for large files.

    A field's value is its content.  A file's value is its content too if it
    is at most C{inlineFileSize} bytes; a larger file is left out, since
    reading it would put the whole upload in memory: find it in
    L{formFiles} instead.

    @param parts: parts from L{MultipartParser.close}; each file read is
        rewound to 0 afterwards.
    @param inlineFileSize: the largest file whose content is put in args;
        pass L{FormLimits.maxFieldSize} of the limits the parts obeyed.
    @return: each name with its values in the order the parts came.
    """
    args: dict[bytes, list[bytes]] = {}
    for part in parts:
        if part.value is not None:
            value = part.value
        elif part.file is not None and part.size <= inlineFileSize:
            value = part.file.read()
            part.file.seek(0)
        else:
            continue
        args.setdefault(part.name, []).append(value)
    return args


def formFiles(parts: Iterable[FormPart]) -> dict[bytes, list[FormPart]]:
    """
    Build the C{request.files} view of multipart parts: every file part,
    whatever its size, by name.

    @return: each name with its file parts in the order they came.
    """
    files: dict[bytes, list[FormPart]] = {}
    for part in parts:
        if part.file is not None:
            files.setdefault(part.name, []).append(part)
    return files
