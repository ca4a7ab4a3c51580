"""
Tests for L{twisted_web_re.tap}: the options of C{twistd web-re} and the
service they make, plus the demo page that service answers with.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService
from twisted.internet.endpoints import (
    SSL4ServerEndpoint,
    TCP4ServerEndpoint,
    UNIXServerEndpoint,
)
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python import usage

from twisted_web_re import tap
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

# Options whose feature is not built yet, each with a command line giving it
# and the module named in the error.
NOT_BUILT_YET = [
    (["--path", "/srv/www"], "path", "static"),
    (["--wsgi", "app.application"], "wsgi", "wsgi"),
    (["--user"], "user", "distrib"),
    (["-u"], "user", "distrib"),
    (["--personal"], "personal", "distrib"),
    (["--resource-script", "root.rpy"], "resource-script", "script"),
    (["--class", "app.Root"], "class", "resource"),
    (["--processor", ".rpy=app.Processor"], "processor", "static"),
    (["--index", "home.html"], "index", "static"),
    (["-i", "home.html"], "index", "static"),
    (["--mime-type", "text/plain"], "mime-type", "static"),
    (["-m", "text/plain"], "mime-type", "static"),
    (["--ignore-ext", ".html"], "ignore-ext", "static"),
    (["--allow-ignore-ext"], "allow-ignore-ext", "static"),
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

    def test_describesDemo(self) -> None:
        """
        The help text says what the server does when given no options.
        """
        text = tap.Options().getUsage(width=100)
        assert "tcp:8080" in text
        assert "serverFromString" in text

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
        assert description.startswith("ssl:8443:")
        assert f"privateKey={key}" in description.replace("\\", "")
        assert f"certKey={cert}" in description.replace("\\", "")

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
        [child] = list(service)
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


class TestOtherOptions:
    """
    The options that are accepted now, and those that wait for later modules.
    """

    @pytest.mark.parametrize(("args", "option", "module"), NOT_BUILT_YET)
    def test_notBuiltYet(self, args: list[str], option: str, module: str) -> None:
        """
        An option whose feature is not built yet is a one-line usage error
        naming the option and the module that will bring it.
        """
        message = usageError(*args)
        assert message == (
            f"--{option} arrives with twisted_web_re.{module} (not built yet)"
        )

    def test_processorSyntax(self) -> None:
        """
        C{--processor} without C{ext=class} is a usage error about its syntax.
        """
        message = usageError("--processor", "nonsense")
        assert "ext=class" in message

    @pytest.mark.parametrize("flag", ["-l", "--logfile"])
    def test_logfile(self, flag: str) -> None:
        """
        C{--logfile} and C{-l} name the access log.
        """
        assert parse(flag, "/var/log/web.log")["logfile"] == "/var/log/web.log"

    def test_displayTracebacks(self) -> None:
        """
        C{--display-tracebacks} is accepted and recorded.
        """
        assert parse("--display-tracebacks")["display-tracebacks"]

    @pytest.mark.parametrize("flag", ["-n", "--notracebacks"])
    def test_notracebacks(self, flag: str) -> None:
        """
        C{--notracebacks} is accepted and recorded.
        """
        assert parse(flag)["notracebacks"]

    def test_tracebacksContradiction(self) -> None:
        """
        Asking both to show and to hide tracebacks is a usage error.
        """
        message = usageError("--display-tracebacks", "--notracebacks")
        assert "contradict" in message

    def test_unknownOption(self) -> None:
        """
        An unknown option is a usage error naming it.
        """
        assert "--bogus" in usageError("--bogus")


class TestMakeService:
    """
    L{tap.makeService} builds one listening service per endpoint.
    """

    def test_onePerListen(self) -> None:
        """
        The service holds one endpoint service per C{--listen}, in order, of
        the endpoint types asked for, all sharing one factory.
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
        children = list(service)
        assert len(children) == 3
        assert all(isinstance(c, StreamServerEndpointService) for c in children)
        endpoints = [c.endpoint for c in children]
        assert isinstance(endpoints[0], TCP4ServerEndpoint)
        assert isinstance(endpoints[1], UNIXServerEndpoint)
        assert isinstance(endpoints[2], TCP4ServerEndpoint)
        factories = {id(c.factory) for c in children}
        assert len(factories) == 1

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
        Starting the service listens on each endpoint with the factory.
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


