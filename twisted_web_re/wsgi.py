"""
WSGI: L{WSGIResource} publishes a WSGI application (PEP 3333) as a leaf
resource, running it in a thread pool so that the reactor never waits on it.

Each request is one exchange (L{twisted_web_re._gateways.wsgiexchange}): the
application, the iteration of what it returns and that iterable's
C{close()} run in a worker thread; the response goes to the reactor thread
in batches, one hand-over for however many pieces the application produced
while the reactor was busy, and the worker waits while the client is not
reading.  The body reaches the application through C{wsgi.input}: read from
C{request.content} once it has all arrived, or, on a site that locates
resources before the body, as it arrives.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from typing import TYPE_CHECKING, NoReturn

from twisted.internet.defer import Deferred
from twisted.logger import Logger
from zope.interface import implementer

from twisted_web_re import http, resource
from twisted_web_re._gateways.reactor import WorkerPool, WSGIReactor
from twisted_web_re._gateways.wsgiexchange import (
    OUTPUT_HIGH_WATER as OUTPUT_HIGH_WATER,
)
from twisted_web_re._gateways.wsgiexchange import Exchange
from twisted_web_re._gateways.wsgifile import FileWrapper
from twisted_web_re._gateways.wsgiinput import ClientDisconnected
from twisted_web_re._gateways.wsgioutbox import Outbox
from twisted_web_re._publish.traversal import siteRequest
from twisted_web_re.iweb import IRequest
from twisted_web_re.server import NOT_DONE_YET, Request

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

__all__ = ["ClientDisconnected", "FileWrapper", "WSGIResource"]

_log = Logger()

#: Seconds a pool thread that has run a request waits for the next one
#: before it goes back to the pool.
RUNNER_LINGER = 0.05

#: Seconds the applications still answering when the reactor shuts down are
#: given to finish before they are released (see L{WSGIResource}).
SHUTDOWN_GRACE = 10.0


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

    def __init__(
        self,
        reactor: WSGIReactor,
        threadpool: WorkerPool,
        application: WSGIApplication,
    ) -> None:
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
        self._outbox = Outbox(reactor)
        self._active: set[Exchange] = set()
        self._uploads: dict[http.Request, Exchange] = {}
        self._queueLock = threading.Lock()
        self._queueReady = threading.Condition(self._queueLock)
        self._queue: deque[Exchange] = deque()
        self._runners = 0
        self._idle = 0
        self._coming = 0
        self._linger = RUNNER_LINGER
        self._drained: Deferred[None] | None = None
        reactor.addSystemEventTrigger("before", "shutdown", self._shutdown)

    def render(self, request: IRequest) -> int:
        """
        Run the application for C{request} (or, if it was started when the
        head arrived, tell it the body is complete).

        @raise TypeError: C{request} is not a Site's request.
        """
        request = siteRequest(request)
        exchange = self._uploads.pop(request, None)
        if exchange is None:
            self._exchange(request, streaming=False).start()
        else:
            exchange.bodyArrived()
        return NOT_DONE_YET

    def uploadStarted(self, request: http.Request, length: int | None) -> int | None:
        """
        The head of a request with a body arrived (on a site that locates
        resources before the body): start the application now, its
        C{wsgi.input} fed as the body arrives.  Answers 500 if it cannot be
        started.

        @raise TypeError: C{request} is not a Site's request.
        """
        request = siteRequest(request)
        # The application, not the server, says what the Content-Type is.
        request.defaultContentType = None
        exchange = self._exchange(request, streaming=True)
        try:
            exchange.start()
        except Exception:
            _log.failure(
                "Could not start the WSGI application for {request!r}", request=request
            )
            return 500
        self._uploads[request] = exchange
        return None

    def uploadReceived(self, request: http.Request, data: bytes) -> None:
        """Pass the next piece of the body to the application's C{wsgi.input}."""
        exchange = self._uploads.get(request)
        if exchange is not None:
            exchange.feed(data)

    def getChildWithDefault(self, name: bytes, request: IRequest) -> NoReturn:
        """
        Never called by traversal, since this is a leaf: the application sees
        the rest of the path as C{PATH_INFO}.

        @raise RuntimeError: always.
        """
        raise RuntimeError("a WSGIResource has no child resources")

    def putChild(self, path: bytes, child: resource.IResource) -> NoReturn:
        """
        @raise RuntimeError: always: the application answers for every path
            below this resource.
        """
        raise RuntimeError("a WSGIResource cannot have child resources")

    def _exchange(self, request: Request, streaming: bool) -> Exchange:
        """A new exchange answering C{request} with the application."""
        return Exchange(
            request,
            self._application,
            self._reactor,
            self._threadpool,
            outbox=self._outbox,
            streaming=streaming,
            dispatch=self._begin,
            over=self._forget,
        )

    def _begin(self, exchange: Exchange) -> None:
        """
        C{exchange} starts: count it as active (a shutdown waits for it), and
        run it in the pool.

        @raise Exception: see L{_dispatch}.
        """
        self._active.add(exchange)
        self._dispatch(exchange)

    def _dispatch(self, exchange: Exchange) -> None:
        """
        Have C{exchange} run in the pool.

        Pool threads running this resource's exchanges take the next one
        queued when they finish, and wait L{RUNNER_LINGER} seconds for one
        before giving their thread back to the pool.  One thread at a time
        is called to the queue: a waiting one, woken at the end of the
        reactor's turn, or else a new one asked of the pool at once, up to
        its C{max}.  The one called, finding more queued than it takes,
        calls the next.  So a burst of requests wakes the threads one after
        another as they are needed, rather than all at once to fight over
        the interpreter, and a request still never waits behind another's
        application while the pool has a thread to spare.

        @raise Exception: the pool takes no work (it was stopped).
        """
        with self._queueLock:
            self._queue.append(exchange)
            if not self._coming and self._idle > 0:
                # Wake the waiting thread once the reactor has read what it
                # can: it then finds the whole burst queued, rather than
                # fighting the reactor for the interpreter at each request.
                self._coming = 1
                self._reactor.callLater(0, self._wake)
                return
            spawn = self._summon()
        if spawn:
            self._askPool(exchange)

    def _wake(self) -> None:
        """
        In the reactor thread, at the end of the turn that queued work: wake
        a waiting pool thread (called to the queue by L{_dispatch}).
        """
        with self._queueLock:
            self._queueReady.notify()

    def _summon(self) -> bool:
        """
        Under L{_queueLock}, with work queued: unless a thread is already
        on its way to the queue, wake a waiting one, or count a new one in.

        @return: whether the caller must ask the pool for the new thread.
        """
        if self._coming:
            return False
        if self._idle > 0:
            self._coming = 1
            self._queueReady.notify()
            return False
        limit = getattr(self._threadpool, "max", None)
        if limit is not None and self._runners >= limit:
            return False
        self._runners += 1
        self._coming = 1
        return True

    def _runQueued(self) -> None:
        """
        In a pool thread: run queued exchanges, waiting a little for more,
        until there are none.
        """
        lock = self._queueLock
        ready = self._queueReady
        queue = self._queue
        called = True
        while True:
            with lock:
                if called:
                    called = False
                    self._arrived()
                if not queue:
                    self._idle += 1
                    ready.wait(self._linger)
                    self._idle -= 1
                    self._arrived()
                    if not queue:
                        self._runners -= 1
                        return
                exchange = queue.popleft()
                spawn = bool(queue) and self._summon()
            if spawn:
                self._spawnHelper()
            exchange.run()

    def _arrived(self) -> None:
        """
        Under L{_queueLock}: a thread called to the queue (or one standing
        in for it: a wait that timed out as it was woken) has come to it.
        """
        if self._coming:
            self._coming -= 1

    def _spawnHelper(self) -> None:
        """
        In a pool thread: ask the pool for one more thread for the queue; if
        it takes no work (it was stopped), the threads already running take
        what is queued.
        """
        with contextlib.suppress(BaseException):
            self._askPool()

    def _askPool(self, queued: Exchange | None = None) -> None:
        """
        Ask the pool for the thread L{_summon} counted in; if it takes no
        work, count it out again, and take C{queued} back off the queue.

        @raise BaseException: what the pool raised.
        """
        try:
            self._threadpool.callInThread(self._runQueued)
        except BaseException:
            with self._queueLock:
                self._runners -= 1
                self._arrived()
                if queued is not None:
                    self._queue.remove(queued)
            raise

    def _forget(self, exchange: Exchange) -> None:
        """C{exchange} is over; the last one over ends a shutdown's wait."""
        self._active.discard(exchange)
        if self._uploads.get(exchange.request) is exchange:
            del self._uploads[exchange.request]
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
        with self._queueLock:
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
