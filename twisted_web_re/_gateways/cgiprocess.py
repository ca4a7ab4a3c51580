"""
The process side of CGI: L{CGIProcessProtocol} runs one CGI program for one
request, feeding it the body and streaming its answer back, with timeouts.

Three small state machines say where it is, each with one transition method
that refuses a move its diagram does not have: the program's life
(L{Life}), the response (L{Response}) and the program's input
(L{Stdin}).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from io import BytesIO
from typing import Any, cast
from weakref import WeakKeyDictionary

from twisted.internet.defer import Deferred
from twisted.internet.error import ProcessExitedAlready
from twisted.internet.interfaces import (
    IConsumer,
    IDelayedCall,
    IPushProducer,
)
from twisted.internet.protocol import ProcessProtocol
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re import resource
from twisted_web_re._gateways.cgiinput import CGIUpload, ContentFeeder, UploadThrottle
from twisted_web_re._gateways.cgiparse import (
    CGIHeadParser,
    CGIResponseHead,
    MalformedCGIResponse,
)
from twisted_web_re._gateways.cgistates import (
    LIFE_MOVES,
    RESPONSE_MOVES,
    STDIN_MOVES,
    Life,
    Machine,
    Response,
    Stdin,
)
from twisted_web_re._gateways.cgistderr import (
    STDERR_LINE_LIMIT as STDERR_LINE_LIMIT,
)
from twisted_web_re._gateways.cgistderr import (
    STDERR_LOG_LIMIT as STDERR_LOG_LIMIT,
)
from twisted_web_re._gateways.cgistderr import ErrorLog
from twisted_web_re._gateways.reactor import CGIReactor
from twisted_web_re._protocols.reactor import resolveReactor
from twisted_web_re._publish.oserror import ServiceUnavailable, isExhausted
from twisted_web_re.server import Request

__all__ = ["CGIProcessProtocol", "CGIUpload", "spawnProgram"]

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

# Local redirects followed so far for a request, while it lives: a
# redirect is answered by another protocol (perhaps of another script), so
# the count is kept beside the requests rather than in one protocol.
_redirects: WeakKeyDictionary[Request, int] = WeakKeyDictionary()


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
        request: Request,
        script: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        killGrace: float = KILL_GRACE,
        reactor: CGIReactor | None = None,
        upload: CGIUpload | None = None,
    ) -> None:
        """
        @param request: the request to answer.
        @param script: the program's name for the log (by default the URL
            it answers).
        @param timeout: seconds without progress before the program is
            killed, or C{None} for never.
        @param killGrace: seconds between SIGTERM and SIGKILL.
        @param reactor: the reactor for timers; the global one by default.
        @param upload: the request body, if it streams to the program as it
            arrives; else it is complete in C{request.content}.
        """
        self.request = request
        self._script = script or request.uri.decode("latin-1")
        self._timeout = timeout
        self._killGrace = killGrace
        self._reactor: CGIReactor = resolveReactor(reactor)
        self._errors = ErrorLog(self._script)
        # The program's life, and its timers.
        self._life = Machine("process", Life.STARTING, LIFE_MOVES)
        self._timer: IDelayedCall | None = None
        self._hardKill: IDelayedCall | None = None
        self._shutdownTrigger: Any = None
        self._stopWaiters: list[Deferred[None]] = []
        # The response.
        self._response = Machine("response", Response.HEAD, RESPONSE_MOVES)
        self._parser = CGIHeadParser()
        self._head: CGIResponseHead | None = None
        self._location = b""
        self._exitWait: IDelayedCall | None = None
        # The input: the program's stdin, and whether the whole request body
        # has arrived (with a streamed body, once the script is rendered).
        self._stdin = Machine("input", Stdin.OPEN, STDIN_MOVES)
        self._upload = upload
        if upload is not None:
            upload.pipeTo(self._bodyReceived, self._bodyComplete)
        self._bodyDone = upload is None
        request.notifyFinish().addErrback(self._clientGone)

    # -- the process ----------------------------------------------------------

    def connectionMade(self) -> None:
        """
        The program started: feed it the request body, start the timer, and
        make sure it does not outlive the server.
        """
        self._life.moveTo(Life.RUNNING)
        self._shutdownTrigger = self._reactor.addSystemEventTrigger(
            "before", "shutdown", self._serverStopping
        )
        if self._response.state is Response.GONE:
            self._kill()
            return
        # A process transport is also the consumer of the program's input.
        transport = cast(IConsumer, self.transport)
        if self._upload is None:
            content = self.request.content or BytesIO()
            feeder = ContentFeeder(content, self._feed, self._closeStdin)
            transport.registerProducer(feeder, False)
        else:
            transport.registerProducer(UploadThrottle(self._pauseUpload), True)
        self._updateTimer()

    def outReceived(self, data: bytes) -> None:
        """Parse the response head, then stream the body to the client."""
        state = self._response.state
        if state is Response.BODY:
            self._touch()
            self._write(data)
        elif state is Response.HEAD:
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
        if self._stdin.state is not Stdin.CLOSED:
            paused = self._stdin.state is Stdin.PAUSED
            self._stdin.moveTo(Stdin.CLOSED)
            if paused:
                self._resumeUpload()

    def outConnectionLost(self) -> None:
        """The program's output ended: so does the response."""
        state = self._response.state
        if state is Response.HEAD:
            try:
                self._parser.close()
            except MalformedCGIResponse as error:
                self._badGateway(str(error))
        elif state is Response.BODY:
            self.request.unregisterProducer()
            if self._life.state is Life.KILLING:
                # Stopped (the reactor is shutting down): its output is cut.
                self._response.moveTo(Response.DONE)
                self._abort()
                return
            self._response.moveTo(Response.ENDING)
            self._exitWait = self._reactor.callLater(EXIT_WAIT, self._outputComplete)

    def errConnectionLost(self) -> None:
        """The program's standard error ended: log its last line."""
        self._errors.close()

    def processEnded(self, reason: Failure) -> None:
        """
        The program exited and its pipes are closed: log how it ended if it
        failed, and stop its timers.
        """
        killed = self._life.state is Life.KILLING
        self._life.moveTo(Life.ENDED)
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
            (_log.info if killed else _log.error)(
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
        if self._response.state is Response.ENDING:
            if (signal is not None or exitCode) and not killed:
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
            self._response.moveTo(Response.REDIRECTING)
            self._closeStdin()
            if self._bodyDone:
                self._reactor.callLater(0, self._redirect)
            return
        self._head = head
        self._response.moveTo(Response.BODY)
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
        if self._response.state is not Response.REDIRECTING:
            return
        request = self.request
        count = _redirects.get(request, 0) + 1
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
        self._response.moveTo(Response.DONE)
        _redirects[request] = count
        method = b"HEAD" if request.method == b"HEAD" else b"GET"
        request.processAgain(method, self._location)

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
        gone = self._response.state is Response.GONE
        if not gone:
            self._response.moveTo(Response.FINISHING)
        self._closeStdin()
        if gone:
            return
        request = self.request
        body = page.render(request)
        request.setHeader(b"content-length", b"%d" % len(body))
        request.write(body)
        self._finishWhenReady()

    def _outputComplete(self) -> None:
        """
        The program's output ended, and it exited cleanly (or was not seen
        to fail within L{EXIT_WAIT}): finish the response.
        """
        self._stopExitWait()
        if self._response.state is not Response.ENDING:
            return
        self._response.moveTo(Response.FINISHING)
        self._applyHead()
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
            self._response.moveTo(Response.DONE)
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
        Finish a complete response once the request body has all arrived: a
        request must not end while the channel is still reading its body.
        """
        if self._response.state is Response.FINISHING and self._bodyDone:
            self._response.moveTo(Response.DONE)
            self.request.finish()

    def cannotRun(self, problem: str, *, exhausted: bool = False) -> None:
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

    def _feed(self, data: bytes) -> None:
        """Write the next block of a complete request body to the program."""
        self._touch()
        self.transport.write(data)  # type: ignore[union-attr]

    def _bodyReceived(self, data: bytes) -> None:
        """The next piece of a streamed request body."""
        if self._stdin.state is not Stdin.CLOSED and self.transport is not None:
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
        if self._response.state is Response.REDIRECTING:
            self._reactor.callLater(0, self._redirect)
        self._finishWhenReady()

    def _pauseUpload(self, paused: bool) -> None:
        """Pause or resume a streamed request body (dropped once unwanted)."""
        if self._stdin.state is Stdin.CLOSED:
            return
        paused = (
            paused and self._response.state is not Response.GONE and not self._bodyDone
        )
        if paused == (self._stdin.state is Stdin.PAUSED):
            return
        if paused:
            self._stdin.moveTo(Stdin.PAUSED)
            self.request.pauseUpload()
        else:
            self._stdin.moveTo(Stdin.OPEN)
            self._resumeUpload()

    def _resumeUpload(self) -> None:
        self._touch()
        self.request.resumeUpload()

    def _closeStdin(self) -> None:
        """Close the program's input, after what is buffered for it."""
        if self._stdin.state is Stdin.CLOSED:
            return
        paused = self._stdin.state is Stdin.PAUSED
        self._stdin.moveTo(Stdin.CLOSED)
        transport = self.transport
        if transport is not None:
            cast(IConsumer, transport).unregisterProducer()
            transport.closeStdin()
        if paused:
            self._resumeUpload()

    # -- back-pressure from the client ------------------------------------------

    def pauseProducing(self) -> None:
        """The client is not keeping up: stop reading the program's output."""
        transport = self.transport
        if transport is not None and self._response.state is not Response.GONE:
            transport.pauseProducing()  # type: ignore[attr-defined]

    def resumeProducing(self) -> None:
        """The client caught up: read the program's output again."""
        self._touch()
        transport = self.transport
        if transport is not None:
            transport.resumeProducing()  # type: ignore[attr-defined]

    def stopProducing(self) -> None:
        """The connection is gone."""
        self._clientGone(None)

    # -- timeouts and killing -----------------------------------------------------

    def _clientGone(self, reason: Failure | None) -> None:
        """The client went away: the program is no longer wanted."""
        if self._response.state is Response.GONE:
            return
        self._response.moveTo(Response.GONE)
        self._stopExitWait()
        transport = self.transport
        if transport is not None:
            # Drain its output so that it is not stuck writing while it dies.
            transport.resumeProducing()  # type: ignore[attr-defined]
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
        running = (
            self._life.state is Life.RUNNING
            and self._response.state is not Response.GONE
        )
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
        state = self._response.state
        if state is Response.HEAD or state is Response.BODY:
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
        if state is Response.BODY:
            request = self.request
            request.unregisterProducer()
            if self._head is None:
                self._response.moveTo(Response.DONE)
                self._abort()
                return
            self._head = None
        if state is Response.HEAD or state is Response.BODY:
            self._answer(
                504, "Gateway Timeout", "The CGI script did not answer in time."
            )

    def _kill(self) -> None:
        """Ask the program to end now, and make it end soon after."""
        if self._life.state is not Life.RUNNING:
            return
        self._life.moveTo(Life.KILLING)
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
        transport = self.transport
        assert transport is not None
        transport.loseConnection()
        waiters, self._stopWaiters = self._stopWaiters, []
        for waiter in waiters:
            waiter.callback(None)

    def _signal(self, name: str) -> None:
        transport = self.transport
        assert transport is not None
        try:
            transport.signalProcess(name)
        except (ProcessExitedAlready, OSError):
            pass

    def _serverStopping(self) -> Deferred[None] | None:
        """
        The reactor is shutting down: end the program, delaying the shutdown
        until it has (at most L{KILL_GRACE} seconds).
        """
        if self._life.state is Life.ENDED:
            return None
        waiter: Deferred[None] = Deferred()
        self._stopWaiters.append(waiter)
        self._kill()
        return waiter


def spawnProgram(
    protocol: CGIProcessProtocol,
    reactor: CGIReactor,
    argv: Sequence[str],
    env: dict[str, str],
    directory: str,
) -> None:
    """
    Run C{argv} (whose first item must be an executable file, or a name
    found on the C{PATH} of C{env}) in C{directory}, with C{protocol}
    answering its request; answer 500 if it cannot be run, or 503 if the
    server is short of the descriptors, memory or processes it takes.
    """
    program = argv[0]
    if os.sep not in program:
        # A bare name, found on the program's PATH as execvp() would.
        program = shutil.which(program, path=env["PATH"]) or program
    if not os.access(program, os.X_OK) or os.path.isdir(program):
        protocol.cannotRun(f"{program} is not an executable file")
        return
    try:
        reactor.spawnProcess(protocol, program, argv, env, directory)
    except OSError as error:
        protocol.cannotRun(
            f"starting {program} failed: {error}", exhausted=isExhausted(error)
        )
    except Exception as error:
        protocol.cannotRun(f"starting {program} failed: {error!r}")
