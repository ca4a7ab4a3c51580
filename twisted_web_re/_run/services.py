"""
The services behind C{twistd web-re}: a site that adds C{--add-header} fields
to every response (and C{--hsts} to every one over TLS), the thread pool a
C{--wsgi} application runs in, and the graceful shutdown of HTTP/2
connections when the server stops.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from twisted.application.service import Service
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import (
    IReactorFromThreads,
)
from twisted.python.threadpool import ThreadPool

from twisted_web_re import http, http_headers, server

#: Seconds HTTP/2 connections are given to finish their streams when the
#: server stops (C{--shutdown-deadline}): a browser's requests in flight
#: finish within that, and a stop is not held up for long by a slow one.
DEFAULT_SHUTDOWN_DEADLINE = 5.0


def hstsHeader(seconds: int, includeSubDomains: bool) -> tuple[bytes, bytes]:
    """
    The C{Strict-Transport-Security} field of C{--hsts} (RFC 6797 section
    6.1).

    @param seconds: its C{max-age}.
    @param includeSubDomains: whether the policy covers subdomains too.
    @return: the field's name and value.
    """
    value = b"max-age=%d" % seconds
    if includeSubDomains:
        value += b"; includeSubDomains"
    return b"Strict-Transport-Security", value


class HeaderAddingRequest(server.Request):
    """
    A request whose every response carries its site's C{extraHeaders}, and,
    when it came over TLS, its C{secureHeaders} (RFC 6797 section 7.2: an
    HSTS policy is never sent over cleartext).

    The headers are added when the request starts being processed, before any
    resource is found or rendered, so a resource that sets a header of the
    same name replaces them, as with C{twistd web}.  If the response is then
    thrown away and replaced (by the 500 page of an error raised while
    rendering), they are added to the new one when it starts.  Nothing here
    asks the root resource for anything: the headers reach the responses of a
    leaf root, a traversal error and an error page alike.
    """

    _extendedHeaders: http_headers.Headers | None = None

    def _addExtraHeaders(self) -> None:
        """
        Add the site's extra headers to the response headers, unless they are
        there already.
        """
        headers = self.responseHeaders
        if headers is self._extendedHeaders:
            return
        self._extendedHeaders = headers
        site = self.channel.site
        for name, value in site.extraHeaders:
            headers.addRawHeader(name, value)
        if site.secureHeaders and self.isSecure():
            for name, value in site.secureHeaders:
                headers.addRawHeader(name, value)

    def process(self) -> None:
        """
        Add the extra headers, then find and render the resource.
        """
        self._addExtraHeaders()
        super().process()

    def write(self, data: bytes) -> None:
        """
        Write part of the body, first adding the extra headers to a response
        that was started afresh.

        @param data: The bytes to write.
        """
        if not self.startedWriting:
            self._addExtraHeaders()
        super().write(data)

    def finish(self) -> None:
        """
        End the response, first adding the extra headers to a response that
        was started afresh and has no body.
        """
        if not self.startedWriting:
            self._addExtraHeaders()
        super().finish()


class HeaderAddingSite(server.Site):
    """
    A site that adds the same headers to every response it sends, and more
    to every response over TLS.

    @ivar extraHeaders: The C{(name, value)} pairs added, in order.
    @ivar secureHeaders: The C{(name, value)} pairs added after them to the
        responses over TLS.
    """

    requestFactory = HeaderAddingRequest

    def __init__(
        self,
        root: object,
        extraHeaders: Iterable[tuple[bytes, bytes]],
        secureHeaders: Iterable[tuple[bytes, bytes]] = (),
        **kwargs: object,
    ) -> None:
        """
        @param root: The root resource: ours, or one written for twisted.web
            (C{--class} may name either).
        @param extraHeaders: The headers to add, as C{(name, value)} pairs.
        @param secureHeaders: The headers to add over TLS only.
        @param kwargs: Passed on to L{server.Site}.
        """
        # A twisted.web resource provides twisted.web's IResource, not ours:
        # the same methods, so it is served as it is.
        super().__init__(root, **kwargs)  # type: ignore[arg-type]
        self.extraHeaders = tuple(extraHeaders)
        self.secureHeaders = tuple(secureHeaders)


class ThreadPoolService(Service):
    """
    Runs a thread pool for as long as the server runs, and leaves no thread
    behind.

    The pool starts with the service, which C{twistd} starts after it has
    forked into the background.  Stopping it joins every one of its threads;
    that cannot be done on the reactor thread, where it would wait forever
    for a worker that is itself waiting for the reactor (to write part of a
    response, or to read more of a request body).  So a short-lived thread
    of its own stops the pool, and the stop completes on the reactor thread
    once it has.

    @ivar pool: The thread pool.
    """

    def __init__(self, pool: ThreadPool, reactor: IReactorFromThreads) -> None:
        """
        @param pool: The thread pool, not started.
        @param reactor: The reactor the service runs with.
        """
        self.pool = pool
        self._reactor = reactor

    def startService(self) -> None:
        """
        Start the thread pool.
        """
        super().startService()
        self.pool.start()

    def stopService(self) -> Deferred[None]:
        """
        Stop the thread pool, without blocking the reactor thread.

        @return: A L{Deferred} that fires on the reactor thread once every
            thread of the pool, and the thread that stopped it, has ended.
            A worker still running the application ends when the application
            returns (a L{wsgi.WSGIResource} releases those still running
            when its grace period at shutdown is over).
        """
        super().stopService()
        stopped: Deferred[None] = Deferred()
        stopper = threading.Thread(
            target=self._stopPool, args=(stopped,), name=f"{self.pool.name}-stopper"
        )
        stopped.addCallback(lambda _: stopper.join())
        stopper.start()
        return stopped

    def _stopPool(self, stopped: Deferred[None]) -> None:
        """
        Stop the pool, waiting for its threads, then fire C{stopped} on the
        reactor thread.  Runs in a thread of its own.

        @param stopped: The L{Deferred} to fire.
        """
        self.pool.stop()
        self._reactor.callFromThread(stopped.callback, None)


class HTTP2ShutdownService(Service):
    """
    Shuts down, when the server stops, every HTTP/2 connection of a site:
    each is told at once (GOAWAY) to send no more requests, its requests in
    flight are let finish, and it is closed within a deadline at the latest.
    The stop waits for all of them.

    @ivar site: The site whose connections these are.
    @ivar deadline: Seconds each connection is given.
    """

    def __init__(self, site: http.HTTPFactory, deadline: float) -> None:
        """
        @param site: The site.
        @param deadline: Seconds each connection is given.
        """
        self.site = site
        self.deadline = deadline

    def stopService(self) -> Deferred[None]:
        """
        Shut the site's HTTP/2 connections down.

        @return: A L{Deferred} firing once every one of them is closed.
        """
        super().stopService()
        return self.site.shutDownHTTP2(self.deadline)
