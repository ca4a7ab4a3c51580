"""
A published response's content coding on the fly: the encoder factories an
L{EncodingResourceWrapper <twisted_web_re.resource.EncodingResourceWrapper>}
offers are asked once the response starts, and the chosen encoder codes the
body as it is written, its entity tag marked with the coding.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted_web_re._publish.encoding import (
    IEncoderFactory,
    IRequestEncoder,
    codedETag,
)
from twisted_web_re._publish.located import LocatedRequest
from twisted_web_re._publish.whole import plainFor, wholeReady


class EncodingRequest(LocatedRequest):
    """
    A request whose response body may be given a content coding (gzip, say)
    by the encoder factories offered to it with L{offerEncoders}.
    """

    _encoder: IRequestEncoder | None = None
    _encoderFactories: Sequence[IEncoderFactory] | None = None
    _encodedAny = False

    def offerEncoders(self, factories: Sequence[IEncoderFactory]) -> None:
        """
        Offer C{factories} to code the response: when it starts, each is
        asked in turn for an encoder (see L{IEncoderFactory.encoderForRequest})
        and the first given codes the body.

        @param factories: the encoder factories, in order of preference.
        """
        self._encoderFactories = factories

    def _forgetEncoders(self) -> None:
        """Code nothing after all: the response is being replaced."""
        self._encoder = None
        self._encoderFactories = None

    def _chooseEncoder(self) -> None:
        """
        Ask the encoder factories offered, in order, for an encoder; a
        response that can have no body gets none.

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
                headers = self.responseHeaders
                etag = headers.getLowered(b"etag")
                if coding is not None and etag:
                    headers.setRawHeaders(b"etag", [codedETag(etag[-1], coding)])
                if self.code == 304:
                    self._dropCoding()
                else:
                    self._encoder = encoder
                return

    def _codingHeader(self) -> bytes | None:
        """The last C{Content-Encoding} the response names, if any."""
        values = self.responseHeaders.getLowered(b"content-encoding")
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

    def finishWith(self, body: bytes) -> None:
        """
        Write C{body} and finish, in one step when no content coding is
        chosen (see L{Request.finishWith <twisted_web_re.http.Request.finishWith>}).
        """
        if plainFor(self, EncodingRequest):
            if self._encoderFactories is not None and not self.startedWriting:
                self._chooseEncoder()
            if self._encoder is None and wholeReady(self, body):
                self._finishWhole(body)
                return
        self.write(body)
        self.finish()
