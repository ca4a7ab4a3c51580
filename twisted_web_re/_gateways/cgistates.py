"""
The state machines of a CGI program's protocol
(L{twisted_web_re._gateways.cgiprocess}): the program's life, the response,
and the program's input, each an enum with the diagram of its moves, and
L{Machine}, which holds one state and refuses a move its diagram does not
have.
"""

from __future__ import annotations

import enum
from typing import Generic, TypeVar

__all__ = [
    "LIFE_MOVES",
    "RESPONSE_MOVES",
    "STDIN_MOVES",
    "Life",
    "Machine",
    "Response",
    "Stdin",
]

_S = TypeVar("_S", bound=enum.Enum)


class Machine(Generic[_S]):
    """
    One state machine: its state, and the only way to change it.

    @ivar state: the current state.
    """

    def __init__(self, name: str, state: _S, moves: dict[_S, frozenset[_S]]) -> None:
        """
        @param name: what it is, for the error.
        @param state: where it starts.
        @param moves: each state's legal next states.
        """
        self._name = name
        self.state = state
        self._moves = moves

    def moveTo(self, state: _S) -> None:
        """
        Move to C{state}.

        @raise RuntimeError: the diagram has no such move.
        """
        if state not in self._moves[self.state]:
            raise RuntimeError(
                f"bad CGI {self._name} transition {self.state} -> {state}"
            )
        self.state = state


class Life(enum.Enum):
    """
    The program's life::

        STARTING --started--> RUNNING --SIGTERM (timeout, client gone,
                                        shutdown, bad output)--> KILLING
        RUNNING, KILLING --exited, its pipes closed--> ENDED

    The progress timer runs only while it is RUNNING and its client is
    there; the SIGKILL timer only while it is KILLING.
    """

    STARTING = "starting"
    RUNNING = "running"
    KILLING = "killing"
    ENDED = "ended"


LIFE_MOVES = {
    Life.STARTING: frozenset({Life.RUNNING}),
    Life.RUNNING: frozenset({Life.KILLING, Life.ENDED}),
    Life.KILLING: frozenset({Life.ENDED}),
    Life.ENDED: frozenset[Life](),
}


class Response(enum.Enum):
    """
    Where the response is::

        HEAD --head parsed--> BODY --output ended--> ENDING
        ENDING --exited cleanly, or still running after EXIT_WAIT--> FINISHING
        ENDING --failed (signal, status), part sent: cut--> DONE
        HEAD, BODY, ENDING --error page (502, 504; 500, 503 if it
                             cannot run)--> FINISHING
        BODY --timed out or stopped after part was sent: cut--> DONE
        HEAD --Location: /path--> REDIRECTING
        REDIRECTING --request body complete: the request goes on
                      to the new URL--> DONE
        REDIRECTING --too many redirects: 500--> FINISHING
        FINISHING --request body complete: finished--> DONE
        any but GONE --client gone--> GONE

    A response in FINISHING is complete but waits for the request body to
    arrive whole: a request must not end while the channel still reads its
    body.  ENDING waits for the program's exit status (at most
    L{EXIT_WAIT}), so that a failure is never passed off as complete.
    """

    HEAD = "head"
    BODY = "body"
    ENDING = "ending"
    REDIRECTING = "redirecting"
    FINISHING = "finishing"
    DONE = "done"
    GONE = "gone"


RESPONSE_MOVES = {
    Response.HEAD: frozenset(
        {Response.BODY, Response.REDIRECTING, Response.FINISHING, Response.GONE}
    ),
    Response.BODY: frozenset(
        {Response.ENDING, Response.FINISHING, Response.DONE, Response.GONE}
    ),
    Response.ENDING: frozenset({Response.FINISHING, Response.DONE, Response.GONE}),
    Response.REDIRECTING: frozenset({Response.DONE, Response.FINISHING, Response.GONE}),
    Response.FINISHING: frozenset({Response.DONE, Response.GONE}),
    Response.DONE: frozenset({Response.GONE}),
    Response.GONE: frozenset[Response](),
}


class Stdin(enum.Enum):
    """
    The program's standard input, which the request body feeds::

        OPEN --pipe full (streamed body)--> PAUSED --pipe drained--> OPEN
        OPEN, PAUSED --closed by us (body complete, program killed,
                       response decided) or by the program--> CLOSED

    While it is PAUSED, so is the upload; closing it resumes the upload,
    whose rest is dropped, so that the channel is never left paused.
    """

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


STDIN_MOVES = {
    Stdin.OPEN: frozenset({Stdin.PAUSED, Stdin.CLOSED}),
    Stdin.PAUSED: frozenset({Stdin.OPEN, Stdin.CLOSED}),
    Stdin.CLOSED: frozenset[Stdin](),
}
