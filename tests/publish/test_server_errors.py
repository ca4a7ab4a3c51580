"""
Tests for what a L{server.Site} answers when a render method raises one of
L{twisted_web_re.error}'s HTTP errors, or returns a Deferred that fails with
one: an L{error.Error} is answered with its status and an escaped page of its
message; an L{error.PageRedirect} with a redirect to its location.  (twisted.web
answers both 500.)

Every test runs a real channel over a L{StringTransport} (the harness of
C{test_server.py}) and asserts on the bytes the client receives.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_server import Client, Page, get, logText
from twisted.internet.defer import Deferred, fail
from twisted.logger import LogEvent

from twisted_web_re import error


def raising(exception: Exception) -> Page:
    """A page whose render method raises C{exception}."""

    def render(request: Any) -> bytes:
        raise exception

    return Page(render)


def failures(events: list[LogEvent]) -> list[Any]:
    """The failures logged with a traceback."""
    return [e["log_failure"] for e in events if "log_failure" in e]


def test_errorAnsweredWithItsStatus(logged: list[LogEvent]) -> None:
    """
    C{raise error.Error(404)} in a render method answers 404 with an HTML
    page headed by the status's reason phrase, its length stated; one line
    is logged, without a traceback (the error is the answer, not a fault).
    """
    response = get(raising(error.Error(404)))
    assert response.status == 404
    assert response.header(b"content-type") == b"text/html; charset=utf-8"
    assert b"<h1>Not Found</h1>" in response.body
    assert response.header(b"content-length") == b"%d" % len(response.body)
    assert failures(logged) == []
    assert "404" in logText(logged)


def test_errorMessageAndResponseEscaped() -> None:
    """
    An error's message heads the page and its response body explains it,
    both HTML-escaped: text from the request cannot inject markup.
    """
    response = get(
        raising(error.Error(403, b"<b>No</b>", b'<script>alert("x")</script>'))
    )
    assert response.status == 403
    assert b"<script>" not in response.body
    assert b"<b>" not in response.body
    assert b"&lt;b&gt;No&lt;/b&gt;" in response.body
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.body


def test_errorWithoutReasonPhrase() -> None:
    """
    An error whose status has no standard reason phrase, and no message,
    still answers with its status; the page is headed by the status.
    """
    response = get(raising(error.Error(599)))
    assert response.status == 599
    assert b"599" in response.body


def test_errorFromFailedDeferred() -> None:
    """
    A render method's Deferred that fails with an L{error.Error} later is
    answered with the error's status, like one raised at once.
    """
    pending: Deferred[bytes] = Deferred()
    client = Client(Page(lambda request: pending))
    client.send()
    pending.errback(error.Error(410, b"Gone for good"))
    [response] = client.responses()
    assert response.status == 410
    assert b"Gone for good" in response.body


def test_errorFromAlreadyFailedDeferred() -> None:
    """
    An already failed Deferred with an L{error.Error} is answered at once
    with its status.
    """
    response = get(Page(lambda request: fail(error.Error(409))))
    assert response.status == 409


def test_errorDropsWhatRenderSet() -> None:
    """
    Headers, cookies and writes the render method made before raising are
    not sent with the error's answer, and the connection stays usable.
    """

    def render(request: Any) -> bytes:
        request.setHeader(b"x-partial", b"yes")
        request.addCookie(b"a", b"b")
        request.write(b"partial output")
        raise error.Error(400)

    client = Client(Page(render))
    response = client.request()
    assert response.status == 400
    assert b"partial output" not in response.body
    assert response.header(b"x-partial") is None
    assert response.header(b"set-cookie") is None
    assert not client.transport.disconnecting
    assert client.request().status == 400


def test_errorForHead() -> None:
    """
    HEAD gets the error's status and no body.
    """
    response = get(raising(error.Error(404)), b"/", b"HEAD")
    assert response.status == 404
    assert response.body == b""


@pytest.mark.parametrize("code", [204, 304])
def test_errorWithoutBody(code: int) -> None:
    """
    An error whose status cannot carry a body (204, 304) is answered with
    that status and no body.
    """
    client = Client(raising(error.Error(code)))
    response = client.request()
    assert response.status == code
    assert response.body == b""
    assert response.framing == "none"
    assert not client.transport.disconnecting


@pytest.mark.parametrize("code", [100, 101, 199, 600, 999])
def test_errorWithUnsendableStatus(code: int, logged: list[LogEvent]) -> None:
    """
    An error whose status cannot end a response (1xx, or beyond 599) is a
    fault in the resource: it is answered 500 and logged with its traceback.
    """
    response = get(raising(error.Error(code)))
    assert response.status == 500
    assert any(f.check(error.Error) for f in failures(logged))


def test_pageRedirect(logged: list[LogEvent]) -> None:
    """
    C{raise error.PageRedirect(302, location=b"/elsewhere")} redirects there:
    the status, a C{Location}, and a small page linking to it.
    """
    response = get(raising(error.PageRedirect(302, location=b"/elsewhere")))
    assert response.status == 302
    assert response.header(b"location") == b"/elsewhere"
    assert b'href="/elsewhere"' in response.body
    assert failures(logged) == []


def test_pageRedirectLocationEscapedInPage() -> None:
    """
    The redirect page's link is escaped: a location cannot inject markup.
    """
    location = b'/x"><script>alert(1)</script>'
    response = get(raising(error.PageRedirect(303, location=location)))
    assert response.status == 303
    assert response.header(b"location") == location
    assert b"<script>" not in response.body


def test_pageRedirectRefusesHeaderInjection(logged: list[LogEvent]) -> None:
    """
    A location with CR or LF, which would add header fields, is not sent:
    the answer is a 500, and the reason is logged.
    """
    bad = error.PageRedirect(302, location=b"/x\r\nSet-Cookie: stolen=1")
    client = Client(raising(bad))
    response = client.request()
    assert response.status == 500
    assert response.header(b"set-cookie") is None
    assert b"stolen" not in client.transport.value()
    assert "location" in logText(logged).lower()


def test_pageRedirectWithoutLocation() -> None:
    """
    A L{error.PageRedirect} without a location has nowhere to send the
    client: it is answered like an L{error.Error}, with its status.
    """
    response = get(raising(error.PageRedirect(300)))
    assert response.status == 300
    assert response.header(b"location") is None
    assert b"Multiple Choices" in response.body


def test_errorAfterResponseBegan() -> None:
    """
    If the response has already started going out when its Deferred fails
    with an L{error.Error}, its status can no longer be sent: the connection
    is dropped, so the client can tell the response is incomplete.
    """
    pending: Deferred[bytes] = Deferred()
    requests: list[Any] = []

    def render(request: Any) -> Deferred[bytes]:
        requests.append(request)
        return pending

    client = Client(Page(render))
    client.send()
    requests[0].write(b"begun")
    pending.errback(error.Error(404))
    assert client.transport.disconnecting
    assert b" 404 " not in client.transport.value()
