"""
WSGI: L{WSGIResource} publishes a WSGI application (PEP 3333) as a leaf
resource, running it in a thread pool so that the reactor never waits on it.

Each request is one L{_Exchange}: the application, the iteration of what it
returns and that iterable's C{close()} run in a worker thread; the response
goes to the reactor thread in batches, one hand-over for however many pieces
the application produced while the reactor was busy, and the worker waits
while the client is not reading.  The body reaches the application through
C{wsgi.input}: read from C{request.content} once it has all arrived, or, on a
site that locates resources before the body, as it arrives.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IDelayedCall, IPushProducer
from twisted.logger import Logger
from twisted.python.failure import Failure
from zope.interface import implementer

from twisted_web_re import resource
from twisted_web_re._files.producer import BLOCK_SIZE, TURN_BUDGET
from twisted_web_re._gateways.wsgiinput import (
    ClientDisconnected,
    SpooledInput,
    StreamingInput,
    makeEnviron,
)
from twisted_web_re._wire.serialise import checkFieldName, checkFieldValue, checkReason
from twisted_web_re._wire.status import NO_BODY_CODES
from twisted_web_re.server import NOT_DONE_YET

__all__ = ["ClientDisconnected", "FileWrapper", "WSGIResource"]

_log = Logger()

#: Response bytes a worker may have handed to the reactor thread, not yet
#: written, before it waits for the reactor to catch up.
OUTPUT_HIGH_WATER = 256 * 1024

#: Seconds a pool thread that has run a request waits for the next one
#: before it goes back to the pool.
RUNNER_LINGER = 0.05

#: Seconds the applications still answering when the reactor shuts down are
#: given to finish before they are released (see L{WSGIResource}).
SHUTDOWN_GRACE = 10.0

# PEP 3333 forbids applications the HTTP/1.1 hop-by-hop fields (the list of
# RFC 2616 section 13.5.1, as wsgiref has it, and RFC 9110's Trailer): they
# are the server's to decide.
_HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"trailers",
        b"transfer-encoding",
        b"upgrade",
    }
)

# A final status: a 1xx cannot end a response, and the code has three digits.
_STATUS = re.compile(r"([2-9][0-9][0-9]) (.*)", re.DOTALL)

# The outcome of an application that completed without error.
_COMPLETE = "complete"

# The outcome of a file body that ended before its length: the response is
# cut, never finished as if whole.
_CUT = "cut"


class FileWrapper:
    """
    C{wsgi.file_wrapper}: return C{FileWrapper(file)} to send a file as the
    response body.

    A wrapped regular file (one with a C{fileno()}) is sent from the reactor
    thread, from the file's current position, a block at a time as the client
    takes it, without a thread hop per block; the rest of the file is the
    response's C{Content-Length}, unless the application declared one, which
    then limits how much is sent.  Anything else is iterated in the worker
    thread, like any response.  Either way C{close()} closes the file, in a
    worker thread.

    @ivar filelike: the wrapped file-like object.
    @ivar blksize: the size of each read when iterated.
    """

    def __init__(self, filelike: Any, blksize: int = 8192) -> None:
        self.filelike = filelike
        self.blksize = blksize

    def __iter__(self) -> Iterator[bytes]:
        """Yield the file's content, C{blksize} bytes at a time."""
        read = self.filelike.read
        size = self.blksize
        while True:
            data = read(size)
            if not data:
                return
            yield data

    def close(self) -> None:
        """Close the wrapped file, if it can be closed."""
        close = getattr(self.filelike, "close", None)
        if close is not None:
            close()


@dataclass
class _FileBody:
    """
    A response body to be read from a file descriptor in the reactor thread.

    @ivar wrapper: the L{FileWrapper} the application returned, to be closed
        (in a worker thread) once sent.
    @ivar fd: the descriptor, positioned where sending starts.
    @ivar left: how many bytes remain to be sent.
    """

    wrapper: FileWrapper
    fd: int
    left: int


_Head = tuple[tuple[int, bytes], list[tuple[bytes, bytes]], int | None]

_STATUSES: dict[str, tuple[int, bytes]] = {}


