"""
The C{twistd web-re} command line: turn options into a running web service.

L{Options} accepts the same options as C{twistd web}, so a command line written
for Twisted Web works here unchanged; L{makeService} turns the parsed options
into a L{server.Site} listening on every C{--listen} endpoint.  Every mistake
on the command line becomes a one-line L{usage.UsageError}, never a traceback.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from typing import Any, TypeVar, cast

from OpenSSL import SSL, crypto
from twisted.application.service import IServiceCollection, MultiService
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import (
    IReactorCore,
    IStreamServerEndpoint,
)
from twisted.python import usage
from twisted.python.threadpool import ThreadPool

from twisted_web_re import distrib, script, server, static, twcgi, wsgi
from twisted_web_re._distrib.personal import (
    makePersonalServerFactory,
    personalListen,
)
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._protocols.tlshandshake import useOwnSelection, useSecureDefaults
from twisted_web_re._run.demo import DemoPage
from twisted_web_re._run.listening import (
    ListeningService,
    checkPort,
    choosesTLSMethod,
)
from twisted_web_re._run.optionvalues import (
    accessLogFormat,
    checkFileName,
    checkMediaType,
    hstsSeconds,
    makeInstance,
    namedObject,
    oneLine,
    parseHeader,
    shutdownDeadline,
)
from twisted_web_re._run.services import (
    DEFAULT_SHUTDOWN_DEADLINE,
    HeaderAddingSite,
    HTTP2ShutdownService,
    ThreadPoolService,
    hstsHeader,
)
from twisted_web_re._version import __version__

__all__ = ["Options", "makePersonalServerFactory", "makeService"]

#: Where a server listens when the command line names no endpoint at all.
DEFAULT_LISTEN = "tcp:8080"


# The options that each choose what the site serves at its root.
_ROOT_OPTIONS = ("path", "class", "resource-script", "wsgi")

# The options that configure the static.File that --path makes, and nothing
# else: given without --path they would silently do nothing.
_PATH_OPTIONS = ("index", "processor", "mime-type", "ignore-ext", "allow-ignore-ext")


def _warnDeprecated(message: str) -> None:
    """
    Tell the user of the command line that an option they gave is deprecated.

    The warning is a L{FutureWarning}, the category Python shows by default
    because it is meant for the users of a program, and it is attributed to
    the command line rather than to a line of code they never wrote.

    @param message: What is deprecated and what to use instead.
    """
    warnings.warn_explicit(message, FutureWarning, "twistd web-re", 0)


_Method = TypeVar("_Method", bound=Callable[..., object])


def _helpText(method: _Method) -> _Method:
    """
    Fold the docstring of an C{opt_} method onto one line.

    L{usage.Options} shows that docstring as the option's C{--help} text
    exactly as written, so without this the indentation of its continuation
    lines would show up as gaps in the middle of sentences.

    @param method: An C{opt_} method whose docstring is its help text.
    @return: C{method} itself, its docstring folded.
    """
    method.__doc__ = oneLine(method.__doc__ or "")
    return method


def _quoteDescriptionValue(value: str) -> str:
    """
    Escape C{value} so that an endpoint description reads it as one argument.

    @param value: A file name or other text to embed in a description.
    @return: C{value} with every backslash, colon and equals sign escaped by a
        backslash, as L{serverFromString} expects.
    """
    return re.sub(r"([\\:=])", r"\\\1", value)


def _isGiven(value: object) -> bool:
    """
    Tell whether an option was given on the command line.

    @param value: The option's value after parsing.
    @return: Whether it differs from every default an option starts with:
        L{None} for a parameter, C{0} for a flag, an empty list or dictionary
        for a repeatable option.  An empty string was given.
    """
    return value not in (None, 0, [], {})


class Options(usage.Options):
    """
    The options of C{twistd web-re}: those of C{twistd web}, with stricter checks.

    After L{parseOptions}, C{self["root"]} holds the resource to serve at
    C{/}, C{self["listen"]} every endpoint description to listen on (never
    empty), C{self["add-header"]} the extra response headers as
    C{(name, value)} byte pairs, C{self["logfile"]} the access log path or
    L{None}, and C{self["threadpool"]} the thread pool that C{--wsgi} calls
    its application in, not yet started, or L{None} without C{--wsgi}.

    @ivar reactor: The reactor endpoints are checked against and made for, or
        L{None} for the global reactor.
    """

    synopsis = "[web-re options]"

    longdesc = (
        "Start a web server built on twisted_web_re. It serves one of: --path"
        " (the files of a directory, running .rpy resource scripts, .epy"
        " Python scripts and .cgi CGI programs), --class, --resource-script or"
        " --wsgi (a WSGI application, run in a thread pool that starts and"
        " stops with the server); with none of them, a demo page. It listens"
        " on each --listen endpoint, in the syntax of"
        " twisted.internet.endpoints.serverFromString, for example"
        " tcp:8080:interface=127.0.0.1, unix:/run/web.sock or"
        " ssl:8443:privateKey=key.pem:certKey=cert.pem; with none, on"
        f" {DEFAULT_LISTEN}. --user serves each user's ~/public_html and"
        " personal server; --personal publishes the site over PB for a --user"
        " server, by default on unix:~/.twistd-web-pb (see doc/distrib.md)."
    )

    optFlags = [
        [
            "user",
            "u",
            "Serve each user's ~/public_html at /USER/ and each user's personal"
            " server (on ~/.twistd-web-pb) at /USER.twistd/.",
        ],
        [
            "personal",
            None,
            "Publish the site over PB for a --user server to relay to, on"
            " --listen or else on the owner-only socket ~/.twistd-web-pb.",
        ],
        [
            "allow-ignore-ext",
            None,
            "With --path, let a request for 'foo' find 'foo.EXT' for any"
            " extension, after those of --ignore-ext.",
        ],
        [
            "display-tracebacks",
            None,
            "Show the traceback of an error raised while rendering to the"
            " client. This exposes the server's internals: use it only for"
            " debugging.",
        ],
        [
            "notracebacks",
            "n",
            "(deprecated: tracebacks are hidden unless --display-tracebacks is"
            " given) Hide tracebacks from clients.",
        ],
        [
            "no-http2",
            None,
            "Serve no HTTP/2 at all: neither h2 to TLS clients choosing it by"
            " ALPN, nor h2c on cleartext ports.",
        ],
        [
            "no-h2c",
            None,
            "Serve no cleartext HTTP/2 (h2c): a connection starting with the"
            " HTTP/2 preface is then answered in HTTP/1.1. HTTPS still offers"
            " h2.",
        ],
        [
            "h2c-upgrade",
            None,
            "Also switch a cleartext connection to HTTP/2 when its first"
            " request asks with Upgrade: h2c. Off by default: behind a proxy"
            " that relays upgraded connections blindly, it would let clients"
            " send requests the proxy never sees.",
        ],
        [
            "hsts-include-subdomains",
            None,
            "With --hsts, make the policy cover every subdomain too.",
        ],
    ]

    optParameters = [
        [
            "hsts",
            None,
            None,
            "Send Strict-Transport-Security: max-age=SECONDS on every response"
            " over HTTPS (never over cleartext), telling browsers to use only"
            " HTTPS for this host for that long",
            hstsSeconds,
        ],
        [
            "shutdown-deadline",
            None,
            DEFAULT_SHUTDOWN_DEADLINE,
            "Seconds HTTP/2 connections are given, when the server stops, to"
            " finish the requests in flight (after telling clients to send no"
            " more) before they are closed.",
            shutdownDeadline,
        ],
        [
            "logfile",
            "l",
            None,
            "Write the access log to this file rather than to the twistd log.",
        ],
        [
            "access-log-format",
            None,
            "combined",
            "The access log's format: combined (the Combined Log Format) or json"
            " (one JSON object per request).",
            accessLogFormat,
        ],
        [
            "https",
            None,
            None,
            "(deprecated: use --listen ssl:PORT:...) Also listen for HTTPS on"
            " this port, with --certificate and --privkey. Options of an ssl:"
            " endpoint may follow the port, as in 8443:interface=127.0.0.1.",
        ],
        [
            "certificate",
            "c",
            "server.pem",
            "(deprecated: use --listen) The certificate file for --https.",
        ],
        [
            "privkey",
            "k",
            "server.pem",
            "(deprecated: use --listen) The private key file for --https.",
        ],
        [
            "path",
            None,
            None,
            "Serve this directory (or file) as the root of the site. Files"
            " ending in .rpy run as resource scripts, .epy as Python scripts"
            " and .cgi as CGI programs.",
        ],
        [
            "wsgi",
            None,
            None,
            "Serve the WSGI application with this fully qualified Python name,"
            " such as package.module.application, as the root of the site,"
            " calling it in a pool of threads.",
        ],
        [
            "resource-script",
            None,
            None,
            "Serve the resource this .rpy script makes as the root of the site,"
            " running the script again for each request.",
        ],
        [
            "class",
            None,
            None,
            "Serve an instance of the resource class with this fully qualified"
            " Python name, made with no arguments, as the root of the site.",
        ],
        [
            "mime-type",
            "m",
            None,
            "With --path, the Content-Type of files whose type the extension"
            " does not tell. [default: text/html]",
        ],
    ]

    def __init__(self, reactor: IReactorCore | None = None) -> None:
        """
        Start with no endpoints, no extra headers and no static file options.

        @param reactor: The reactor to make endpoints for; the global reactor,
            looked up when first needed, when L{None}.
        """
        super().__init__()
        self.reactor = reactor
        self["root"] = None
        self["threadpool"] = None
        self["listen"] = []
        self["add-header"] = []
        self["index"] = []
        self["ignore-ext"] = []
        self["processor"] = {}

    @_helpText
    def opt_version(self) -> None:
        """
        Display the twisted_web_re version and exit.
        """
        print(f"twisted_web_re {__version__}")
        raise SystemExit(0)

    @_helpText
    def opt_listen(self, description: str) -> None:
        """
        Listen on this endpoint, given in serverFromString syntax such as
        tcp:PORT or unix:PATH (see below). Repeat to listen on several.
        [default: tcp:8080]
        """
        self["listen"].append(description)

    @_helpText
    def opt_port(self, port: str) -> None:
        """
        (deprecated: use --listen) Listen on this endpoint; a bare port number
        means tcp:PORT.
        """
        _warnDeprecated("--port is deprecated: use --listen instead")
        if port.isdigit():
            port = f"tcp:{port}"
        self["listen"].append(port)

    opt_p = opt_port

    @_helpText
    def opt_add_header(self, header: str) -> None:
        """
        Add this header, written "Name: value", to every response, error pages
        included. Repeat to add several.
        """
        self["add-header"].append(parseHeader(header))

    @_helpText
    def opt_index(self, name: str) -> None:
        """
        With --path, show the file of this name for a directory. Repeat to
        look for several, in order. [default: index, index.html, index.htm,
        index.rpy]
        """
        self["index"].append(checkFileName("index", name))

    opt_i = opt_index

    @_helpText
    def opt_ignore_ext(self, ext: str) -> None:
        """
        With --path, let a request for 'foo' find 'foo' plus this extension
        (such as .html) when there is no 'foo'. Repeat to try several, in
        order.
        """
        self["ignore-ext"].append(checkFileName("ignore-ext", ext))

    @_helpText
    def opt_processor(self, spec: str) -> None:
        """
        With --path, render files ending in .ext with the resource factory
        named by its fully qualified Python name, written
        .ext=package.module.Factory; the factory is called with the file's
        path and the registry. Repeat for several extensions.
        """
        ext, equals, name = spec.partition("=")
        if not equals or not name or not ext.startswith(".") or len(ext) < 2:
            raise usage.UsageError(
                "--processor wants .ext=package.module.Factory, such as"
                f" .php=mysite.PHPScript, got {spec!r}"
            )
        self["processor"][checkFileName("processor", ext).lower()] = namedObject(
            "processor", name
        )

    def postOptions(self) -> None:
        """
        Check the options as a whole, settle the endpoints to listen on, and
        make the root resource.

        @raise usage.UsageError: If an option needs a module that is not built
            yet, two options contradict each other, an option is given that
            only applies to another one that is missing, an endpoint
            description cannot be used, or the root cannot be made.
        """
        if self["display-tracebacks"] and self["notracebacks"]:
            raise usage.UsageError(
                "--display-tracebacks and --notracebacks contradict each other"
            )
        if self["notracebacks"]:
            _warnDeprecated(
                "--notracebacks is deprecated: tracebacks are hidden unless"
                " --display-tracebacks is given"
            )
        roots = [option for option in _ROOT_OPTIONS if self[option] is not None]
        roots += ["user"] if self["user"] else []
        if len(roots) > 1:
            raise usage.UsageError(
                f"--{roots[0]} and --{roots[1]} each choose what to serve:"
                " give only one of them"
            )
        if self["h2c-upgrade"] and (self["no-http2"] or self["no-h2c"]):
            off = "--no-http2" if self["no-http2"] else "--no-h2c"
            raise usage.UsageError(f"--h2c-upgrade and {off} contradict each other")
        if self["hsts-include-subdomains"] and self["hsts"] is None:
            raise usage.UsageError("--hsts-include-subdomains only applies to --hsts")
        if self["path"] is None:
            for option in _PATH_OPTIONS:
                if _isGiven(self[option]):
                    raise usage.UsageError(f"--{option} only applies to --path")
        if self["https"] is not None:
            _warnDeprecated(
                "--https is deprecated: use --listen"
                " ssl:PORT:privateKey=KEY:certKey=CERT instead"
            )
            # The port may be followed by endpoint options
            # (--https=8443:interface=127.0.0.1), so it is left unquoted.
            self["listen"].append(
                "ssl:port={}:privateKey={}:certKey={}".format(
                    self["https"],
                    _quoteDescriptionValue(self["privkey"]),
                    _quoteDescriptionValue(self["certificate"]),
                )
            )
        if self["personal"]:
            self["listen"] = personalListen(self["listen"])
        if not self["listen"]:
            self["listen"].append(DEFAULT_LISTEN)
        for description in self["listen"]:
            _parseEndpoint(description, self.reactor)
        self["root"] = self._makeRoot()

    def _makeRoot(self) -> object:
        """
        Make the resource that the options ask to serve at C{/}.

        @return: A L{static.File} for C{--path}, the instance of C{--class}, a
            L{script.ResourceScriptWrapper} for C{--resource-script}, a
            L{wsgi.WSGIResource} for C{--wsgi}, or else the demo page.
        @raise usage.UsageError: If the path or script does not exist, the
            class cannot be found or made, or makes no resource, or the WSGI
            application cannot be found or called.
        """
        if self["user"]:
            return distrib.UserDirectory()
        if self["path"] is not None:
            return self._makeFile(self["path"])
        if self["class"] is not None:
            return makeInstance(self["class"])
        if self["resource-script"] is not None:
            name = self["resource-script"]
            if not os.path.isfile(name):
                raise usage.UsageError(f"--resource-script: no such file: {name!r}")
            return script.ResourceScriptWrapper(os.path.abspath(name))
        if self["wsgi"] is not None:
            return self._makeWSGI(self["wsgi"])
        return DemoPage()

    def _makeWSGI(self, name: str) -> wsgi.WSGIResource:
        """
        Make the resource that C{--wsgi} asks for, and the thread pool its
        application is to be called in.

        The pool is made here but started only with the service (see
        L{ThreadPoolService}): a daemon forks after the options are read,
        and threads do not survive a fork.

        @param name: The argument of C{--wsgi}.
        @return: The resource, calling the application in
            C{self["threadpool"]}.
        @raise usage.UsageError: If the application cannot be imported or
            cannot be called.
        """
        application = namedObject("wsgi", name, "WSGI application (a callable)")
        self["threadpool"] = pool = ThreadPool(name="web-re-wsgi")
        return wsgi.WSGIResource(resolveReactor(self.reactor), pool, application)

    def _makeFile(self, path: str) -> static.File:
        """
        Make the L{static.File} that C{--path} asks for, with the settings of
        the other static file options.

        @param path: The argument of C{--path}.
        @return: The file resource, its processors those of C{twistd web}
            updated by C{--processor}; a leaf if C{path} is not a directory.
        @raise usage.UsageError: If C{path} does not exist, or is a file that
            a processor would run.
        """
        if not os.path.exists(path):
            raise usage.UsageError(f"--path: no such file or directory: {path!r}")
        root = static.File(os.path.abspath(path))
        root.processors = {
            ".rpy": script.ResourceScript,
            ".epy": script.PythonScript,
            ".cgi": twcgi.CGIScript,
            **self["processor"],
        }
        if self["index"]:
            root.indexNames = list(self["index"])
        if self["mime-type"] is not None:
            root.defaultType = checkMediaType(self["mime-type"])
        for ext in self["ignore-ext"]:
            root.ignoreExt(ext)
        if self["allow-ignore-ext"]:
            root.ignoreExt("*")
        if not os.path.isdir(path):
            ext = os.path.splitext(path)[1].lower()
            if ext in root.processors:
                # Processors apply to a directory's children, never to the
                # File itself: the script would be sent as a plain file.
                raise usage.UsageError(
                    f"--path: {path!r} is a {ext} file, which would be sent"
                    " rather than run: give its directory, or --resource-script"
                    " for a .rpy script"
                )
            # A File of a plain file has no children, so even "/" (whose one
            # segment is the empty one) would be 404, as with twistd web,
            # which promises to serve the file: a leaf serves it at every URL.
            root.isLeaf = True
        return root


#: What an C{ssl:} endpoint's files must hold, said when OpenSSL cannot load them.
_TLS_FILES_HINT = (
    "privateKey= must name a PEM private key and certKey= a PEM certificate;"
    " one PEM file holding both may be given as privateKey= alone"
)


def _parseEndpoint(
    description: str, reactor: IReactorCore | None = None
) -> IStreamServerEndpoint:
    """
    Make the endpoint for C{description}, or say in one line why it can't.

    @param description: An endpoint description from the command line.
    @param reactor: The reactor the endpoint will listen with; the global
        reactor when L{None}.
    @return: The endpoint, not yet listening.
    @raise usage.UsageError: If C{description} names an unknown endpoint type,
        has bad arguments or a TCP port out of range, or refers to a file
        (such as a certificate) that cannot be read.
    """
    if reactor is None:
        from twisted.internet import reactor as _reactor

        reactor = cast(IReactorCore, _reactor)
    try:
        endpoint: IStreamServerEndpoint = serverFromString(reactor, description)
    except Exception as e:
        # The endpoint parsers report a bad description with whatever they
        # happen to raise: ValueError for an unknown type, TypeError for an
        # unknown argument, KeyError, OSError or an SSL error for a missing
        # or unreadable certificate.  Here all of them are the user's mistake.
        message = f"cannot listen on {description!r}: {e.__class__.__name__}: {e}"
        if isinstance(e, (SSL.Error, crypto.Error)):
            # OpenSSL's own words ("no start line") do not say which file.
            message += f" ({_TLS_FILES_HINT})"
        raise usage.UsageError(oneLine(message)) from e
    checkPort(description)
    return endpoint


def _makeSite(config: Options) -> server.Site:
    """
    Make the site that serves C{config["root"]} as the options ask.

    @param config: Parsed L{Options}.
    @return: The site, with its access log, its tracebacks setting, the
        ways to HTTP/2 that are on, and, when C{--add-header} or C{--hsts}
        was given, the headers added to every response (or to every one
        over TLS).
    """
    root = config["root"]
    http2 = not config["no-http2"]
    settings: dict[str, Any] = {
        "logPath": config["logfile"],
        "reactor": config.reactor,
        "accessLogFormat": config["access-log-format"],
        "h2": http2,
        "h2cPriorKnowledge": http2 and not config["no-h2c"],
        "h2cUpgrade": config["h2c-upgrade"],
    }
    secureHeaders = []
    if config["hsts"] is not None:
        secureHeaders.append(
            hstsHeader(config["hsts"], config["hsts-include-subdomains"])
        )
    site = (
        HeaderAddingSite(root, config["add-header"], secureHeaders, **settings)
        if config["add-header"] or secureHeaders
        else server.Site(root, **settings)
    )
    if config["display-tracebacks"]:
        site.displayTracebacks = True
    if config["wsgi"] is not None or isinstance(root, distrib.UserDirectory):
        # The WSGI resource, or a user's personal server, is found from the
        # request head, so that the body reaches it while still arriving.
        site.locateBeforeBody = True
    return site


def makeService(config: Options) -> MultiService:
    """
    Make the service that serves what C{config} asks for.

    @param config: Parsed L{Options}; its C{reactor} is the one to listen with.
    @return: A L{MultiService} holding one
        L{twisted.application.internet.StreamServerEndpointService} per
        endpoint in C{config["listen"]}, all serving one shared L{server.Site};
        with C{--wsgi}, first of all a service running the application's
        thread pool, so that the pool starts before the server listens and
        stops after it has stopped listening.  When the root has a
        L{static.Registry}, the service is registered in it as the
        L{IServiceCollection}, for resource scripts to find, as C{twistd web}
        does.  Before the listening services, one that shuts the live
        HTTP/2 connections down gracefully when the server stops, within
        C{--shutdown-deadline}.  Every C{ssl:} endpoint whose description
        does not choose the TLS method (C{sslmethod=}) accepts TLS 1.2 and
        later only, with ciphers fit for HTTP/2.
    """
    service = MultiService()
    if config["threadpool"] is not None:
        ThreadPoolService(
            config["threadpool"], resolveReactor(config.reactor)
        ).setServiceParent(service)
    registry = getattr(config["root"], "registry", None)
    if isinstance(registry, static.Registry):
        registry.setComponent(IServiceCollection, service)
    site = _makeSite(config)
    if config["personal"]:
        factory = makePersonalServerFactory(site)
        for description in config["listen"]:
            ListeningService(
                description,
                factory,  # type: ignore[arg-type]
                config.reactor,
            ).setServiceParent(service)
        return service
    HTTP2ShutdownService(site, config["shutdown-deadline"]).setServiceParent(service)
    for description in config["listen"]:
        # A service that ends twistd in one line when it cannot listen (a port
        # in use, say), rather than running on without listening.
        listening = ListeningService(description, site, config.reactor)
        # Refuse a TLS client with whom no protocol is common as RFC 7301
        # asks, and say so in the log.
        useOwnSelection(listening.endpoint)
        if not choosesTLSMethod(description):
            useSecureDefaults(listening.endpoint)
        listening.setServiceParent(service)
    return service
