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

import enum
import os
import re
import shutil
import stat
from collections.abc import Iterable, Sequence
from io import BytesIO
from typing import IO, Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.interfaces import IDelayedCall, IPullProducer, IPushProducer
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.python.filepath import FilePath
from zope.interface import implementer

from twisted_web_re import resource, server
from twisted_web_re._cgiparse import (
    CGIHeadParser,
    CGIResponseHead,
    MalformedCGIResponse,
)
from twisted_web_re._reactor import resolveReactor
from twisted_web_re.static import File, dangerousPathError, isDangerous

__all__ = [
    "CGIDirectory",
    "CGIProcessProtocol",
    "CGIScript",
    "FilteredScript",
    "PHP3Script",
    "PHPScript",
]

_log = Logger()

#: Seconds a CGI program may go without progress (output read from it, input
#: written to it, output taken by the client) before it is killed: Apache's
#: C{Timeout} default.
DEFAULT_TIMEOUT = 60.0

#: Seconds between the SIGTERM that asks a program to end and the SIGKILL
#: that makes it (Apache waits 3 seconds, systemd 90; a CGI program has
#: nothing to save).
KILL_GRACE = 5.0

#: The C{PATH} a program gets when the server has none to pass on.
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"

#: Local redirects (RFC 3875 section 6.2.2) followed for one request before
#: answering 500: the precedent is Apache's C{LimitInternalRecursion}.
MAX_LOCAL_REDIRECTS = 10

#: Bytes of a spooled request body written to a program's input at a time.
BLOCK_SIZE = 64 * 1024

#: The longest line of a program's standard error logged whole.
STDERR_LINE_LIMIT = 4096

#: Bytes of one program's standard error logged at most; a program that
#: writes more cannot flood the log, and the rest is counted instead.
STDERR_LOG_LIMIT = 64 * 1024

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


def _contentLength(request: Any) -> int | None:
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


def _documentRoot(request: Any) -> str | None:
    """
    The directory the site's root resource publishes, if it publishes one:
    where PATH_TRANSLATED maps PATH_INFO (RFC 3875 section 4.1.6).
    """
    root = getattr(getattr(request, "site", None), "resource", None)
    if isinstance(root, FilePath) and os.path.isdir(root.path):
        return os.path.abspath(root.path)
    return None