def _parseStatus(status: object) -> tuple[int, bytes]:
    """
    Return the code and reason phrase of a WSGI status such as C{"200 OK"}.

    @raise TypeError: C{status} is not a C{str}.
    @raise ValueError: it is not a three-digit final code, a space and a
        Latin-1 reason phrase without control characters.
    """
    if type(status) is not str:
        raise TypeError(
            f"a WSGI status is a str such as '200 OK', not {type(status).__name__}: "
            f"{status!r}"
        )
    parsed = _STATUSES.get(status)
    if parsed is not None:
        return parsed
    match = _STATUS.fullmatch(status)
    try:
        if match is None:
            raise ValueError
        reason = match.group(2).encode("latin-1")
        checkReason(reason)
    except (ValueError, UnicodeEncodeError):
        raise ValueError(
            f"a WSGI status is a three-digit final code, a space and a Latin-1 "
            f"reason phrase, not {status!r}"
        ) from None
    parsed = (int(match.group(1)), reason)
    if len(_STATUSES) < 256:
        _STATUSES[status] = parsed
    return parsed


def _parseHeaders(headers: object) -> tuple[list[tuple[bytes, bytes]], int | None]:
    """
    Check WSGI response headers and return them as lower-cased bytes names and
    bytes values, with the C{Content-Length} they declare, if any.

    @raise TypeError: C{headers} is not a list of C{(str, str)} tuples.
    @raise ValueError: a name is not a token, a value is not Latin-1 or holds
        CR, LF or NUL, a field is hop-by-hop, or C{Content-Length} is not one
        decimal number.
    """
    if not isinstance(headers, list):
        raise TypeError(
            f"WSGI response headers are a list, not {type(headers).__name__}: "
            f"{headers!r}"
        )
    parsed = []
    declared = None
    for header in headers:
        if (
            not isinstance(header, tuple)
            or len(header) != 2
            or type(header[0]) is not str
            or type(header[1]) is not str
        ):
            raise TypeError(f"a WSGI response header is a (str, str) tuple: {header!r}")
        name, value = header
        try:
            rawName = name.encode("latin-1")
            rawValue = value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(
                f"a WSGI response header must be Latin-1: {header!r}"
            ) from None
        checkFieldName(rawName)
        checkFieldValue(rawValue)
        lower = rawName.lower()
        if lower in _HOP_BY_HOP:
            raise ValueError(
                f"a WSGI application may not set the hop-by-hop header {name!r} "
                f"(PEP 3333): the server manages the connection"
            )
        if lower == b"content-length":
            rawValue = rawValue.strip()
            if declared is not None or not rawValue.isdigit():
                raise ValueError(
                    f"a WSGI response declares an invalid Content-Length: {header!r}"
                )
            declared = int(rawValue)
        parsed.append((lower, rawValue))
    return parsed, declared


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


