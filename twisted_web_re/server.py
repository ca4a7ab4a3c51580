"""
Object publishing: L{Site} serves a tree of resources, and its L{Request} finds
the resource for each URL and renders it.

A render method may return the body as bytes, return L{NOT_DONE_YET} and call
C{request.write()}/C{request.finish()} itself (now or later), or return a
Deferred that fires with the body.
"""

from __future__ import annotations

import html
import re
from typing import IO, Any
from urllib.parse import quote, unquote_to_bytes

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.urlpath import URLPath

from twisted_web_re import http, resource
from twisted_web_re._publish.conditional import (
    ACCEPT_RANGES,
    applyRange,
    evaluatePreconditions,
)
from twisted_web_re._publish.encoding import GzipEncoderFactory, codedETag
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
from twisted_web_re._publish.headerparse import parseHTTPDate
from twisted_web_re._publish.methods import KNOWN_METHODS
from twisted_web_re._publish.session import Session, SiteSessions
from twisted_web_re._publish.spool import storageError
from twisted_web_re._publish.tracebackpage import tracebackPage
from twisted_web_re._publish.urls import withTrailingSlash
from twisted_web_re._version import SERVER_NAME
from twisted_web_re.error import Error as _HTTPError
from twisted_web_re.error import PageRedirect

__all__ = [
    "NOT_DONE_YET",
    "GzipEncoderFactory",
    "Request",
    "Session",
    "Site",
    "version",
]

#: Returned by a render method that will finish the request itself.
NOT_DONE_YET = 1

#: The server's name and version, as sent in the C{Server} header.
version = SERVER_NAME

_log = Logger()

#: The largest C{application/x-www-form-urlencoded} body parsed into
#: C{request.args} (413 beyond): such a body is parsed in memory.
URLENCODED_LIMIT = 16 * 1024 * 1024

_SAFE_METHODS = (b"GET", b"HEAD")


def _segments(path: bytes) -> list[bytes]:
    """The percent-decoded segments of a path after its leading slash."""
    if path == b"/":
        return [b""]
    return [
        unquote_to_bytes(segment) if b"%" in segment else segment
        for segment in path[1:].split(b"/")
    ]


