"""
One WSGI request answered: L{Exchange} runs the application in a worker
thread and writes its response in the reactor thread.

The threading rules are in the types.  L{_Worker} is touched only by the
worker thread: it calls the application, is its C{start_response} and
C{write}, iterates the result and closes it.  L{_Handoff} is what the two
threads share, every field under its lock: the worker puts what it sends
there, and the first piece schedules one flush in the reactor thread, which
takes everything put there by the time it runs.  L{Exchange} itself is the
reactor thread's: the request's push producer, and the state machine of the
response (L{ExchangeState}).
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Iterable
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re._gateways.reactor import WorkerPool, WSGIReactor
from twisted_web_re._gateways.wsgifile import (
    FileBody,
    FileSender,
    FileWrapper,
    Outcome,
    fileBody,
)
from twisted_web_re._gateways.wsgiinput import SpooledInput, StreamingInput, makeEnviron
from twisted_web_re._gateways.wsgioutbox import Outbox
from twisted_web_re._gateways.wsgiresponse import parseHeaders, parseStatus
from twisted_web_re._wire.status import NO_BODY_CODES
from twisted_web_re.server import Request

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

__all__ = ["OUTPUT_HIGH_WATER", "Exchange", "ExchangeState"]

_log = Logger()

#: Response bytes a worker may have handed to the reactor thread, not yet
#: written, before it waits for the reactor to catch up.
OUTPUT_HIGH_WATER = 256 * 1024

_BASE_ENVIRON: dict[str, Any] = {
    "wsgi.version": (1, 0),
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    # The common extension saying wsgi.input ends where the body does, so
    # that a chunked body without CONTENT_LENGTH can be read to its end.
    "wsgi.input_terminated": True,
    "wsgi.file_wrapper": FileWrapper,
}

#: The response head the worker hands over: the code and reason, the
#: fields, and the declared Content-Length.
_Head = tuple[tuple[int, bytes], list[tuple[bytes, bytes]], int | None]

#: How the application ended: its body all produced or cut short, a
#: failure, or a file still to be sent.
_End = Outcome | Failure | FileBody

_ExcInfo = (
    tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None]
)


class ExchangeState(enum.Enum):
    """
    Where a WSGI response is, as the reactor thread sees it::

        RUNNING --application ended with a file to send--> SENDING_FILE
        RUNNING, SENDING_FILE --ended, request body complete--> DONE
        RUNNING, SENDING_FILE --ended, request body arriving--> AWAITING_BODY
        AWAITING_BODY --request body complete--> DONE
        RUNNING --could not be started--> DONE
        RUNNING, SENDING_FILE, AWAITING_BODY --client gone--> GONE

    A response is finished only once the application is done and the request
    body has all arrived: until then the connection is still reading it.
    """

    #: The application runs in a worker thread; what it sends is written.
    RUNNING = "running"
    #: The application returned a file, sent from the reactor thread.
    SENDING_FILE = "sending file"
    #: The response is complete, but the request body is still arriving.
    AWAITING_BODY = "awaiting body"
    #: The response is finished, failed or aborted.
    DONE = "done"
    #: The client went away: what the worker still sends is dropped.
    GONE = "gone"


_TRANSITIONS: dict[ExchangeState, frozenset[ExchangeState]] = {
    ExchangeState.RUNNING: frozenset(
        {
            ExchangeState.SENDING_FILE,
            ExchangeState.AWAITING_BODY,
            ExchangeState.DONE,
            ExchangeState.GONE,
        }
    ),
    ExchangeState.SENDING_FILE: frozenset(
        {ExchangeState.AWAITING_BODY, ExchangeState.DONE, ExchangeState.GONE}
    ),
    ExchangeState.AWAITING_BODY: frozenset({ExchangeState.DONE, ExchangeState.GONE}),
    ExchangeState.DONE: frozenset(),
    ExchangeState.GONE: frozenset(),
}


class _Handoff:
    """
    What the worker thread hands to the reactor thread.  Every field is read
    and written under L{lock}.

    @ivar lock: guards every field.
    @ivar ready: what a waiting worker waits on (over L{lock}); made when it
        first has to wait, which most never do.
    @ivar chunks: body pieces sent and not yet taken.
    @ivar queued: their size.
    @ivar head: the response head, once, with the first piece or the end.
    @ivar end: how the application ended, once it has.
    @ivar scheduled: a flush is scheduled in the reactor thread.
    @ivar paused: the connection pushes back; the worker waits.
    @ivar stopped: the worker is released: it sends nothing more.
    @ivar waiting: the worker waits on L{ready}.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ready: threading.Condition | None = None
        self.chunks: list[bytes] = []
        self.queued = 0
        self.head: _Head | None = None
        self.end: _End | None = None
        self.scheduled = False
        self.paused = False
        self.stopped = False
        self.waiting = False

    # -- the worker thread -----------------------------------------------------

    def put(self, head: _Head | None, data: bytes, flush: bool) -> tuple[bool, bool]:
        """
        Add C{data} (after C{head}, if given) unless the worker is released.

        @param flush: whether a flush is wanted now.
        @return: whether it was taken, and whether the caller must schedule
            the flush.
        """
        with self.lock:
            if self.stopped:
                return False, False
            if head is not None:
                self.head = head
            self.chunks.append(data)
            self.queued += len(data)
            schedule = flush and not self.scheduled
            if schedule:
                self.scheduled = True
        return True, schedule

    def mustWait(self) -> bool:
        """Whether the worker is to wait for the reactor thread to catch up."""
        return self.paused or self.queued >= OUTPUT_HIGH_WATER

    def wait(self) -> None:
        """Wait until the worker may carry on, or is released."""
        with self.lock:
            ready = self.ready
            if ready is None:
                ready = self.ready = threading.Condition(self.lock)
            while not self.stopped and self.mustWait():
                self.waiting = True
                ready.wait()
            self.waiting = False

    def putEnd(self, head: _Head | None, end: _End) -> bool:
        """
        Hand over how the application ended (with C{head}, if it still has
        to go); return whether the caller must schedule the flush.
        """
        with self.lock:
            if head is not None:
                self.head = head
            self.end = end
            schedule = not self.scheduled
            self.scheduled = True
        return schedule

    # -- the reactor thread ----------------------------------------------------

    def _wake(self) -> None:
        """Under L{lock}: let a waiting worker look again."""
        if self.waiting:
            assert self.ready is not None
            self.ready.notify()

    def take(self) -> tuple[_Head | None, list[bytes], _End | None]:
        """Take everything handed over, and let a waiting worker carry on."""
        with self.lock:
            head, self.head = self.head, None
            chunks, self.chunks = self.chunks, []
            end, self.end = self.end, None
            self.queued = 0
            self.scheduled = False
            self._wake()
        return head, chunks, end

    def pause(self) -> None:
        """The client is not keeping up: the worker waits at its next send."""
        with self.lock:
            self.paused = True

    def resume(self) -> None:
        """The client caught up: a waiting worker carries on."""
        with self.lock:
            self.paused = False
            self._wake()

    def stop(self) -> None:
        """Release the worker: its sends are dropped from now on."""
        with self.lock:
            self.stopped = True
            self._wake()


