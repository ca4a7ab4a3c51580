"""
Rendering a resource for a published request, and answering what the render
gave: a body, L{NOT_DONE_YET}, a Deferred, or an exception (an
L{error.Error <twisted_web_re.error.Error>} is answered with its status, a
form error with 400 or 413, anything else with a 500 page).

A body rendered whole is answered with its length, and with 304, 412 or a
range of it when the request's preconditions and ranges ask for that.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.python.failure import Failure

from twisted_web_re import resource
from twisted_web_re._publish.conditional import (
    ACCEPT_RANGES,
    applyRange,
    evaluatePreconditions,
)
from twisted_web_re._publish.encodedresponse import EncodingRequest
from twisted_web_re._publish.formrequest import FormRequest
from twisted_web_re._publish.forms import FormError
from twisted_web_re._publish.headerparse import parseHTTPDate
from twisted_web_re._publish.methods import KNOWN_METHODS
from twisted_web_re._publish.pagehtml import errorPageHTML, redirectPageHTML
from twisted_web_re._publish.tracebackpage import tracebackPage
from twisted_web_re._publish.urls import withTrailingSlash
from twisted_web_re.error import Error, PageRedirect

if TYPE_CHECKING:
    from twisted_web_re._publish.site import Site

#: Returned by a render method that will finish the request itself.
NOT_DONE_YET = 1

_log = Logger()

_SAFE_METHODS = (b"GET", b"HEAD")

#: Bytes that cannot be in a header field value (RFC 9110 section 5.5).
_UNSENDABLE = re.compile(rb"[\r\n\x00]")


def _text(value: object) -> str:
    """The text of an error's message or response, for its page."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# The methods a response rendered whole would go through; a subclass (or an
# instance) that overrides any of them is answered through them.
_PLAIN_WRITE = EncodingRequest.write
_PLAIN_FINISH = EncodingRequest.finish
_PLAIN_SET_HEADER = EncodingRequest.setHeader


class RenderingRequest(FormRequest, EncodingRequest):
    """
    A request that renders a resource and answers with what it gave.

    @ivar site: the L{Site} the request arrived at, once processed.
    @ivar prepath: the path segments traversal consumed.
    @ivar postpath: the path segments traversal left.
    """

    site: Site | None = None
    prepath: list[bytes]
    postpath: list[bytes]

    def render(self, resrc: resource.IResource) -> None:
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
        self._sendBody(None, redirectPageHTML(location))
        return True

    def _unsupportedMethod(self, allowed: list[bytes]) -> None:
        if self.method in KNOWN_METHODS:
            self.setHeader(b"allow", b", ".join(allowed))
            page = resource.ErrorPage(
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

    def _sendBody(self, resrc: resource.IResource | None, body: object) -> None:
        """Send what a render method returned."""
        if body is NOT_DONE_YET or self._disconnected:
            return
        if type(body) is not bytes:
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
        fields = self.responseHeaders.lowered()
        # After rendering, a response's validators describe the state the
        # method left; only for GET and HEAD is that the state the request's
        # preconditions are about (RFC 9110 section 13.2.1).
        if (
            (b"etag" in fields or b"last-modified" in fields)
            and 200 <= self.code < 300
            and self.method in _SAFE_METHODS
        ):
            body = self._conditional(body)
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
            cls = type(self)
            own = self.__dict__
            if (
                cls.write is _PLAIN_WRITE
                and cls.finish is _PLAIN_FINISH
                and cls.setHeader is _PLAIN_SET_HEADER
                and "write" not in own
                and "finish" not in own
                and "setHeader" not in own
            ):
                # Nearly every response: what the three calls below would
                # do, in one step.  Digits only: nothing for setHeader to
                # check.
                self.responseHeaders.setLowered(b"content-length", [b"%d" % len(body)])
                self._finishWhole(body)
                return
            self.setHeader(b"content-length", b"%d" % len(body))
        self.write(body)
        self.finish()

    def _conditional(self, body: bytes) -> bytes:
        """
        Answer the request's preconditions and ranges from the complete
        C{body} of a response that has validators (RFC 9110 sections 13, 14),
        returning the body to send instead.
        """
        headers = self.responseHeaders
        etags = headers.getLowered(b"etag")
        etag = etags[-1] if etags else None
        modified = headers.getLowered(b"last-modified")
        lastModified = parseHTTPDate(modified[-1]) if modified else None
        requestHeaders = self.requestHeaders.lowered()
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
        headers.setRawHeaders(ACCEPT_RANGES[0], [ACCEPT_RANGES[1]])
        contentType = headers.getLowered(b"content-type")
        result = applyRange(
            self.method,
            requestHeaders,
            self.code,
            etag,
            lastModified,
            body,
            contentType[-1] if contentType else None,
        )
        if result is None:
            return body
        self.setResponseCode(result.status)
        for name in result.removeHeaders:
            headers.removeHeader(name)
        for name, value in result.setHeaders:
            headers.setRawHeaders(name, [value])
        return result.body

    def _awaitBody(
        self, resrc: resource.IResource | None, pending: Deferred[object]
    ) -> None:
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

    def _answerError(self, raised: Error) -> bool:
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
        self._forgetEncoders()
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
        self._sendBody(None, redirectPageHTML(location))
        return True

    def processingFailed(self, reason: Failure) -> None:
        """
        Rendering raised C{reason}: log it and answer 500, with the traceback
        in the page only if the site's C{displayTracebacks} is set.  If part of
        the response was already sent, the connection is closed instead.

        An L{error.Error} is not a fault but the answer: see L{_answerError}.
        """
        if isinstance(reason.value, Error) and self._answerError(reason.value):
            return
        if reason.check(FormError) and not self.finished and not self._disconnected:
            error = reason.value
            assert isinstance(error, FormError)
            if self._resetResponse():
                self._forgetEncoders()
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
        self._forgetEncoders()
        if not self._resetResponse():
            self.abortConnection()
            return
        if getattr(self.site, "displayTracebacks", False):
            body = tracebackPage(reason)
        else:
            body = errorPageHTML(
                500, "Processing Failed", "The server failed to answer the request."
            )
        self.setResponseCode(500)
        self.setHeader(b"content-type", b"text/html; charset=utf-8")
        self.setHeader(b"content-length", b"%d" % len(body))
        self.write(body)
        self.finish()
