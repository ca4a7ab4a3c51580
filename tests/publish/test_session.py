"""
Tests for L{twisted_web_re._publish.session}: session identifiers, the site's session
store, expiry timing, components, and cookie names.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from twisted.internet.task import Clock
from twisted.logger import ILogObserver, LogEvent, globalLogPublisher
from twisted.python.components import registerAdapter
from zope.interface import Attribute, Interface, implementer

from twisted_web_re._publish.session import Session, SiteSessions, sessionCookieName


class FakeSite(SiteSessions):
    """
    The smallest site: just the session store, timed by a given clock.
    """

    def __init__(self, reactor: Any) -> None:
        self._initSessions(reactor)


class ShortSession(Session):
    """
    A session that expires after five idle seconds.
    """

    sessionTimeout = 5


class ShortSite(FakeSite):
    """
    A site whose sessions are L{ShortSession}s.
    """

    sessionFactory = ShortSession


def makeSite() -> tuple[FakeSite, Clock]:
    """
    Make a L{FakeSite} and the L{Clock} that times its sessions.
    """
    clock = Clock()
    return FakeSite(clock), clock


# Identifiers


def test_uidIs128BitsOfHex() -> None:
    """
    A session identifier is bytes spelling 128 random bits as 32 lowercase
    hexadecimal digits, safe to put in a cookie as is.
    """
    site, _ = makeSite()
    uid = site.makeSession().uid
    assert isinstance(uid, bytes)
    assert re.fullmatch(rb"[0-9a-f]{32}", uid)


def test_uidsAreUnique() -> None:
    """
    A thousand sessions get a thousand different identifiers.
    """
    site, _ = makeSite()
    uids = {site.makeSession().uid for _ in range(1000)}
    assert len(uids) == 1000
    assert len(site.sessions) == 1000


# The store


def test_makeSessionRegisters() -> None:
    """
    A new session is in the site's C{sessions} under its identifier, belongs
    to the site, and counts towards the site's C{counter}.
    """
    site, _ = makeSite()
    session = site.makeSession()
    assert site.sessions == {session.uid: session}
    assert session.site is site
    assert site.counter == 1
    site.makeSession()
    assert site.counter == 2


def test_getSessionFindsTheSameSession() -> None:
    """
    C{getSession} returns the very session C{makeSession} made.
    """
    site, _ = makeSite()
    session = site.makeSession()
    assert site.getSession(session.uid) is session


def test_getSessionUnknownRaisesKeyError() -> None:
    """
    Asking for an identifier no live session has raises L{KeyError}, as in
    twisted.web, including for a session that has expired.
    """
    site, _ = makeSite()
    with pytest.raises(KeyError):
        site.getSession(b"0" * 32)
    session = site.makeSession()
    session.expire()
    with pytest.raises(KeyError):
        site.getSession(session.uid)


def test_sessionAttributes() -> None:
    """
    A new session has twisted.web's attributes: the 900-second default
    timeout, its creation time as C{lastModified}, and no expire callbacks.
    """
    site, clock = makeSite()
    clock.advance(42)
    session = site.makeSession()
    assert Session.sessionTimeout == 900
    assert session.sessionTimeout == 900
    assert session.lastModified == 42
    assert session.expireCallbacks == []
    assert session.sessionNamespaces == {}


def test_reprHidesTheIdentifier() -> None:
    """
    A session's repr never shows its identifier, which is a credential.
    """
    site, _ = makeSite()
    session = site.makeSession()
    assert session.uid.decode() not in repr(session)
    assert "live" in repr(session)
    session.expire()
    assert "expired" in repr(session)


# Choosing the reactor


def test_reactorFromTheSite() -> None:
    """
    A session made without a reactor uses the one the site's store was given.
    """
    site, clock = makeSite()
    clock.advance(7)
    assert Session(site, b"x").lastModified == 7


def test_reactorFromTwistedStyleSite() -> None:
    """
    A site shaped like twisted.web's, with a C{reactor} attribute, lends its
    reactor to the session.
    """
    clock = Clock()
    clock.advance(3)

    class Bare:
        reactor = clock
        sessions: dict[bytes, Session] = {}

    assert Session(Bare(), b"x").lastModified == 3


def test_explicitReactorWins() -> None:
    """
    A reactor passed to the session is used rather than the site's.
    """
    site, _ = makeSite()
    other = Clock()
    other.advance(11)
    session = Session(site, b"x", reactor=other)
    assert session.lastModified == 11
    session.startCheckingExpiration()
    assert len(other.getDelayedCalls()) == 1


# Expiry


def test_expiresAfterTimeout() -> None:
    """
    A session left alone for C{sessionTimeout} seconds expires: it leaves the
    site's C{sessions}, its callbacks run exactly once, and no timer remains.
    """
    site, clock = makeSite()
    session = site.makeSession()
    calls: list[str] = []
    session.notifyOnExpire(lambda: calls.append("expired"))
    clock.advance(899)
    assert session.uid in site.sessions
    assert calls == []
    clock.advance(1)
    assert session.uid not in site.sessions
    assert calls == ["expired"]
    assert clock.getDelayedCalls() == []
    clock.advance(10000)
    assert calls == ["expired"]


def test_touchPostponesExpiry() -> None:
    """
    Touching a session moves its expiry to C{sessionTimeout} seconds after
    the touch: it outlives its original deadline and expires at the new one.
    """
    site, clock = makeSite()
    session = site.makeSession()
    clock.advance(600)
    session.touch()
    assert session.lastModified == 600
    clock.advance(400)  # t=1000, past the original deadline of 900
    assert site.sessions == {session.uid: session}
    clock.advance(499)  # t=1499
    assert session.uid in site.sessions
    clock.advance(1)  # t=1500, the new deadline
    assert site.sessions == {}
    assert clock.getDelayedCalls() == []


def test_touchKeepsOneTimer() -> None:
    """
    However often a session is touched, it has one timer, and touching does
    not move it: the timer re-arms itself for the time left when it fires.
    """
    site, clock = makeSite()
    session = site.makeSession()
    [call] = clock.getDelayedCalls()
    for _ in range(100):
        clock.advance(5)
        session.touch()
    assert clock.getDelayedCalls() == [call]
    assert call.getTime() == 900
    clock.advance(400)  # t=900: the timer fires and sleeps until 500 + 900
    [rearmed] = clock.getDelayedCalls()
    assert rearmed.getTime() == 1400
    assert session.uid in site.sessions


def test_manualExpireCancelsTimer() -> None:
    """
    Expiring a session by hand removes it, runs its callbacks, and cancels its
    timer, leaving nothing pending in the reactor.
    """
    site, clock = makeSite()
    session = site.makeSession()
    calls: list[int] = []
    session.notifyOnExpire(lambda: calls.append(1))
    [call] = clock.getDelayedCalls()
    session.expire()
    assert site.sessions == {}
    assert calls == [1]
    assert not call.active()
    assert clock.getDelayedCalls() == []


def test_expireTwiceRunsCallbacksOnce() -> None:
    """
    Expiring an expired session again does nothing: no error, no second call
    of its callbacks.
    """
    site, _ = makeSite()
    session = site.makeSession()
    calls: list[int] = []
    session.notifyOnExpire(lambda: calls.append(1))
    session.expire()
    session.expire()
    assert calls == [1]
    assert session.expireCallbacks == []


def test_reentrantExpireRunsCallbacksOnce() -> None:
    """
    A callback that expires the session again does not make any callback run
    twice.
    """
    site, _ = makeSite()
    session = site.makeSession()
    calls: list[str] = []

    def first() -> None:
        calls.append("a")
        session.expire()

    session.notifyOnExpire(first)
    session.notifyOnExpire(lambda: calls.append("b"))
    session.expire()
    assert calls == ["a", "b"]


def test_expireLeavesAReplacementAlone() -> None:
    """
    Expiring a session does not remove a different session that now holds
    its identifier in the site's C{sessions}.
    """
    site, _ = makeSite()
    session = site.makeSession()
    replacement = Session(site, session.uid)
    site.sessions[session.uid] = replacement
    session.expire()
    assert site.sessions == {session.uid: replacement}


def test_notifyOnExpireOrder() -> None:
    """
    Expire callbacks run in the order they were registered.
    """
    site, clock = makeSite()
    session = site.makeSession()
    calls: list[int] = []
    for i in range(5):
        session.notifyOnExpire(functools.partial(calls.append, i))
    assert len(session.expireCallbacks) == 5
    clock.advance(900)
    assert calls == [0, 1, 2, 3, 4]


def test_failingCallbackIsLoggedAndOthersRun() -> None:
    """
    A callback that raises is logged, and the callbacks after it still run.
    """
    site, _ = makeSite()
    session = site.makeSession()
    calls: list[str] = []
    events: list[LogEvent] = []

    def boom() -> None:
        raise ZeroDivisionError("boom")

    session.notifyOnExpire(boom)
    session.notifyOnExpire(lambda: calls.append("after"))

    @implementer(ILogObserver)
    def observer(event: LogEvent) -> None:
        events.append(event)

    globalLogPublisher.addObserver(observer)
    try:
        session.expire()
    finally:
        globalLogPublisher.removeObserver(observer)
    assert calls == ["after"]
    failures = [e["log_failure"] for e in events if "log_failure" in e]
    assert len(failures) == 1
    assert failures[0].check(ZeroDivisionError)
    assert site.sessions == {}


def test_customTimeoutSubclass() -> None:
    """
    A session class with its own C{sessionTimeout}, used as the site's
    C{sessionFactory}, expires after that many seconds.
    """
    clock = Clock()
    site = ShortSite(clock)
    session = site.makeSession()
    assert isinstance(session, ShortSession)
    clock.advance(4.9)
    assert session.uid in site.sessions
    clock.advance(0.1)
    assert site.sessions == {}
    assert clock.getDelayedCalls() == []


def test_shortenedTimeoutAppliesOnTouch() -> None:
    """
    Shortening one session's C{sessionTimeout} takes effect at the next touch,
    which brings its timer forward.
    """
    site, clock = makeSite()
    session = site.makeSession()
    session.sessionTimeout = 10
    clock.advance(1)
    session.touch()
    clock.advance(10)
    assert site.sessions == {}
    assert clock.getDelayedCalls() == []


def test_lengthenedTimeoutHonoured() -> None:
    """
    Lengthening one session's C{sessionTimeout} keeps it alive past the
    default deadline.
    """
    site, clock = makeSite()
    session = site.makeSession()
    session.sessionTimeout = 2000
    clock.advance(1999)
    assert session.uid in site.sessions
    clock.advance(1)
    assert site.sessions == {}
    assert clock.getDelayedCalls() == []


def test_touchAfterExpiryDoesNotResurrect() -> None:
    """
    Touching an expired session neither puts it back in C{sessions} nor arms
    a timer.
    """
    site, clock = makeSite()
    session = site.makeSession()
    clock.advance(900)
    session.touch()
    session.startCheckingExpiration()
    assert site.sessions == {}
    assert clock.getDelayedCalls() == []


def test_startCheckingTwiceArmsOneTimer() -> None:
    """
    Starting expiry checks on a session already checked adds no timer.
    """
    site, clock = makeSite()
    session = site.makeSession()
    session.startCheckingExpiration()
    assert len(clock.getDelayedCalls()) == 1


def test_unstartedSessionDoesNotExpire() -> None:
    """
    A session made directly, without C{startCheckingExpiration}, has no timer,
    as in twisted.web.
    """
    site, clock = makeSite()
    session = Session(site, b"x")
    session.touch()
    assert clock.getDelayedCalls() == []


# Stopping and restarting the site


def test_stopSessionTimersLeavesNoDelayedCalls() -> None:
    """
    Stopping the session timers cancels every one, so a stopped site leaves
    nothing pending in the reactor; the sessions themselves stay.
    """
    site, clock = makeSite()
    sessions = [site.makeSession() for _ in range(3)]
    assert len(clock.getDelayedCalls()) == 3
    site._stopSessionTimers()
    assert clock.getDelayedCalls() == []
    assert set(site.sessions.values()) == set(sessions)
    clock.advance(10000)
    assert len(site.sessions) == 3


def test_startSessionTimersRearms() -> None:
    """
    Restarting the timers of a stopped site arms each for the time its
    session has left, and expires at once a session already overdue.
    """
    site, clock = makeSite()
    old = site.makeSession()
    clock.advance(500)
    young = site.makeSession()
    site._stopSessionTimers()
    clock.advance(600)  # t=1100: old is overdue, young has 300 s left
    site._startSessionTimers()
    clock.advance(0)
    assert site.sessions == {young.uid: young}
    clock.advance(299)
    assert young.uid in site.sessions
    clock.advance(1)
    assert site.sessions == {}
    assert clock.getDelayedCalls() == []
    assert old.expireCallbacks == []


# Components


def test_adapterIsStoredOnTheSession() -> None:
    """
    The Twisted Web howto's idiom works: with an adapter registered from
    L{Session} to an interface, adapting a session makes the adapter once and
    returns that same object afterwards, so state kept on it persists.
    """

    class ICounter(Interface):
        value = Attribute("An int value which counts up once per page view.")

    @implementer(ICounter)
    class Counter:
        def __init__(self, session: Session) -> None:
            self.value = 0

    registerAdapter(Counter, Session, ICounter)
    site, _ = makeSite()
    session = site.makeSession()
    ICounter(session).value += 1
    ICounter(session).value += 1
    assert ICounter(session).value == 2
    assert ICounter(session) is ICounter(session)
    assert ICounter(site.makeSession()).value == 0


def test_setAndGetComponent() -> None:
    """
    Components set on a session are returned by C{getComponent}, and by
    adapting the session to their interface.
    """

    class IThing(Interface):
        pass

    @implementer(IThing)
    class Thing:
        pass

    site, _ = makeSite()
    session = site.makeSession()
    assert session.getComponent(IThing) is None
    thing = Thing()
    session.setComponent(IThing, thing)
    assert session.getComponent(IThing) is thing
    assert IThing(session) is thing


# Cookies


@pytest.mark.parametrize(
    ("secure", "sitepath", "expected"),
    [
        # twisted.web's Request.getSession names the cookie
        # b"_".join([cookieString] + self.sitepath), where cookieString is
        # b"TWISTED_SESSION" or, for secure requests, b"TWISTED_SECURE_SESSION".
        (False, [], b"TWISTED_SESSION"),
        (True, [], b"TWISTED_SECURE_SESSION"),
        (False, [b"a", b"b"], b"TWISTED_SESSION_a_b"),
        (True, [b"a", b"b"], b"TWISTED_SECURE_SESSION_a_b"),
        (False, [b""], b"TWISTED_SESSION_"),
    ],
)
def test_sessionCookieName(
    secure: bool, sitepath: list[bytes], expected: bytes
) -> None:
    """
    Session cookies have exactly twisted.web's names, so a browser's session
    cookie keeps its name when a site moves between the two servers.
    """
    assert sessionCookieName(secure, sitepath) == expected
    site, _ = makeSite()
    assert site.sessionCookieName(secure, sitepath) == expected


class RecordingRequest:
    """
    A request that records the cookies added to it.
    """

    def __init__(self) -> None:
        self.cookies: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def addCookie(self, *args: Any, **kwargs: Any) -> None:
        self.cookies.append((args, kwargs))


def test_sessionCookieDefaults() -> None:
    """
    The session cookie is sent for the whole host, C{HttpOnly}, with
    C{SameSite=Lax}, and C{Secure} when asked.
    """
    site, _ = makeSite()
    request = RecordingRequest()
    site.addSessionCookie(request, b"TWISTED_SESSION", b"abc", secure=True)
    assert request.cookies == [
        (
            (b"TWISTED_SESSION", b"abc"),
            {"path": b"/", "secure": True, "httpOnly": True, "sameSite": b"Lax"},
        )
    ]


def test_sessionCookieSettingsConfigurable() -> None:
    """
    A site may turn off C{HttpOnly} and C{SameSite} for its session cookie,
    to send it exactly as twisted.web does.
    """
    site, _ = makeSite()
    site.sessionCookieHttpOnly = False
    site.sessionCookieSameSite = None
    request = RecordingRequest()
    site.addSessionCookie(request, b"TWISTED_SESSION", b"abc", secure=False)
    [(_, kwargs)] = request.cookies
    assert kwargs == {
        "path": b"/",
        "secure": False,
        "httpOnly": False,
        "sameSite": None,
    }
