"""
Tests for L{twisted_web_re.script}: C{.rpy} resource scripts (their namespace,
their re-running for every request, C{cache()}/C{recache()}, their failures),
L{script.ResourceScriptWrapper}, L{script.ResourceScriptDirectory}, C{.epy}
L{script.PythonScript}s, scripts written for twisted.web itself, and the
resource-script examples of the Twisted Web howto in C{examples/rpy/}.

Every request goes through a real L{server.Site} channel over a
L{StringTransport}, with a L{MemoryReactorClock} as the site's reactor, and
the assertions are on the parsed bytes the client receives.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from _httpparse import PEER, Response, parseResponses
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import LogEvent, formatEvent

from twisted_web_re import resource, script, server, static
from twisted_web_re.static import Registry

REPO = Path(__file__).resolve().parent.parent.parent
EXAMPLES = REPO / "examples" / "rpy"

# -- the harness -----------------------------------------------------------------------


class Client:
    """
    One client connection to a L{server.Site} publishing C{root}.

    @ivar site: the site.
    @ivar transport: the connection's transport.
    """

    def __init__(self, root: Any, *, displayTracebacks: bool = False) -> None:
        self.site = server.Site(root, reactor=MemoryReactorClock())
        self.site.displayTracebacks = displayTracebacks
        self.transport = StringTransport(
            hostAddress=IPv4Address("TCP", "127.0.0.2", 80), peerAddress=PEER
        )
        self.channel = self.site.buildProtocol(PEER)
        self.channel.makeConnection(self.transport)
        self.methods: list[bytes] = []

    def request(self, method: bytes = b"GET", path: bytes = b"/") -> Response:
        """Send one request and return the response it got at once."""
        before = len(parseResponses(self.transport.value(), self.methods))
        self.methods.append(method)
        self.channel.dataReceived(
            method + b" " + path + b" HTTP/1.1\r\nHost: example.com\r\n\r\n"
        )
        responses = parseResponses(self.transport.value(), self.methods)
        assert len(responses) == before + 1, self.transport.value()
        return responses[-1]


def get(
    root: Any, path: bytes = b"/", method: bytes = b"GET", **kwargs: Any
) -> Response:
    """The answer a site publishing C{root} gives to one request."""
    return Client(root, **kwargs).request(method, path)


def logText(events: list[LogEvent]) -> str:
    """The log events, formatted, with the traceback of any failure."""
    lines = []
    for event in events:
        lines.append(formatEvent(event))
        if "log_failure" in event:
            lines.append(event["log_failure"].getTraceback())
    return "\n".join(lines)


def write(path: Path, source: str) -> Path:
    """Write the script C{source} (dedented) to C{path}, and return C{path}."""
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def page(body: bytes, *, leaf: bool = True) -> str:
    """The source of a resource script whose resource renders C{body}."""
    return textwrap.dedent(f"""
        from twisted_web_re.resource import Resource

        class Page(Resource):
            isLeaf = {leaf}

            def render_GET(self, request):
                return {body!r}

        resource = Page()
    """)


# -- resource scripts ------------------------------------------------------------------


def test_resourceScriptNamespace(tmp_path: Path) -> None:
    """
    A resource script runs with its own file name as C{__file__}, the
    registry given to L{script.ResourceScript} as C{registry}, and the
    C{cache} and C{recache} functions; what it assigns to C{resource} is
    returned.
    """
    path = write(
        tmp_path / "names.rpy",
        page(b"x") + "resource.namespace = dict(globals())\n",
    )
    registry = Registry()
    made = script.ResourceScript(str(path), registry)
    assert type(made).__name__ == "Page"
    namespace = made.namespace
    assert namespace["__file__"] == str(path)
    assert namespace["registry"] is registry
    assert callable(namespace["cache"])
    assert callable(namespace["recache"])
    assert namespace["resource"] is made


def test_resourceScriptBytesPath(tmp_path: Path) -> None:
    """
    A script's file name may be given as bytes; C{__file__} is a str.
    """
    path = write(tmp_path / "b.rpy", page(b"x") + "resource.file = __file__\n")
    made = script.ResourceScript(bytes(path), Registry())
    assert made.file == str(path)


def test_resourceScriptRendered(tmp_path: Path) -> None:
    """
    The resource a script makes renders the request for the script's URL;
    its render method sees the script's names.
    """
    write(
        tmp_path / "hello.rpy",
        """
        from twisted_web_re.resource import Resource

        class Hello(Resource):
            isLeaf = True

            def render_GET(self, request):
                name = __file__.rsplit("/", 1)[-1]
                return f"hello from {name}".encode()

        resource = Hello()
        """,
    )
    response = get(
        script.ResourceScriptDirectory(str(tmp_path), Registry()), b"/hello.rpy"
    )
    assert (response.status, response.body) == (200, b"hello from hello.rpy")


def test_resourceScriptRunsForEveryRequest(tmp_path: Path) -> None:
    """
    A script runs anew for every request, so an edit to it shows at the next
    request, without a restart.
    """
    path = write(tmp_path / "edit.rpy", page(b"first"))
    client = Client(script.ResourceScriptDirectory(str(tmp_path), Registry()))
    assert client.request(path=b"/edit.rpy").body == b"first"
    write(path, page(b"second"))
    assert client.request(path=b"/edit.rpy").body == b"second"


def test_futureImportsNotInherited(tmp_path: Path) -> None:
    """
    A script is compiled with no C{__future__} features of the server's own
    code: its annotations are evaluated, as when Python runs it.
    """
    path = write(
        tmp_path / "ann.rpy",
        page(b"x") + "number: int = 1\nresource.ann = __annotations__\n",
    )
    made = script.ResourceScript(str(path), Registry())
    assert made.ann == {"number": int}


# -- cache() and recache() -------------------------------------------------------------

CACHED = textwrap.dedent("""
    cache()
    with open(__file__ + ".runs", "a") as runs:
        runs.write("ran\\n")
