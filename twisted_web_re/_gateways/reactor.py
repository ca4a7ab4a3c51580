"""
The reactor services each gateway needs, as one type each: Twisted names
them in separate interfaces (L{IReactorTime}, L{IReactorFromThreads},
L{IReactorCore}, L{IReactorProcess}), and every real reactor provides them
all.  A WSGI resource's thread pool is typed here too: any object with
C{callInThread} serves, as with twisted.web's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from twisted.internet.interfaces import (
    IDelayedCall,
    IProcessProtocol,
    IProcessTransport,
)

__all__ = ["CGIReactor", "Scheduler", "WSGIReactor", "WorkerPool"]


class Scheduler(Protocol):
    """L{IReactorTime.callLater}: what code that only sets timers needs."""

    def callLater(
        self, delay: float, callable: Callable[..., Any], *args: object, **kw: object
    ) -> IDelayedCall: ...


class WSGIReactor(Scheduler, Protocol):
    """
    What a WSGI resource needs of its reactor: L{IReactorTime.callLater},
    L{IReactorFromThreads.callFromThread} and
    L{IReactorCore.addSystemEventTrigger}.
    """

    def callFromThread(
        self, callable: Callable[..., Any], *args: object, **kw: object
    ) -> None: ...

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[..., Any],
        *args: object,
        **kw: object,
    ) -> Any: ...


class WorkerPool(Protocol):
    """
    What a WSGI resource needs of its thread pool: L{ThreadPool.callInThread
    <twisted.python.threadpool.ThreadPool.callInThread>}, which runs a
    callable in one of its threads, or raises if it takes no more work.  A
    C{max} attribute, when the pool has one, bounds the threads asked of it.
    """

    def callInThread(
        self, func: Callable[..., object], *args: object, **kw: object
    ) -> None: ...


class CGIReactor(Scheduler, Protocol):
    """
    What a CGI program's protocol needs of its reactor:
    L{IReactorTime.callLater}, L{IReactorCore}'s system event triggers and
    L{IReactorProcess.spawnProcess}.
    """

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[..., Any],
        *args: object,
        **kw: object,
    ) -> Any: ...

    def removeSystemEventTrigger(self, triggerID: Any) -> None: ...

    def spawnProcess(
        self,
        processProtocol: IProcessProtocol,
        executable: bytes | str,
        args: Sequence[bytes | str],
        env: Mapping[Any, Any] | None = None,
        path: bytes | str | None = None,
    ) -> IProcessTransport: ...
