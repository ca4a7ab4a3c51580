"""
The reactor services each gateway needs, as one type each: Twisted names
them in separate interfaces (L{IReactorTime}, L{IReactorFromThreads},
L{IReactorCore}, L{IReactorProcess}), and every real reactor provides them
all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from twisted.internet.interfaces import (
    IDelayedCall,
    IProcessProtocol,
    IProcessTransport,
)

__all__ = ["CGIReactor", "Scheduler", "WSGIReactor"]


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