""")


def runs(path: Path) -> int:
    """How many times the script at C{path} ran past its C{cache()} call."""
    log = Path(str(path) + ".runs")
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_cache(tmp_path: Path) -> None:
    """
    A script that calls C{cache()} runs in full once; for later requests it
    stops at C{cache()} and the cached resource is rendered, even when the
    rest of the script has changed.
    """
    path = write(tmp_path / "c.rpy", CACHED + page(b"first"))
    registry = Registry()
    client = Client(script.ResourceScriptDirectory(str(tmp_path), registry))
    assert client.request(path=b"/c.rpy").body == b"first"
    first = registry.getCachedPath(str(path))
    assert type(first).__name__ == "Page"
    write(path, CACHED + page(b"second"))
    assert client.request(path=b"/c.rpy").body == b"first"
    assert runs(path) == 1
    assert script.ResourceScript(str(path), registry) is first


def test_cacheIgnoredOnceScriptStopsCalling(tmp_path: Path) -> None:
    """
    A script edited so that it no longer calls C{cache()} runs in full for
    every request again, whatever was cached.
    """
    path = write(tmp_path / "c.rpy", CACHED + page(b"first"))
    client = Client(script.ResourceScriptDirectory(str(tmp_path), Registry()))
    assert client.request(path=b"/c.rpy").body == b"first"
    write(path, page(b"second"))
    assert client.request(path=b"/c.rpy").body == b"second"


def test_recache(tmp_path: Path) -> None:
    """
    C{recache()} caches the resource of every run, replacing the one cached
    before.
    """
    path = write(tmp_path / "r.rpy", "recache()\n" + page(b"first"))
    registry = Registry()
    first = script.ResourceScript(str(path), registry)
    assert registry.getCachedPath(str(path)) is first
    second = script.ResourceScript(str(path), registry)
    assert second is not first
    assert registry.getCachedPath(str(path)) is second


def test_cacheScanner(tmp_path: Path) -> None:
    """
    L{script.CacheScanner.cache} raises L{script.AlreadyCached}, carrying the
    cached resource, when there is one; otherwise it asks for caching.
    """
    registry = Registry()
    scanner = script.CacheScanner("/x.rpy", registry)
    scanner.cache()
    assert scanner.doCache
    registry.cachePath("/x.rpy", "cached")
    with pytest.raises(script.AlreadyCached) as raised:
        script.CacheScanner("/x.rpy", registry).cache()
    assert raised.value.cached == "cached"


def test_failedScriptNotCached(tmp_path: Path) -> None:
    """
    A script that calls C{cache()} and then fails caches nothing: once it is
    fixed, its resource is made and cached.
    """
    path = write(tmp_path / "f.rpy", "cache()\n1 / 0\n")
    registry = Registry()
    client = Client(script.ResourceScriptDirectory(str(tmp_path), registry))
    assert client.request(path=b"/f.rpy").status == 500
    assert registry.getCachedPath(str(path)) is None
    write(path, "cache()\n" + page(b"fixed"))
    assert client.request(path=b"/f.rpy").body == b"fixed"


# -- failures --------------------------------------------------------------------------

#: Scripts that fail, and what the page shows of the failure with tracebacks on.
BROKEN = {
    "syntax": ("resource = (\n", b"SyntaxError"),
    "runtime": ("x = 1\nresource = x / 0\n", b"ZeroDivisionError"),
    "noResource": ("x = 1\n", b"assigns no resource to"),
    "notResource": ("resource = 42\n", b"not a resource"),
    "exit": ("import sys\nsys.exit(3)\n", b"SystemExit"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_failingScript(tmp_path: Path, logged: list[LogEvent], kind: str) -> None:
    """
    A script that does not parse, raises (even C{SystemExit}), assigns nothing
    to C{resource} or something that is not a resource is answered with the
    site's 500 page, which shows nothing of the script; the failure is logged
    with the script's file name.
    """
    source, _ = BROKEN[kind]
    path = write(tmp_path / "broken.rpy", source)
    response = get(
        script.ResourceScriptDirectory(str(tmp_path), Registry()), b"/broken.rpy"
    )
    assert response.status == 500
    assert b"Traceback" not in response.body
    assert b"broken.rpy" not in response.body
    assert BROKEN[kind][1] not in response.body
    assert f"Script {path} failed" in logText(logged)


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_failingScriptTraceback(
    tmp_path: Path, logged: list[LogEvent], kind: str
) -> None:
    """
    With the site's C{displayTracebacks} set, the 500 page for a failed
    script shows what went wrong.
    """
    source, shown = BROKEN[kind]
    write(tmp_path / "broken.rpy", source)
    response = get(
        script.ResourceScriptDirectory(str(tmp_path), Registry()),
        b"/broken.rpy",
        displayTracebacks=True,
    )
    assert response.status == 500
    assert shown in response.body


def test_runtimeErrorTracebackNamesScript(
    tmp_path: Path, logged: list[LogEvent]
) -> None:
    """
    The traceback of a script's exception, in the log and on a 500 page with
    tracebacks on, points at the script's own file and line.
    """
    path = write(tmp_path / "broken.rpy", "x = 1\nresource = x / 0\n")
    response = get(
        script.ResourceScriptDirectory(str(tmp_path), Registry()),
        b"/broken.rpy",
        displayTracebacks=True,
    )
    where = f'File "{path}", line 2'
    assert where.encode() in response.body.replace(b"&quot;", b'"')
    assert where in logText(logged)


def test_failedScriptBelowPath(tmp_path: Path) -> None:
    """
    A path below a failed script is answered with the same 500 page.
    """
    write(tmp_path / "broken.rpy", "1 / 0\n")
    response = get(
        script.ResourceScriptDirectory(str(tmp_path), Registry()), b"/broken.rpy/a/b"
    )
    assert response.status == 500


def test_missingScript(tmp_path: Path, logged: list[LogEvent]) -> None:
    """
    A resource script that cannot be read is a failure: 500, logged with its
    name.
    """
    path = tmp_path / "gone.rpy"
    response = get(script.ResourceScriptWrapper(str(path), Registry()), b"/")
    assert response.status == 500
    assert f"Script {path} failed: FileNotFoundError" in logText(logged)


# -- ResourceScriptDirectory -----------------------------------------------------------


def test_directoryChildren(tmp_path: Path) -> None:
    """
    Every file in a L{script.ResourceScriptDirectory} is a resource script at
    its own name (whatever its extension), and every subdirectory another
    such directory.
    """
    (tmp_path / "sub").mkdir()
    write(tmp_path / "a.rpy", page(b"a"))
    write(tmp_path / "plain", page(b"plain"))
    write(tmp_path / "sub" / "b.rpy", page(b"b"))
    client = Client(script.ResourceScriptDirectory(str(tmp_path), Registry()))
    assert client.request(path=b"/a.rpy").body == b"a"
    assert client.request(path=b"/plain").body == b"plain"
    assert client.request(path=b"/sub/b.rpy").body == b"b"


def test_directorySharesRegistry(tmp_path: Path) -> None:
    """
    Scripts in a L{script.ResourceScriptDirectory} and its subdirectories
    all get the directory's registry.
    """
    (tmp_path / "sub").mkdir()
    source = page(b"x") + "resource.registry = registry\n"
    write(tmp_path / "a.rpy", source)
    write(tmp_path / "sub" / "b.rpy", source)
    registry = Registry()
    directory = script.ResourceScriptDirectory(str(tmp_path), registry)
    sub = directory.getChild(b"sub", None)
    assert isinstance(sub, script.ResourceScriptDirectory)
    assert sub.registry is registry
    assert directory.getChild(b"a.rpy", None).registry is registry
    assert sub.getChild(b"b.rpy", None).registry is registry


@pytest.mark.parametrize(
    "path",
    [
        b"/",
        b"/sub/",
        b"/sub",
        b"/missing",
        b"/.hidden",
        b"/..",
        b"/%2E%2E/x",
        b"/sub%2F..%2Fa.rpy",
        b"/a%00.rpy",
    ],
)
def test_directoryNotFound(tmp_path: Path, path: bytes) -> None:
    """
    The directory itself (and a subdirectory), a missing name, hidden files,
    C{..} and names holding a slash or NUL are answered 404: no request runs
    anything outside the directory.
    """
    (tmp_path / "sub").mkdir()
    write(tmp_path / "a.rpy", page(b"a"))
    write(tmp_path / ".hidden", page(b"hidden"))
    write(tmp_path.parent / "x", page(b"outside"))
    response = get(script.ResourceScriptDirectory(str(tmp_path), Registry()), path)
    assert response.status == 404


def test_directoryRunsScriptsForEveryRequest(tmp_path: Path) -> None:
    """
    A script that appears in the directory after it was published is found.
    """
    client = Client(script.ResourceScriptDirectory(str(tmp_path), Registry()))
    assert client.request(path=b"/new.rpy").status == 404
    write(tmp_path / "new.rpy", page(b"new"))
    assert client.request(path=b"/new.rpy").body == b"new"


# -- ResourceScriptWrapper -------------------------------------------------------------

TREE = """
    from twisted_web_re.resource import Resource

    class Text(Resource):
        isLeaf = True

        def __init__(self, text):
            super().__init__()
            self.text = text

        def render_GET(self, request):
            return self.text

    class Root(Resource):
        def render_GET(self, request):
            return b"root"

    resource = Root()
    resource.putChild(b"", Text(b"home"))
    resource.putChild(b"child", Text(b"child"))
