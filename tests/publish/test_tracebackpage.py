"""
Tests for the HTML rendering of a failure (L{twisted_web_re._publish.tracebackpage}):
what L{util.formatFailure} returns and a site with C{displayTracebacks} shows
on its 500 page, frame by frame with source lines, everything escaped.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from html import unescape
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from test_server import Client, get
from twisted.python.failure import Failure

from twisted_web_re import server, util
from twisted_web_re._publish.tracebackpage import formatFailure, tracebackPage
from twisted_web_re.resource import Resource

# A module whose render method raises two calls deep, with markup in its
# source and in the exception's message.
FAILING = '''\
"""A page that fails."""


def deeper(request):
    marker = "<b>not bold</b>"
    raise ValueError("<script>alert('x')</script> & more")


class Failing:
    isLeaf = True

    def render(self, request):
        # The call that fails:
        return deeper(request)
'''


@pytest.fixture
def failing(tmp_path: Path) -> ModuleType:
    """
    L{FAILING}, imported from a file, so that its frames have source lines.
    """
    path = tmp_path / "failing_page.py"
    path.write_text(FAILING)
    spec = importlib.util.spec_from_file_location("failing_page", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def failureOf(call: Callable[[], object]) -> Failure:
    """
    The failure C{call} raises.

    @param call: A callable that raises.
    @return: A failure of what it raised, with its traceback.
    """
    try:
        call()
    except Exception:
        return Failure()
    raise AssertionError("did not raise")


def text(html: bytes) -> str:
    """
    The text of an HTML fragment: tags dropped, entities decoded.

    @param html: UTF-8 HTML.
    @return: Its text.
    """
    return unescape(re.sub(r"<[^>]*>", "", html.decode("utf-8")))


def test_framesWithSource(failing: ModuleType) -> None:
    """
    Each frame is shown, outermost first, with its file, line and function as
    Python's tracebacks say them, and the source lines around its line, that
    line marked; then the exception.
    """
    failure = failureOf(lambda: failing.Failing().render(None))
    shown = text(formatFailure(failure))
    path = failing.__file__
    assert shown.lstrip().startswith("Traceback (most recent call last):")
    render = f'File "{path}", line 14, in render'
    deeper = f'File "{path}", line 6, in deeper'
    assert render in shown
    assert deeper in shown
    assert shown.index(render) < shown.index(deeper)
    # Up to two lines either side of each frame's line, numbered; the line
    # itself marked with ">".
    assert "\n  4  def deeper(request):\n" in shown
    assert '\n  5      marker = "<b>not bold</b>"\n' in shown
    assert "\n> 6      raise ValueError(" in shown
    assert "\n  12      def render(self, request):\n" in shown
    assert "\n  13          # The call that fails:\n" in shown
    assert "\n> 14          return deeper(request)" in shown
    assert shown.rstrip().endswith("ValueError: <script>alert('x')</script> & more")


def test_everythingEscaped(failing: ModuleType) -> None:
    """
    Neither the source lines nor the exception's message can put markup on
    the page: every C{<} of theirs is escaped.
    """
    html = formatFailure(failureOf(lambda: failing.Failing().render(None)))
    assert b"<script>" not in html
    assert b"<b>not bold" not in html
    assert b"&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html
    assert b"&lt;b&gt;not bold&lt;/b&gt;" in html


def test_currentLineMarked(failing: ModuleType) -> None:
    """
    In each frame, the line it was at is marked up as the current one, and
    the lines around it as context.
    """
    html = formatFailure(failureOf(lambda: failing.Failing().render(None)))
    frames = html.split(b'<li class="frame">')[1:]
    # failureOf, the lambda, Failing.render, deeper.
    assert len(frames) == 4
    for frame in frames:
        assert frame.count(b'<span class="current">') == 1
    current = [re.search(rb'class="current">(.*?)\n', f) for f in frames[2:]]
    assert [m.group(1).split(b"</span>")[1].strip() for m in current if m] == [
        b"return deeper(request)",
        b"raise ValueError(&quot;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
        b" &amp; more&quot;)",
    ]
    assert frames[2].count(b'<span class="context">') == 2


def test_noSource() -> None:
    """
    A frame whose file cannot be read (code compiled from a string) is shown
    by its file, line and function alone.
    """
    namespace: dict[str, Any] = {}
    exec(compile("def boom():\n    1 / 0\n", "<generated>", "exec"), namespace)
    html = formatFailure(failureOf(namespace["boom"]))
    assert 'File "<generated>", line 2, in boom' in text(html)
    assert html.count(b'<pre class="source">') == 1  # failureOf's own frame


def test_noTraceback() -> None:
    """
    A failure without a traceback shows its exception alone.
    """
    html = formatFailure(Failure(KeyError("k")))
    assert b"Traceback" not in html
    assert text(html).strip() == "KeyError: 'k'"


def test_syntaxError(tmp_path: Path) -> None:
    """
    A syntax error is shown as Python prints it: where, the line and a caret.
    """
    path = tmp_path / "bad.py"
    path.write_text("x = (1,\n")
    html = formatFailure(
        failureOf(lambda: compile(path.read_text(), str(path), "exec"))
    )
    shown = text(html)
    assert f'File "{path}", line 1' in shown
    assert "SyntaxError: '(' was never closed" in shown


def test_utilFormatFailure(failing: ModuleType) -> None:
    """
    L{util.formatFailure}, twisted.web's name for it, is the same rendering,
    and is what the 500 page of a site displaying tracebacks holds.
    """
    failure = failureOf(lambda: failing.Failing().render(None))
    fragment = util.formatFailure(failure)
    assert fragment == formatFailure(failure)
    assert fragment in tracebackPage(failure)


def test_sitePage(failing: ModuleType) -> None:
    """
    A site with C{displayTracebacks} answers a render that raises with a 500
    page showing each frame with its source lines; one without shows none of
    it.
    """
    root = Resource()
    root.putChild(b"fail", failing.Failing())
    client = Client(root)
    client.site.displayTracebacks = True
    response = client.request(path=b"/fail")
    assert response.status == 500
    assert response.header(b"content-type") == b"text/html; charset=utf-8"
    shown = text(response.body)
    assert "Processing Failed" in shown
    assert f'File "{failing.__file__}", line 6, in deeper' in shown
    # The lines around each frame's own, which a plain traceback lacks.
    assert "# The call that fails:" in shown
    assert response.body.count(b'<li class="frame">') >= 2
    assert b"<script>" not in response.body

    hidden = get(root, b"/fail")
    assert hidden.status == 500
    assert b"deeper" not in hidden.body
    assert b"Traceback" not in hidden.body
    assert server.Site(root).displayTracebacks is False


def test_notLeakingLocals() -> None:
    """
    The values of local variables are never shown, only source text.
    """

    def withSecret() -> None:
        secret = "hunter2-" + "x" * 3
        raise RuntimeError(len(secret))

    html = formatFailure(failureOf(withSecret))
    assert b"hunter2-xxx" not in html
