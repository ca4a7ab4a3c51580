"""
The HTTP/1.1 channel's states, the moves between them, and the one rule that
says whether the channel may parse, and read, input now.
"""

from __future__ import annotations

import enum

#: Bytes of pipelined input buffered while a request is answered before the
#: channel stops reading from the socket.
PIPELINE_BUFFER = 64 * 1024


class State(enum.IntEnum):
    """
    Where a connection is.  RFC 9112 sections 9.3 (persistence) and 9.6
    (tear-down), and RFC 9110 section 15.2.2 (101), drawn::

        IDLE --first byte--> HEAD --head, no body--> RESPONDING
        IDLE/HEAD --head with a body--> BODY <--pause/resume--> BODY_PAUSED
        BODY/BODY_PAUSED --body done--> RESPONDING
        BODY/BODY_PAUSED --answered before its body was read--> DRAINING
        DRAINING --rest of the body dropped--> IDLE
        RESPONDING --finished, keep-alive--> IDLE
        RESPONDING --101 sent, switchProtocol--> SWITCHED
        any --error answered, draining input a while--> LINGERING
        any --close, connection lost--> CLOSING

    Beside the state, two facts about the peer's side are kept, since they
    change independently of it: whether the transport's buffer is full
    (C{_writePaused}, the client is not reading), and whether the channel
    told the transport to stop reading (what L{mayRead} last decided).
    While one read's worth of input is parsed, responses are held (the
    channel's L{Output} is corked) to go out in one write.
    """

    IDLE = 0
    HEAD = 1
    BODY = 2
    BODY_PAUSED = 3
    DRAINING = 4
    RESPONDING = 5
    SWITCHED = 6
    LINGERING = 7
    CLOSING = 8


ENDS = frozenset({State.LINGERING, State.CLOSING})

TRANSITIONS: dict[State, frozenset[State]] = {
    State.IDLE: frozenset({State.HEAD, State.BODY, State.RESPONDING}) | ENDS,
    State.HEAD: frozenset({State.BODY, State.RESPONDING}) | ENDS,
    State.BODY: frozenset({State.BODY_PAUSED, State.RESPONDING, State.DRAINING}) | ENDS,
    State.BODY_PAUSED: frozenset({State.BODY, State.RESPONDING, State.DRAINING}) | ENDS,
    State.DRAINING: frozenset({State.IDLE}) | ENDS,
    State.RESPONDING: frozenset({State.IDLE, State.SWITCHED}) | ENDS,
    State.SWITCHED: frozenset({State.CLOSING}),
    State.LINGERING: frozenset({State.CLOSING}),
    State.CLOSING: frozenset({State.CLOSING}),
}


def checkMove(current: State, new: State) -> None:
    """
    @raise RuntimeError: the move from C{current} to C{new} is not one
        L{State} draws.
    """
    if new not in TRANSITIONS[current]:
        raise RuntimeError(f"bad channel transition {current.name} -> {new.name}")


def mayParse(state: State, writePaused: bool) -> bool:
    """
    Whether input may be parsed now: a request body under way is always
    read (the client may not read responses before it has sent it), unless
    its request paused it; a new request is read only while the client
    reads its responses (C{writePaused} false; Twisted ticket 8868); nothing
    is parsed while a response is under way, or once the connection is
    switched or ending.
    """
    if state is State.BODY or state is State.DRAINING:
        return True
    if state is State.IDLE or state is State.HEAD:
        return not writePaused
    return False


def mayRead(state: State, writePaused: bool, buffered: int) -> bool:
    """
    Whether the transport should read now: while input may be parsed
    (L{mayParse}); while a response is under way and the client reads it,
    up to L{PIPELINE_BUFFER} bytes of pipelined input (C{buffered}); and
    while lingering, when input is dropped.
    """
    if state is State.RESPONDING:
        return not writePaused and buffered <= PIPELINE_BUFFER
    return state is State.LINGERING or mayParse(state, writePaused)