"""


def test_wrapperDelegates(tmp_path: Path) -> None:
    """
    A L{script.ResourceScriptWrapper} publishes the resource its script
    makes: its children at the wrapper's children, and its own rendering at
    the wrapper's.
    """
    path = write(tmp_path / "tree.rpy", TREE)
    wrapper = script.ResourceScriptWrapper(str(path), Registry())
    client = Client(wrapper)
    assert client.request(path=b"/").body == b"home"
    assert client.request(path=b"/child").body == b"child"
    assert client.request(path=b"/nothing").status == 404
    top = resource.Resource()
    top.putChild(b"app", wrapper)
    assert get(top, b"/app").body == b"root"


def test_wrapperRunsScriptForEveryRequest(tmp_path: Path) -> None:
    """
    The wrapper runs its script for every request, once.
    """
    path = write(tmp_path / "w.rpy", CACHED.replace("cache()", "") + page(b"one"))
    client = Client(script.ResourceScriptWrapper(str(path), Registry()))
    assert client.request(path=b"/").body == b"one"
    assert runs(path) == 1
    write(path, page(b"two"))
    assert client.request(path=b"/").body == b"two"


def test_wrapperLeaf(tmp_path: Path) -> None:
    """
    A leaf resource made by the wrapper's script renders every URL below the
    wrapper, with the whole path in C{postpath}, as it would as the root.
    """
    path = write(
        tmp_path / "leaf.rpy",
        """
        from twisted_web_re.resource import Resource

        class Leaf(Resource):
            isLeaf = True

            def render_GET(self, request):
                return repr((request.prepath, request.postpath)).encode()

        resource = Leaf()
        """,
    )
    client = Client(script.ResourceScriptWrapper(str(path), Registry()))
    assert client.request(path=b"/a/b").body == b"([], [b'a', b'b'])"
    assert client.request(path=b"/").body == b"([], [b''])"


def test_wrapperDefaultRegistry(tmp_path: Path) -> None:
    """
    Made without a registry, a wrapper (or a script directory) makes a
    L{static.Registry} of its own.
    """
    wrapper = script.ResourceScriptWrapper(str(tmp_path / "x.rpy"))
    directory = script.ResourceScriptDirectory(str(tmp_path))
    assert isinstance(wrapper.registry, static.Registry)
    assert isinstance(directory.registry, static.Registry)
    assert directory.registry is not wrapper.registry


# -- PythonScript ----------------------------------------------------------------------


def test_pythonScriptWrites(tmp_path: Path) -> None:
    """
    A L{script.PythonScript} runs its file with C{request}, C{__file__} and
    C{registry}; what it writes is the body, finished when the script ends,
    for any path below it.
    """
    path = write(
        tmp_path / "page.epy",
        """
        names = sorted(k for k in globals() if k != "__builtins__")
        request.setHeader(b"content-type", b"text/plain")
        request.write(repr(names).encode() + b"\\n")
        request.write(__file__.encode() + b"\\n")
        registry.setComponent(int, request.postpath)
        """,
    )
    registry = Registry()
    response = get(script.PythonScript(str(path), registry), b"/x/y")
    assert response.status == 200
    assert response.header(b"content-type") == b"text/plain"
    assert response.body == (
        b"['__file__', 'registry', 'request']\n" + str(path).encode() + b"\n"
    )
    assert registry.getComponent(int) == [b"x", b"y"]


def test_pythonScriptFinishes(tmp_path: Path, logged: list[LogEvent]) -> None:
    """
    A script that finishes the request itself is not finished twice.
    """
    path = write(tmp_path / "f.epy", 'request.write(b"done")\nrequest.finish()\n')
    client = Client(script.PythonScript(str(path), Registry()))
    assert client.request().body == b"done"
    assert client.request().body == b"done"
    assert "twice" not in logText(logged)


def test_pythonScriptRunsForEveryRequest(tmp_path: Path) -> None:
    """
    An edit to an C{.epy} shows at the next request.
    """
    path = write(tmp_path / "e.epy", 'request.write(b"one")\n')
    client = Client(script.PythonScript(str(path), Registry()))
    assert client.request().body == b"one"
    write(path, 'request.write(b"two")\n')
    assert client.request().body == b"two"


def test_pythonScriptMissing(tmp_path: Path) -> None:
    """
    An C{.epy} whose file is gone is answered 404.
    """
    response = get(script.PythonScript(str(tmp_path / "gone.epy"), Registry()))
    assert response.status == 404


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ('request.write(b"partial")\n1 / 0\n', b"ZeroDivisionError"),
        ("request.write(\n", b"SyntaxError"),
        ("raise SystemExit(2)\n", b"SystemExit"),
    ],
)
def test_pythonScriptFails(
    tmp_path: Path, logged: list[LogEvent], source: str, shown: bytes
) -> None:
    """
    An C{.epy} that fails is answered with the site's 500 page, with nothing
    it wrote and no traceback (twisted.web shows the traceback, always, with
    status 200); the failure is logged with its file name.  With the site's
    C{displayTracebacks} set, the page shows the traceback.
    """
    path = write(tmp_path / "bad.epy", source)
    response = get(script.PythonScript(str(path), Registry()))
    assert response.status == 500
    assert b"partial" not in response.body
    assert b"Traceback" not in response.body
    assert shown not in response.body
    assert f"Script {path} failed" in logText(logged)
    shownPage = get(script.PythonScript(str(path), Registry()), displayTracebacks=True)
    assert shownPage.status == 500
    assert shown in shownPage.body


def test_pythonScriptFailsAfterFinishing(
    tmp_path: Path, logged: list[LogEvent]
) -> None:
    """
    An C{.epy} that finished its response and then raised keeps its response;
    the failure is logged.
    """
    path = write(
        tmp_path / "late.epy", 'request.write(b"ok")\nrequest.finish()\n1 / 0\n'
    )
    response = get(script.PythonScript(str(path), Registry()))
    assert (response.status, response.body) == (200, b"ok")
    assert f"Script {path} failed" in logText(logged)


# -- scripts written for twisted.web ---------------------------------------------------

TWISTED_WEB = """
    from twisted.web import server
    from twisted.web.resource import Resource

    class MyResource(Resource):
        def render_GET(self, request):
            return b"<html>Hello, world!</html>"

    class Later(Resource):
        isLeaf = True

        def render_GET(self, request):
            request.write(b"written")
            request.finish()
            return server.NOT_DONE_YET

    class Broken(Resource):
        isLeaf = True

        def render_GET(self, request):
            raise ValueError("broken")

    resource = MyResource()
    resource.putChild(b"later", Later())
    resource.putChild(b"broken", Broken())
