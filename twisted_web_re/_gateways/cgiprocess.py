"""
The process side of CGI: L{CGIProcessProtocol} runs one CGI program for one
request, feeding it the body and streaming its answer back, with timeouts.
"""

from __future__ import annotations

import enum
from io import BytesIO
from typing import IO, Any

from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.interfaces import IDelayedCall, IPullProducer, IPushProducer
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re import resource
from twisted_web_re._gateways.cgiparse import (
    CGIHeadParser,
    CGIResponseHead,
    MalformedCGIResponse,
)
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._publish.oserror import ServiceUnavailable

__all__ = ["CGIProcessProtocol", "CGIUpload"]

_log = Logger()

#: Seconds a CGI program may go without progress (output read from it, input
#: written to it, output taken by the client) before it is killed: Apache's
#: C{Timeout} default.
DEFAULT_TIMEOUT = 60.0

#: Seconds between the SIGTERM that asks a program to end and the SIGKILL
#: that makes it (Apache waits 3 seconds, systemd 90; a CGI program has
#: nothing to save).
KILL_GRACE = 5.0

#: Local redirects (RFC 3875 section 6.2.2) followed for one request before
#: answering 500: the precedent is Apache's C{LimitInternalRecursion}.
MAX_LOCAL_REDIRECTS = 10

#: Seconds a program that closed its output is waited for to exit, so that a
#: failure (a signal, a non-zero status) is not passed off as a complete
#: response, before its response is finished anyway: a program may close its
#: output and run on.
EXIT_WAIT = 1.0

#: Bytes of a spooled request body written to a program's input at a time.
BLOCK_SIZE = 64 * 1024

#: The longest line of a program's standard error logged whole.
STDERR_LINE_LIMIT = 4096

#: Bytes of one program's standard error logged at most; a program that
#: writes more cannot flood the log, and the rest is counted instead.
STDERR_LOG_LIMIT = 64 * 1024


class _State(enum.Enum):
    """
    Where a CGI response is.

    ::

        HEAD --head parsed--> BODY --output ended--> ENDING --exited--> DONE
        HEAD --Location: /path--> REDIRECTING --request body done--> DONE
        HEAD/BODY --malformed, timeout, client gone--> DONE
        ENDING --failed (signal, status): cut, or 502 if nothing sent--> DONE
        ENDING --still running after EXIT_WAIT, client gone--> DONE
    """

    HEAD = "head"
    BODY = "body"
    ENDING = "ending"
    REDIRECTING = "redirecting"
    DONE = "done"


_TRANSITIONS: dict[_State, frozenset[_State]] = {
    _State.HEAD: frozenset({_State.BODY, _State.REDIRECTING, _State.DONE}),
    _State.BODY: frozenset({_State.ENDING, _State.DONE}),
    _State.ENDING: frozenset({_State.DONE}),
    _State.REDIRECTING: frozenset({_State.DONE}),
    _State.DONE: frozenset(),
}


class CGIUpload:
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
        """
        Hand on the next piece of the body.

        @raise BodyStorageError: a spooled body could not be stored.
        """
        if self.protocol is not None:
            self.protocol._bodyReceived(data)
        elif self.spool:
            self.request._storeBody(data)


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
    (L{twisted_web_re._gateways.cgiparse}); when nothing moves for C{timeout} seconds
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
        self._upload: CGIUpload | None = getattr(request, "_cgiUpload", None)
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
        self._exitWait: IDelayedCall | None = None
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
            if self._killing:
                # Stopped (the reactor is shutting down): its output is cut.
                self._setState(_State.DONE)
                self._abort()
                return
            self._setState(_State.ENDING)
            self._exitWait = self._reactor.callLater(EXIT_WAIT, self._outputComplete)

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
        if self._state is _State.ENDING:
            if (signal is not None or exitCode) and not self._killing:
                self._cutShort()
            else:
                self._outputComplete()
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
        self._answerWith(resource.ErrorPage(code, brief, detail))

    def _answerWith(self, page: resource.ErrorPage) -> None:
        """Answer with the error page C{page}, once nothing else will be sent."""
        if self._state is not _State.DONE:
            self._setState(_State.DONE)
        self._closeStdin()
        if self._gone:
            return
        request = self.request
        body = page.render(request)
        request.setHeader(b"content-length", b"%d" % len(body))
        request.write(body)
        self._finishPending = True
        self._finishWhenReady()

    def _outputComplete(self) -> None:
        """
        The program's output ended, and it exited cleanly (or was not seen
        to fail within L{EXIT_WAIT}): finish the response.
        """
        self._stopExitWait()
        if self._state is not _State.ENDING:
            return
        self._setState(_State.DONE)
        self._applyHead()
        self._finishPending = True
        self._finishWhenReady()

    def _stopExitWait(self) -> None:
        exitWait, self._exitWait = self._exitWait, None
        if exitWait is not None and exitWait.active():
            exitWait.cancel()

    def _cutShort(self) -> None:
        """
        The program failed after its output ended: what it wrote may be
        only part of its answer.  If part was sent, only closing the
        connection at once tells the client; if none was, answer 502.
        """
        self._stopExitWait()
        sent = bool(self.request.startedWriting)
        _log.error(
            "CGI script {script} failed after writing its response; {what}",
            script=self._script,
            what="the connection is cut" if sent else "answering 502",
        )
        if sent:
            self._setState(_State.DONE)
            self._abort()
        else:
            self._head = None
            self._answer(
                502, "Bad Gateway", "The CGI script failed before it was done."
            )

    def _abort(self) -> None:
        """
        Part of the body is sent, and the rest never will be: only closing
        the connection at once tells the client that it is incomplete.
        """
        self.request.abortConnection()

    def _finishWhenReady(self) -> None:
        """
        Finish the response once it is complete and the request body has all
        arrived: a request must not end while the channel is still reading
        its body.
        """
        if self._finishPending and self._bodyDone and not self._gone:
            self._finishPending = False
            self.request.finish()

    def _cannotRun(self, problem: str, *, exhausted: bool = False) -> None:
        """
        The program could not be started: log why and answer 500; or, if
        the server is short of what starting it takes (descriptors for its
        pipes, memory, processes), 503 asking the client to retry.

        @param problem: why, for the log.
        @param exhausted: the server, not the program, is the problem.
        """
        _log.error(
            "CGI script {script} cannot be run: {problem}{answer}",
            script=self._script,
            problem=problem,
            answer=" (answered 503)" if exhausted else "",
        )
        page = (
            ServiceUnavailable("The server cannot run the CGI script right now.")
            if exhausted
            else resource.ErrorPage(
                500, "CGI Script Error", "The server could not run the CGI script."
            )
        )
        # Answered in the next reactor turn: called from uploadStarted, an
        # answer now would go out before the channel's 100 Continue.
        self._reactor.callLater(0, self._answerWith, page)

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
        self._stopExitWait()
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