class Request(http.Request):
    """
    A request to a L{Site}: it locates the resource for its URL and renders it.

    @ivar site: the L{Site} the request arrived at.
    @ivar prepath: the path segments already consumed by traversal.
    @ivar postpath: the path segments still to be consumed.
    @ivar sitepath: the segments leading to the site's root (when a site is
        published below another resource).
    @ivar session: the L{Session} of the request, once L{getSession} made one.
    @cvar defaultContentType: the C{Content-Type} every response starts with.
    """

    defaultContentType: bytes | None = b"text/html"
    site: Any = None
    _files: dict[bytes, list[FormPart]] | None = None
    _formPending = False
    _located: Any = None
    _upload: Any = None
    _formParser: MultipartParser | None = None
    _formError: FormError | None = None
    _urlencoded = False
    _formBody: IO[bytes] | None = None
    session: Session | None = None
    appRootURL: bytes | None = None
    _encoder: Any = None
    _encoderFactories: list[Any] | None = None
    _encodedAny = False

    def __init__(self, channel: Any, queued: object = None) -> None:
        super().__init__(channel, queued)
        self.prepath: list[bytes] = []
        self.postpath: list[bytes] = []
        self.sitepath: list[bytes] = []

    def gotLength(self, length: int | None) -> None:
        """
        Prepare for the body; a multipart form body is parsed as it arrives,
        so its files are spooled to their own files, never held in memory.
        """
        super().gotLength(length)
        if self.method == b"POST" and self._upload is None:
            contentType = self.requestHeaders.getRawHeaders(b"content-type")
            if contentType and contentType[-1][:19].lower() == b"multipart/form-data":
                boundary = boundaryFromContentType(contentType[-1])
                if boundary is None:
                    self._formError = MalformedForm("invalid multipart boundary")
                else:
                    self._formParser = MultipartParser(boundary, self._formLimits())
            elif contentType and contentType[-1].split(b";")[0].strip().lower() == (
                b"application/x-www-form-urlencoded"
            ):
                self._urlencoded = True

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
        return getattr(self.channel.site, "formLimits", DEFAULT_FORM_LIMITS)  # type: ignore[union-attr]

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
        whatever the resource read from L{content} before, the fields are
        those of the whole body, and L{content} is left where it was.

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
        them, whatever their size; see L{args}).

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

    def process(self) -> None:
        """
        Find the resource for this request's path and render it; any error
        becomes a 500 page (see L{processingFailed}).

        L{content} is at its start when C{render} is called, whatever
        C{getChild} did with it.
        """
        self.site = site = self.channel.site  # type: ignore[union-attr]
        if self.defaultContentType is not None:
            self.responseHeaders._setOne(b"content-type", self.defaultContentType)
        located = self._located
        if located is None:
            self.postpath = _segments(self.path)
        self._formPending = bool(
            self._formParser is not None or self._urlencoded or self._formError
        )
        # The fields are read from the body as received, even if a resource
        # puts something else in content (twisted.web parses them first).
        self._formBody = content = self.content
        try:
            if located is None:
                located = site.getResourceFor(self)
                if content is not None:
                    content.seek(0)
            self.render(located)
        except Exception:
            self.processingFailed(Failure())

    def _locate(self) -> Any:
        """
        Find the resource from the head alone (for L{Site.locateBeforeBody}).
        """
        self.site = site = self.channel.site  # type: ignore[union-attr]
        self.prepath = []
        self.postpath = _segments(self.path)
        self._located = located = site.getResourceFor(self)
        return located

    def render(self, resrc: Any) -> None:
        """
        Render C{resrc} and send what it returns.

        A method the resource lacks is answered 405 with an C{Allow} header
        naming the methods it has; a method this server does not know, 501.
        """
        if getattr(resrc, "addSlash", False) and self._redirectToSlash():
            return
        try:
            body = resrc.render(self)
        except Exception as error:
            # Ours, or twisted.web's (from a resource written for it), which
            # this package must not import: known by its name and shape.
            allowed = getattr(error, "allowedMethods", None)
            if type(error).__name__ != "UnsupportedMethod" or allowed is None:
                raise
            self._unsupportedMethod(list(allowed))
            return
        self._sendBody(resrc, body)

    def _redirectToSlash(self) -> bool:
        """Redirect a directory-like resource's URL to its slash form."""
        if self.postpath or not self.prepath or self.prepath[-1] == b"":
            return False
        location = withTrailingSlash(self.uri)
        self.setResponseCode(301)
        self.setHeader(b"location", location)
        self._sendBody(None, _redirectPage(location))
        return True

    def _unsupportedMethod(self, allowed: list[bytes]) -> None:
        if self.method in KNOWN_METHODS:
            self.setHeader(b"allow", b", ".join(allowed))
            page: Any = resource.ErrorPage(
                405,
                "Method Not Allowed",
                "This resource does not answer %s; it answers %s."
                % (
                    self.method.decode("latin-1"),
                    ", ".join(m.decode("latin-1") for m in allowed) or "nothing",
                ),
            )
        else:
            page = resource.ErrorPage(
                501, "Not Implemented", "This server does not know that method."
            )
        self._sendBody(page, page.render(self))

    def _sendBody(self, resrc: Any, body: Any) -> None:
        """Send what a render method returned."""
        if body is NOT_DONE_YET or self._disconnected:
            return
        if isinstance(body, Deferred):
            self._awaitBody(resrc, body)
            return
        if not isinstance(body, bytes):
            _log.error(
                "{resource!r} rendered {kind} instead of bytes or NOT_DONE_YET "
                "for {request!r}",
                resource=resrc,
                kind=type(body).__name__,
                request=self,
            )
            self._errorPage(
                500,
                "Request did not return bytes",
                "The resource rendered something that is not a response body.",
            )
            return
        if self._encoderFactories is not None:
            self._chooseEncoder()
        encoded = self._encoder is not None
        raw = self.responseHeaders._raw
        # After rendering, a response's validators describe the state the
        # method left; only for GET and HEAD is that the state the request's
        # preconditions are about (RFC 9110 section 13.2.1).
        if (
            (b"etag" in raw or b"last-modified" in raw)
            and 200 <= self.code < 300
            and self.method in _SAFE_METHODS
        ):
            body = self._conditional(raw, body)
        # The length is the returned body's unless part of the body was
        # written already (the framing then counts it all), or the body is
        # encoded, or a HEAD returned nothing and keeps what it declared.
        # A 304 states the length of the 200 it stands for or none: none
        # when the resource returned no body (after setETag, say), or when
        # that 200 would have been encoded (its length is not known without
        # encoding the body just for that).
        if (
            self._encoder is None
            and not self.startedWriting
            and (body or self.method != b"HEAD")
            and not (self.code == 304 and (encoded or not body))
        ):
            self.responseHeaders._setOne(b"content-length", b"%d" % len(body))
        self.write(body)
        self.finish()

    def _conditional(self, raw: dict[bytes, list[bytes]], body: bytes) -> bytes:
        """
        Answer the request's preconditions and ranges from the complete
        C{body} of a response that has validators (RFC 9110 sections 13, 14),
        returning the body to send instead.
        """
        etag = raw[b"etag"][-1] if b"etag" in raw else None
        lastModified = (
            parseHTTPDate(raw[b"last-modified"][-1])
            if b"last-modified" in raw
            else None
        )
        requestHeaders = self.requestHeaders._raw
        status = evaluatePreconditions(
            self.method, requestHeaders, self.code, etag, lastModified
        )
        if status is not None:
            self.setResponseCode(status)
            if self._encoder is not None:
                self._dropCoding()
            # A 304 is never sent with a body, but its Content-Length still
            # states the selected representation's (RFC 9110 section 8.6).
            return body if status == 304 else b""
        if self._encoder is not None or self.code != 200:
            return body
        raw[ACCEPT_RANGES[0]] = [ACCEPT_RANGES[1]]
        result = applyRange(
            self.method,
            requestHeaders,
            self.code,
            etag,
            lastModified,
            body,
            raw.get(b"content-type", [None])[-1],
        )
        if result is None:
            return body
        self.setResponseCode(result.status)
        for name in result.removeHeaders:
            raw.pop(name, None)
        for name, value in result.setHeaders:
            raw[name] = [value]
        return result.body

    def _awaitBody(self, resrc: Any, pending: Deferred[Any]) -> None:
        """Send the body C{pending} fires with; cancel it if the client goes."""

        def gone(reason: Failure) -> None:
            pending.cancel()

        def arrived(body: object) -> None:
            if not self.finished and not self._disconnected:
                self._sendBody(resrc, body)

        def failed(reason: Failure) -> None:
            if not self._disconnected:
                self.processingFailed(reason)

        self.notifyFinish().addErrback(gone)
        pending.addCallbacks(arrived, failed)

    def _errorPage(self, code: int, brief: str, detail: str) -> None:
        page = resource.ErrorPage(code, brief, detail)
        self._sendBody(page, page.render(self))

    def _answerError(self, raised: _HTTPError) -> bool:
        """
        Answer with the status of the L{error.Error} that rendering raised,
        and a page of its message (escaped); an L{error.PageRedirect} with a
        location redirects there.  Nothing the resource set is kept.

        @return: whether it was answered; if not (a status that cannot end a
            response, a location that cannot be sent, a response already
            under way), it is a failure like any other.
        """
        code = int(raised.status)
        location = raised.location if isinstance(raised, PageRedirect) else None
        if not 200 <= code < 600 or self.finished or self._disconnected:
            return False
        if location is not None and (
            not isinstance(location, bytes) or _UNSENDABLE.search(location)
        ):
            _log.error(
                "Not redirecting {request!r} to a location that cannot be sent: "
                "{location!r}",
                request=self,
                location=location,
            )
            return False
        if not self._resetResponse():
            return False
        self._encoder = None
        self._encoderFactories = None
        _log.info("Answered {request!r} with {error}", request=self, error=raised)
        if location is None:
            message = raised.message
            detail = raised.response
            self._errorPage(
                code,
                raised.status.decode() if message is None else _text(message),
                "" if detail is None else _text(detail),
            )
            return True
        self.setResponseCode(code)
        self.setHeader(b"location", location)
        self.setHeader(b"content-type", b"text/html; charset=utf-8")
        self._sendBody(None, _redirectPage(location))
        return True

    def processingFailed(self, reason: Failure) -> None:
        """
        Rendering raised C{reason}: log it and answer 500, with the traceback
        in the page only if the site's C{displayTracebacks} is set.  If part of
        the response was already sent, the connection is closed instead.

        An L{error.Error} is not a fault but the answer: see L{_answerError}.
        """
        if isinstance(reason.value, _HTTPError) and self._answerError(reason.value):
            return
        if reason.check(FormError) and not self.finished and not self._disconnected:
            error = reason.value
            assert isinstance(error, FormError)
            if self._resetResponse():
                self._encoder = None
                self._encoderFactories = None
                _log.info(
                    "Refused the form of {request!r}: {reason}",
                    request=self,
                    reason=error.reason,
                )
                self._errorPage(error.status, "Bad Form", error.reason)
                return
        _log.failure("Error rendering {request!r}", reason, request=self)
        if self.finished or self._disconnected:
            return
        self._encoder = None
        self._encoderFactories = None
        if not self._resetResponse():
            self.abortConnection()
            return
        if getattr(self.site, "displayTracebacks", False):
            body = tracebackPage(reason)
        else:
            body = resource._errorPage(
                500, "Processing Failed", "The server failed to answer the request."
            )
        self.setResponseCode(500)
        self.setHeader(b"content-type", b"text/html; charset=utf-8")
        self.responseHeaders._setOne(b"content-length", b"%d" % len(body))
        self.write(body)
        self.finish()

    def _chooseEncoder(self) -> None:
        """
        Ask the encoder factories offered by L{EncodingResourceWrapper}, in
        order, for an encoder; a response that can have no body gets none.

        A 304 still asks, so that it names the C{Vary} and the entity tag
        of the representation its 200 would have sent (RFC 9110 section
        15.4.5), but keeps no encoder.  The chosen coding marks the entity
        tag (see L{codedETag}).
        """
        factories, self._encoderFactories = self._encoderFactories, None
        if not factories or self.code in (204, 205) or self.code < 200:
            return
        for factory in factories:
            encoder = factory.encoderForRequest(self)
            if encoder is not None:
                coding = self._codingHeader()
                raw = self.responseHeaders._raw
                if coding is not None and b"etag" in raw:
                    raw[b"etag"] = [codedETag(raw[b"etag"][-1], coding)]
                if self.code == 304:
                    self._dropCoding()
                else:
                    self._encoder = encoder
                return

    def _codingHeader(self) -> bytes | None:
        """The last C{Content-Encoding} the response names, if any."""
        values = self.responseHeaders._raw.get(b"content-encoding")
        return values[-1] if values else None

    def _dropCoding(self) -> None:
        """
        Send no coded body after all (a 304, or nothing to encode for a
        HEAD): no encoder, and neither the coding nor a length that was
        never the coded body's.
        """
        self._encoder = None
        headers = self.responseHeaders
        headers.removeHeader(b"content-encoding")
        headers.removeHeader(b"content-length")

    def responseCoding(self) -> bytes | None:
        """
        Return the content coding (C{b"gzip"}, say) this response's body is
        given on the fly by an L{EncodingResourceWrapper}, or C{None} when it
        is sent as the resource writes it.

        Decides the coding now if it is not decided yet: call it once the
        response's C{Content-Type} is set, as the coding depends on it.
        """
        if self._encoderFactories is not None and not self.startedWriting:
            self._chooseEncoder()
        return self._codingHeader() if self._encoder is not None else None

    def setETag(self, etag: bytes | str) -> bytes | None:
        """
        Record the response's entity tag, marked with the content coding the
        response will have (see L{responseCoding}), and answer
        C{If-None-Match} against that representation's tag.

        @return: L{http.CACHED} if the response should have no body.
        """
        if isinstance(etag, str):
            etag = etag.encode("ascii")
        coding = (
            self.responseCoding()
            if self._encoderFactories is not None
            else (self._codingHeader() if self._encoder is not None else None)
        )
        if coding is not None and etag:
            etag = codedETag(etag, coding)
        return super().setETag(etag)

    def write(self, data: bytes) -> None:
        """
        Write part of the body, through the content encoder if one was chosen.
        """
        if self._encoderFactories is not None and not self.startedWriting:
            self._chooseEncoder()
        encoder = self._encoder
        if encoder is not None and not self.finished:
            if not self.startedWriting:
                # A length the resource stated is the uncoded body's.
                self.responseHeaders.removeHeader(b"content-length")
            if data:
                self._encodedAny = True
                data = encoder.encode(data)
        super().write(data)

    def finish(self) -> None:
        """
        End the response, flushing the content encoder first.
        """
        if self._encoderFactories is not None and not self.startedWriting:
            self._chooseEncoder()
        encoder = self._encoder
        if encoder is not None and not self.finished and not self._disconnected:
            self._encoder = None
            if self.code == 304:
                self._dropCoding()
            elif self.method == b"HEAD" and not self._encodedAny:
                # A HEAD answered without its body (a file's, say) cannot
                # know the coded length, and states none rather than another
                # (RFC 9110 section 8.6).
                self.responseHeaders.removeHeader(b"content-length")
            else:
                if not self.startedWriting:
                    self.responseHeaders.removeHeader(b"content-length")
                tail = encoder.finish()
                if tail:
                    super().write(tail)
        super().finish()

    # -- URLs ---------------------------------------------------------------

    def _prePathURL(self, prepath: list[bytes]) -> bytes:
        secure = self.isSecure()
        port = self._requestPort()
        default = 443 if secure else 80
        hostport = b"" if port in (default, None) else b":%d" % port
        prefix = b"%s://%s%s/" % (
            b"https" if secure else b"http",
            self.getRequestHostname(),
            hostport,
        )
        return prefix + b"/".join(
            quote(segment, safe="").encode("ascii") for segment in prepath
        )

    def prePathURL(self) -> bytes:
        """Return the absolute URL of the resource being rendered."""
        return self._prePathURL(self.prepath)

    def URLPath(self) -> URLPath:
        """Return L{prePathURL} as a L{twisted.python.urlpath.URLPath}."""
        return URLPath.fromBytes(self.prePathURL())

    def rememberRootURL(self) -> None:
        """Remember the URL of the resource before this one as the app root."""
        self.appRootURL = self._prePathURL(self.prepath[:-1])

    def getRootURL(self) -> bytes | None:
        """Return the URL L{rememberRootURL} remembered."""
        return self.appRootURL

    # -- sessions -----------------------------------------------------------

    def getSession(
        self, sessionInterface: Any = None, forceNotSecure: bool = False
    ) -> Any:
        """
        Return this client's session, creating it (and its cookie) if the
        client has none or an expired one.

        Over TLS a separate, Secure-only session is used unless
        C{forceNotSecure}.  With C{sessionInterface}, return the session's
        component for that interface instead.
        """
        secure = self.isSecure() and not forceNotSecure
        session = self.session
        if session is None or session._expired or secure != self._secureSession:
            site = self.site
            cookieName = site.sessionCookieName(secure, self.sitepath)
            session = None
            uid = self.getCookie(cookieName)
            if uid is not None:
                try:
                    session = site.getSession(uid)
                except KeyError:
                    session = None
            if session is None:
                session = site.makeSession()
                site._addSessionCookie(self, cookieName, session.uid, secure)
            self.session = session
            self._secureSession = secure
        session.touch()
        if sessionInterface is not None:
            return session.getComponent(sessionInterface)
        return session

    _secureSession = False

    def getSessionUid(self) -> bytes:
        """
        Return the uid of this client's session (see L{getSession}, which
        this calls).
        """
        uid: bytes = self.getSession().uid
        return uid