class _Worker:
    """
    The worker thread's side of an exchange: PEP 3333's C{start_response}
    and C{write}, and the iteration and closing of what the application
    returns.  Only the worker thread touches it.

    @ivar status: the code and reason C{start_response} recorded, if it was
        called.
    @ivar headers: the fields it recorded.
    @ivar declared: the Content-Length they declare, if any.
    @ivar headSent: the head was handed over.
    @ivar done: the application returned; C{write} is refused.
    """

    def __init__(
        self,
        application: WSGIApplication,
        environ: dict[str, Any],
        handoff: _Handoff,
        scheduleFlush: Callable[[], None],
        request: Request,
    ) -> None:
        """
        @param application: the WSGI application.
        @param environ: its environ for this request.
        @param handoff: where the response goes.
        @param scheduleFlush: have the reactor thread take what was handed
            over (thread-safe).
        @param request: the request, named in the log only.
        """
        self._application = application
        self._environ = environ
        self._handoff = handoff
        self._scheduleFlush = scheduleFlush
        self._request = request
        self.status: tuple[int, bytes] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.declared: int | None = None
        self.headSent = False
        self.done = False

    def run(self) -> None:
        """Call the application, send its response and close its iterable."""
        result: Iterable[bytes] | None = None
        end: _End
        try:
            result = self._application(self._environ, self.startResponse)
            file = fileBody(result, self.declared) if self.status else None
            end = file or self._iterate(result)
        except BaseException:
            end = Failure()
        if result is not None and not isinstance(end, FileBody):
            end = self._close(result, end)
        self._complete(end)

    def startResponse(
        self,
        status: str,
        headers: list[tuple[str, str]],
        exc_info: _ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        """
        PEP 3333's C{start_response}: check and record the status and headers
        and return the C{write} callable.  With C{exc_info}, replace what an
        earlier call recorded, or, if the headers were sent already, re-raise
        that exception.

        @raise RuntimeError: called again without C{exc_info}.
        @raise TypeError: see L{parseStatus} and L{parseHeaders}.
        @raise ValueError: see L{parseStatus} and L{parseHeaders}.
        """
        if exc_info is not None:
            try:
                if self.headSent:
                    raise exc_info[1].with_traceback(exc_info[2])  # type: ignore[union-attr]
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError(
                "start_response was called a second time without exc_info"
            )
        parsedStatus = parseStatus(status)
        self.headers, self.declared = parseHeaders(headers)
        self.status = parsedStatus
        return self.write

    def write(self, data: bytes) -> None:
        """
        PEP 3333's C{write} callable: send C{data} now, before what the
        application returns.

        @raise RuntimeError: the application has returned already.
        @raise TypeError: C{data} is not bytes.
        """
        if self.done:
            raise RuntimeError("the WSGI write callable was used after the response")
        self._send(data, True)

    def _head(self) -> _Head | None:
        """The head, if it is still to be handed over."""
        if self.headSent or self.status is None:
            return None
        return (self.status, self.headers, self.declared)

    def _send(self, data: object, flush: bool) -> None:
        """
        Hand C{data} (and, the first time, the head) to the reactor thread;
        if C{flush}, schedule a flush, and wait while the client pushes back
        or too much is pending.

        @raise TypeError: C{data} is not bytes.
        @raise RuntimeError: C{start_response} was not called yet.
        """
        if type(data) is not bytes:
            if not isinstance(data, (bytearray, memoryview)):
                raise TypeError(
                    f"a WSGI response body is made of bytes, not "
                    f"{type(data).__name__}: {data!r:.80}"
                )
            data = bytes(data)
        if not data:
            return
        if self.status is None:
            raise RuntimeError(
                "the WSGI application sent body bytes before calling start_response"
            )
        handoff = self._handoff
        head = self._head()
        taken, schedule = handoff.put(head, data, flush)
        if not taken:
            return
        if head is not None:
            self.headSent = True
        if schedule:
            self._scheduleFlush()
        if flush and handoff.mustWait():
            handoff.wait()

    def _iterate(self, result: Iterable[bytes]) -> _End:
        """
        Send each piece of C{result}; stop early if the client is gone.

        A list or tuple is already all in memory, so it is handed over whole,
        at the end, in one flush with a Content-Length.
        """
        flush = type(result) is not list and type(result) is not tuple
        send = self._send
        handoff = self._handoff
        for data in result:
            if handoff.stopped:
                break
            send(data, flush)
        if self.status is None and not handoff.stopped:
            raise RuntimeError(
                f"the WSGI application {self._application!r} returned "
                f"without calling start_response"
            )
        return Outcome.COMPLETE

    def _close(self, result: object, end: _End) -> _End:
        """
        Call C{result.close()}, if it has one; return C{end}, or the failure
        of C{close()} if there was none before.
        """
        try:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        except BaseException:
            if isinstance(end, Failure):
                _log.failure(
                    "close() of the WSGI response to {request!r} failed too",
                    request=self._request,
                )
                return end
            return Failure()
        return end

    def _complete(self, end: _End) -> None:
        """
        Hand the end of the response to the reactor thread: complete (the
        head goes with it if no body did), a L{FileBody}, or a L{Failure}.
        """
        self.done = True
        if self._handoff.stopped:
            # Released at shutdown, or the client went away: a file body is
            # not going to be sent, and nothing may pass for a whole response.
            if isinstance(end, FileBody):
                self._close(end.wrapper, Outcome.COMPLETE)
            if not isinstance(end, Failure):
                end = Failure(ConnectionAbortedError("the WSGI response was cut short"))
        head = None if isinstance(end, Failure) else self._head()
        if head is not None:
            self.headSent = True
        if self._handoff.putEnd(head, end):
            self._scheduleFlush()


@implementer(IPushProducer)
class Exchange:
    """
    One request answered by a WSGI application: the reactor thread's side,
    which writes the response and is the request's push producer.

    The worker waits while more than L{OUTPUT_HIGH_WATER} bytes are pending
    or the connection is paused; when the client goes away, what the worker
    sends is dropped and it stops iterating.

    @ivar state: where the response is (see L{ExchangeState}).
    @ivar request: the request answered.
    """

    def __init__(
        self,
        request: Request,
        application: WSGIApplication,
        reactor: WSGIReactor,
        threadpool: WorkerPool,
        *,
        outbox: Outbox,
        streaming: bool,
        dispatch: Callable[[Exchange], None],
        over: Callable[[Exchange], None],
    ) -> None:
        """
        @param request: the request to answer.
        @param application: the WSGI application.
        @param reactor: the reactor the site runs in.
        @param threadpool: the pool file bodies are closed in.
        @param outbox: how the worker has the reactor thread take what it
            handed over.
        @param streaming: whether the body is still to arrive (through
            L{feed} and L{bodyArrived}) rather than complete in
            C{request.content}.
        @param dispatch: have L{run} called in a worker thread (from
            L{start}, once the exchange is the request's producer).
        @param over: called, in the reactor thread, when the exchange is over
            (finished, failed, or its client gone).
        """
        self.state = ExchangeState.RUNNING
        self.request = request
        self._reactor = reactor
        self._threadpool = threadpool
        self._dispatch = dispatch
        self._over = over
        self._handoff = handoff = _Handoff()
        # The reactor thread's, beside the state.
        self._bodyComplete = not streaming
        self._pendingEnd: Outcome | Failure | None = None
        self._sender: FileSender | None = None
        self._input: StreamingInput | None = None
        body: StreamingInput | SpooledInput
        if streaming:
            body = self._input = StreamingInput(request, reactor.callFromThread)
        else:
            body = SpooledInput(request.content)  # type: ignore[arg-type]
        environ = makeEnviron(request, body, streaming, _BASE_ENVIRON)
        self._worker: _Worker | None = _Worker(
            application,
            environ,
            handoff,
            partial(outbox.put, self._flush),
            request,
        )

    def _moveTo(self, state: ExchangeState) -> None:
        """
        Move to C{state}.

        @raise RuntimeError: the diagram of L{ExchangeState} has no such move.
        """
        if state not in _TRANSITIONS[self.state]:
            raise RuntimeError(f"bad WSGI exchange transition {self.state} -> {state}")
        self.state = state

    def run(self) -> None:
        """Run the application: called once, in a worker thread."""
        # Let go of the worker, which holds this exchange's flush: a cycle
        # would keep the request and its body file until the collector runs.
        worker, self._worker = self._worker, None
        assert worker is not None, "an exchange runs once"
        worker.run()

    # -- the reactor thread ------------------------------------------------

    def start(self) -> None:
        """
        Become the request's producer (which is also how the exchange learns
        that the client went away: see L{stopProducing}) and have the
        application run in the pool.

        @raise BaseException: what the dispatch raised; the exchange is then
            over.
        """
        request = self.request
        request.registerProducer(self, True)
        try:
            self._dispatch(self)
        except BaseException:
            if self.state is ExchangeState.RUNNING:
                self._moveTo(ExchangeState.DONE)
            self._over(self)
            request.unregisterProducer()
            raise

    def feed(self, data: bytes) -> None:
        """The next piece of a body that is still arriving."""
        assert self._input is not None
        self._input.feed(data)

    def bodyArrived(self) -> None:
        """
        The body is complete: C{wsgi.input} ends where it does, and the
        response can be finished once the application is done.
        """
        self._bodyComplete = True
        if self._input is not None:
            self._input.end()
        if self.state is ExchangeState.AWAITING_BODY:
            end, self._pendingEnd = self._pendingEnd, None
            assert end is not None
            self._conclude(end)

    def _flush(self) -> None:
        """Write what the worker has handed over since the last flush."""
        head, chunks, end = self._handoff.take()
        if self.state is ExchangeState.GONE:
            if isinstance(end, FileBody):
                self._closeInThread(end.wrapper)
            return
        if head is not None:
            if isinstance(end, Failure):
                # Nothing has gone out yet, so the client can have a 500
                # rather than a cut-off response.
                self._appEnded(end)
                return
            self._applyHead(head, chunks, end)
        if chunks:
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            if head is not None and end is Outcome.COMPLETE and self._bodyComplete:
                # The whole response is known now: finished in one step.
                if self._input is not None:
                    self._input.discard()
                self._conclude(end, data)
                return
            self.request.write(data)
        if end is not None:
            self._appEnded(end)

    def _applyHead(self, head: _Head, chunks: list[bytes], end: _End | None) -> None:
        """
        Give the request the application's status and headers (and no
        Content-Type of the server's own), and a Content-Length when the whole
        body is known now.
        """
        (code, reason), headers, declared = head
        request = self.request
        request.setResponseCode(code, reason)
        responseHeaders = request.responseHeaders
        responseHeaders.removeHeader(b"content-type")
        # Checked and lower-cased by parseHeaders already.
        responseHeaders.addLowered(headers)
        if declared is None and end is not None and code not in NO_BODY_CODES:
            length = sum(map(len, chunks))
            if isinstance(end, FileBody):
                length += end.left
            if length or request.method != b"HEAD":
                responseHeaders.setLowered(b"content-length", [b"%d" % length])

    def _appEnded(self, end: _End) -> None:
        """
        The application is done (C{end}: an L{Outcome}, a L{Failure}, or a
        L{FileBody} still to send): send the file, or finish the response as
        soon as the request body is complete.
        """
        if self._input is not None:
            self._input.discard()
        if isinstance(end, FileBody):
            request = self.request
            if (
                end.left
                and request.method != b"HEAD"
                and request.code not in NO_BODY_CODES
            ):
                self._moveTo(ExchangeState.SENDING_FILE)
                self._sender = FileSender(
                    end,
                    request,
                    self._reactor,
                    lambda: self._handoff.paused,
                    self._fileSent,
                )
                self._sender.pump()
                return
            self._closeInThread(end.wrapper)
            end = Outcome.COMPLETE
        if self._bodyComplete:
            self._conclude(end)
        else:
            self._moveTo(ExchangeState.AWAITING_BODY)
            self._pendingEnd = end

    def _fileSent(self, end: Outcome | Failure) -> None:
        """The file body is sent, cut or failed: end, and close it."""
        sender, self._sender = self._sender, None
        assert sender is not None
        self._appEnded(end)
        self._closeInThread(sender.body.wrapper)

    def _conclude(self, end: Outcome | Failure, last: bytes | None = None) -> None:
        """
        Finish the response, with C{last} as the rest of its body if given,
        or answer 500 (or abort) for a failure.
        """
        self._moveTo(ExchangeState.DONE)
        self._over(self)
        request = self.request
        request.unregisterProducer()
        if isinstance(end, Failure):
            request.processingFailed(end)
        elif end is Outcome.CUT:
            request.abortConnection()
        elif last is None:
            request.finish()
        else:
            request.finishWith(last)

    def _closeInThread(self, wrapper: FileWrapper) -> None:
        """
        Close a file body in the pool: it is the application's object.  Once
        the pool is stopped (at shutdown), close it here rather than leak it.
        """
        try:
            self._threadpool.callInThread(self._closeFile, wrapper)
        except Exception:
            self._closeFile(wrapper)

    def _closeFile(self, wrapper: FileWrapper) -> None:
        try:
            wrapper.close()
        except BaseException:
            _log.failure("Closing the WSGI file body {file!r}", file=wrapper.filelike)

    def pauseProducing(self) -> None:
        """The client is not keeping up: the worker waits at its next send."""
        self._handoff.pause()

    def resumeProducing(self) -> None:
        """The client caught up: the worker (or the file) carries on."""
        self._handoff.resume()
        if self._sender is not None:
            self._sender.resume()

    def stopProducing(self) -> None:
        """
        The client went away (the request calls this when its connection is
        lost, the body rejected or the transport closed): the worker's sends
        become no-ops and it stops iterating; C{wsgi.input} raises
        L{ClientDisconnected} for what will not come; a file body is closed.
        """
        if self.state is ExchangeState.GONE or self.state is ExchangeState.DONE:
            return
        self._moveTo(ExchangeState.GONE)
        self._pendingEnd = None
        self._over(self)
        self.stop()
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.cancel()
            self._closeInThread(sender.body.wrapper)

    def stop(self) -> None:
        """
        Release the worker: its sends become no-ops, and C{wsgi.input} gives
        nothing more.
        """
        self._handoff.stop()
        if self._input is not None:
            self._input.abort()