# Raw requests and what the demo page answers to each.
GET_ROOT = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
GET_ROOT_QUERY = b"GET /?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"
HEAD_ROOT = b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n"
GET_OTHER = b"GET /other HTTP/1.1\r\nHost: example.com\r\n\r\n"
POST_ROOT = b"POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2\r\n\r\nhi"


def converse(request: bytes, *headers: str) -> bytes:
    """
    Send C{request} to the service C{twistd web-re} makes and return the
    response bytes.

    @param request: One complete raw HTTP/1.1 request.
    @param headers: C{--add-header} arguments.
    @return: Everything the server wrote back.
    """
    from twisted.internet.address import IPv4Address

    args: list[str] = []
    for header in headers:
        args += ["--add-header", header]
    options = parse(*args)
    [child] = list(tap.makeService(options))
    factory = child.factory
    channel = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 12345))
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(request)
    value: bytes = transport.value()
    channel.connectionLost(None)
    return value


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


class TestDemoPage:
    """
    The page C{twistd web-re} serves when told to serve nothing else.
    """

    def test_getRoot(self) -> None:
        """
        C{GET /} answers 200 with the HTML page saying the server runs.
        """
        status, headers, body = splitResponse(converse(GET_ROOT))
        assert status.startswith(b"HTTP/1.1 200 ")
        assert headers[b"content-type"] == [b"text/html; charset=utf-8"]
        assert b"twisted_web_re is running" in body
        assert headers[b"content-length"] == [b"%d" % (len(body),)]

    def test_queryIgnored(self) -> None:
        """
        A query string does not change the page.
        """
        status, _, body = splitResponse(converse(GET_ROOT_QUERY))
        assert status.startswith(b"HTTP/1.1 200 ")
        assert b"twisted_web_re is running" in body

    def test_head(self) -> None:
        """
        C{HEAD /} answers 200 with the page's length but no body.
        """
        from twisted_web_re._demo import DEMO_PAGE

        status, headers, body = splitResponse(converse(HEAD_ROOT))
        assert status.startswith(b"HTTP/1.1 200 ")
        assert headers[b"content-length"] == [b"%d" % (len(DEMO_PAGE),)]
        assert body == b""

    def test_otherPath(self) -> None:
        """
        Any path but C{/} answers 404, without echoing the path.
        """
        status, _, body = splitResponse(converse(GET_OTHER))
        assert status.startswith(b"HTTP/1.1 404 ")
        assert b"other" not in body

    def test_otherMethod(self) -> None:
        """
        Any method but C{GET} and C{HEAD} on C{/} answers 405 and says which
        methods are allowed.
        """
        status, headers, _ = splitResponse(converse(POST_ROOT))
        assert status.startswith(b"HTTP/1.1 405 ")
        assert headers[b"allow"] == [b"GET, HEAD"]

    @pytest.mark.parametrize("request_", [GET_ROOT, HEAD_ROOT, GET_OTHER, POST_ROOT])
    def test_addedHeaders(self, request_: bytes) -> None:
        """
        Every response, errors included, carries the C{--add-header} headers,
        repeated names included.
        """
        _, headers, _ = splitResponse(
            converse(request_, "X-One: 1", "X-Two: two", "X-Two: again")
        )
        assert headers[b"x-one"] == [b"1"]
        assert headers[b"x-two"] == [b"two", b"again"]

    def test_headersNotShared(self) -> None:
        """
        Headers added for one service do not leak into another's responses.
        """
        converse(GET_ROOT, "X-First: 1")
        _, headers, _ = splitResponse(converse(GET_ROOT, "X-Second: 2"))
        assert b"x-first" not in headers
        assert headers[b"x-second"] == [b"2"]