#: Bytes that cannot be in a header field value (RFC 9110 section 5.5).
_UNSENDABLE = re.compile(rb"[\r\n\x00]")


def _text(value: object) -> str:
    """The text of an error's message or response, for its page."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _redirectPage(location: bytes) -> bytes:
    url = html.escape(location.decode("latin-1"))
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Moved</title>'
        f'</head>\n<body><a href="{url}">click here</a></body></html>\n'
    ).encode()


class Site(SiteSessions, http.HTTPFactory):
    """
    An HTTP factory that publishes a tree of resources.

    @ivar resource: the root resource, rendered for C{/}.
    @ivar displayTracebacks: show tracebacks on 500 pages (off by default:
        they tell an attacker about the server's code).
    @ivar formLimits: the limits on form bodies parsed into C{request.args}
        and C{request.files} (see L{twisted_web_re._publish.forms.FormLimits}).
    @ivar locateBeforeBody: find the resource for a request with a body as
        soon as its head arrives, so that an L{resource.IStreamingUpload}
        resource can refuse the body or take it as it arrives.  Off by
        default: twisted.web locates resources after the whole body, and
        C{getChild} code may rely on that.
    """

    requestFactory: Any = Request
    displayTracebacks = False
    locateBeforeBody = False
    formLimits: FormLimits = DEFAULT_FORM_LIMITS

    def __init__(
        self, resource: Any, requestFactory: Any = None, *args: Any, **kwargs: Any
    ) -> None:
        """
        @param resource: the root resource.
        @param requestFactory: the request class, L{Request} by default.
        @param args: passed on to L{http.HTTPFactory}, as are C{kwargs}.
        """
        super().__init__(*args, **kwargs)
        self.resource = resource
        if requestFactory is not None:
            self.requestFactory = requestFactory
        self._initSessions(self._reactor)

    def buildProtocol(self, addr: Any) -> Any:
        """Make a channel whose requests are this site's requests."""
        channel = super().buildProtocol(addr)
        channel.requestFactory = self.requestFactory
        channel.site = self  # type: ignore[attr-defined]
        return channel

    def startFactory(self) -> None:
        """Start what L{http.HTTPFactory} starts, and the session timers."""
        super().startFactory()
        self._startSessionTimers()

    def stopFactory(self) -> None:
        """Stop the session timers, then what L{http.HTTPFactory} stops."""
        self._stopSessionTimers()
        super().stopFactory()

    def refuseBody(self, request: Any, length: int | None) -> int | None:
        """
        With L{locateBeforeBody}, locate the resource now; one providing
        L{resource.IStreamingUpload} then decides whether to take the body,
        and takes it as it arrives.
        """
        if not self.locateBeforeBody:
            return None
        try:
            located = request._locate()
        except Exception:
            _log.failure("Error locating the resource for {request!r}", request=request)
            return 500
        if not resource.IStreamingUpload.providedBy(located):
            return None
        try:
            refusal: int | None = located.uploadStarted(request, length)
        except Exception:
            _log.failure("Error starting the upload of {request!r}", request=request)
            return 500
        if refusal is None:
            request._upload = located
        return refusal

    def getResourceFor(self, request: Any) -> Any:
        """
        Return the resource C{request}'s URL names, walking from the root.
        """
        request.site = self
        request.sitepath = request.prepath[:]
        return resource.getChildForRequest(self.resource, request)
