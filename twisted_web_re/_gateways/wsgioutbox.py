"""
L{Outbox}: calls that worker threads hand to the reactor thread, run there in
batches, so that the reactor is woken once for however many responses the
pool threads finished while it was busy, rather than once for each.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from twisted.logger import Logger

from twisted_web_re._gateways.reactor import WSGIReactor

__all__ = ["Outbox"]

_log = Logger()


class Outbox:
    """
    A queue of calls from any thread to the reactor thread.

    The first call put in an empty outbox asks the reactor (one
    C{callFromThread}, which wakes it) to run the outbox; calls put before it
    runs join that batch.  The reactor thread runs the batch in the order the
    calls were put, each on its own: one that raises is logged, and the
    others still run.
    """

    def __init__(self, reactor: WSGIReactor) -> None:
        """
        @param reactor: the reactor whose thread runs the calls; its
            C{callFromThread} is looked up only when a call is put.
        """
        self._reactor = reactor
        self._lock = threading.Lock()
        self._calls: list[Callable[[], object]] = []

    def put(self, call: Callable[[], object]) -> None:
        """
        Have C{call} run in the reactor thread, after every call put before
        it.  Thread-safe.
        """
        with self._lock:
            calls = self._calls
            calls.append(call)
            if len(calls) > 1:
                # A run is already asked for, and has not taken the batch.
                return
        self._reactor.callFromThread(self._run)

    def _run(self) -> None:
        """In the reactor thread: run the calls put so far."""
        with self._lock:
            calls, self._calls = self._calls, []
        for call in calls:
            try:
                call()
            except BaseException:
                _log.failure("A WSGI response step failed in the reactor thread")
