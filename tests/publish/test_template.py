"""
twisted.web.template works with this package's requests: a program ported by
changing the prefix keeps importing C{twisted.web.template} (it is not server
code) and renders its C{Element}s with C{renderElement} through our L{Site}.

Each test publishes a resource whose render method returns
C{renderElement(request, element)} on a real channel over a
L{StringTransport} (the harness of C{test_server.py}), and checks the HTML
the client receives.
"""

from __future__ import annotations

from typing import Any

from test_server import Client, Page, get
from twisted.internet.defer import Deferred
from twisted.logger import LogEvent
from twisted.web.template import Element, Tag, XMLString, renderElement, renderer

TEMPLATE = XMLString(
    '<html xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
    '<body><h1 t:render="title" /><ul><li t:render="items">'
    '<t:slot name="item" /></li></ul></body></html>'
)


class ListElement(Element):
    """A page with a title and a list, both filled by render methods."""

    loader = TEMPLATE

    def __init__(self, title: Any, items: list[str]) -> None:
        super().__init__()
        self._title = title
        self._items = items

    @renderer
    def title(self, request: Any, tag: Tag) -> Any:
        if isinstance(self._title, Exception):
            raise self._title
        return tag(self._title)

    @renderer
    def items(self, request: Any, tag: Tag) -> Any:
        return [tag.clone().fillSlots(item=item) for item in self._items]


def elementPage(element: Element) -> Page:
    """A leaf whose C{render_GET} renders C{element} with renderElement."""
    return Page(lambda request: renderElement(request, element))


def test_elementRenders() -> None:
    """
    An C{Element} rendered with C{renderElement} through our Site is sent
    whole: a doctype, the template's HTML with its render methods' output
    and filled slots, as an HTML response with its length.
    """
    response = get(elementPage(ListElement("Fruit", ["apple", "pear"])))
    assert response.status == 200
    assert (response.header(b"content-type") or b"").startswith(b"text/html")
    assert response.body == (
        b"<!DOCTYPE html>\n<html><body><h1>Fruit</h1>"
        b"<ul><li>apple</li><li>pear</li></ul></body></html>"
    )
    assert response.header(b"content-length") == b"%d" % len(response.body)


def test_elementEscapes() -> None:
    """
    Text from the program is escaped by the template, so data from a
    request cannot inject markup into the page.
    """
    response = get(elementPage(ListElement('<script>alert("x")</script>', ["a&b"])))
    assert b"<script>" not in response.body
    assert b"&lt;script&gt;" in response.body
    assert b"<li>a&amp;b</li>" in response.body


def test_elementWaitsForDeferred() -> None:
    """
    A render method that returns a Deferred is waited for: the page starts
    at once, streamed, and ends when the Deferred fires.
    """
    title: Deferred[str] = Deferred()
    client = Client(elementPage(ListElement(title, ["x"])))
    client.send()
    assert b"<!DOCTYPE html>" in client.transport.value()
    assert b"Later" not in client.transport.value()
    title.callback("Later")
    [response] = client.responses()
    assert response.status == 200
    assert b"<h1>Later</h1>" in response.body
    assert response.body.endswith(b"</html>")


def test_elementFailureShowsNoTraceback(logged: list[LogEvent]) -> None:
    """
    A render method that raises gives twisted.web.template's short error
    note in the page, not the exception's text or a traceback (our Site's
    C{displayTracebacks} is off), and the failure is logged.
    """
    client = Client(elementPage(ListElement(ValueError("secret detail"), [])))
    response = client.request()
    assert b"secret detail" not in response.body
    assert b"Traceback" not in response.body
    assert b"An error occurred" in response.body
    assert any("log_failure" in event for event in logged)
    assert not client.transport.disconnecting