@implementer(IPushProducer)
class _Exchange:
    """
    One request answered by the WSGI application.

    The worker thread runs L{_run}: it calls the application, is its
    C{start_response} and C{write}, iterates the result and closes it.  What
    it sends accumulates under L{_cond}; the first piece schedules one
    L{_flush} in the reactor thread, which takes everything accumulated by
    the time it runs.  The worker waits while more than L{OUTPUT_HIGH_WATER}
    bytes are pending or the connection is paused (this is the request's push
    producer); when the client goes away, what the worker sends is dropped
    and it stops iterating.

    The response is finished only once the application is done and, on a site
    that located the resource before the body, the body is complete: until
    then the connection is still reading it.
    """

    def __init__(self, wsgiResource: WSGIResource, request: Any, streaming: bool):
        """
        @param wsgiResource: the resource, with the application, reactor and
            thread pool.
        @param request: the request to answer.
        @param streaming: whether the body is still to arrive (through
            L{feed} and L{bodyArrived}) rather than complete in
            C{request.content}.
        """
        self._resource = wsgiResource
        self._reactor = wsgiResource._reactor
        self._request = request
        self._cond = threading.Condition(threading.Lock())
        # Shared between the threads, under _cond.
        self._chunks: list[bytes] = []
        self._queued = 0
        self._head: _Head | None = None
        self._end: object = None
        self._scheduled = False
        self._paused = False
        self._stopped = False
        self._waiting = False
        # The worker's.
        self._status: tuple[int, bytes] | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._declared: int | None = None
        self._headersSent = False
        self._done = False
        # The reactor thread's.
        self._gone = False
        self._bodyComplete = not streaming
        self._pendingEnd: object = None
        self._file: _FileBody | None = None
        self._later: IDelayedCall | None = None
        self._input: StreamingInput | None = None
        body: Any
        if streaming:
            body = self._input = StreamingInput(request, self._reactor.callFromThread)
        else:
            body = SpooledInput(request.content)
        self._environ = makeEnviron(request, body, streaming, _BASE_ENVIRON)

    # -- the reactor thread ------------------------------------------------

    def start(self) -> None:
        """
        Become the request's producer (which is also how the exchange learns
        that the client went away: see L{stopProducing}) and run the
        application in the pool.
        """
        request = self._request
        request.registerProducer(self, True)
        self._resource._active.add(self)
        try:
            self._resource._dispatch(self)
        except BaseException:
            self._resource._forget(self)
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
        end, self._pendingEnd = self._pendingEnd, None
        if end is not None:
            self._conclude(end)

    def _flush(self) -> None:
        """Write what the worker has handed over since the last flush."""
        with self._cond:
            head, self._head = self._head, None
            chunks, self._chunks = self._chunks, []
            end, self._end = self._end, None
            self._queued = 0
            self._scheduled = False
            if self._waiting:
                self._cond.notify()
        if self._gone:
            if isinstance(end, _FileBody):
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
            self._request.write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if end is not None:
            self._appEnded(end)

    def _applyHead(self, head: _Head, chunks: list[bytes], end: object) -> None:
        """
        Give the request the application's status and headers (and no
        Content-Type of the server's own), and a Content-Length when the whole
        body is known now.
        """
        (code, reason), headers, declared = head
        request = self._request
        request.setResponseCode(code, reason)
        responseHeaders = request.responseHeaders
        responseHeaders.removeHeader(b"content-type")
        for name, value in headers:
            responseHeaders.addRawHeader(name, value)
        if declared is None and end is not None and code not in NO_BODY_CODES:
            length = sum(map(len, chunks))
            if isinstance(end, _FileBody):
                length += end.left
            if length or request.method != b"HEAD":
                responseHeaders.setRawHeaders(b"content-length", [b"%d" % length])

    def _appEnded(self, end: object) -> None:
        """
        The application is done (C{end}: L{_COMPLETE}, L{_CUT}, a L{Failure},
        or a L{_FileBody} still to send): send the file, or finish the response as
        soon as the request body is complete.
        """
        if self._input is not None:
            self._input.discard()
        if isinstance(end, _FileBody):
            request = self._request
            if (
                end.left
                and request.method != b"HEAD"
                and request.code not in NO_BODY_CODES
            ):
                self._file = end
                self._pump()
                return
            self._closeInThread(end.wrapper)
            end = _COMPLETE
        if self._bodyComplete:
            self._conclude(end)
        else:
            self._pendingEnd = end

    def _conclude(self, end: object) -> None:
        """Finish the response, or answer 500 (or abort) for a failure."""
        self._resource._forget(self)
        request = self._request
        request.unregisterProducer()
        if isinstance(end, Failure):
            request.processingFailed(end)
        elif end is _CUT:
            request.abortConnection()
        else:
            request.finish()

    def _pump(self) -> None:
        """
        Send the file body a block at a time until it is sent, the connection
        pushes back, or this turn's budget is spent.
        """
        body = self._file
        assert body is not None
        written = 0
        try:
            while body.left:
                if self._paused:
                    return
                if written >= TURN_BUDGET:
                    self._later = self._reactor.callLater(0, self._pumpLater)
                    return
                data = os.read(body.fd, min(BLOCK_SIZE, body.left))
                if not data:
                    _log.warn(
                        "{file!r} shrank while it was sent to {request!r}; "
                        "the response is cut",
                        file=body.wrapper.filelike,
                        request=self._request,
                    )
                    end: object = _CUT
                    break
                body.left -= len(data)
                written += len(data)
                self._request.write(data)
            else:
                end = _COMPLETE
        except OSError:
            end = Failure()
        self._file = None
        self._closeInThread(body.wrapper)
        self._appEnded(end)

    def _pumpLater(self) -> None:
        self._later = None
        self._pump()

    def _closeInThread(self, wrapper: FileWrapper) -> None:
        """
        Close a file body in the pool: it is the application's object.  Once
        the pool is stopped (at shutdown), close it here rather than leak it.
        """
        try:
            self._resource._threadpool.callInThread(self._closeFile, wrapper)
        except Exception:
            self._closeFile(wrapper)

    def _closeFile(self, wrapper: FileWrapper) -> None:
        try:
            wrapper.close()
        except BaseException:
            _log.failure("Closing the WSGI file body {file!r}", file=wrapper.filelike)

    def pauseProducing(self) -> None:
        """The client is not keeping up: the worker waits at its next send."""
        with self._cond:
            self._paused = True

    def resumeProducing(self) -> None:
        """The client caught up: the worker (or the file) carries on."""
        with self._cond:
            self._paused = False
            if self._waiting:
                self._cond.notify()
        if self._file is not None and self._later is None:
            self._pump()

    def stopProducing(self) -> None:
        """
        The client went away (the request calls this when its connection is
        lost, the body rejected or the transport closed): the worker's sends
        become no-ops and it stops iterating; C{wsgi.input} raises
        L{ClientDisconnected} for what will not come; a file body is closed.
        """
        if self._gone:
            return
        self._gone = True
        self._resource._forget(self)
        self._resource._uploads.pop(self._request, None)
        self.stop()
        body, self._file = self._file, None
        later, self._later = self._later, None
        if later is not None and later.active():
            later.cancel()
        if body is not None:
            self._closeInThread(body.wrapper)

    def stop(self) -> None:
        """
        Release the worker: its sends become no-ops, and C{wsgi.input} gives
        nothing more.
        """
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._input is not None:
            self._input.abort()

    # -- the worker thread -----------------------------------------------------

    def _run(self) -> None:
        """Call the application, send its response and close its iterable."""
        result: Any = None
        end: object
        try:
            result = self._resource._application(self._environ, self._startResponse)
            end = self._fileBody(result) or self._iterate(result)
        except BaseException:
            end = Failure()
        if result is not None and not isinstance(end, _FileBody):
            end = self._close(result, end)
        self._complete(end)

    def _startResponse(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        """
        PEP 3333's C{start_response}: check and record the status and headers
        and return the C{write} callable.  With C{exc_info}, replace what an
        earlier call recorded, or, if the headers were sent already, re-raise
        that exception.

        @raise RuntimeError: called again without C{exc_info}.
        @raise TypeError: see L{_parseStatus} and L{_parseHeaders}.
        @raise ValueError: see L{_parseStatus} and L{_parseHeaders}.
        """
        if exc_info is not None:
            try:
                if self._headersSent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self._status is not None:
            raise RuntimeError(
                "start_response was called a second time without exc_info"
            )
        parsedStatus = _parseStatus(status)
        self._headers, self._declared = _parseHeaders(headers)
        self._status = parsedStatus
        return self._write

    def _write(self, data: bytes) -> None:
        """
        PEP 3333's C{write} callable: send C{data} now, before what the
        application returns.

        @raise RuntimeError: the application has returned already.
        @raise TypeError: C{data} is not bytes.
        """
        if self._done:
            raise RuntimeError("the WSGI write callable was used after the response")
        self._send(data, True)

    def _send(self, data: object, handoff: bool) -> None:
        """
        Hand C{data} (and, the first time, the head) to the reactor thread;
        if C{handoff}, schedule a flush, and wait while the client pushes back
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
        if self._status is None:
            raise RuntimeError(
                "the WSGI application sent body bytes before calling start_response"
            )
        cond = self._cond
        with cond:
            if self._stopped:
                return
            if not self._headersSent:
                self._headersSent = True
                self._head = (self._status, self._headers, self._declared)
            self._chunks.append(data)
            self._queued += len(data)
            schedule = handoff and not self._scheduled
            if schedule:
                self._scheduled = True
        if schedule:
            self._reactor.callFromThread(self._flush)
        if handoff and (self._paused or self._queued >= OUTPUT_HIGH_WATER):
            with cond:
                while not self._stopped and (
                    self._paused or self._queued >= OUTPUT_HIGH_WATER
                ):
                    self._waiting = True
                    cond.wait()
                self._waiting = False

    def _iterate(self, result: Any) -> object:
        """
        Send each piece of C{result}; stop early if the client is gone.

        A list or tuple is already all in memory, so it is handed over whole,
        at the end, in one flush with a Content-Length.
        """
        handoff = type(result) is not list and type(result) is not tuple
        send = self._send
        for data in result:
            if self._stopped:
                break
            send(data, handoff)
        if self._status is None and not self._stopped:
            raise RuntimeError(
                f"the WSGI application {self._resource._application!r} returned "
                f"without calling start_response"
            )
        return _COMPLETE

    def _fileBody(self, result: Any) -> _FileBody | None:
        """
        If C{result} is a L{FileWrapper} of a regular file, position the file's
        descriptor and return what to send from it; else C{None}.
        """
        if type(result) is not FileWrapper or self._status is None:
            return None
        filelike = result.filelike
        try:
            fd = filelike.fileno()
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                return None
            offset = filelike.tell()
            os.lseek(fd, offset, os.SEEK_SET)
        except (AttributeError, TypeError, ValueError, OSError):
            return None
        left = max(info.st_size - offset, 0)
        if self._declared is not None:
            left = min(left, self._declared)
        return _FileBody(result, fd, left)

    def _close(self, result: Any, end: object) -> object:
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

    def _complete(self, end: object) -> None:
        """
        Hand the end of the response to the reactor thread: L{_COMPLETE} (the
        head goes with it if no body did), a L{_FileBody}, or a L{Failure}.
        """
        self._done = True
        if self._stopped:
            # Released at shutdown, or the client went away: a file body is
            # not going to be sent, and nothing may pass for a whole response.
            if isinstance(end, _FileBody):
                self._close(end.wrapper, _COMPLETE)
            if not isinstance(end, Failure):
                end = Failure(ConnectionAbortedError("the WSGI response was cut short"))
        with self._cond:
            if (
                not isinstance(end, Failure)
                and not self._headersSent
                and self._status is not None
            ):
                self._headersSent = True
                self._head = (self._status, self._headers, self._declared)
            self._end = end
            schedule = not self._scheduled
            self._scheduled = True
        if schedule:
            self._reactor.callFromThread(self._flush)


@implementer(resource.IResource, resource.IStreamingUpload)
class WSGIResource:
    """
    A leaf resource that answers every request for itself and the paths
    below it by calling a WSGI application (PEP 3333) in a thread pool.

    C{SCRIPT_NAME} is the path that led to this resource and C{PATH_INFO} the
    rest.  On a L{server.Site} with C{locateBeforeBody}, the application is
    started as soon as the request head has arrived and reads the body from
    C{wsgi.input} as it arrives; otherwise the body has all arrived when it
    starts.

    When the reactor shuts down, responses still being produced are given
    L{shutdownGrace} seconds to finish, the shutdown waiting for them; then
    their applications are released (their sends dropped, C{wsgi.input}
    giving nothing more, the responses cut short), so that stopping the
    thread pool is never kept waiting by a client that does not read.

    @ivar shutdownGrace: see L{SHUTDOWN_GRACE}.
    """

    isLeaf = True
    shutdownGrace = SHUTDOWN_GRACE

    def __init__(self, reactor: Any, threadpool: Any, application: Any) -> None:
        """
        @param reactor: the reactor the site runs in.
        @param threadpool: the L{twisted.python.threadpool.ThreadPool} (or
            anything with its C{callInThread}) to run the application in; it
            must be started by the time requests arrive.
        @param application: the WSGI application.
        """
        self._reactor = reactor
        self._threadpool = threadpool
        self._application = application
        self._active: set[_Exchange] = set()
        self._uploads: dict[Any, _Exchange] = {}
        self._queueReady = threading.Condition(threading.Lock())
        self._queue: deque[_Exchange] = deque()
        self._runners = 0
        self._idle = 0
        self._linger = RUNNER_LINGER
        self._drained: Deferred[None] | None = None
        reactor.addSystemEventTrigger("before", "shutdown", self._shutdown)

    def render(self, request: Any) -> int:
        """
        Run the application for C{request} (or, if it was started when the
        head arrived, tell it the body is complete).
        """
        exchange = self._uploads.pop(request, None)
        if exchange is None:
            _Exchange(self, request, streaming=False).start()
        else:
            exchange.bodyArrived()
        return NOT_DONE_YET

    def uploadStarted(self, request: Any, length: int | None) -> int | None:
        """
        The head of a request with a body arrived (on a site that locates
        resources before the body): start the application now, its
        C{wsgi.input} fed as the body arrives.  Answers 500 if it cannot be
        started.
        """
        # The application, not the server, says what the Content-Type is.
        request.defaultContentType = None
        exchange = _Exchange(self, request, streaming=True)
        try:
            exchange.start()
        except Exception:
            _log.failure(
                "Could not start the WSGI application for {request!r}", request=request
            )
            return 500
        self._uploads[request] = exchange
        return None

    def uploadReceived(self, request: Any, data: bytes) -> None:
        """Pass the next piece of the body to the application's C{wsgi.input}."""
        exchange = self._uploads.get(request)
        if exchange is not None:
            exchange.feed(data)

    def getChildWithDefault(self, name: bytes, request: Any) -> Any:
        """
        Never called by traversal, since this is a leaf: the application sees
        the rest of the path as C{PATH_INFO}.

        @raise RuntimeError: always.
        """
        raise RuntimeError("a WSGIResource has no child resources")

    def putChild(self, path: bytes, child: Any) -> None:
        """
        @raise RuntimeError: always: the application answers for every path
            below this resource.
        """
        raise RuntimeError("a WSGIResource cannot have child resources")

    def _dispatch(self, exchange: _Exchange) -> None:
        """
        Have C{exchange} run in the pool.

        Pool threads running this resource's exchanges take the next one
        queued when they finish, and wait L{RUNNER_LINGER} seconds for one
        before giving their thread back to the pool; so a request needs a
        hand-over to the pool only while fewer of them are running or
        waiting than it has work for (up to the pool's C{max}).  Under load,
        most requests are a queue append and the wake-up of a waiting thread.

        @raise Exception: the pool takes no work (it was stopped).
        """
        limit = getattr(self._threadpool, "max", None)
        with self._queueReady:
            queue = self._queue
            queue.append(exchange)
            if len(queue) <= self._idle:
                self._queueReady.notify()
                return
            spawn = limit is None or self._runners < limit
            if spawn:
                self._runners += 1
        if spawn:
            try:
                self._threadpool.callInThread(self._runQueued)
            except BaseException:
                with self._queueReady:
                    self._runners -= 1
                    queue.remove(exchange)
                raise

    def _runQueued(self) -> None:
        """
        In a pool thread: run queued exchanges, waiting a little for more,
        until there are none.
        """
        ready = self._queueReady
        queue = self._queue
        while True:
            with ready:
                if not queue:
                    self._idle += 1
                    ready.wait(self._linger)
                    self._idle -= 1
                    if not queue:
                        self._runners -= 1
                        return
                exchange = queue.popleft()
            exchange._run()

    def _forget(self, exchange: _Exchange) -> None:
        """C{exchange} is over; the last one over ends a shutdown's wait."""
        self._active.discard(exchange)
        drained = self._drained
        if drained is not None and not self._active:
            self._drained = None
            drained.callback(None)

    def _shutdown(self) -> Deferred[None] | None:
        """
        The reactor is shutting down: let idle pool threads go at once, and
        wait for the responses still being produced, for L{shutdownGrace}
        seconds at most.
        """
        with self._queueReady:
            self._linger = 0
            self._queueReady.notify_all()
        if not self._active:
            return None
        drained = self._drained = Deferred()
        timer = self._reactor.callLater(self.shutdownGrace, self._releaseAll)
        drained.addCallback(lambda _: timer.cancel() if timer.active() else None)
        return drained

    def _releaseAll(self) -> None:
        """Release the worker of every exchange still running; stop waiting."""
        for exchange in list(self._active):
            exchange.stop()
        drained, self._drained = self._drained, None
        if drained is not None:
            drained.callback(None)