def _cgiEnvironment(
    request: Any,
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
    port = getattr(request.getHost(), "port", None) or (443 if secure else 80)
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
    for name, values in headers.getAllRawHeaders():
        name = name.lower()
        if name in _NOT_PASSED or (name in _CREDENTIALS and not passAuthorization):
            continue
        if _PASSED_NAME.fullmatch(name) is None:
            continue
        # Section 4.1.18: repeated fields become one value of the same
        # meaning; cookies are joined as the Cookie field joins them.
        joiner = b"; " if name == b"cookie" else b", "
        env[b"HTTP_" + name.upper().replace(b"-", b"_")] = joiner.join(values)
    # execve() cannot pass a value holding NUL; none of these should hold one,
    # but a value set by other code is not checked by the wire layer.
    return {
        os.fsdecode(key): os.fsdecode(value.replace(b"\x00", b""))
        for key, value in env.items()
    }


class _State(enum.Enum):
    """
    Where a CGI response is.

    ::

        HEAD --head parsed--> BODY --output ended--> DONE
        HEAD --Location: /path--> REDIRECTING --request body done--> DONE
        HEAD/BODY --malformed, timeout, client gone--> DONE
    """

    HEAD = "head"
    BODY = "body"
    REDIRECTING = "redirecting"
    DONE = "done"


_TRANSITIONS: dict[_State, frozenset[_State]] = {
    _State.HEAD: frozenset({_State.BODY, _State.REDIRECTING, _State.DONE}),
    _State.BODY: frozenset({_State.DONE}),
    _State.REDIRECTING: frozenset({_State.DONE}),
    _State.DONE: frozenset(),
}


class _Upload:
    """
    A request body that a L{CGIScript} takes as it arrives (with
    C{Site.locateBeforeBody}): piped to the program's input, or, when its
    length is unknown (chunked), spooled to C{request.content} so that the
    program can be told CONTENT_LENGTH.

    @ivar protocol: the protocol of the program taking the body, once it is
        made.
    """

    def __init__(self, request: Any, spool: bool) -> None:
        self.request = request
        self.spool = spool
        self.protocol: CGIProcessProtocol | None = None

    def received(self, data: bytes) -> None:
        """Hand on the next piece of the body."""
        if self.protocol is not None:
            self.protocol._bodyReceived(data)
        elif self.spool:
            self.request.content.write(data)


@implementer(IPullProducer)
class _ContentFeeder:
    """
    Writes a complete request body, from its file, to a program's input a
    block at a time, as fast as the program reads it, then closes the input.
    """

    def __init__(self, protocol: CGIProcessProtocol, content: IO[bytes]) -> None:
        self._protocol = protocol
        self._content = content
        self._stopped = False

    def resumeProducing(self) -> None:
        """The input pipe drained: write the next block, or close it."""
        if self._stopped:
            return
        protocol = self._protocol
        data = self._content.read(BLOCK_SIZE)
        if data:
            protocol._touch()
            protocol.transport.write(data)  # type: ignore[union-attr]
            return
        self._stopped = True
        protocol._closeStdin()

    def stopProducing(self) -> None:
        """The input pipe is gone: write no more."""
        self._stopped = True


@implementer(IPushProducer)
class _UploadThrottle:
    """
    Slows a streamed request body down to the pace at which the program reads
    its input: registered with the input pipe, it pauses the upload while the
    pipe's buffer is full.
    """

    def __init__(self, protocol: CGIProcessProtocol) -> None:
        self._protocol = protocol

    def pauseProducing(self) -> None:
        """The program's input is full: stop reading the body."""
        self._protocol._pauseUpload(True)

    def resumeProducing(self) -> None:
        """The program's input drained: read the body again."""
        self._protocol._pauseUpload(False)

    def stopProducing(self) -> None:
        """The program's input is gone: the rest of the body is dropped."""
        self._protocol._pauseUpload(False)


class _ErrorLog:
    """
    Logs a program's standard error a line at a time, each line cut to
    L{STDERR_LINE_LIMIT} bytes and the whole to L{STDERR_LOG_LIMIT}.
    """

    def __init__(self, script: str) -> None:
        self._script = script
        self._partial = b""
        self._logged = 0
        self._dropped = 0

    def feed(self, data: bytes) -> None:
        """Log the complete lines of C{data}, keeping a partial last line."""
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > STDERR_LINE_LIMIT:
            lines.append(self._partial)
            self._partial = b""
        for line in lines:
            self._line(line)

    def close(self) -> None:
        """Standard error ended: log the last line, and what was dropped."""
        if self._partial:
            self._line(self._partial)
            self._partial = b""
        if self._dropped:
            _log.warn(
                "CGI script {script}: {count} more bytes of standard error "
                "were not logged",
                script=self._script,
                count=self._dropped,
            )

    def _line(self, line: bytes) -> None:
        line = line.rstrip(b"\r")
        if self._logged >= STDERR_LOG_LIMIT:
            self._dropped += len(line) + 1
            return
        self._logged += len(line) + 1
        if len(line) > STDERR_LINE_LIMIT:
            line = line[:STDERR_LINE_LIMIT] + b"..."
        _log.warn(
            "CGI script {script} (stderr): {line}",
            script=self._script,
            line=line.decode("utf-8", "backslashreplace"),
        )


@implementer(IPushProducer)
class CGIProcessProtocol(ProcessProtocol):
    """
    Answers a request with what a CGI program writes: parses its response
    head, streams its body to the client, and feeds it the request body.

    It is the body producer of its request: when the client reads slowly, the
    program's output is no longer read, so the program blocks rather than
    the server buffering its output.  Its standard error goes to the log.

    It answers 502 when the output does not start with a valid head
    (L{twisted_web_re._cgiparse}); when nothing moves for C{timeout} seconds
    (no output, no input taken, no output taken by the client), it kills the
    program and answers 504, or aborts the connection if part of the body
    was sent.  A program that times out, or whose client goes away, gets
    SIGTERM and, C{killGrace} seconds later, SIGKILL; so does a program
    still running when the reactor shuts down, which waits for it.

    @ivar request: the request answered.
    """

    def __init__(
        self,
        request: Any,
        script: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        killGrace: float = KILL_GRACE,
        reactor: Any = None,
    ) -> None:
        """
        @param request: the request to answer.
        @param script: the program's name for the log (by default the URL
            it answers).
        @param timeout: seconds without progress before the program is
            killed, or C{None} for never.
        @param killGrace: seconds between SIGTERM and SIGKILL.
        @param reactor: the reactor for timers; the global one by default.
        """
        self.request = request
        self._script = script or request.uri.decode("latin-1")
        self._timeout = timeout
        self._killGrace = killGrace
        self._reactor = resolveReactor(reactor)
        self._state = _State.HEAD
        self._parser = CGIHeadParser()
        self._head: CGIResponseHead | None = None
        self._location = b""
        self._errors = _ErrorLog(self._script)
        self._upload: _Upload | None = getattr(request, "_cgiUpload", None)
        if self._upload is not None:
            self._upload.protocol = self
        # Whether the whole request body has arrived (with a streamed body,
        # once the script is rendered).
        self._bodyDone = self._upload is None
        self._stdinOpen = True
        self._uploadPaused = False
        self._finishPending = False
        self._gone = False
        self._ended = False
        self._killing = False
        self._timer: IDelayedCall | None = None
        self._hardKill: IDelayedCall | None = None
        self._shutdownTrigger: Any = None
        self._stopWaiters: list[Deferred[None]] = []
        request.notifyFinish().addErrback(self._clientGone)

    def _setState(self, state: _State) -> None:
        if state not in _TRANSITIONS[self._state]:
            raise RuntimeError(f"bad CGI transition {self._state} -> {state}")
        self._state = state

    # -- the process ----------------------------------------------------------

    def connectionMade(self) -> None:
        """
        The program started: feed it the request body, start the timer, and
        make sure it does not outlive the server.
        """
        self._shutdownTrigger = self._reactor.addSystemEventTrigger(
            "before", "shutdown", self._serverStopping
        )
        if self._gone:
            self._kill()
            return
        transport: Any = self.transport
        if self._upload is None:
            content = self.request.content or BytesIO()
            transport.registerProducer(_ContentFeeder(self, content), False)
        else:
            transport.registerProducer(_UploadThrottle(self), True)
        self._updateTimer()

    def outReceived(self, data: bytes) -> None:
        """Parse the response head, then stream the body to the client."""
        state = self._state
        if state is _State.BODY:
            self._touch()
            self._write(data)
        elif state is _State.HEAD:
            self._touch()
            try:
                parsed = self._parser.feed(data)
            except MalformedCGIResponse as error:
                self._badGateway(str(error))
                return
            if parsed is not None:
                self._gotHead(*parsed)

    def errReceived(self, data: bytes) -> None:
        """Log what the program writes to its standard error."""
        self._errors.feed(data)

    def inConnectionLost(self) -> None:
        """
        The program's input is closed (by us, or by the program): the rest of
        a streamed body is dropped.
        """
        self._stdinOpen = False
        self._pauseUpload(False)

    def outConnectionLost(self) -> None:
        """The program's output ended: so does the response."""
        if self._state is _State.HEAD:
            try:
                self._parser.close()
            except MalformedCGIResponse as error:
                self._badGateway(str(error))
        elif self._state is _State.BODY:
            self.request.unregisterProducer()
            self._setState(_State.DONE)
            if self._killing:
                # Stopped (the reactor is shutting down): its output is cut.
                self._abort()
                return
            self._applyHead()
            self._finishPending = True
            self._finishWhenReady()

    def errConnectionLost(self) -> None:
        """The program's standard error ended: log its last line."""
        self._errors.close()

    def processEnded(self, reason: Failure) -> None:
        """
        The program exited and its pipes are closed: log how it ended if it
        failed, and stop its timers.
        """
        self._ended = True
        self._updateTimer()
        hardKill, self._hardKill = self._hardKill, None
        if hardKill is not None and hardKill.active():
            hardKill.cancel()
        if self._shutdownTrigger is not None:
            self._reactor.removeSystemEventTrigger(self._shutdownTrigger)
            self._shutdownTrigger = None
        exitCode = getattr(reason.value, "exitCode", 0)
        signal = getattr(reason.value, "signal", None)
        if signal is not None:
            (_log.info if self._killing else _log.error)(
                "CGI script {script} was killed by signal {signal}",
                script=self._script,
                signal=signal,
            )
        elif exitCode:
            _log.error(
                "CGI script {script} exited with status {code}",
                script=self._script,
                code=exitCode,
            )
        waiters, self._stopWaiters = self._stopWaiters, []
        for waiter in waiters:
            waiter.callback(None)

    # -- the response ---------------------------------------------------------

    def _gotHead(self, head: CGIResponseHead, rest: bytes) -> None:
        """The response head is complete; C{rest} starts the body."""
        location = head.location
        if location is not None and head.localRedirect:
            # RFC 3875 section 6.2.2: the script's body, and any more of the
            # request body, mean nothing now.
            self._location = location
            self._setState(_State.REDIRECTING)
            self._closeStdin()
            if self._bodyDone:
                self._reactor.callLater(0, self._redirect)
            return
        self._head = head
        self._setState(_State.BODY)
        self.request.registerProducer(self, True)
        if rest:
            self._write(rest)

    def _applyHead(self) -> None:
        """
        Make the parsed head the response's, when the first body bytes or the
        end of the output arrive: until then, a timeout can still answer 504.
        """
        head, self._head = self._head, None
        if head is None:
            return
        request = self.request
        if head.status is not None:
            request.setResponseCode(head.status, head.reason)
        elif head.location is not None:
            # Section 6.2.3: a client redirect is a 302.
            request.setResponseCode(302)
        headers = request.responseHeaders
        # The script's Content-Type, or none (section 6.3.1 says the server
        # should not guess), never the server's default.
        headers.removeHeader(b"content-type")
        if head.location is not None:
            headers.setRawHeaders(b"location", [head.location])
        for name, value in head.fields:
            headers.addRawHeader(name, value)

    def _write(self, data: bytes) -> None:
        self._applyHead()
        self.request.write(data)

    def _redirect(self) -> None:
        """
        Answer with another URL of this server, as if the client had asked
        for it with GET (HEAD stays HEAD) and no body, as Apache does.
        """
        if self._gone or self._state is not _State.REDIRECTING:
            return
        self._setState(_State.DONE)
        request = self.request
        count = getattr(request, "_cgiRedirects", 0) + 1
        if count > MAX_LOCAL_REDIRECTS:
            _log.error(
                "CGI script {script}: more than {limit} local redirects for "
                "{request!r}; the last was to {location!r}",
                script=self._script,
                limit=MAX_LOCAL_REDIRECTS,
                request=request,
                location=self._location,
            )
            self._answer(
                500, "Too Many Redirects", "The CGI script redirected too many times."
            )
            return
        request._cgiRedirects = count
        request._cgiUpload = None
        # Locate the new URL's resource afresh (not the one a
        # locateBeforeBody site found from the head).
        request._located = None
        headers = request.requestHeaders
        for name in (b"content-length", b"content-type", b"transfer-encoding"):
            headers.removeHeader(name)
        request.content = BytesIO()
        method = b"HEAD" if request.method == b"HEAD" else b"GET"
        request.requestReceived(method, self._location, request.clientproto)

    def _badGateway(self, problem: str) -> None:
        """The program's output is not a CGI response: answer 502."""
        _log.error(
            "CGI script {script} sent a malformed response: {problem}",
            script=self._script,
            problem=problem,
        )
        self._kill()
        self._answer(
            502, "Bad Gateway", "The CGI script did not send a valid response."
        )

    def _answer(self, code: int, brief: str, detail: str) -> None:
        """Answer with an error page, once nothing else will be sent."""
        if self._state is not _State.DONE:
            self._setState(_State.DONE)
        self._closeStdin()
        if self._gone:
            return
        request = self.request
        body = resource.ErrorPage(code, brief, detail).render(request)
        request.setHeader(b"content-length", b"%d" % len(body))
        request.write(body)
        self._finishPending = True
        self._finishWhenReady()

    def _abort(self) -> None:
        """
        Part of the body is sent, and the rest never will be: only closing
        the connection at once tells the client that it is incomplete.
        """
        transport = self.request.transport
        abort = getattr(transport, "abortConnection", None)
        if abort is not None:
            abort()
        else:
            transport.loseConnection()

    def _finishWhenReady(self) -> None:
        """
        Finish the response once it is complete and the request body has all
        arrived: a request must not end while the channel is still reading
        its body.
        """
        if self._finishPending and self._bodyDone and not self._gone:
            self._finishPending = False
            self.request.finish()

    def _cannotRun(self, problem: str) -> None:
        """
        The program could not be started: log why and answer 500.

        @param problem: why, for the log.
        """
        _log.error(
            "CGI script {script} cannot be run: {problem}",
            script=self._script,
            problem=problem,
        )
        # Answered in the next reactor turn: called from uploadStarted, an
        # answer now would go out before the channel's 100 Continue.
        self._reactor.callLater(
            0,
            self._answer,
            500,
            "CGI Script Error",
            "The server could not run the CGI script.",
        )

    # -- the request body, when it streams --------------------------------------

    def _bodyReceived(self, data: bytes) -> None:
        """The next piece of a streamed request body."""
        if self._stdinOpen and self.transport is not None:
            self._touch()
            self.transport.write(data)

    def _bodyComplete(self) -> None:
        """
        The whole of a streamed request body has arrived: close the
        program's input, and finish the response if it is complete.
        """
        # Resume a paused upload first: the channel must not be left paused
        # for the connection's next request.
        self._closeStdin()
        self._bodyDone = True
        if self._state is _State.REDIRECTING:
            self._reactor.callLater(0, self._redirect)
        self._finishWhenReady()

    def _pauseUpload(self, paused: bool) -> None:
        """Pause or resume a streamed request body (dropped once unwanted)."""
        paused = paused and self._stdinOpen and not self._gone and not self._bodyDone
        if paused == self._uploadPaused:
            return
        self._uploadPaused = paused
        if paused:
            self.request.pauseUpload()
        else:
            self._touch()
            self.request.resumeUpload()

    def _closeStdin(self) -> None:
        """Close the program's input, after what is buffered for it."""
        transport: Any = self.transport
        if self._stdinOpen and transport is not None:
            self._stdinOpen = False
            transport.unregisterProducer()
            transport.closeStdin()
        self._pauseUpload(False)

    # -- back-pressure from the client ------------------------------------------

    def pauseProducing(self) -> None:
        """The client is not keeping up: stop reading the program's output."""
        transport: Any = self.transport
        if transport is not None and not self._gone:
            transport.pauseProducing()

    def resumeProducing(self) -> None:
        """The client caught up: read the program's output again."""
        self._touch()
        transport: Any = self.transport
        if transport is not None:
            transport.resumeProducing()
        if not self._bodyDone and not self._uploadPaused and not self._gone:
            # A channel that stopped reading a request body while the
            # response was paused does not start again by itself; nudge it.
            self.request.pauseUpload()
            self.request.resumeUpload()

    def stopProducing(self) -> None:
        """The connection is gone."""
        self._clientGone(None)

    # -- timeouts and killing -----------------------------------------------------

    def _clientGone(self, reason: Failure | None) -> None:
        """The client went away: the program is no longer wanted."""
        if self._gone:
            return
        self._gone = True
        if self._state is not _State.DONE:
            self._setState(_State.DONE)
        self._finishPending = False
        transport: Any = self.transport
        if transport is not None:
            # Drain its output so that it is not stuck writing while it dies.
            transport.resumeProducing()
            self._kill()

    def _updateTimer(self) -> None:
        """
        Run the timeout for as long as the program runs and is wanted.

        It measures time without progress, as Apache's C{Timeout} does: no
        output read from the program, no request body passed to it, no
        response bytes taken by the client.  Whichever side is stuck (a
        hung program, or a client that neither reads nor sends), the
        program is not kept waiting forever.
        """
        running = not (self._ended or self._gone or self._killing)
        timer = self._timer
        if running and timer is None and self._timeout is not None:
            self._timer = self._reactor.callLater(self._timeout, self._timedOut)
        elif not running and timer is not None:
            self._timer = None
            if timer.active():
                timer.cancel()

    def _touch(self) -> None:
        """Something moved: restart the timeout."""
        timer = self._timer
        if timer is not None and timer.active() and self._timeout is not None:
            timer.reset(self._timeout)

    def _timedOut(self) -> None:
        """
        Nothing moved for too long: kill the program, and answer 504 if
        nothing of the response was sent yet.
        """
        self._timer = None
        state = self._state
        if state is _State.HEAD or state is _State.BODY:
            _log.error(
                "CGI script {script}: no progress for {timeout} seconds; killing it",
                script=self._script,
                timeout=self._timeout,
            )
        else:
            _log.warn(
                "CGI script {script} still running {timeout} seconds after "
                "its response ended; killing it",
                script=self._script,
                timeout=self._timeout,
            )
        self._kill()
        if state is _State.BODY:
            request = self.request
            request.unregisterProducer()
            if self._head is None:
                self._setState(_State.DONE)
                self._abort()
                return
            self._head = None
        if state is _State.HEAD or state is _State.BODY:
            self._answer(
                504, "Gateway Timeout", "The CGI script did not answer in time."
            )

    def _kill(self) -> None:
        """Ask the program to end now, and make it end soon after."""
        if self._killing or self._ended or self.transport is None:
            return
        self._killing = True
        self._updateTimer()
        self._closeStdin()
        self._signal("TERM")
        self._hardKill = self._reactor.callLater(self._killGrace, self._killHard)

    def _killHard(self) -> None:
        """
        The program ignored SIGTERM: SIGKILL it, and close our ends of its
        pipes, which a child it left behind may hold open.
        """
        self._hardKill = None
        self._signal("KILL")
        transport: Any = self.transport
        transport.loseConnection()
        waiters, self._stopWaiters = self._stopWaiters, []
        for waiter in waiters:
            waiter.callback(None)

    def _signal(self, name: str) -> None:
        transport: Any = self.transport
        try:
            transport.signalProcess(name)
        except (ProcessExitedAlready, OSError):
            pass

    def _serverStopping(self) -> Deferred[None] | None:
        """
        The reactor is shutting down: end the program, delaying the shutdown
        until it has (at most L{KILL_GRACE} seconds).
        """
        if self._ended:
            return None
        waiter: Deferred[None] = Deferred()
        self._stopWaiters.append(waiter)
        self._kill()
        return waiter


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
        registry: Any = None,
        reactor: Any = None,
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

    def _notFound(self, request: Any) -> resource.ErrorPage | None:
        """
        The error to answer instead of running the program, if any: 404 when
        the script file is missing or not a regular file, or when PATH_INFO
        would hold NUL or a decoded C{%2F} (RFC 3875 section 4.1.5 lets the
        server refuse what would lose information).
        """
        for segment in request.postpath:
            if b"/" in segment or b"\x00" in segment:
                return resource.NoResource("Invalid request URL.")
        try:
            info = os.stat(self.filename)
        except OSError:
            return resource.NoResource("No such CGI script.")
        if not stat.S_ISREG(info.st_mode):
            return resource.NoResource("No such CGI script.")
        return None

    def render(self, request: Any) -> bytes | int:
        """
        Run the program with the request's meta-variables and answer with its
        output (or, with a streamed body, carry on the program started when
        the head arrived).
        """
        upload = getattr(request, "_cgiUpload", None)
        if upload is not None:
            if upload.protocol is not None:
                upload.protocol._bodyComplete()
                return server.NOT_DONE_YET
            # A spooled body: complete in request.content now.
            request._cgiUpload = None
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

    def uploadStarted(self, request: Any, length: int | None) -> int | None:
        """
        The head of a request with a body arrived (on a site with
        C{locateBeforeBody}): start the program now, and stream the body to
        it; a body of unknown length is spooled, and the program started
        once it is complete.
        """
        notFound = self._notFound(request)
        if notFound is not None:
            return notFound.code
        if length is None:
            request._cgiUpload = _Upload(request, spool=True)
            return None
        request._cgiUpload = _Upload(request, spool=False)
        env = _cgiEnvironment(
            request, self.filename, length, self.passEnvironment, self.passAuthorization
        )
        self.runProcess(env, request)
        return None

    def uploadReceived(self, request: Any, data: bytes) -> None:
        """The next piece of a streamed body: on to the program."""
        request._cgiUpload.received(data)

    def runProcess(
        self, env: dict[str, str], request: Any, qargs: Sequence[str] = ()
    ) -> None:
        """
        Start the program for C{request}.  Override this to run it otherwise
        (see L{FilteredScript}).

        @param env: its environment.
        @param qargs: arguments after the program's name.  The server passes
            none: see C{doc/cgi.md} on RFC 3875 section 4.4.
        """
        self._spawn(request, env, [self.filename, *qargs])

    def _spawn(self, request: Any, env: dict[str, str], argv: list[str]) -> None:
        """
        Run C{argv} (whose first item must be an executable file) in the
        script's directory, answering C{request} with its output; answer
        500 if it cannot be run.
        """
        reactor = resolveReactor(self._reactor)
        protocol = CGIProcessProtocol(
            request,
            script=self.filename,
            timeout=self.timeout,
            killGrace=self.killGrace,
            reactor=reactor,
        )
        program = argv[0]
        if os.sep not in program:
            # A bare name, found on the program's PATH as execvp() would.
            program = shutil.which(program, path=env["PATH"]) or program
        if not os.access(program, os.X_OK) or os.path.isdir(program):
            protocol._cannotRun(f"{program} is not an executable file")
            return
        try:
            reactor.spawnProcess(
                protocol,
                program,
                argv,
                env,
                os.path.dirname(os.path.abspath(self.filename)),
            )
        except Exception as error:
            protocol._cannotRun(f"starting {program} failed: {error!r}")


class FilteredScript(CGIScript):
    """
    A CGI script run by an interpreter: the program L{filter}, given the
    script's file name as its argument.

    @cvar filter: the interpreter's path.
    """

    filter = "/usr/bin/cat"

    def runProcess(
        self, env: dict[str, str], request: Any, qargs: Sequence[str] = ()
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
        self, env: dict[str, str], request: Any, qargs: Sequence[str] = ()
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

    def getChild(self, path: bytes, request: Any) -> Any:
        """
        Return the program or directory C{path} names, this directory for the
        empty segment, or a 404 page.
        """
        if not path:
            return self
        if isDangerous(path):
            return dangerousPathError
        try:
            name = path.decode("utf-8")
        except UnicodeDecodeError:
            return File.childNotFound
        if name[:1] == ".":
            return File.childNotFound
        child = os.path.join(self.path, name)
        try:
            info = os.lstat(child)
        except OSError:
            return File.childNotFound
        if stat.S_ISLNK(info.st_mode) and not self.followSymlinks:
            real = os.path.realpath(child)
            top = os.path.realpath(self._root)
            if not real.startswith(top.rstrip(os.sep) + os.sep):
                return File.childNotFound
        if os.path.isdir(child):
            directory = CGIDirectory(child, followSymlinks=self.followSymlinks)
            directory._root = self._root
            return directory
        return CGIScript(child)

    def render(self, request: Any) -> bytes:
        """A directory of programs is not listed: 404."""
        return resource.NoResource(
            "A directory of CGI scripts cannot be listed."
        ).render(request)
