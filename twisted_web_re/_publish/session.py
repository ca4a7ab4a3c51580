"""
Server-side sessions: the L{Session} object and the L{SiteSessions} store a
L{twisted_web_re.server.Site} mixes in.

A session lives in memory only, keyed by an unguessable identifier that the
client carries in a cookie.  It expires after L{Session.sessionTimeout} seconds
without a L{Session.touch}.  One reactor timer per session watches for that,
and it is re-armed lazily: touching a session only records the time, and the
timer, when it fires early, sleeps again for whatever time is left.  A busy
session therefore costs one clock read per request rather than a cancel and a
new timer.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IDelayedCall, IReactorTime
from twisted.logger import Logger
from twisted.python.components import Componentized

from twisted_web_re._protocols.reactor import resolveReactor

if TYPE_CHECKING:
    from twisted_web_re.http import Request

__all__ = ["Session", "SiteSessions", "sessionCookieName"]

_log = Logger()

#: Cookie name prefixes, identical to twisted.web's so that a browser's session
#: cookie keeps its name when a site moves between the two servers.
_INSECURE_COOKIE = b"TWISTED_SESSION"
_SECURE_COOKIE = b"TWISTED_SECURE_SESSION"

#: Random bytes in a session identifier.  128 bits puts guessing a live
#: session out of reach (OWASP's session-ID guidance asks for at least 64 bits
#: of entropy); the identifier is their hexadecimal spelling.
_UID_BYTES = 16


def sessionCookieName(secure: bool, sitepath: list[bytes]) -> bytes:
    """
    Name the cookie that carries the session for a site mounted at
    C{sitepath}, exactly as twisted.web names it.

    The name is C{TWISTED_SESSION} (or C{TWISTED_SECURE_SESSION} for the
    session kept for HTTPS requests), followed by C{_} and each segment of
    C{sitepath} joined with C{_}; so a site at the root uses the bare prefix,
    and one at C{/a/b} uses C{TWISTED_SESSION_a_b}.

    @param secure: whether the name is for the session of secure requests.
    @param sitepath: the path segments under which the site is mounted, as
        the request's C{sitepath} holds them.
    @return: the cookie name.
    """
    prefix = _SECURE_COOKIE if secure else _INSECURE_COOKIE
    return b"_".join([prefix, *sitepath])


class Session(Componentized):
    """
    A user's session with a site: a place to keep per-user objects between
    requests, which expires after a period without use.

    Objects are stored as components (see L{Componentized}): adapting the
    session to an interface with a registered adapter, C{IThing(session)},
    creates the adapter once and returns the same object afterwards.

    @ivar site: the site that made the session; its C{sessions} mapping holds
        the session until it expires.
    @ivar uid: the session's identifier, the value of its cookie.
    @type uid: L{bytes}
    @ivar sessionTimeout: seconds without a L{touch} after which the session
        expires; set it on a subclass (or an instance) to change it.
    @type sessionTimeout: L{float}
    @ivar lastModified: the reactor time of creation or of the latest L{touch}.
    @type lastModified: L{float}
    @ivar expireCallbacks: the callables L{expire} will call, in order.
    @type expireCallbacks: L{list}
    @ivar sessionNamespaces: a free-form mapping kept for code written against
        twisted.web, which has the same attribute.
    """

    sessionTimeout: float = 900

    def __init__(
        self, site: SiteSessions, uid: bytes, reactor: IReactorTime | None = None
    ) -> None:
        """
        Make a live session; it expires only once L{startCheckingExpiration}
        has been called.

        @param site: the site the session belongs to.
        @param uid: the session's identifier.
        @param reactor: the L{IReactorTime} that times expiry; by default the
            site's reactor, and failing that the global one, looked up now.
        """
        super().__init__()
        if reactor is None:
            reactor = getattr(site, "sessionReactor", None)
            if reactor is None:
                reactor = getattr(site, "reactor", None)
        self._reactor: IReactorTime = resolveReactor(reactor)
        self.site = site
        self.uid = uid
        self.expireCallbacks: list[Callable[[], object]] = []
        self.sessionNamespaces: dict[Any, Any] = {}
        self.lastModified: float = self._reactor.seconds()
        self._expireCall: IDelayedCall | None = None
        self._expired = False

    def __repr__(self) -> str:
        """
        Show the class and whether the session is live, never the identifier,
        which is a credential and must stay out of logs.
        """
        state = "expired" if self._expired else "live"
        return f"<{type(self).__name__} {state}>"

    def startCheckingExpiration(self) -> None:
        """
        Arm the timer that expires the session once L{sessionTimeout} seconds
        have passed since L{lastModified}.

        Calling it while the timer is armed, or after the session expired, does
        nothing; calling it after the timer was stopped arms it again for the
        time that is left (expiring on the next reactor turn if none is).
        """
        if self._expired or self._expireCall is not None:
            return
        remaining = self.lastModified + self.sessionTimeout - self._reactor.seconds()
        self._expireCall = self._reactor.callLater(
            max(remaining, 0), self._checkExpiration
        )

    @property
    def expired(self) -> bool:
        """Whether the session has expired (see L{expire})."""
        return self._expired

    def stopCheckingExpiration(self) -> None:
        """
        Cancel the expiry timer, if armed, leaving the session live; see
        L{startCheckingExpiration} to arm it again.
        """
        call, self._expireCall = self._expireCall, None
        if call is not None and call.active():
            call.cancel()

    def _checkExpiration(self) -> None:
        """
        Expire the session if it has been idle for L{sessionTimeout} seconds;
        otherwise sleep again until that could first be true.
        """
        self._expireCall = None
        remaining = self.lastModified + self.sessionTimeout - self._reactor.seconds()
        if remaining > 0:
            self._expireCall = self._reactor.callLater(remaining, self._checkExpiration)
        else:
            self.expire()

    def notifyOnExpire(self, callback: Callable[[], object]) -> None:
        """
        Have C{callback} called, with no arguments, when the session expires,
        after the callbacks registered before it.

        @param callback: the callable.
        """
        self.expireCallbacks.append(callback)

    def expire(self) -> None:
        """
        End the session now: remove it from its site's C{sessions}, cancel its
        timer, and call each expire callback once, in registration order.

        A callback that raises is logged and does not stop the others.  Calling
        C{expire} again does nothing.
        """
        if self._expired:
            return
        self._expired = True
        sessions = self.site.sessions
        if sessions.get(self.uid) is self:
            del sessions[self.uid]
        self.stopCheckingExpiration()
        # Swap the list out first so that each callback runs at most once, even
        # one that (directly or not) expires the session again.
        callbacks, self.expireCallbacks = self.expireCallbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                _log.failure(
                    "Session expire callback {callback!r} failed",
                    callback=callback,
                )

    def touch(self) -> None:
        """
        Record a use of the session, postponing its expiry to
        L{sessionTimeout} seconds from now.

        Touching an expired session does not bring it back.
        """
        now = self.lastModified = self._reactor.seconds()
        call = self._expireCall
        # The timer normally fires no later than the new deadline and re-arms
        # itself then; it only needs moving if sessionTimeout was shortened.
        if call is not None and now + self.sessionTimeout < call.getTime():
            call.reset(self.sessionTimeout)


class SiteSessions:
    """
    The session store of a site: a mixin for L{twisted_web_re.server.Site}
    that makes, finds and times out L{Session}s and holds the session cookie
    settings.

    The site's C{__init__} must call L{_initSessions}; its C{stopFactory}
    should call L{_stopSessionTimers}, and its C{startFactory}
    L{_startSessionTimers}.

    @ivar sessionFactory: makes a session, called with the site and the
        identifier; L{Session} by default.
    @ivar sessions: the live sessions, by identifier.
    @ivar counter: how many sessions this site has made.
    @ivar sessionReactor: the L{IReactorTime} that times session expiry, or
        C{None} for the global reactor.
    @ivar sessionCookieHttpOnly: whether the session cookie is marked
        C{HttpOnly}, hiding it from page scripts; C{True} by default.
    @ivar sessionCookieSameSite: the cookie's C{SameSite} attribute (C{b"Lax"},
        C{b"Strict"} or C{b"None"}), or C{None} to send none; C{b"Lax"} by
        default.
    """

    sessionFactory: Callable[[SiteSessions, bytes], Session] = Session
    sessionCookieHttpOnly: bool = True
    sessionCookieSameSite: bytes | None = b"Lax"
    counter: int = 0
    sessions: dict[bytes, Session]
    sessionReactor: IReactorTime | None = None

    #: L{sessionCookieName}, here so that a site subclass may name cookies its
    #: own way.
    sessionCookieName = staticmethod(sessionCookieName)

    def _initSessions(self, reactor: IReactorTime | None = None) -> None:
        """
        Start with no sessions, timed by C{reactor}.

        @param reactor: the L{IReactorTime} for session expiry; C{None} for
            the global reactor, looked up when each session is made.
        """
        self.sessions = {}
        self.sessionReactor = reactor

    def _makeSessionUID(self) -> bytes:
        """
        Make a fresh session identifier: 128 random bits as 32 lowercase
        hexadecimal digits, distinct from every live session's.
        """
        while True:
            uid = secrets.token_hex(_UID_BYTES).encode("ascii")
            if uid not in self.sessions:
                return uid

    def makeSession(self) -> Session:
        """
        Make a new session with a fresh identifier, register it in
        C{sessions}, and start timing its expiry.

        @return: the session.
        """
        uid = self._makeSessionUID()
        session = self.sessions[uid] = self.sessionFactory(self, uid)
        self.counter += 1
        session.startCheckingExpiration()
        return session

    def getSession(self, uid: bytes) -> Session:
        """
        Find the live session with identifier C{uid}.

        @param uid: the identifier, as the session cookie carries it.
        @return: the session.
        @raise KeyError: no live session has that identifier.
        """
        return self.sessions[uid]

    def addSessionCookie(
        self, request: Request, name: bytes, uid: bytes, secure: bool
    ) -> None:
        """
        Send the cookie that names session C{uid}, with this site's cookie
        settings, for the whole host (C{Path=/}, as twisted.web sends it).

        @param request: the request whose response carries the cookie.
        @param name: the cookie name, from L{sessionCookieName}.
        @param uid: the session identifier.
        @param secure: whether to mark the cookie C{Secure}, as for a session
            made for an HTTPS request.
        """
        request.addCookie(
            name,
            uid,
            path=b"/",
            secure=secure,
            httpOnly=self.sessionCookieHttpOnly,
            sameSite=self.sessionCookieSameSite,
        )

    def _stopSessionTimers(self) -> None:
        """
        Cancel every session's expiry timer, keeping the sessions, so that a
        stopped site leaves nothing pending in the reactor.
        """
        for session in list(self.sessions.values()):
            stop = getattr(session, "stopCheckingExpiration", None)
            if stop is not None:
                stop()

    def _startSessionTimers(self) -> None:
        """
        Re-arm the expiry timer of every session whose timer was stopped; one
        idle past its timeout expires on the next reactor turn.
        """
        for session in list(self.sessions.values()):
            session.startCheckingExpiration()
