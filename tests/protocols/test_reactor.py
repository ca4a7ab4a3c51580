"""
Which reactor the channels and the access log use when none is given.
"""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from twisted_web_re._protocols.reactor import resolveReactor


def test_globalReactorWhenNoneIsGiven() -> None:
    """
    Without a reactor of its own, a connection times itself with Twisted's
    global reactor, the one C{from twisted.internet import reactor} names.
    """
    from twisted.internet import reactor

    assert resolveReactor() is reactor
    assert resolveReactor(None) is reactor


def test_followsTheInstalledReactor(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    The global reactor is looked up each time, so the one installed (or put
    in place by a test) is the one used; a reactor given explicitly wins.
    """
    clock = Clock()
    monkeypatch.setattr("twisted.internet.reactor", clock, raising=False)
    assert resolveReactor() is clock
    other = Clock()
    assert resolveReactor(other) is other
