"""
The C{twistd web-re} command line: turn options into a running web service.

L{Options} accepts the same options as C{twistd web}, so a command line written
for Twisted Web works here unchanged; L{makeService} turns the parsed options
into one listening service per C{--listen} endpoint.  Every mistake on the
command line becomes a one-line L{usage.UsageError}, never a traceback.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import TypeVar, cast

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IReactorCore, IStreamServerEndpoint
from twisted.python import usage

from twisted_web_re._version import __version__

__all__ = ["Options", "makeService"]

#: Where a server listens when the command line names no endpoint at all.
DEFAULT_LISTEN = "tcp:8080"

# RFC 9110 section 5.6.2: a field name is a token, one or more of these.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")

# RFC 9110 section 5.5: a field value never holds CR, LF or NUL, and the other
# control characters (all but HTAB) are invalid too.  Letting CR or LF through
# would let a command line split one response header into two.
_FORBIDDEN_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")

# The options whose feature lives in a module that is not written yet, each
# with the module that will bring it.  Giving one is a usage error until then,
# rather than a server that silently ignores what it was asked to do.
_NOT_BUILT_YET: dict[str, str] = {
    "path": "static",
    "wsgi": "wsgi",
    "user": "distrib",
    "personal": "distrib",
    "resource-script": "script",
    "class": "resource",
    "processor": "static",
    "index": "static",
    "mime-type": "static",
    "ignore-ext": "static",
    "allow-ignore-ext": "static",
}


def _oneLine(text: str) -> str:
    """
    Fold C{text} onto one line, so that an error message stays one line.

    @param text: Any message, possibly spread over several lines.
    @return: C{text} with each run of whitespace replaced by one space.
    """
    return " ".join(text.split())


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
    method.__doc__ = _oneLine(method.__doc__ or "")
    return method


def _quoteDescriptionValue(value: str) -> str:
    """
    Escape C{value} so that an endpoint description reads it as one argument.

    @param value: A file name or other text to embed in a description.
    @return: C{value} with every backslash, colon and equals sign escaped by a
        backslash, as L{serverFromString} expects.
    """
    return re.sub(r"([\\:=])", r"\\\1", value)


def _parseHeader(text: str) -> tuple[bytes, bytes]:
    """
    Parse a C{"Name: value"} header given on the command line.

    @param text: The argument of C{--add-header}.
    @return: The header's name and value as bytes, with the whitespace around
        the value removed.  The value is encoded as UTF-8.
    @raise usage.UsageError: If C{text} has no colon, its name is not an HTTP
        token, or its value holds a control character such as CR or LF.
    """
    name, colon, value = text.partition(":")
    if not colon:
        raise usage.UsageError(
            f'--add-header wants "Name: value", got {text!r} (no colon)'
        )
    if not _TOKEN.match(name):
        raise usage.UsageError(
            f"--add-header: {name!r} is not a valid header name"
            " (letters, digits and !#$%&'*+-.^_`|~ only, no spaces)"
        )
    value = value.strip(" \t")
    if _FORBIDDEN_IN_VALUE.search(value):
        raise usage.UsageError(
            f"--add-header: the value of {name} holds a control character"
            f" (CR, LF, NUL...): {value!r}"
        )
    return name.encode("ascii"), value.encode("utf-8")


class Options(usage.Options):
    """
    The options of C{twistd web-re}: those of C{twistd web}, with stricter checks.

    After L{parseOptions}, C{self["listen"]} holds every endpoint description
    to listen on (never empty), C{self["add-header"]} the extra response
    headers as C{(name, value)} byte pairs, and C{self["logfile"]} the access
    log path or L{None}.

    @ivar reactor: The reactor endpoints are checked against and made for, or
        L{None} for the global reactor.
    """

    synopsis = "[web-re options]"

    longdesc = (
        "Start a web server built on twisted_web_re. With no options it listens"
        f" on {DEFAULT_LISTEN} and serves a small page confirming that it runs."
        " Give --listen once per endpoint to listen on, in the syntax of"
        " twisted.internet.endpoints.serverFromString, for example"
        " tcp:8080:interface=127.0.0.1, unix:/run/web.sock or"
        " ssl:8443:privateKey=key.pem:certKey=cert.pem."
    )

    optFlags = [
        [
            "user",
            "u",
            "Serve ~/public_html for each user, and each user's own server"
            " through ~/.twistd-web-pb.",
        ],
        [
            "personal",
            None,
            "Run a personal server that a --user server forwards to, listening"
            " on the --listen endpoints or, by default, on ~/.twistd-web-pb.",
        ],
        [
            "allow-ignore-ext",
            None,
            "Let a request for 'foo' find the file 'foo.ext' with any extension.",
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
    ]

    optParameters = [
        [
            "logfile",
            "l",
            None,
            "Write an access log in the Combined Log Format to this file.",
        ],
        [
            "https",
            None,
            None,
            "(deprecated: use --listen ssl:PORT:...) Also listen for HTTPS on"
            " this port, with --certificate and --privkey.",
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
            "Serve this file or directory as the root of the site.",
        ],
        [
            "wsgi",
            None,
            None,
            "Serve the WSGI application with this fully qualified Python name.",
        ],
        [
            "resource-script",
            None,
            None,
            "Serve the resource made by this .rpy script as the root of the site.",
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
            "The content type of static files whose type is unknown.",
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
        Add this header, written "Name: value", to every response. Repeat to
        add several.
        """
        self["add-header"].append(_parseHeader(header))

    @_helpText
    def opt_index(self, name: str) -> None:
        """
        Look for a file of this name to show for a directory. Repeat to look
        for several, in order. [default: index, index.html]
        """
        self["index"].append(name)

    opt_i = opt_index

    @_helpText
    def opt_ignore_ext(self, ext: str) -> None:
        """
        Let a request for 'foo' find 'foo' plus this extension. Repeat to try
        several, in order.
        """
        self["ignore-ext"].append(ext)

    @_helpText
    def opt_processor(self, spec: str) -> None:
        """
        Render files ending in ext with the class named by its fully qualified
        Python name, written ext=class.
        """
        ext, equals, className = spec.partition("=")
        if not equals or not ext or not className:
            raise usage.UsageError(f"--processor wants ext=class, got {spec!r}")
        self["processor"][ext] = className

    def postOptions(self) -> None:
        """
        Check the options as a whole and settle the endpoints to listen on.

        @raise usage.UsageError: If an option needs a module that is not built
            yet, two options contradict each other, or an endpoint description
            cannot be used.
        """
        for option, module in _NOT_BUILT_YET.items():
            if self[option]:
                raise usage.UsageError(
                    f"--{option} arrives with twisted_web_re.{module} (not built yet)"
                )
        if self["display-tracebacks"] and self["notracebacks"]:
            raise usage.UsageError(
                "--display-tracebacks and --notracebacks contradict each other"
            )
        if self["https"] is not None:
            _warnDeprecated(
                "--https is deprecated: use --listen"
                " ssl:PORT:privateKey=KEY:certKey=CERT instead"
            )
            self["listen"].append(
                "ssl:{}:privateKey={}:certKey={}".format(
                    _quoteDescriptionValue(self["https"]),
                    _quoteDescriptionValue(self["privkey"]),
                    _quoteDescriptionValue(self["certificate"]),
                )
            )
        if not self["listen"]:
            self["listen"].append(DEFAULT_LISTEN)
        for description in self["listen"]:
            _parseEndpoint(description, self.reactor)


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
        has bad arguments, or refers to a file (such as a certificate) that
        cannot be read.
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
        raise usage.UsageError(
            _oneLine(f"cannot listen on {description!r}: {e.__class__.__name__}: {e}")
        ) from e
    return endpoint


def makeService(config: Options) -> MultiService:
    """
    Make the service that serves what C{config} asks for.

    @param config: Parsed L{Options}; its C{reactor} is the one to listen with.
    @return: A L{MultiService} holding one L{StreamServerEndpointService} per
        endpoint in C{config["listen"]}, all serving one shared HTTP factory
        that answers with the demo page of L{twisted_web_re._demo}.
    """
    from twisted_web_re._demo import demoFactory

    factory = demoFactory(
        extraHeaders=config["add-header"],
        logPath=config["logfile"],
        reactor=config.reactor,
    )
    service = MultiService()
    for description in config["listen"] or [DEFAULT_LISTEN]:
        endpoint = _parseEndpoint(description, config.reactor)
        StreamServerEndpointService(endpoint, factory).setServiceParent(service)
    return service
