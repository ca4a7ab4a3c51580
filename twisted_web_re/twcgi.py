"""
CGI: publishing programs that answer requests through the Common Gateway
Interface (RFC 3875), one process per request.

L{CGIScript} runs one program; L{CGIDirectory} publishes a directory of
them; L{FilteredScript} runs an interpreter on a script file (L{PHPScript},
or the howto's Perl example).  The program gets a minimal environment of
RFC 3875 meta-variables, never the server's own, and never an C{HTTP_PROXY}
taken from a request (httpoxy).  The request body streams to its standard
input and its output streams back, with back-pressure both ways; its
standard error goes to the log; a program that misbehaves earns a 502 or a
504 and a log line, and is killed when it hangs or the client leaves.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.logger import Logger
from twisted.python.filepath import FilePath
from zope.interface import implementer

from twisted_web_re import http, resource, server
from twisted_web_re._files.paths import entryWithin, isDangerous, nameOf
from twisted_web_re._gateways.cgiinput import CGIUpload
from twisted_web_re._gateways.cgiprocess import (
    DEFAULT_TIMEOUT,
    KILL_GRACE,
    CGIProcessProtocol,
    spawnProgram,
)
from twisted_web_re._gateways.reactor import CGIReactor
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._publish.oserror import (
    isForbidden,
    isMissing,
    unavailable,
)
from twisted_web_re._publish.traversal import siteRequest
from twisted_web_re.iweb import IRequest
from twisted_web_re.server import Request
from twisted_web_re.static import File, dangerousPathError

__all__ = [
    "CGIDirectory",
    "CGIProcessProtocol",
    "CGIScript",
    "FilteredScript",
    "PHP3Script",
    "PHPScript",
]

_log = Logger()

#: The C{PATH} a program gets when the server has none to pass on.
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

# Request header fields that do not become HTTP_* meta-variables: those the
# body's own meta-variables stand for (RFC 3875 section 4.1.18), the framing
# the script never sees, and Proxy, whose HTTP_PROXY would point the proxy
# settings of the script's HTTP library at the client's choice of server
# (httpoxy, CVE-2016-5385).


_NOT_PASSED = frozenset(
    {b"content-length", b"content-type", b"proxy", b"transfer-encoding"}
)
# Credentials, passed only with CGIScript.passAuthorization (section 4.1.18
# lets the server keep them from the script).
_CREDENTIALS = frozenset({b"authorization", b"proxy-authorization"})
# A field name that maps to one meta-variable name only: X_Forwarded_For and
# X-Forwarded-For would both be HTTP_X_FORWARDED_FOR, so names holding "_"
# (or anything but letters, digits and "-") are dropped, as Apache 2.4 and
# nginx drop them.
_PASSED_NAME = re.compile(rb"[A-Za-z0-9-]+")


def _contentLength(request: Request) -> int | None:
    """
    The length of the body of C{request}, complete in C{request.content}, or
    C{None} if the request has none (RFC 3875 section 4.1.2: CONTENT_LENGTH
    is set if and only if there is a body).
    """
    content = request.content
    length = 0
    if content is not None:
        content.seek(0, 2)
        length = content.tell()
        content.seek(0, 0)
    headers = request.requestHeaders
    if (
        length
        or headers.hasHeader(b"content-length")
        or headers.hasHeader(b"transfer-encoding")
    ):
        return length
    return None


def _documentRoot(request: Request) -> str | None:
    """
    The directory the site's root resource publishes, if it publishes one:
    where PATH_TRANSLATED maps PATH_INFO (RFC 3875 section 4.1.6).
    """
    root = getattr(getattr(request, "site", None), "resource", None)
    if isinstance(root, FilePath) and os.path.isdir(root.path):
        return os.path.abspath(root.path)
    return None


def _cgiEnvironment(
    request: Request,
    filename: str,
    contentLength: int | None,
    passEnvironment: Iterable[str],
    passAuthorization: bool,
) -> dict[str, str]:
    """
    Build the environment of a CGI program answering C{request}: the
    variables named in C{passEnvironment} that the server has (and C{PATH},
    the server's or L{DEFAULT_PATH}), then the RFC 3875 meta-variables.

    @param filename: the program's script file, for SCRIPT_FILENAME.
    @param contentLength: the length of the request body, or C{None} if the
        request has none.
    @param passAuthorization: pass C{Authorization} and
        C{Proxy-Authorization} on as HTTP_* variables.
    @return: variable names to values, none holding NUL.  They are built
        from bytes and decoded as C{os.fsdecode} does, so that the program
        gets the very bytes of, say, a header value that is not UTF-8.
    """
    env: dict[bytes, bytes] = {}
    for name in passEnvironment:
        value = os.environ.get(name)
        if value is not None:
            env[os.fsencode(name)] = os.fsencode(value)
    env.setdefault(b"PATH", os.fsencode(DEFAULT_PATH))

    secure = request.isSecure()
    port = request.getRequestPort() or (443 if secure else 80)
    uri = request.uri
    env[b"GATEWAY_INTERFACE"] = b"CGI/1.1"
    env[b"SERVER_SOFTWARE"] = server.version
    env[b"SERVER_NAME"] = request.getRequestHostname()
    env[b"SERVER_PORT"] = b"%d" % port
    env[b"SERVER_PROTOCOL"] = request.clientproto
    env[b"REQUEST_METHOD"] = request.method
    env[b"REQUEST_URI"] = uri
    env[b"QUERY_STRING"] = uri.partition(b"?")[2]
    # Segments are decoded, as RFC 3875 sections 4.1.5 and 4.1.13 want; a
    # script that is the site's root has an empty SCRIPT_NAME.
    env[b"SCRIPT_NAME"] = b"".join(b"/" + segment for segment in request.prepath)
    env[b"SCRIPT_FILENAME"] = os.fsencode(os.path.abspath(filename))
    if secure:
        env[b"HTTPS"] = b"on"
    documentRoot = _documentRoot(request)
    if documentRoot is not None:
        env[b"DOCUMENT_ROOT"] = os.fsencode(documentRoot)
    if request.postpath:
        pathInfo = b"".join(b"/" + segment for segment in request.postpath)
        env[b"PATH_INFO"] = pathInfo
        if documentRoot is not None:
            env[b"PATH_TRANSLATED"] = (
                os.fsencode(documentRoot.rstrip(os.sep)) + pathInfo
            )

    address = request.getClientAddress()
    if isinstance(address, (IPv4Address, IPv6Address)):
        ip = address.host.encode("ascii")
        # Section 4.1.9 allows REMOTE_HOST to be the address when the name
        # is not looked up; a DNS lookup per request would stall the server.
        env[b"REMOTE_ADDR"] = env[b"REMOTE_HOST"] = ip
        if address.port:
            env[b"REMOTE_PORT"] = b"%d" % address.port
    user = request.getUser()
    if user:
        env[b"AUTH_TYPE"] = b"Basic"
        env[b"REMOTE_USER"] = user

    if contentLength is not None:
        env[b"CONTENT_LENGTH"] = b"%d" % contentLength
    headers = request.requestHeaders
    contentType = headers.getRawHeaders(b"content-type")
    if contentType:
        env[b"CONTENT_TYPE"] = contentType[-1]
    for spelled, values in headers.getAllRawHeaders():
        field = spelled.lower()
        if field in _NOT_PASSED or (field in _CREDENTIALS and not passAuthorization):
            continue
        if _PASSED_NAME.fullmatch(field) is None:
            continue
        # Section 4.1.18: repeated fields become one value of the same
        # meaning; cookies are joined as the Cookie field joins them.
        joiner = b"; " if field == b"cookie" else b", "
        env[b"HTTP_" + field.upper().replace(b"-", b"_")] = joiner.join(values)
    authority = request.getTargetAuthority()
    if authority is not None:
        # A target in absolute form overrides Host (RFC 9112 section 3.2.2).
        env[b"HTTP_HOST"] = authority
    # execve() cannot pass a value holding NUL; none of these should hold one,
    # but a value set by other code is not checked by the wire layer.
    return {
        os.fsdecode(key): os.fsdecode(value.replace(b"\x00", b""))
        for key, value in env.items()
    }


@implementer(resource.IStreamingUpload)
class CGIScript(resource.Resource):
    """
    A resource that runs a CGI program (RFC 3875) for every request, and
    answers with what it writes.

    Path segments after the script's own are its PATH_INFO.  The program's
    environment holds the RFC 3875 meta-variables and, of the server's
    environment, only the variables named in L{passEnvironment}.  It runs in
    its own directory.

    On a site with C{locateBeforeBody} set, the program starts as soon as
    the request head arrives, and the body streams to it as it arrives
    (a chunked body is spooled first, so that CONTENT_LENGTH can be given).

    @ivar filename: the program.
    @ivar registry: the registry a L{File} processor is given; unused.
    @cvar timeout: seconds a program may go without progress (no output
        read from it, no request body written to it, no response taken by the
        client); then it is killed, and the client gets a 504 if nothing was
        sent yet.  C{None}: no limit.
    @cvar killGrace: seconds between the SIGTERM and the SIGKILL that end a
        program that timed out or whose client went away.
    @cvar passEnvironment: names of the server's environment variables
        passed on to programs.  C{PATH} is L{DEFAULT_PATH} if not passed.
    @cvar passAuthorization: pass the C{Authorization} and
        C{Proxy-Authorization} fields on as HTTP_AUTHORIZATION and
        HTTP_PROXY_AUTHORIZATION, for a program that checks credentials
        itself (Apache's C{CGIPassAuth}).  Off: other programs need not see
        the passwords.
    """

    isLeaf = True
    timeout: float | None = DEFAULT_TIMEOUT
    killGrace: float = KILL_GRACE
    passEnvironment: Sequence[str] = ("PATH", "TZ", "LANG", "LC_ALL")
    passAuthorization = False

    def __init__(
        self,
        filename: str | bytes | os.PathLike[str],
        registry: object = None,
        reactor: CGIReactor | None = None,
    ) -> None:
        """
        @param filename: the CGI program.
        @param registry: unused; the signature of a L{File} processor.
        @param reactor: the reactor to run the program with; the global one
            by default, found when a request comes.
        """
        super().__init__()
        self.filename = os.fsdecode(filename)
        self.registry = registry
        self._reactor = reactor
        # The bodies that stream to programs as they arrive, by request.
        self._uploads: dict[http.Request, CGIUpload] = {}

    def _notFound(self, request: Request) -> resource.ErrorPage | None:
        """
        The error to answer instead of running the program, if any: 404 when
        the script file is missing or not a regular file (503 when the
        server cannot tell, for a disk error, say), or when PATH_INFO
        would hold NUL or a decoded C{%2F} (RFC 3875 section 4.1.5 lets the
        server refuse what would lose information).
        """
        for segment in request.postpath:
            if b"/" in segment or b"\x00" in segment:
                return resource.NoResource("Invalid request URL.")
        try:
            info = os.stat(self.filename)
        except OSError as error:
            if isMissing(error) or isForbidden(error):
                return resource.NoResource("No such CGI script.")
            return unavailable(error, self.filename)
        if not stat.S_ISREG(info.st_mode):
            return resource.NoResource("No such CGI script.")
        return None

    def render(self, request: IRequest) -> bytes | int:
        """
        Run the program with the request's meta-variables and answer with its
        output (or, with a streamed body, carry on the program started when
        the head arrived).

        @raise TypeError: C{request} is not a Site's request.
        """
        request = siteRequest(request)
        upload = self._uploads.pop(request, None)
        if upload is not None and upload.piped:
            upload.complete()
            return server.NOT_DONE_YET
        # No body, or a spooled one: complete in request.content now.
        notFound = self._notFound(request)
        if notFound is not None:
            return notFound.render(request)
        env = _cgiEnvironment(
            request,
            self.filename,
            _contentLength(request),
            self.passEnvironment,
            self.passAuthorization,
        )
        self.runProcess(env, request)
        return server.NOT_DONE_YET

    def uploadStarted(self, request: http.Request, length: int | None) -> int | None:
        """
        The head of a request with a body arrived (on a site with
        C{locateBeforeBody}): start the program now, and stream the body to
        it; a body of unknown length is spooled, and the program started
        once it is complete.

        @raise TypeError: C{request} is not a Site's request.
        """
        request = siteRequest(request)
        notFound = self._notFound(request)
        if notFound is not None:
            return notFound.code
        self._uploads[request] = CGIUpload(request, spool=length is None)
        # A body that never completes (the client went away) is forgotten.
        request.notifyFinish().addBoth(lambda _: self._uploads.pop(request, None))
        if length is None:
            return None
        env = _cgiEnvironment(
            request, self.filename, length, self.passEnvironment, self.passAuthorization
        )
        self.runProcess(env, request)
        return None

    def uploadReceived(self, request: http.Request, data: bytes) -> None:
        """The next piece of a streamed body: on to the program."""
        upload = self._uploads.get(request)
        if upload is not None:
            upload.received(data)

    def runProcess(
        self, env: dict[str, str], request: Request, qargs: Sequence[str] = ()
    ) -> None:
        """
        Start the program for C{request}.  Override this to run it otherwise
        (see L{FilteredScript}).

        @param env: its environment.
        @param qargs: arguments after the program's name.  The server passes
            none: see C{doc/cgi.md} on RFC 3875 section 4.4.
        """
        self._spawn(request, env, [self.filename, *qargs])

    def _spawn(self, request: Request, env: dict[str, str], argv: list[str]) -> None:
        """
        Run C{argv} (whose first item must be an executable file) in the
        script's directory, answering C{request} with its output; answer
        500 if it cannot be run, or 503 if the server is short of the
        descriptors, memory or processes it takes to run it.
        """
        reactor: CGIReactor = resolveReactor(self._reactor)
        protocol = CGIProcessProtocol(
            request,
            script=self.filename,
            timeout=self.timeout,
            killGrace=self.killGrace,
            reactor=reactor,
            upload=self._uploads.get(request),
        )
        spawnProgram(
            protocol,
            reactor,
            argv,
            env,
            os.path.dirname(os.path.abspath(self.filename)),
        )


class FilteredScript(CGIScript):
    """
    A CGI script run by an interpreter: the program L{filter}, given the
    script's file name as its argument.

    @cvar filter: the interpreter's path.
    """

    filter = "/usr/bin/cat"

    def runProcess(
        self, env: dict[str, str], request: Request, qargs: Sequence[str] = ()
    ) -> None:
        """Run L{filter} on the script."""
        self._spawn(request, env, [self.filter, self.filename, *qargs])


class _PHP(FilteredScript):
    """
    A PHP script: php-cgi refuses to run (its C{cgi.force_redirect}
    safeguard) unless the server says, with REDIRECT_STATUS, that it started
    it for a request, as Apache's and nginx's PHP set-ups do.
    """

    def runProcess(
        self, env: dict[str, str], request: Request, qargs: Sequence[str] = ()
    ) -> None:
        """Run the PHP interpreter on the script, with REDIRECT_STATUS set."""
        env["REDIRECT_STATUS"] = "200"
        super().runProcess(env, request, qargs)


class PHP3Script(_PHP):
    """A PHP 3 script, run by C{/usr/bin/php3}."""

    filter = "/usr/bin/php3"


class PHPScript(_PHP):
    """A PHP script, run by C{/usr/bin/php-cgi}."""

    filter = "/usr/bin/php-cgi"


class CGIDirectory(resource.Resource, FilePath[str]):  # type: ignore[misc]
    """
    Publishes a directory of CGI programs: each file is a L{CGIScript}, each
    subdirectory another L{CGIDirectory}.  The directory itself is not
    listed (404).

    A URL reaches nothing outside the directory: segments that
    L{isDangerous} rejects, names that are not UTF-8, dotfiles, and symbolic
    links leading out of the tree (unless C{followSymlinks}) give 404, as
    L{File} does.
    """

    def __init__(
        self,
        pathname: str | bytes | os.PathLike[str],
        *,
        followSymlinks: bool = False,
    ) -> None:
        """
        @param pathname: the directory.
        @param followSymlinks: follow symbolic links that lead out of it.
        """
        resource.Resource.__init__(self)
        FilePath.__init__(self, os.fsdecode(pathname))
        self.followSymlinks = followSymlinks
        self._root = self.path

    def getChild(self, path: bytes, request: IRequest) -> resource.IResource:
        """
        Return the program or directory C{path} names, this directory for the
        empty segment, or a 404 page.
        """
        if not path:
            return self
        if isDangerous(path):
            return dangerousPathError
        name = nameOf(path)
        if name is None:
            return File.childNotFound
        try:
            child = entryWithin(
                self.path, name, self._root, followSymlinks=self.followSymlinks
            )
        except OSError as error:
            return unavailable(error, os.path.join(self.path, name))
        if child is None:
            return File.childNotFound
        if os.path.isdir(child):
            directory = CGIDirectory(child, followSymlinks=self.followSymlinks)
            directory._root = self._root
            return directory
        return CGIScript(child)

    def render(self, request: IRequest) -> bytes:
        """A directory of programs is not listed: 404."""
        return resource.NoResource(
            "A directory of CGI scripts cannot be listed."
        ).render(request)
