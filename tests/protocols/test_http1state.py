"""
The HTTP/1.1 channel's state machine (L{_protocols.http1state}): the moves it
draws, the ones it refuses, and the one rule for reading.
"""

from __future__ import annotations

import pytest

from twisted_web_re._protocols.http1state import (
    PIPELINE_BUFFER,
    TRANSITIONS,
    State,
    checkMove,
    mayParse,
    mayRead,
)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (State.IDLE, State.SWITCHED),
        (State.HEAD, State.IDLE),
        (State.RESPONDING, State.BODY),
        (State.SWITCHED, State.IDLE),
        (State.CLOSING, State.IDLE),
        (State.LINGERING, State.RESPONDING),
    ],
)
def test_illegalMovesRefused(current: State, new: State) -> None:
    """A move the diagram does not draw raises, naming both states."""
    with pytest.raises(RuntimeError, match=current.name):
        checkMove(current, new)


def test_everyStateCanEnd() -> None:
    """From every state the connection can close."""
    for state in State:
        checkMove(state, State.CLOSING)
    assert set(TRANSITIONS) == set(State)


def test_readingRule() -> None:
    """
    A body is always read unless paused; a new request only while the client
    reads responses; pipelined input is taken up to a limit while answering;
    nothing after a switch or close.
    """
    assert mayParse(State.BODY, True) and mayParse(State.DRAINING, True)
    assert not mayParse(State.BODY_PAUSED, False)
    assert mayParse(State.IDLE, False) and not mayParse(State.IDLE, True)
    assert not mayParse(State.RESPONDING, False)
    assert mayRead(State.RESPONDING, False, PIPELINE_BUFFER)
    assert not mayRead(State.RESPONDING, False, PIPELINE_BUFFER + 1)
    assert not mayRead(State.RESPONDING, True, 0)
    assert mayRead(State.LINGERING, True, 0)
    assert not mayRead(State.SWITCHED, False, 0)
    assert not mayRead(State.CLOSING, False, 0)
