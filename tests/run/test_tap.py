"""
Tests for L{twisted_web_re.tap}: the options of C{twistd web-re}, the root
resource and site they make, and the demo page served when nothing else is.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import IServiceCollection, MultiService
from twisted.internet.address import IPv4Address
from twisted.internet.defer import Deferred
from twisted.internet.endpoints import (
    SSL4ServerEndpoint,
    TCP4ServerEndpoint,
    UNIXServerEndpoint,
)
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python import usage
from twisted.python.threadpool import ThreadPool

from twisted_web_re import (
    distrib,
    http,
    resource,
    script,
    server,
    static,
    tap,
    twcgi,
    wsgi,
)
from twisted_web_re._run.demo import DEMO_PAGE, DemoPage
from twisted_web_re._run.services import HTTP2ShutdownService, ThreadPoolService
from twisted_web_re._version import __version__

# Every option of `twistd web`, by long name: `twistd web-re` must accept each.
TWISTD_WEB_OPTIONS = [
    "add-header",
    "allow-ignore-ext",
    "certificate",
    "class",
    "display-tracebacks",
    "https",
    "index",
    "ignore-ext",
    "privkey",
    "logfile",
    "listen",
    "mime-type",
    "notracebacks",
    "port",
    "path",
    "personal",
    "processor",
    "resource-script",
    "user",
    "wsgi",
]

# The options that only configure the static.File of --path, each with a
# command line giving it.
PATH_ONLY = [
    (["--index", "home.html"], "index"),
    (["-i", "home.html"], "index"),
    (["--processor", f".x={__name__}.makeProcessor"], "processor"),
    (["--mime-type", "text/plain"], "mime-type"),
    (["--mime-type", ""], "mime-type"),
    (["-m", "text/plain"], "mime-type"),
    (["--ignore-ext", ".html"], "ignore-ext"),
    (["--allow-ignore-ext"], "allow-ignore-ext"),
]

BAD_ENDPOINTS = [
    "bogus:8080",
    "tcp:notaport",
    "tcp:8080:nosuchargument=1",
    "tcp",
    "tcp:",
    "ssl:8443:privateKey=/nonexistent/key.pem:certKey=/nonexistent/cert.pem",
    "",
]


def parse(*args: str) -> tap.Options:
    """
    Parse C{args} as the options of C{twistd web-re}, against a memory reactor.

    @param args: The command line after C{web-re}.
    @return: The parsed options.
    """
    options = tap.Options(reactor=MemoryReactorClock())
    options.parseOptions(list(args))
    return options


def usageError(*args: str) -> str:
    """
    Parse C{args}, which must fail, and return the error message.

    @param args: The command line after C{web-re}.
    @return: The message of the L{usage.UsageError} raised.
    """
    with pytest.raises(usage.UsageError) as info:
        parse(*args)
    return str(info.value)


class TestDefaults:
    """
    What C{twistd web-re} does with no options at all.
    """

    def test_listensOnTcp8080(self) -> None:
        """
        With no endpoint given, the server listens on tcp:8080 only.
        """
        assert parse()["listen"] == ["tcp:8080"]

    def test_noExtras(self) -> None:
        """
        With no options there are no extra headers, no access log and no
        tracebacks shown, and every static file option is unset.
        """
        options = parse()
        assert options["add-header"] == []
        assert options["logfile"] is None
        assert not options["display-tracebacks"]
        assert not options["notracebacks"]
        assert options["https"] is None
        assert options["certificate"] == "server.pem"
        assert options["privkey"] == "server.pem"
        for name in ["path", "wsgi", "resource-script", "class", "mime-type"]:
            assert options[name] is None
        for name in ["user", "personal", "allow-ignore-ext"]:
            assert not options[name]
        assert options["index"] == []
        assert options["ignore-ext"] == []
        assert options["processor"] == {}
        assert options["threadpool"] is None
        assert isinstance(options["root"], DemoPage)

    def test_everyTwistdWebOptionKnown(self) -> None:
        """
        Every long option of C{twistd web} is an option of C{twistd web-re}, so
        no command line written for Twisted Web fails as unrecognised.
        """
        known = set(tap.Options().synonyms)
        assert set(TWISTD_WEB_OPTIONS) <= known

    def test_shortOptionsMatchTwistdWeb(self) -> None:
        """
        The one-letter options mean what they mean for C{twistd web}.
        """
        synonyms = tap.Options().synonyms
        assert synonyms["c"] == "certificate"
        assert synonyms["i"] == "index"
        assert synonyms["k"] == "privkey"
        assert synonyms["l"] == "logfile"
        assert synonyms["m"] == "mime-type"
        assert synonyms["n"] == "notracebacks"
        assert synonyms["p"] == "port"
        assert synonyms["u"] == "user"


class TestHelp:
    """
    C{twistd web-re --help} explains every option.
    """

    def test_everyOptionDocumented(self) -> None:
        """
        The help text names every option, each with a description.
        """
        options = tap.Options()
        text = options.getUsage(width=100)
        for name in TWISTD_WEB_OPTIONS:
            assert f"--{name}" in text
            assert options.docs[name], name

    def test_describesDefaults(self) -> None:
        """
        The help text says what the server serves and where it listens when
        told nothing, and what --user and --personal do.
        """
        text = " ".join(tap.Options().getUsage(width=100).split())
        assert "with none of them, a demo page" in text
        assert "with none, on tcp:8080" in text
        assert "serverFromString" in text
        assert ".epy Python scripts and .cgi CGI programs" in text
        assert "--wsgi (a WSGI application, run in a thread pool" in text
        assert "--personal publishes the site over PB for a --user server" in text

    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        """
        C{--version} prints the twisted_web_re version and exits successfully.
        """
        with pytest.raises(SystemExit) as info:
            parse("--version")
        assert info.value.code == 0
        assert capsys.readouterr().out.strip() == f"twisted_web_re {__version__}"


class TestListen:
    """
    C{--listen} and its deprecated spellings C{--port} and C{--https}.
    """

    def test_one(self) -> None:
        """
        One C{--listen} replaces the default endpoint.
        """
        assert parse("--listen", "tcp:8081")["listen"] == ["tcp:8081"]

    def test_repeatable(self) -> None:
        """
        Each C{--listen} adds an endpoint, in command line order.
        """
        options = parse(
            "--listen",
            "tcp:8081:interface=127.0.0.1",
            "--listen",
            "unix:/tmp/web-re.sock",
            "--listen",
            "tcp6:8082",
        )
        assert options["listen"] == [
            "tcp:8081:interface=127.0.0.1",
            "unix:/tmp/web-re.sock",
            "tcp6:8082",
        ]

    def test_ssl(self, selfSignedCertificate: tuple[Path, Path]) -> None:
        """
        An C{ssl:} endpoint with a readable certificate and key is accepted.
        """
        cert, key = selfSignedCertificate
        description = f"ssl:8443:privateKey={key}:certKey={cert}"
        assert parse("--listen", description)["listen"] == [description]

    @pytest.mark.parametrize(
        "privateKey, certKey",
        [
            pytest.param("cert", "cert", id="certificate-as-key"),
            pytest.param("key", "key", id="key-as-certificate"),
        ],
    )
    def test_sslFileMixUpExplained(
        self,
        selfSignedCertificate: tuple[Path, Path],
        privateKey: str,
        certKey: str,
    ) -> None:
        """
        An C{ssl:} endpoint naming a certificate where its private key belongs,
        or the other way round, is a one-line usage error saying what each
        file must hold, not only OpenSSL's own words for it.
        """
        cert, key = selfSignedCertificate
        files = {"cert": cert, "key": key}
        description = (
            f"ssl:8443:privateKey={files[privateKey]}:certKey={files[certKey]}"
        )
        message = usageError("--listen", description)
        assert message.startswith(f"cannot listen on {description!r}: ")
        assert "privateKey= must name a PEM private key" in message
        assert "certKey= a PEM certificate" in message
        assert "\n" not in message

    @pytest.mark.parametrize("description", BAD_ENDPOINTS)
    def test_badEndpoint(self, description: str) -> None:
        """
        An endpoint description that cannot be used is a one-line usage error
        that quotes it, not a traceback.
        """
        message = usageError("--listen", description)
        assert repr(description) in message
        assert "\n" not in message

    def test_badEndpointAmongGood(self) -> None:
        """
        One bad endpoint fails the command line even after good ones.
        """
        message = usageError("--listen", "tcp:8081", "--listen", "bogus:1")
        assert "'bogus:1'" in message

    def test_portNumber(self) -> None:
        """
        C{--port} with a bare number means C{--listen tcp:NUMBER}, with a
        warning that C{--port} is deprecated.
        """
        with pytest.warns(FutureWarning, match="--port is deprecated"):
            options = parse("--port", "8081")
        assert options["listen"] == ["tcp:8081"]

    def test_portDescription(self) -> None:
        """
        C{-p} with an endpoint description means C{--listen DESCRIPTION}.
        """
        with pytest.warns(FutureWarning):
            options = parse("-p", "tcp:8081:interface=127.0.0.1")
        assert options["listen"] == ["tcp:8081:interface=127.0.0.1"]

    def test_portAndListen(self) -> None:
        """
        C{--port} and C{--listen} together listen on both.
        """
        with pytest.warns(FutureWarning):
            options = parse("--listen", "tcp:8081", "--port", "8082")
        assert options["listen"] == ["tcp:8081", "tcp:8082"]

    def test_badPort(self) -> None:
        """
        A C{--port} that is no endpoint is a usage error like a bad
        C{--listen}.
        """
        with pytest.warns(FutureWarning):
            message = usageError("--port", "eighty")
        assert "'eighty'" in message

    def test_https(self, selfSignedCertificate: tuple[Path, Path]) -> None:
        """
        C{--https PORT} adds an SSL endpoint using C{--certificate} and
        C{--privkey}, with a deprecation warning; without any other endpoint
        it is the only one.
        """
        cert, key = selfSignedCertificate
        with pytest.warns(FutureWarning, match="--https is deprecated"):
            options = parse(
                "--https", "8443", "--certificate", str(cert), "--privkey", str(key)
            )
        [description] = options["listen"]
        assert description.startswith("ssl:port=8443:")
        assert f"privateKey={key}" in description.replace("\\", "")
        assert f"certKey={cert}" in description.replace("\\", "")

    # Twisted's own TLS options hand pyOpenSSL objects to pyOpenSSL, which warns.
    @pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")
    @pytest.mark.parametrize(
        "value, port, interface",
        [
            pytest.param("8443", 8443, "", id="port"),
            pytest.param("8443:interface=127.0.0.1", 8443, "127.0.0.1", id="interface"),
            pytest.param(
                "8443:backlog=7:interface=127.0.0.1",
                8443,
                "127.0.0.1",
                id="two-options",
            ),
        ],
    )
    def test_httpsEndpointOptions(
        self,
        selfSignedCertificate: tuple[Path, Path],
        value: str,
        port: int,
        interface: str,
    ) -> None:
        """
        C{--https} takes a port optionally followed by options of an C{ssl:}
        endpoint, as twisted.web's C{twistd web} does:
        C{--https=8443:interface=127.0.0.1} listens on 127.0.0.1 only.
        """
        cert, key = selfSignedCertificate
        with pytest.warns(FutureWarning):
            options = parse("--https", value, "-c", str(cert), "-k", str(key))
        [child] = listeners(tap.makeService(options))
        assert isinstance(child, StreamServerEndpointService)
        assert isinstance(child.endpoint, SSL4ServerEndpoint)
        assert child.endpoint._port == port
        assert child.endpoint._interface == interface

    # Twisted's own TLS options hand pyOpenSSL objects to pyOpenSSL, which warns.
    @pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")
    def test_httpsQuotesPaths(
        self, tmp_path: Path, selfSignedCertificate: tuple[Path, Path]
    ) -> None:
        """
        C{--https} certificate paths holding colons, equals signs and
        backslashes reach the SSL endpoint intact.
        """
        awkward = tmp_path / "a:b=c\\d"
        awkward.mkdir()
        cert = awkward / "cert.pem"
        key = awkward / "key.pem"
        cert.write_bytes(selfSignedCertificate[0].read_bytes())
        key.write_bytes(selfSignedCertificate[1].read_bytes())
        with pytest.warns(FutureWarning):
            options = parse("--https", "8443", "-c", str(cert), "-k", str(key))
        service = tap.makeService(options)
        [child] = listeners(service)
        assert isinstance(child, StreamServerEndpointService)
        assert isinstance(child.endpoint, SSL4ServerEndpoint)

    # Twisted's own TLS options hand pyOpenSSL objects to pyOpenSSL, which warns.
    @pytest.mark.filterwarnings("ignore:Passing pyOpenSSL:DeprecationWarning")
    def test_sslContextFailingLater(
        self, tmp_path: Path, selfSignedCertificate: tuple[Path, Path]
    ) -> None:
        """
        An C{ssl:} endpoint whose TLS context OpenSSL can only refuse when it
        is made (here a missing C{dhParameters=} file) still makes its
        service: the error comes when it listens, as with C{twistd web}.
        """
        cert, key = selfSignedCertificate
        missing = tmp_path / "missing-dh.pem"
        options = parse(
            "--listen",
            f"ssl:8443:privateKey={key}:certKey={cert}:dhParameters={missing}",
        )
        [child] = listeners(tap.makeService(options))
        assert isinstance(child, StreamServerEndpointService)
        assert isinstance(child.endpoint, SSL4ServerEndpoint)

    def test_httpsMissingCertificate(self, tmp_path: Path) -> None:
        """
        C{--https} with a certificate that cannot be read is a usage error.
        """
        missing = str(tmp_path / "missing.pem")
        with pytest.warns(FutureWarning):
            message = usageError("--https", "8443", "-c", missing, "-k", missing)
        assert message.startswith("cannot listen on ")
        assert "\n" not in message


class TestAddHeader:
    """
    C{--add-header "Name: value"}.
    """

    def test_one(self) -> None:
        """
        A header is stored as bytes, without the whitespace around its value.
        """
        options = parse("--add-header", "X-Frame-Options:  DENY ")
        assert options["add-header"] == [(b"X-Frame-Options", b"DENY")]

    def test_repeatable(self) -> None:
        """
        Each C{--add-header} adds a header, in order, repeats included.
        """
        options = parse(
            "--add-header",
            "Cache-Control: no-store",
            "--add-header",
            "Link: </a>; rel=preload",
            "--add-header",
            "Link: </b>; rel=preload",
        )
        assert options["add-header"] == [
            (b"Cache-Control", b"no-store"),
            (b"Link", b"</a>; rel=preload"),
            (b"Link", b"</b>; rel=preload"),
        ]

    def test_colonInValue(self) -> None:
        """
        Only the first colon separates the name from the value.
        """
        options = parse("--add-header", "Content-Location: http://x/y")
        assert options["add-header"] == [(b"Content-Location", b"http://x/y")]

    def test_emptyValue(self) -> None:
        """
        An empty value is valid HTTP and is kept.
        """
        assert parse("--add-header", "X-Empty:")["add-header"] == [(b"X-Empty", b"")]

    def test_tabInValue(self) -> None:
        """
        A tab inside a value is allowed, as RFC 9110 allows it.
        """
        options = parse("--add-header", "X-Tab: a\tb")
        assert options["add-header"] == [(b"X-Tab", b"a\tb")]

    def test_nonAsciiValue(self) -> None:
        """
        A value beyond ASCII is sent as UTF-8.
        """
        options = parse("--add-header", "X-Greeting: h\u00e9")
        assert options["add-header"] == [(b"X-Greeting", "h\u00e9".encode())]

    @pytest.mark.parametrize(
        "header",
        [
            "no colon here",
            ": no name",
            "Two Words: value",
            " X-Leading-Space: value",
            "X-Trailing-Space : value",
            "X-Bad(Name): value",
            "X-\u00e9: value",
            "X-Split: a\r\nSet-Cookie: evil=1",
            "X-Newline: a\nb",
            "X-Return: a\rb",
            "X-Nul: a\x00b",
            "X-Escape: a\x1bb",
            "X-Delete: a\x7fb",
        ],
    )
    def test_badSyntax(self, header: str) -> None:
        """
        A header that is not C{token ":" value-without-controls} is a one-line
        usage error naming C{--add-header}.
        """
        message = usageError("--add-header", header)
        assert "--add-header" in message
        assert "\n" not in message
        assert "\r" not in message


class TestSpreadable:
    """
    C{--user} and C{--personal}, the spreadable web's options.
    """

    @pytest.mark.parametrize("flag", ["--user", "-u"])
    def test_userServesUserDirectory(self, flag: str) -> None:
        """
        C{--user} serves a L{distrib.UserDirectory} at the root.
        """
        options = tap.Options()
        options.parseOptions([flag])
        assert isinstance(options["root"], distrib.UserDirectory)

    def test_userAndPath(self) -> None:
        """
        C{--user} chooses what to serve, so it cannot go with C{--path}.
        """
        assert "each choose what to serve" in usageError("--user", "--path", ".")

    def test_personalDefaultListen(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """
        C{--personal} alone listens on C{~/.twistd-web-pb}, owner-only and
        with a lock file, as the issue and the howto say.
        """
        monkeypatch.setenv("HOME", str(tmp_path))
        options = tap.Options()
        options.parseOptions(["--personal"])
        socket = str(tmp_path / ".twistd-web-pb")
        assert options["listen"] == [f"unix:{socket}:mode=600:lockfile=1"]

    def test_personalListenWantPID(self, tmp_path: Path) -> None:
        """
        C{--personal --listen unix:PATH:wantPID=1}, the howto's command
        line, is read as the endpoint parser's C{lockfile=1}, and the socket
        is made owner-only; a TCP endpoint is kept as given.
        """
        options = tap.Options()
        path = tmp_path / "pb"
        options.parseOptions(
            ["--personal", "--listen", f"unix:{path}:wantPID=1", "--listen", "tcp:0"]
        )
        assert options["listen"] == [f"unix:{path}:lockfile=1:mode=600", "tcp:0"]

    def test_makePersonalServerFactory(self) -> None:
        """
        C{tap.makePersonalServerFactory(site)} is a PB server factory whose
        root publishes C{site}.
        """
        site = server.Site(resource.Resource())
        factory = tap.makePersonalServerFactory(site)
        root = factory.root.rootObject(None)
        assert isinstance(root, distrib.ResourcePublisher)
        assert root.site is site


# -- resources and factories named on the command line by these tests --------


class LeafPage(resource.Resource):
    """
    A leaf resource answering C{leaf} at every path.
    """

    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        return b"leaf"


class BranchPage(resource.Resource):
    """
    A resource with one child, C{/child}, answering C{branch} itself (at
    C{/}, its empty child).
    """

    def __init__(self) -> None:
        super().__init__()
        self.putChild(b"child", LeafPage())
        self.putChild(b"", self)

    def render_GET(self, request: Any) -> bytes:
        return b"branch"


class FailingPage(resource.Resource):
    """
    A leaf resource whose rendering raises.
    """

    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        raise RuntimeError("rendering failed on purpose")


class OwnHeaderPage(resource.Resource):
    """
    A leaf resource setting C{X-One} itself.
    """

    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"x-one", b"mine")
        return b"own"


class StreamingPage(resource.Resource):
    """
    A leaf resource writing its body in two pieces.
    """

    isLeaf = True

    def render_GET(self, request: Any) -> int:
        request.write(b"first ")
        request.write(b"second")
        request.finish()
        return server.NOT_DONE_YET


class RaisingConstructor(resource.Resource):
    """
    A resource class that cannot be made.
    """

    def __init__(self) -> None:
        raise ValueError("cannot be made\non purpose")


class NotAResource:
    """
    A class whose instances are no resources.
    """


NOT_CALLABLE = 42


def makeProcessor(path: str, registry: Any) -> resource.Resource:
    """
    A processor: a resource for the file C{path}.
    """
    return LeafPage()


def _name(obj: object) -> str:
    """The fully qualified name of an object defined in this module."""
    return f"{__name__}.{obj.__name__}"  # type: ignore[attr-defined]


@pytest.fixture
def webroot(tmp_path: Path) -> Path:
    """
    A directory to serve, with an index page, a text file and a script.
    """
    root = tmp_path / "www"
    root.mkdir()
    (root / "index.html").write_bytes(b"<h1>index</h1>")
    (root / "notes.txt").write_bytes(b"notes")
    (root / "script.rpy").write_text(
        "from twisted_web_re import resource\n"
        "class Page(resource.Resource):\n"
        "    isLeaf = True\n"
        "    def render_GET(self, request):\n"
        "        return b'from a script'\n"
        "resource = Page()\n"
    )
    return root


class TestPath:
    """
    C{--path}: serve the files of a directory, as C{twistd web --path} does.
    """

    def test_root(self, webroot: Path) -> None:
        """
        The root is a L{static.File} of the directory, made absolute.
        """
        root = parse("--path", str(webroot))["root"]
        assert isinstance(root, static.File)
        assert root.path == str(webroot)

    def test_relative(self, webroot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """
        A relative path is made absolute against the current directory, so
        it keeps meaning the same directory whatever the process does later.
        """
        monkeypatch.chdir(webroot.parent)
        root = parse("--path", "www")["root"]
        assert root.path == str(webroot)

    def test_file(self, webroot: Path) -> None:
        """
        A single file can be the root, as C{twistd web --path} promises: a
        leaf, since a file has no children.
        """
        root = parse("--path", str(webroot / "notes.txt"))["root"]
        assert isinstance(root, static.File)
        assert root.path == str(webroot / "notes.txt")
        assert root.isLeaf

    def test_directoryNotLeaf(self, webroot: Path) -> None:
        """
        A directory root is no leaf: its files are its children.
        """
        assert not parse("--path", str(webroot))["root"].isLeaf

    @pytest.mark.parametrize("path", ["/", "/any/where"])
    def test_fileServed(self, webroot: Path, path: str) -> None:
        """
        A single file is served at every URL (twistd web answers 404 to
        every URL, even C{/}: its File finds no child there).
        """
        request = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode()
        response = converse(request, "--path", str(webroot / "notes.txt"))
        status, _, body = splitResponse(response)
        assert status.startswith(b"HTTP/1.1 200 ")
        assert body == b"notes"

    @pytest.mark.parametrize("name", ["script.rpy", "page.EPY", "run.cgi"])
    def test_processedFile(self, webroot: Path, name: str) -> None:
        """
        A single file that a processor would run is a usage error: a File
        runs processors for its children only, so it would be sent as it is,
        source and all.
        """
        (webroot / name).write_bytes(b"source")
        message = usageError("--path", str(webroot / name))
        assert message.startswith(f"--path: {str(webroot / name)!r} is a ")
        assert "--resource-script" in message

    def test_processors(self, webroot: Path) -> None:
        """
        As with C{twistd web}, C{.rpy} files run as resource scripts, C{.epy}
        files as Python scripts and C{.cgi} files as CGI programs.
        """
        processors = parse("--path", str(webroot))["root"].processors
        assert processors[".rpy"] is script.ResourceScript
        assert processors[".epy"] is script.PythonScript
        assert processors[".cgi"] is twcgi.CGIScript
        assert sorted(processors) == [".cgi", ".epy", ".rpy"]

    def test_cgiScript(self, webroot: Path) -> None:
        """
        A C{.cgi} file is found as a L{twcgi.CGIScript} of that file, which
        runs it rather than sending its source.
        """
        (webroot / "run.cgi").write_bytes(b"#!/bin/sh\necho SECRET\n")
        root = parse("--path", str(webroot))["root"]
        found = root.getChild(b"run.cgi", None)
        assert isinstance(found, twcgi.CGIScript)
        assert found.filename == str(webroot / "run.cgi")

    def test_defaults(self, webroot: Path) -> None:
        """
        Without the other static file options the File keeps its defaults:
        the index names, the default type and no ignored extensions of
        L{static.File}.
        """
        root = parse("--path", str(webroot))["root"]
        plain = static.File(str(webroot))
        assert root.indexNames == plain.indexNames
        assert root.defaultType == plain.defaultType
        assert root.ignoredExts == plain.ignoredExts == []

    def test_missing(self, tmp_path: Path) -> None:
        """
        A path that does not exist is a usage error quoting it.
        """
        missing = str(tmp_path / "nowhere")
        assert usageError("--path", missing) == (
            f"--path: no such file or directory: {missing!r}"
        )

    def test_empty(self) -> None:
        """
        An empty path is no path, rather than a reason to serve the demo
        page.
        """
        assert usageError("--path", "") == "--path: no such file or directory: ''"

    def test_registryHoldsService(self, webroot: Path) -> None:
        """
        As with C{twistd web}, resource scripts find the running service in
        the File's registry as the L{IServiceCollection}.
        """
        options = parse("--path", str(webroot))
        service = tap.makeService(options)
        registry = options["root"].registry
        assert registry.getComponent(IServiceCollection) is service

    @pytest.mark.parametrize(("args", "option"), PATH_ONLY)
    def test_needsPath(self, args: list[str], option: str) -> None:
        """
        An option that only configures the File of C{--path} is a usage error
        without it, instead of being silently ignored.
        """
        assert usageError(*args) == f"--{option} only applies to --path"

    @pytest.mark.parametrize(("args", "option"), PATH_ONLY)
    def test_needsPathNotOtherRoot(self, args: list[str], option: str) -> None:
        """
        A File option is a usage error with C{--class} too.
        """
        message = usageError("--class", _name(LeafPage), *args)
        assert message == f"--{option} only applies to --path"


class TestIndex:
    """
    C{--index NAME}: the files shown for a directory.
    """

    def test_replacesDefaults(self, webroot: Path) -> None:
        """
        The names given replace the default index names, in order.
        """
        root = parse("--path", str(webroot), "--index", "home.html", "-i", "start.rpy")[
            "root"
        ]
        assert root.indexNames == ["home.html", "start.rpy"]

    @pytest.mark.parametrize("name", ["", "sub/index.html", "a\x00b"])
    def test_badName(self, webroot: Path, name: str) -> None:
        """
        An index name that could never be a file in the directory is a usage
        error.
        """
        message = usageError("--path", str(webroot), "--index", name)
        assert message.startswith("--index wants a file name")


class TestProcessor:
    """
    C{--processor .ext=package.module.Factory}.
    """

    def test_added(self, webroot: Path) -> None:
        """
        The factory named is the processor of its extension, beside the
        default ones.
        """
        root = parse(
            "--path", str(webroot), "--processor", f".page={_name(makeProcessor)}"
        )["root"]
        assert root.processors[".page"] is makeProcessor
        assert root.processors[".rpy"] is script.ResourceScript

    def test_overridesDefault(self, webroot: Path) -> None:
        """
        A processor for C{.rpy} replaces the resource script processor, and
        the order of C{--path} and C{--processor} does not matter.
        """
        root = parse("--processor", f".rpy={_name(LeafPage)}", "--path", str(webroot))[
            "root"
        ]
        assert root.processors[".rpy"] is LeafPage

    def test_extensionLowerCased(self, webroot: Path) -> None:
        """
        The extension is stored lower-cased, as File looks extensions up.
        """
        root = parse(
            "--path", str(webroot), "--processor", f".PAGE={_name(makeProcessor)}"
        )["root"]
        assert root.processors[".page"] is makeProcessor

    def test_renders(self, webroot: Path) -> None:
        """
        A file with the extension is rendered by the factory's resource.
        """
        (webroot / "x.page").write_bytes(b"the file itself")
        _, _, body = splitResponse(
            converse(
                b"GET /x.page HTTP/1.1\r\nHost: x\r\n\r\n",
                "--path",
                str(webroot),
                "--processor",
                f".page={_name(makeProcessor)}",
            )
        )
        assert body == b"leaf"

    @pytest.mark.parametrize(
        "spec", ["nonsense", ".x=", "=x.Y", "x=os.path.join", ".=os.path.join"]
    )
    def test_badSyntax(self, webroot: Path, spec: str) -> None:
        """
        A spec that is not C{.ext=name} is a usage error showing the syntax.
        """
        message = usageError("--path", str(webroot), "--processor", spec)
        assert message.startswith("--processor wants .ext=package.module.Factory")
        assert repr(spec) in message

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("no_such_module_xyz.Factory", "ObjectNotFound"),
            ("os.no_such_factory", "AttributeError"),
            ("not a name", "ModuleNotFound"),
        ],
    )
    def test_unknownFactory(self, webroot: Path, name: str, expected: str) -> None:
        """
        A factory that cannot be found is a one-line usage error naming it.
        """
        message = usageError("--path", str(webroot), "--processor", f".x={name}")
        assert message.startswith(f"--processor: cannot find {name!r}: {expected}")
        assert "\n" not in message

    def test_notCallable(self, webroot: Path) -> None:
        """
        A name that is not callable is a usage error.
        """
        message = usageError(
            "--path", str(webroot), "--processor", f".x={__name__}.NOT_CALLABLE"
        )
        assert (
            message == f"--processor: '{__name__}.NOT_CALLABLE' is a int, not a class"
        )


class TestMimeType:
    """
    C{--mime-type TYPE}: the type of files whose extension says nothing.
    """

    @pytest.mark.parametrize(
        "value", ["text/plain", "application/octet-stream", "text/plain; charset=utf-8"]
    )
    def test_defaultType(self, webroot: Path, value: str) -> None:
        """
        The type given is the File's default type.
        """
        root = parse("--path", str(webroot), "-m", value)["root"]
        assert root.defaultType == value

    @pytest.mark.parametrize(
        "value", ["", "text", "text/", "text plain", "text/plain\r\nX-Evil: 1"]
    )
    def test_invalid(self, webroot: Path, value: str) -> None:
        """
        Something that is not a media type is a one-line usage error.
        """
        message = usageError("--path", str(webroot), "--mime-type", value)
        assert message.startswith("--mime-type wants a media type")
        assert "\n" not in message


class TestIgnoreExt:
    """
    C{--ignore-ext EXT} and C{--allow-ignore-ext}.
    """

    def test_inOrder(self, webroot: Path) -> None:
        """
        Each extension is ignored, in order.
        """
        root = parse(
            "--path", str(webroot), "--ignore-ext", ".rpy", "--ignore-ext", ".html"
        )["root"]
        assert root.ignoredExts == [".rpy", ".html"]

    def test_allowAny(self, webroot: Path) -> None:
        """
        C{--allow-ignore-ext} ignores any extension, after those given.
        """
        root = parse(
            "--allow-ignore-ext", "--path", str(webroot), "--ignore-ext", ".rpy"
        )["root"]
        assert root.ignoredExts == [".rpy", "*"]

    def test_badExtension(self, webroot: Path) -> None:
        """
        An extension holding a slash is a usage error.
        """
        message = usageError("--path", str(webroot), "--ignore-ext", "/etc")
        assert message.startswith("--ignore-ext wants a file name or extension")


class TestClass:
    """
    C{--class package.module.Class}: serve an instance of a resource class.
    """

    def test_instance(self) -> None:
        """
        The root is an instance of the class, made with no arguments.
        """
        root = parse("--class", _name(BranchPage))["root"]
        assert type(root) is BranchPage

    def test_twistedWebResource(self) -> None:
        """
        A resource class written for twisted.web is accepted too.
        """
        root = parse("--class", "twisted.web.resource.Resource")["root"]
        assert type(root).__module__ == "twisted.web.resource"

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("no_such_module_xyz.Root", "ObjectNotFound"),
            ("twisted_web_re.resource.NoSuchRoot", "AttributeError"),
            ("", "InvalidName"),
        ],
    )
    def test_unknown(self, name: str, expected: str) -> None:
        """
        A class that cannot be found is a one-line usage error naming it.
        """
        message = usageError("--class", name)
        assert message.startswith(f"--class: cannot find {name!r}: {expected}")
        assert "\n" not in message

    def test_constructorRaises(self) -> None:
        """
        A class that raises when made is a one-line usage error saying what
        it raised.
        """
        message = usageError("--class", _name(RaisingConstructor))
        assert message == (
            f"--class: {_name(RaisingConstructor)}() raised ValueError:"
            " cannot be made on purpose"
        )

    def test_notAResource(self) -> None:
        """
        A class whose instances are no resources is a usage error.
        """
        message = usageError("--class", _name(NotAResource))
        assert message.startswith(
            f"--class: {_name(NotAResource)}() made a NotAResource, which is not"
        )

    def test_notCallable(self) -> None:
        """
        A name that is not a class is a usage error.
        """
        message = usageError("--class", f"{__name__}.NOT_CALLABLE")
        assert message == f"--class: '{__name__}.NOT_CALLABLE' is a int, not a class"

    def test_serves(self) -> None:
        """
        The instance answers for C{/} and its children for theirs.
        """
        args = ("--class", _name(BranchPage))
        assert splitResponse(converse(GET_ROOT, *args))[2] == b"branch"
        assert splitResponse(converse(GET_CHILD, *args))[2] == b"leaf"


class TestResourceScript:
    """
    C{--resource-script FILE}: serve the resource an .rpy script makes.
    """

    def test_wrapper(self, webroot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """
        The root is a L{script.ResourceScriptWrapper} of the script, its path
        made absolute.
        """
        monkeypatch.chdir(webroot)
        root = parse("--resource-script", "script.rpy")["root"]
        assert isinstance(root, script.ResourceScriptWrapper)
        assert root.path == str(webroot / "script.rpy")

    def test_serves(self, webroot: Path) -> None:
        """
        The script's resource answers every request.
        """
        response = converse(GET_ROOT, "--resource-script", str(webroot / "script.rpy"))
        assert splitResponse(response)[2] == b"from a script"

    def test_registryHoldsService(self, webroot: Path) -> None:
        """
        The script finds the running service in its registry, as under
        C{--path}.
        """
        options = parse("--resource-script", str(webroot / "script.rpy"))
        service = tap.makeService(options)
        registry = options["root"].registry
        assert registry.getComponent(IServiceCollection) is service

    @pytest.mark.parametrize("name", ["missing.rpy", "."])
    def test_missing(self, webroot: Path, name: str) -> None:
        """
        A script that is not a file is a usage error quoting it.
        """
        path = str(webroot / name)
        assert usageError("--resource-script", path) == (
            f"--resource-script: no such file: {path!r}"
        )


class TestRootConflicts:
    """
    C{--path}, C{--class}, C{--resource-script} and C{--wsgi} each choose the
    root.
    """

    @pytest.mark.parametrize(
        ("args", "first", "second"),
        [
            (["--class", _name(LeafPage), "--path", "."], "path", "class"),
            (["--path", ".", "--resource-script", "x.rpy"], "path", "resource-script"),
            (
                ["--resource-script", "x.rpy", "--class", "x.Y"],
                "class",
                "resource-script",
            ),
            (["--wsgi", "x.app", "--path", "."], "path", "wsgi"),
            (["--class", "x.Y", "--wsgi", "x.app"], "class", "wsgi"),
            (
                ["--wsgi", "x.app", "--resource-script", "x.rpy"],
                "resource-script",
                "wsgi",
            ),
        ],
    )
    def test_onlyOne(self, args: list[str], first: str, second: str) -> None:
        """
        Giving two of them is a usage error naming both, where C{twistd web}
        would silently serve the last one.
        """
        assert usageError(*args) == (
            f"--{first} and --{second} each choose what to serve: give only one of them"
        )


class TestTracebacksAndLog:
    """
    C{--display-tracebacks}, C{--notracebacks} and C{--logfile}.
    """

    def test_displayTracebacks(self) -> None:
        """
        C{--display-tracebacks} makes the site show tracebacks.
        """
        assert site(parse("--display-tracebacks")).displayTracebacks

    def test_noTracebacksByDefault(self) -> None:
        """
        By default the site shows no tracebacks.
        """
        assert not site(parse()).displayTracebacks

    @pytest.mark.parametrize("flag", ["-n", "--notracebacks"])
    def test_notracebacks(self, flag: str) -> None:
        """
        C{--notracebacks} is accepted with a deprecation warning, and changes
        nothing: tracebacks are hidden anyway.
        """
        with pytest.warns(FutureWarning, match="--notracebacks is deprecated"):
            options = parse(flag)
        assert not site(options).displayTracebacks

    def test_tracebacksContradiction(self) -> None:
        """
        Asking both to show and to hide tracebacks is a usage error.
        """
        message = usageError("--display-tracebacks", "--notracebacks")
        assert "contradict" in message

    def test_tracebackShown(self) -> None:
        """
        With C{--display-tracebacks} the 500 page shows the error raised.
        """
        args = ("--class", _name(FailingPage))
        _, _, hidden = splitResponse(converse(GET_ROOT, *args))
        _, _, shown = splitResponse(converse(GET_ROOT, *args, "--display-tracebacks"))
        assert b"rendering failed on purpose" not in hidden
        assert b"rendering failed on purpose" in shown

    @pytest.mark.parametrize("flag", ["-l", "--logfile"])
    def test_logfile(self, flag: str) -> None:
        """
        C{--logfile} and C{-l} name the site's access log.
        """
        options = parse(flag, "/var/log/web.log")
        assert options["logfile"] == "/var/log/web.log"
        assert site(options).logPath == "/var/log/web.log"

    def test_noLogfile(self) -> None:
        """
        Without C{--logfile} the site has no log file (the access log goes to
        the twistd log).
        """
        assert site(parse()).logPath is None

    def test_logfileWritten(self, tmp_path: Path) -> None:
        """
        A request served is logged to the C{--logfile} file in the Combined
        Log Format.
        """
        accessLog = tmp_path / "access.log"
        factory = site(parse("--logfile", str(accessLog)))
        factory.startFactory()
        try:
            exchange(factory, GET_ROOT)
            factory.flushLog()
        finally:
            factory.stopFactory()
        [line] = accessLog.read_text().splitlines()
        assert re.fullmatch(
            r'[0-9.]+ - - \[[^]]+\] "GET / HTTP/1\.1" 200 [0-9]+ "-" "-"', line
        ), line

    def test_accessLogFormatJSON(self, tmp_path: Path) -> None:
        """
        C{--access-log-format json} makes the site log each request as a JSON
        object on a line of its own; the default is the Combined Log Format.
        """
        assert site(parse())._logFormatter is http.combinedLogFormatter
        accessLog = tmp_path / "access.log"
        factory = site(
            parse("--logfile", str(accessLog), "--access-log-format", "json")
        )
        factory.startFactory()
        try:
            exchange(factory, GET_ROOT)
            factory.flushLog()
        finally:
            factory.stopFactory()
        [line] = accessLog.read_text().splitlines()
        entry = json.loads(line)
        assert (entry["method"], entry["target"], entry["status"]) == ("GET", "/", 200)

    def test_accessLogFormatUnknown(self) -> None:
        """
        An C{--access-log-format} that names no format is a usage error naming
        the formats there are.
        """
        with pytest.raises(usage.UsageError, match="combined, json"):
            parse("--access-log-format", "xml")

    def test_unknownOption(self) -> None:
        """
        An unknown option is a usage error naming it.
        """
        assert "--bogus" in usageError("--bogus")


class TestMakeService:
    """
    L{tap.makeService} builds one site and one listening service per endpoint.
    """

    def test_onePerListen(self) -> None:
        """
        The service holds one endpoint service per C{--listen}, in order, of
        the endpoint types asked for, all sharing one site.
        """
        options = parse(
            "--listen",
            "tcp:8081:interface=127.0.0.1",
            "--listen",
            "unix:/tmp/web-re-test.sock",
            "--listen",
            "tcp:8082",
        )
        service = tap.makeService(options)
        assert isinstance(service, MultiService)
        children = listeners(service)
        assert len(children) == 3
        assert all(isinstance(c, StreamServerEndpointService) for c in children)
        endpoints = [c.endpoint for c in children]
        assert isinstance(endpoints[0], TCP4ServerEndpoint)
        assert isinstance(endpoints[1], UNIXServerEndpoint)
        assert isinstance(endpoints[2], TCP4ServerEndpoint)
        factories = {id(c.factory) for c in children}
        assert len(factories) == 1

    def test_siteServesRoot(self, webroot: Path) -> None:
        """
        The factory is a L{server.Site} whose root is the resource the options
        made.
        """
        options = parse("--path", str(webroot))
        made = site(options)
        assert isinstance(made, server.Site)
        assert made.resource is options["root"]

    def test_default(self) -> None:
        """
        With no options the service listens on TCP port 8080 on every address.
        """
        options = parse()
        reactor = options.reactor
        assert isinstance(reactor, MemoryReactorClock)
        service = tap.makeService(options)
        service.startService()
        try:
            [(port, _factory, _backlog, interface)] = reactor.tcpServers
            assert (port, interface) == (8080, "")
        finally:
            service.stopService()

    def test_listensWhenStarted(self) -> None:
        """
        Starting the service listens on each endpoint with the site.
        """
        options = parse(
            "--listen", "tcp:8081:interface=127.0.0.1", "--listen", "tcp:8082"
        )
        reactor = options.reactor
        assert isinstance(reactor, MemoryReactorClock)
        service = tap.makeService(options)
        service.startService()
        try:
            ports = sorted((p, i) for p, _f, _b, i in reactor.tcpServers)
            assert ports == [(8081, "127.0.0.1"), (8082, "")]
        finally:
            service.stopService()

    def test_pluginMakesService(self) -> None:
        """
        The C{web-re} dropin points twistd at this module's L{tap.Options} and
        L{tap.makeService}.
        """
        from twisted.plugins import twisted_web_re as dropin

        maker = dropin.TwistedWebRe
        assert maker.tapname == "web-re"
        assert maker.options is tap.Options
        assert maker.makeService is tap.makeService


# Raw requests, and helpers to send them to the site C{twistd web-re} makes.
GET_ROOT = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
GET_ROOT_QUERY = b"GET /?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
HEAD_ROOT = b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n"
GET_OTHER = b"GET /other/page HTTP/1.1\r\nHost: example.com\r\n\r\n"
GET_CHILD = b"GET /child HTTP/1.1\r\nHost: example.com\r\n\r\n"
GET_MISSING = b"GET /missing HTTP/1.1\r\nHost: example.com\r\n\r\n"
POST_ROOT = b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\nhi"


def listeners(service: MultiService) -> list[StreamServerEndpointService]:
    """
    The endpoint services of a service made by L{tap.makeService}, in order.

    @param service: The service.
    @return: Its children that listen.
    """
    return [c for c in service if isinstance(c, StreamServerEndpointService)]


def site(options: tap.Options) -> Any:
    """
    The site of the service made from C{options}.

    @param options: Parsed options.
    @return: The factory every endpoint service shares.
    """
    return siteOf(tap.makeService(options))


def siteOf(service: MultiService) -> Any:
    """
    The site of a service made by L{tap.makeService}.

    @param service: The service.
    @return: The factory of its first endpoint service.
    """
    return next(
        c.factory for c in service if isinstance(c, StreamServerEndpointService)
    )


def exchange(factory: Any, request: bytes) -> bytes:
    """
    Send C{request} to C{factory} over a memory transport.

    @param factory: A site.
    @param request: One complete raw HTTP/1.1 request.
    @return: Everything the server wrote back.
    """
    channel = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 12345))
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(request)
    value: bytes = transport.value()
    channel.connectionLost(None)
    return value


def converse(request: bytes, *args: str) -> bytes:
    """
    Send C{request} to the site C{twistd web-re ARGS} makes.

    @param request: One complete raw HTTP/1.1 request.
    @param args: The command line after C{web-re}.
    @return: Everything the server wrote back.
    """
    return exchange(site(parse(*args)), request)


def withHeaders(request: bytes, *args: str) -> dict[bytes, list[bytes]]:
    """
    The response headers of C{request} to C{twistd web-re ARGS} with two
    C{--add-header}s for C{X-One} and C{X-Two}.
    """
    response = converse(
        request, *args, "--add-header", "X-One: 1", "--add-header", "X-Two: two"
    )
    return splitResponse(response)[1]


def splitResponse(response: bytes) -> tuple[bytes, dict[bytes, list[bytes]], bytes]:
    """
    Split one raw response into status line, headers and body.

    @param response: The bytes the server wrote.
    @return: The status line, the headers by lower-cased name, and the body.
    """
    head, _, body = response.partition(b"\r\n\r\n")
    statusLine, *lines = head.split(b"\r\n")
    headers: dict[bytes, list[bytes]] = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return statusLine, headers, body


class TestAddedHeadersServed:
    """
    The C{--add-header} headers are on every response the site sends, whatever
    the root and whatever the answer.
    """

    @pytest.mark.parametrize(
        "request_", [GET_ROOT, HEAD_ROOT, GET_OTHER, POST_ROOT], ids=repr
    )
    def test_demo(self, request_: bytes) -> None:
        """
        Every answer of the demo page, the 405 included, carries them.
        """
        headers = withHeaders(request_)
        assert headers[b"x-one"] == [b"1"]
        assert headers[b"x-two"] == [b"two"]

    def test_repeatedNames(self) -> None:
        """
        A name given twice is sent twice, in order.
        """
        response = converse(
            GET_ROOT, "--add-header", "Link: </a>", "--add-header", "Link: </b>"
        )
        assert splitResponse(response)[1][b"link"] == [b"</a>", b"</b>"]

    @pytest.mark.parametrize("request_", [GET_ROOT, GET_CHILD, GET_MISSING], ids=repr)
    def test_branchRoot(self, request_: bytes) -> None:
        """
        A root with children: its own page, a child's and a 404 carry them.
        """
        headers = withHeaders(request_, "--class", _name(BranchPage))
        assert headers[b"x-one"] == [b"1"]

    def test_leafRoot(self) -> None:
        """
        A leaf root carries them, and still answers: twisted.web's wrapper
        asks even a leaf root for a child, so with C{--add-header} a leaf
        root answers 404 to every URL.
        """
        response = converse(
            GET_OTHER, "--class", _name(LeafPage), "--add-header", "X-One: 1"
        )
        status, headers, body = splitResponse(response)
        assert status.startswith(b"HTTP/1.1 200 ")
        assert body == b"leaf"
        assert headers[b"x-one"] == [b"1"]

    def test_errorPage(self) -> None:
        """
        The 500 page sent in place of a resource that raised carries them,
        once.
        """
        response = converse(
            GET_ROOT, "--class", _name(FailingPage), "--add-header", "X-One: 1"
        )
        status, headers, _ = splitResponse(response)
        assert status.startswith(b"HTTP/1.1 500 ")
        assert headers[b"x-one"] == [b"1"]

    def test_streamed(self) -> None:
        """
        A body written in pieces carries them, once.
        """
        response = converse(
            GET_ROOT, "--class", _name(StreamingPage), "--add-header", "X-One: 1"
        )
        _, headers, body = splitResponse(response)
        assert headers[b"x-one"] == [b"1"]
        assert b"first" in body

    def test_resourceReplaces(self) -> None:
        """
        A resource that sets a header of the same name replaces the added
        one, as with C{twistd web}.
        """
        headers = withHeaders(GET_ROOT, "--class", _name(OwnHeaderPage))
        assert headers[b"x-one"] == [b"mine"]
        assert headers[b"x-two"] == [b"two"]

    def test_staticFiles(self, webroot: Path) -> None:
        """
        Under C{--path}, a file, a directory's index and a missing file's 404
        carry them.
        """
        for request_ in [
            b"GET /notes.txt HTTP/1.1\r\nHost: x\r\n\r\n",
            GET_ROOT,
            GET_MISSING,
        ]:
            headers = withHeaders(request_, "--path", str(webroot))
            assert headers[b"x-one"] == [b"1"], request_

    def test_headersNotShared(self) -> None:
        """
        Headers added for one site do not leak into another's responses.
        """
        converse(GET_ROOT, "--add-header", "X-First: 1")
        _, headers, _ = splitResponse(converse(GET_ROOT, "--add-header", "X-Second: 2"))
        assert b"x-first" not in headers
        assert headers[b"x-second"] == [b"2"]

    def test_plainSiteWithout(self) -> None:
        """
        Without C{--add-header} the site is a plain L{server.Site}, its
        requests plain L{server.Request}s: nothing is added to the hot path.
        """
        made = site(parse())
        assert type(made) is server.Site
        assert made.requestFactory is server.Request


class TestDemoPage:
    """
    The page C{twistd web-re} serves when told to serve nothing else.
    """

    def test_root(self) -> None:
        """
        With no root option the root is the demo page, as C{twistd web}
        serves its own demo page.
        """
        assert isinstance(parse()["root"], DemoPage)

    @pytest.mark.parametrize(
        "request_", [GET_ROOT, GET_ROOT_QUERY, GET_OTHER], ids=repr
    )
    def test_get(self, request_: bytes) -> None:
        """
        C{GET} answers 200 with the HTML page saying the server runs, at
        every path, as twisted.web's demo does.
        """
        status, headers, body = splitResponse(converse(request_))
        assert status.startswith(b"HTTP/1.1 200 ")
        assert headers[b"content-type"] == [b"text/html; charset=utf-8"]
        assert body == DEMO_PAGE
        assert headers[b"content-length"] == [b"%d" % (len(body),)]

    def test_head(self) -> None:
        """
        C{HEAD /} answers 200 with the page's length but no body.
        """
        status, headers, body = splitResponse(converse(HEAD_ROOT))
        assert status.startswith(b"HTTP/1.1 200 ")
        assert headers[b"content-length"] == [b"%d" % (len(DEMO_PAGE),)]
        assert body == b""

    def test_otherMethod(self) -> None:
        """
        Any method but C{GET} and C{HEAD} answers 405 and says which methods
        are allowed.
        """
        status, headers, _ = splitResponse(converse(POST_ROOT))
        assert status.startswith(b"HTTP/1.1 405 ")
        assert headers[b"allow"] == [b"GET, HEAD"]


# -- --wsgi -------------------------------------------------------------------

#: How long a test waits for the thread pool to answer or to stop.
THREAD_DEADLINE = 10.0


def helloApplication(
    environ: dict[str, Any], startResponse: Callable[..., Any]
) -> Iterable[bytes]:
    """
    The howto's WSGI application, with a length, named by C{--wsgi}.
    """
    startResponse("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "12")])
    return [b"Hello World!"]


def echoApplication(
    environ: dict[str, Any], startResponse: Callable[..., Any]
) -> Iterable[bytes]:
    """
    A WSGI application answering with its path and the request body it read.
    """
    body = environ["wsgi.input"].read()
    page = environ["PATH_INFO"].encode("latin-1") + b" " + body
    startResponse("200 OK", [("Content-Length", str(len(page)))])
    return [page]


def failingApplication(
    environ: dict[str, Any], startResponse: Callable[..., Any]
) -> Iterable[bytes]:
    """
    A WSGI application that raises.
    """
    raise RuntimeError("the application failed")


class ThreadedMemoryReactor(MemoryReactorClock):
    """
    A memory reactor that also takes calls from other threads, and runs them
    on the test's thread when the test pumps it: enough for the thread pool
    of C{--wsgi} to answer requests and to stop.
    """

    def __init__(self) -> None:
        super().__init__()
        self._fromThreads: queue.Queue[tuple[Callable[..., object], tuple[Any, ...]]]
        self._fromThreads = queue.Queue()

    def callFromThread(self, f: Callable[..., object], *args: Any) -> None:
        """
        Queue C{f(*args)} to run on the test's thread.
        """
        self._fromThreads.put((f, args))

    def pumpUntil(self, done: Callable[[], bool]) -> None:
        """
        Run the calls made from other threads, and those due now, until
        C{done()} is true, or fail after L{THREAD_DEADLINE}.

        @param done: Tells whether to stop.
        """
        deadline = time.monotonic() + THREAD_DEADLINE
        while not done():
            self.advance(0)
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"not done within {THREAD_DEADLINE}s")
            try:
                f, args = self._fromThreads.get(timeout=min(left, 0.05))
            except queue.Empty:
                continue
            f(*args)


def parseThreaded(*args: str) -> tap.Options:
    """
    Parse C{args} against a L{ThreadedMemoryReactor}.

    @param args: The command line after C{web-re}.
    @return: The parsed options.
    """
    options = tap.Options(reactor=ThreadedMemoryReactor())
    options.parseOptions(list(args))
    return options


def poolService(service: MultiService) -> Any:
    """
    The service running the thread pool of C{--wsgi}.

    @param service: A service made by L{tap.makeService}.
    @return: Its first child, which must be that service.
    """
    first = next(iter(service))
    assert isinstance(first, ThreadPoolService)
    return first


def stopAndWait(service: MultiService, reactor: ThreadedMemoryReactor) -> None:
    """
    Stop C{service} and pump C{reactor} until it has stopped.

    @param service: A running service made by L{tap.makeService}.
    @param reactor: Its reactor.
    """
    stopped = service.stopService()
    assert isinstance(stopped, Deferred)
    reactor.pumpUntil(lambda: stopped.called)


def _complete(response: bytes) -> bool:
    """
    Tell whether C{response} is one whole response with a Content-Length.
    """
    head, separator, body = response.partition(b"\r\n\r\n")
    if not separator:
        return False
    match = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return match is not None and len(body) >= int(match.group(1))


def wsgiExchange(request: bytes, *args: str) -> bytes:
    """
    Send C{request} to the site C{twistd web-re ARGS} makes, with its
    service running, and return the whole response.

    @param request: One complete raw HTTP/1.1 request.
    @param args: The command line after C{web-re}.
    @return: Everything the server wrote back.
    """
    options = parseThreaded(*args)
    reactor = options.reactor
    assert isinstance(reactor, ThreadedMemoryReactor)
    service = tap.makeService(options)
    service.startService()
    try:
        channel = siteOf(service).buildProtocol(IPv4Address("TCP", "127.0.0.1", 12345))
        transport = StringTransport()
        channel.makeConnection(transport)
        channel.dataReceived(request)
        reactor.pumpUntil(lambda: _complete(transport.value()))
        response: bytes = transport.value()
        channel.connectionLost(None)
    finally:
        stopAndWait(service, reactor)
    return response


class TestWSGI:
    """
    C{--wsgi}: serve a WSGI application, calling it in a thread pool that
    runs with the service.
    """

    def test_root(self) -> None:
        """
        The root is a L{wsgi.WSGIResource}, and the thread pool it calls the
        application in is made but not started: it starts with the service.
        """
        options = parse("--wsgi", _name(helloApplication))
        assert isinstance(options["root"], wsgi.WSGIResource)
        pool = options["threadpool"]
        assert isinstance(pool, ThreadPool)
        assert not pool.started
        assert pool.threads == []

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            (
                "no_such_module.application",
                "--wsgi: cannot find 'no_such_module.application': ObjectNotFound: ",
            ),
            (
                f"{__name__}.noSuchApplication",
                f"--wsgi: cannot find '{__name__}.noSuchApplication': AttributeError: ",
            ),
            ("", "--wsgi: cannot find '': "),
            ("application", "--wsgi: cannot find 'application': "),
        ],
    )
    def test_notFound(self, name: str, expected: str) -> None:
        """
        An application that cannot be imported is a one-line usage error
        saying why.
        """
        message = usageError("--wsgi", name)
        assert message.startswith(expected)
        assert "\n" not in message

    @pytest.mark.parametrize(
        ("name", "typeName"), [(f"{__name__}.NOT_CALLABLE", "int"), ("re", "module")]
    )
    def test_notCallable(self, name: str, typeName: str) -> None:
        """
        A name that is not a callable (a number, a module) is a usage error.
        """
        assert usageError("--wsgi", name) == (
            f"--wsgi: {name!r} is a {typeName}, not a WSGI application (a callable)"
        )

    @pytest.mark.parametrize(("args", "option"), PATH_ONLY)
    def test_pathOptions(self, args: list[str], option: str) -> None:
        """
        The options of C{--path} are usage errors with C{--wsgi}.
        """
        message = usageError("--wsgi", _name(helloApplication), *args)
        assert message == f"--{option} only applies to --path"

    def test_site(self, tmp_path: Path) -> None:
        """
        C{--wsgi} works together with C{--listen}, C{--add-header},
        C{--logfile} and C{--display-tracebacks}; its site finds the resource
        from the request head, so that the application can read C{wsgi.input}
        while the body arrives.
        """
        log = tmp_path / "access.log"
        options = parse(
            "--wsgi",
            _name(helloApplication),
            "--listen",
            "tcp:8081:interface=127.0.0.1",
            "--add-header",
            "X-One: 1",
            "--logfile",
            str(log),
            "--display-tracebacks",
        )
        made = site(options)
        assert made.resource is options["root"]
        assert made.locateBeforeBody
        assert made.displayTracebacks
        assert made.extraHeaders == ((b"X-One", b"1"),)
        assert made.logPath == str(log)

    def test_otherRootsNotLocatedEarly(self, webroot: Path) -> None:
        """
        The other roots keep twisted.web's order: the resource is found once
        the whole body has arrived.
        """
        assert not site(parse()).locateBeforeBody
        assert not site(parse("--path", str(webroot))).locateBeforeBody

    def test_serviceStructure(self) -> None:
        """
        The thread pool runs in a service of its own, the first child, so
        that it starts before the server listens and stops after it has
        stopped listening; then the service shutting down HTTP/2
        connections gracefully, stopped after the server stops listening;
        one endpoint service per C{--listen} follows.
        """
        options = parse(
            "--wsgi",
            _name(helloApplication),
            "--listen",
            "tcp:8081",
            "--listen",
            "tcp:8082",
        )
        service = tap.makeService(options)
        children = list(service)
        assert len(children) == 4
        assert poolService(service).pool is options["threadpool"]
        assert isinstance(children[1], HTTP2ShutdownService)
        assert all(isinstance(c, StreamServerEndpointService) for c in children[2:])

    def test_noPoolService(self, webroot: Path) -> None:
        """
        Without C{--wsgi} there is no thread pool, and no service for one.
        """
        for options in (parse(), parse("--path", str(webroot))):
            service = tap.makeService(options)
            assert options["threadpool"] is None
            first, *others = service
            assert isinstance(first, HTTP2ShutdownService)
            assert all(isinstance(c, StreamServerEndpointService) for c in others)

    def test_poolStartsAndStops(self) -> None:
        """
        Starting the service starts the thread pool; stopping it stops the
        pool and, once the L{Deferred} it returns has fired, every thread of
        the pool (and the one that stopped it) has ended.
        """
        options = parseThreaded("--wsgi", _name(helloApplication))
        reactor = options.reactor
        assert isinstance(reactor, ThreadedMemoryReactor)
        pool = options["threadpool"]
        service = tap.makeService(options)
        service.startService()
        assert pool.started
        ran = threading.Event()
        pool.callInThread(ran.set)
        assert ran.wait(THREAD_DEADLINE)
        assert pool.threads
        stopAndWait(service, reactor)
        assert not pool.started
        assert pool.joined
        assert [t for t in pool.threads if t.is_alive()] == []
        assert [t.name for t in threading.enumerate() if "web-re-wsgi" in t.name] == []

    def test_stopDoesNotBlockTheReactor(self) -> None:
        """
        Stopping waits for a worker that is itself waiting for the reactor
        thread, without blocking that thread: the service stops once the
        worker's call has run on it.
        """
        options = parseThreaded("--wsgi", _name(helloApplication))
        reactor = options.reactor
        assert isinstance(reactor, ThreadedMemoryReactor)
        pool = options["threadpool"]
        service = tap.makeService(options)
        service.startService()
        ranOnReactor = threading.Event()

        def work() -> None:
            reactor.callFromThread(ranOnReactor.set)
            assert ranOnReactor.wait(THREAD_DEADLINE)

        pool.callInThread(work)
        stopped = service.stopService()
        assert isinstance(stopped, Deferred)
        assert not stopped.called
        reactor.pumpUntil(lambda: stopped.called)
        assert ranOnReactor.is_set()
        assert [t for t in pool.threads if t.is_alive()] == []

    def test_serves(self) -> None:
        """
        The site answers with what the application returns.
        """
        response = wsgiExchange(GET_ROOT, "--wsgi", _name(helloApplication))
        status, headers, body = splitResponse(response)
        assert status == b"HTTP/1.1 200 OK"
        assert headers[b"content-type"] == [b"text/plain"]
        assert body == b"Hello World!"

    def test_readsBody(self) -> None:
        """
        The application reads the request body from C{wsgi.input}.
        """
        request = (
            b"POST /some/path HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"
            b"hello there"
        )
        response = wsgiExchange(request, "--wsgi", _name(echoApplication))
        assert splitResponse(response)[2] == b"/some/path hello there"

    @pytest.mark.parametrize("request_", [GET_ROOT, GET_OTHER, POST_ROOT])
    def test_addHeader(self, request_: bytes) -> None:
        """
        With C{--add-header}, the application's answers carry the headers
        (C{twistd web --wsgi} answers 500 to every request when given
        C{--add-header}).
        """
        response = wsgiExchange(
            request_,
            "--wsgi",
            _name(helloApplication),
            "--add-header",
            "X-One: 1",
            "--add-header",
            "X-Two: two",
        )
        status, headers, body = splitResponse(response)
        assert status == b"HTTP/1.1 200 OK"
        assert headers[b"x-one"] == [b"1"]
        assert headers[b"x-two"] == [b"two"]
        assert body == b"Hello World!"

    def test_addHeaderOnError(self) -> None:
        """
        An application that raises gets a 500, which carries the C{--add-header}
        headers too.
        """
        response = wsgiExchange(
            GET_ROOT, "--wsgi", _name(failingApplication), "--add-header", "X-One: 1"
        )
        status, headers, _ = splitResponse(response)
        assert status.startswith(b"HTTP/1.1 500 ")
        assert headers[b"x-one"] == [b"1"]
