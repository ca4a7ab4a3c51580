"""
What the client is told when the backend fails: a 502 (no usable answer) or
a 504 (no answer in time) page, escaped, while nothing of the response has
been sent; once the response has started, a cut connection, so that a
truncated response is never taken for a whole one.
"""

from __future__ import annotations

from twisted_web_re._proxy.request import ProxiedRequest
from twisted_web_re._proxy.upstream import UpstreamError
from twisted_web_re._publish.pagehtml import errorPageHTML


def answerFailure(request: ProxiedRequest, backend: str, error: UpstreamError) -> None:
    """
    Answer C{request} for a backend that failed with C{error}.

    @param request: the client's request.
    @param backend: the backend's name, shown on the page.
    """
    if request.producer is not None:
        request.unregisterProducer()
    if request.finished:
        return
    if request.startedWriting:
        request.abortConnection()
        return
    if error.timeout:
        code, brief = 504, "Gateway Timeout"
        detail = f"The server at {backend} did not answer in time."
    else:
        code, brief = 502, "Bad Gateway"
        detail = (
            f"The server at {backend} could not be reached or gave an invalid answer."
        )
    body = errorPageHTML(code, brief, detail)
    request.setResponseCode(code)
    headers = request.responseHeaders
    for name in list(headers.lowered()):
        headers.removeHeader(name)
    headers.setRawHeaders(b"content-type", [b"text/html; charset=utf-8"])
    headers.setRawHeaders(b"content-length", [b"%d" % len(body)])
    request.write(body)
    request.finish()
