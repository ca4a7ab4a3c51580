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
    (tear-down), RFC 9110 section 15.2.2 (101) and RFC 9113 section 3
    (starting HTTP/2), drawn::

        OPENING --TLS chose h2, or the HTTP/2 preface--> SWITCHED
        OPENING --first bytes, not HTTP/2--> IDLE
        IDLE --first byte--> HEAD --head, no body--> RESPONDING
        IDLE/HEAD --head with a body--> BODY <--pause/resume--> BODY_PAUSED
        BODY/BODY_PAUSED --body done--> RESPONDING
        BODY/BODY_PAUSED --answered before its body was read--> DRAINING
        DRAINING --rest of the body dropped--> IDLE
        RESPONDING --finished, keep-alive--> IDLE
        RESPONDING --101 sent, switchProtocol or h2c Upgrade--> SWITCHED
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
    OPENING = 9


# The members as module constants: a member looked up on its Enum class
# costs a metaclass call, and the hot path compares states many times per
# request.
IDLE = State.IDLE
HEAD = State.HEAD
BODY = State.BODY
BODY_PAUSED = State.BODY_PAUSED
DRAINING = State.DRAINING
RESPONDING = State.RESPONDING
SWITCHED = State.SWITCHED
LINGERING = State.LINGERING
CLOSING = State.CLOSING
OPENING = State.OPENING

ENDS = frozenset({LINGERING, CLOSING})

TRANSITIONS: dict[State, frozenset[State]] = {
    OPENING: frozenset({IDLE, SWITCHED}) | ENDS,
    IDLE: frozenset({HEAD, BODY, RESPONDING}) | ENDS,
    HEAD: frozenset({BODY, RESPONDING}) | ENDS,
    BODY: frozenset({BODY_PAUSED, RESPONDING, DRAINING}) | ENDS,
    BODY_PAUSED: frozenset({BODY, RESPONDING, DRAINING}) | ENDS,
    DRAINING: frozenset({IDLE}) | ENDS,
    RESPONDING: frozenset({IDLE, SWITCHED}) | ENDS,
    SWITCHED: frozenset({CLOSING}),
    LINGERING: frozenset({CLOSING}),
    CLOSING: frozenset({CLOSING}),
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
    is parsed while a response is under way, before the first bytes have
    said which protocol the connection speaks, or once it is switched or
    ending.
    """
    if state is BODY or state is DRAINING:
        return True
    if state is IDLE or state is HEAD:
        return not writePaused
    return False


def mayRead(state: State, writePaused: bool, buffered: int) -> bool:
    """
    Whether the transport should read now: while input may be parsed
    (L{mayParse}); while a response is under way and the client reads it,
    up to L{PIPELINE_BUFFER} bytes of pipelined input (C{buffered}); and
    while lingering, when input is dropped.
    """
    if state is RESPONDING:
        return not writePaused and buffered <= PIPELINE_BUFFER
    return state is LINGERING or mayParse(state, writePaused)
