"""
A published request's body as a form: C{request.args} and C{request.files}
from a C{multipart/form-data} or C{application/x-www-form-urlencoded} body,
and the hand-off of the body to a resource that streams its upload.
"""

from __future__ import annotations

from io import BytesIO
from typing import IO, TYPE_CHECKING

from twisted.python.failure import Failure

from twisted_web_re import http
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
from twisted_web_re._publish.located import LocatedRequest
from twisted_web_re._publish.spool import storageError

if TYPE_CHECKING:
    from twisted_web_re.resource import IStreamingUpload

#: The largest C{application/x-www-form-urlencoded} body parsed into
#: C{request.args} (413 beyond): such a body is parsed in memory.
URLENCODED_LIMIT = 16 * 1024 * 1024


class FormRequest(LocatedRequest):
    """
    A request whose form body, if it has one, is parsed into L{args} and
    L{files} when they are first read; a multipart body is parsed as it
    arrives, its files spooled to files of their own.
    """

    _files: dict[bytes, list[FormPart]] | None = None
    _formPending = False
    _upload: IStreamingUpload | None = None
    _formParser: MultipartParser | None = None
    _formError: FormError | None = None
    _urlencoded = False
    _formBody: IO[bytes] | None = None
    # Whether the body is a form (a POST of multipart/form-data or
    # application/x-www-form-urlencoded), known once the head has arrived.
    _isForm = False

    def streamUploadTo(self, upload: IStreamingUpload) -> None:
        """
        Give the body, from its first byte on, to C{upload} as it arrives
        (see L{IStreamingUpload.uploadReceived}) instead of storing it.

        @param upload: the resource that accepted the body.
        """
        self._upload = upload

    def gotLength(self, length: int | None) -> None:
        """
        Prepare for the body; a multipart form body is parsed as it arrives,
        so its files are spooled to their own files, never held in memory.
        """
        if length == 0 and self.method != b"POST":
            # No body and no form, as for nearly every request: what
            # http.Request.gotLength does then, without the call.
            self.content = BytesIO()
            return
        super().gotLength(length)
        if self.method == b"POST" and self._upload is None:
            contentType = self.requestHeaders.getLowered(b"content-type")
            if contentType and contentType[-1][:19].lower() == b"multipart/form-data":
                boundary = boundaryFromContentType(contentType[-1])
                if boundary is None:
                    self._formError = MalformedForm("invalid multipart boundary")
                else:
                    self._formParser = MultipartParser(boundary, self._formLimits())
                self._isForm = True
            elif contentType and contentType[-1].split(b";")[0].strip().lower() == (
                b"application/x-www-form-urlencoded"
            ):
                self._urlencoded = True
                self._isForm = True

    def handleContentChunk(self, data: bytes) -> None:
        """
        Hand the next piece of the body to the streaming resource that takes
        it, or else store it and feed it to the form parser.

        @raise BodyStorageError: the body, or one of its form's files, could
            not be stored; every file holding it is then closed.
        """
        upload = self._upload
        if upload is not None:
            upload.uploadReceived(self, data)
            return
        super().handleContentChunk(data)
        parser = self._formParser
        if parser is not None:
            try:
                parser.feed(data)
            except FormError as error:
                self._formParser = None
                self._formError = error
            except OSError as error:
                # The parser closed its part files as it failed.
                self._formParser = None
                self._dropBody()
                raise storageError(error) from None

    def _formLimits(self) -> FormLimits:
        site = self.channel.site
        limits: FormLimits = getattr(site, "formLimits", DEFAULT_FORM_LIMITS)
        return limits

    def connectionLost(self, reason: Failure) -> None:
        """
        The client went away: release a half-parsed form's temporary files,
        then do what L{http.Request.connectionLost} does.
        """
        parser, self._formParser = self._formParser, None
        if parser is not None:
            try:
                parts = parser.close()
            except FormError:
                parts = []
            for part in parts:
                if part.file is not None:
                    part.file.close()
        super().connectionLost(reason)

    def _holdForm(self) -> None:
        """
        Keep the body as received for the form, to be parsed when L{args} or
        L{files} are first read: called, for a request whose body is a form
        (see C{gotLength}), as the request is processed, before a resource can put
        something else in C{content}.
        """
        self._formPending = bool(
            self._formParser is not None or self._urlencoded or self._formError
        )
        self._formBody = self.content

    def _pendingForm(self) -> None:
        """Parse the form body now, if it has not been yet."""
        if self._formPending:
            self._formPending = False
            self._parseForm()

    @property
    def args(self) -> dict[bytes, list[bytes]]:
        """
        The query string's arguments and, for a form POST, the form's fields
        (a field replaces a query argument of the same name, as in
        twisted.web).  The form is parsed when first asked for, so a resource
        that never looks (a CGI script, a proxy) is never refused over it;
        whatever the resource read from C{content} before, the fields are
        those of the whole body, and C{content} is left where it was.

        @raise FormError: the form is malformed or too large; the request is
            then answered 400 or 413.
        """
        self._pendingForm()
        return http.Request.args.fget(self)  # type: ignore[attr-defined]

    @args.setter
    def args(self, value: dict[bytes, list[bytes]]) -> None:
        self._args = value

    @property
    def files(self) -> dict[bytes, list[FormPart]]:
        """
        The file parts of a C{multipart/form-data} body, by field name (all of
        them, whatever their size; see L{args}); this request's own empty
        mapping when there are none.

        @raise FormError: as for L{args}.
        """
        self._pendingForm()
        files = self._files
        if files is None:
            # Made per request: a shared default would carry one request's
            # changes into the next.
            files = self._files = {}
        return files

    def _parseForm(self) -> None:
        """
        Add the form body's fields to L{args} (and its files to L{files}).

        @raise FormError: the form is malformed or too large.
        """
        if self._formError is not None:
            raise self._formError
        parser = self._formParser
        if parser is not None:
            self._formParser = None
            parts = parser.close()
            fields = formArgs(parts, self._formLimits().maxFieldSize)
            self._files = formFiles(parts)
        elif self._urlencoded:
            data = self._readBody(URLENCODED_LIMIT + 1)
            if len(data) > URLENCODED_LIMIT:
                raise FormTooLarge("urlencoded form too large")
            fields = parseUrlencoded(data, self._formLimits().maxFields)
        else:
            return
        # As twisted.web does: a body field replaces a query argument of the
        # same name.
        self.args.update(fields)

    def _readBody(self, size: int) -> bytes:
        """
        Read up to C{size} bytes from the start of the body as received,
        leaving its file where the resource left it.
        """
        body = self._formBody
        assert body is not None
        position = body.tell()
        body.seek(0)
        try:
            return body.read(size)
        finally:
            body.seek(position)