"""


@pytest.fixture
def twistedWebSite(tmp_path: Path) -> Client:
    """A site publishing a directory holding C{tw.rpy}, written for twisted.web."""
    write(tmp_path / "tw.rpy", TWISTED_WEB)
    return Client(script.ResourceScriptDirectory(str(tmp_path), Registry()))


def test_twistedWebScriptRenders(twistedWebSite: Client) -> None:
    """
    A script whose resource is a twisted.web resource renders, for GET and
    HEAD, as it does under twisted.web.
    """
    response = twistedWebSite.request(path=b"/tw.rpy")
    assert (response.status, response.body) == (200, b"<html>Hello, world!</html>")
    head = twistedWebSite.request(b"HEAD", b"/tw.rpy")
    assert (head.status, head.body) == (200, b"")


@pytest.mark.parametrize("method", [b"DELETE", b"POST", b"PUT"])
def test_twistedWebScriptUnsupportedMethod(
    twistedWebSite: Client, method: bytes
) -> None:
    """
    A method the twisted.web resource has no C{render_} method for is
    answered 405 with an C{Allow} header, not 500.
    """
    response = twistedWebSite.request(method, b"/tw.rpy")
    assert response.status == 405
    allowed = {m.strip() for m in (response.header(b"allow") or b"").split(b",")}
    assert allowed == {b"GET", b"HEAD"}


# twisted.web's default getChild makes a NoResource it has deprecated.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_twistedWebScriptChildren(twistedWebSite: Client) -> None:
    """
    The twisted.web resource's children are published too: one that answers
    with twisted.web's C{NOT_DONE_YET} (the same value as ours), and, for a
    missing child, twisted.web's own 404 page.
    """
    from twisted.web import server as twisted_server

    assert twisted_server.NOT_DONE_YET is server.NOT_DONE_YET
    response = twistedWebSite.request(path=b"/tw.rpy/later")
    assert (response.status, response.body) == (200, b"written")
    assert twistedWebSite.request(path=b"/tw.rpy/missing").status == 404
    assert twistedWebSite.request(b"DELETE", b"/tw.rpy/later").status == 405


def test_twistedWebScriptRaises(twistedWebSite: Client) -> None:
    """
    Any other exception from a twisted.web resource is answered 500.
    """
    assert twistedWebSite.request(path=b"/tw.rpy/broken").status == 500


def test_packageImportsNoTwistedWeb() -> None:
    """
    Importing L{twisted_web_re.script} imports nothing from twisted.web.
    """
    code = (
        "import sys, twisted_web_re.script\n"
        "print(sorted(m for m in sys.modules if m.startswith('twisted.web')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=60,
    )
    assert out.stdout.strip() == "[]"


# -- the howto's examples --------------------------------------------------------------


@pytest.fixture
def examplesOnPath(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the examples' C{SillyWeb} module importable."""
    monkeypatch.syspath_prepend(str(EXAMPLES))


