"""
Tests for L{twisted_web_re.pages}: C{errorPage}, C{notFound} and
C{forbidden} give resources that answer with their status and an escaped
HTML page, for themselves and every path below them, as twisted.web.pages'
do.

Each is published on a real L{server.Site} over a L{StringTransport} (the
harness of C{test_server.py}), so the assertions are on what a client gets.
"""

from __future__ import annotations

import inspect

import pytest
from test_server import get
from twisted.web import pages as twisted_pages
from zope.interface.verify import verifyObject

from twisted_web_re import pages
from twisted_web_re.resource import IResource, Resource


def test_errorPage() -> None:
    """
    C{errorPage(code, brief, detail)} answers with that code, an HTML page
    with C{brief} as its heading and C{detail} in it, and its length.
    """
    page = pages.errorPage(418, "Short and stout", "Tip me over.")
    verifyObject(IResource, page)
    response = get(page)
    assert response.status == 418
    assert response.header(b"content-type") == b"text/html; charset=utf-8"
    assert b"<h1>Short and stout</h1>" in response.body
    assert b"Tip me over." in response.body
    assert response.header(b"content-length") == b"%d" % len(response.body)


def test_errorPageEscapes() -> None:
    """
    The heading and the explanation are HTML-escaped, so text that came from
    a request cannot inject markup into the page.
    """
    response = get(pages.errorPage(400, "<b>bad</b>", '<script>alert("x")</script>'))
    assert response.status == 400
    assert b"<script>" not in response.body
    assert b"<b>" not in response.body
    assert b"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.body
    assert b"&lt;b&gt;bad&lt;/b&gt;" in response.body


def test_notFoundDefaults() -> None:
    """
    C{notFound()} answers 404 with twisted.web's heading and message.
    """
    response = get(pages.notFound())
    assert response.status == 404
    assert b"No Such Resource" in response.body
    assert b"Sorry. No luck finding that resource." in response.body


def test_forbiddenDefaults() -> None:
    """
    C{forbidden()} answers 403 with twisted.web's heading and message.
    """
    response = get(pages.forbidden())
    assert response.status == 403
    assert b"Forbidden Resource" in response.body
    assert b"Sorry, resource is forbidden." in response.body


@pytest.mark.parametrize("make", [pages.notFound, pages.forbidden])
def test_ownTextEscaped(make: object) -> None:
    """
    C{notFound} and C{forbidden} take their own heading and message, which
    are escaped.
    """
    assert callable(make)
    response = get(make(brief="Oh <no>", message="a & b"))
    assert b"Oh &lt;no&gt;" in response.body
    assert b"a &amp; b" in response.body


def test_pathsBelowAreTheSamePage() -> None:
    """
    An error page mounted in a tree answers for every path below it too, and
    HEAD gets its status without a body.
    """
    root = Resource()
    root.putChild(b"gone", pages.errorPage(410, "Gone", "It went."))
    response = get(root, b"/gone/a/b")
    assert response.status == 410
    assert b"It went." in response.body
    head = get(root, b"/gone", b"HEAD")
    assert head.status == 410
    assert head.body == b""


@pytest.mark.parametrize("name", ["errorPage", "notFound", "forbidden"])
def test_signaturesLikeTwistedWeb(name: str) -> None:
    """
    The functions take the arguments, with the defaults, that
    twisted.web.pages' do, so calls written for twisted.web work unchanged.
    """
    ours = inspect.signature(getattr(pages, name))
    theirs = inspect.signature(getattr(twisted_pages, name))
    assert [(p.name, p.default) for p in ours.parameters.values()] == [
        (p.name, p.default) for p in theirs.parameters.values()
    ]