def test_exampleMyGreatResource() -> None:
    """
    C{examples/rpy/mygreatresource.rpy} renders C{<html>foo</html>}.
    """
    response = get(
        script.ResourceScriptDirectory(str(EXAMPLES), Registry()),
        b"/mygreatresource.rpy",
    )
    assert (response.status, response.body) == (200, b"<html>foo</html>")


def test_exampleCounter(examplesOnPath: None) -> None:
    """
    C{examples/rpy/counter.rpy} keeps its C{SillyWeb.Counter} in the
    registry, so the count goes up with every request although the script
    runs anew each time; another registry has its own count.
    """
    client = Client(script.ResourceScriptDirectory(str(EXAMPLES), Registry()))
    bodies = [client.request(path=b"/counter.rpy").body for _ in range(3)]
    assert bodies == [b"you are visitor 1", b"you are visitor 2", b"you are visitor 3"]
    other = get(
        script.ResourceScriptDirectory(str(EXAMPLES), Registry()), b"/counter.rpy"
    )
    assert other.body == b"you are visitor 1"


def test_exampleTwistedWeb() -> None:
    """
    C{examples/rpy/twistedweb.rpy}, written for twisted.web, renders; DELETE
    is answered 405.
    """
    client = Client(script.ResourceScriptDirectory(str(EXAMPLES), Registry()))
    response = client.request(path=b"/twistedweb.rpy")
    assert (response.status, response.body) == (200, b"<html>Hello, world!</html>")
    assert client.request(b"DELETE", b"/twistedweb.rpy").status == 405


def test_examplesServedByStaticFile() -> None:
    """
    A L{static.File} with C{.rpy} mapped to L{script.ResourceScript} serves
    the examples.
    """
    root = static.File(str(EXAMPLES))
    root.processors = {".rpy": script.ResourceScript}
    client = Client(root)
    assert client.request(path=b"/mygreatresource.rpy").body == b"<html>foo</html>"
    response = client.request(path=b"/twistedweb.rpy")
    assert response.body == b"<html>Hello, world!</html>"


def test_exampleCounterServedByStaticFile(examplesOnPath: None) -> None:
    """
    A L{static.File} keeps one registry for the scripts it serves: the
    counter goes up.
    """
    root = static.File(str(EXAMPLES))
    root.processors = {".rpy": script.ResourceScript}
    client = Client(root)
    assert client.request(path=b"/counter.rpy").body == b"you are visitor 1"
    assert client.request(path=b"/counter.rpy").body == b"you are visitor 2"
