"""
Front servers for the spreadable web's end-to-end tests, named by
C{twistd web-re --class}:

  - L{UserRoot}: C{--user}'s L{UserDirectory}, whose one user (the one running
    the tests) has for home the C{HOME} of the process, so that a personal
    server started with the same C{HOME} is found without touching the real
    home directory;
  - L{UnixRoot} and L{TwistedWebRoot}: ours and twisted.web's
    L{ResourceSubscription} at C{/me.twistd/} to the socket C{DISTRIB_SOCKET};
  - L{TCPRoot}: a L{ResourceSubscription} at C{/me.twistd/} to the personal
    server on TCP port C{DISTRIB_PORT} of 127.0.0.1;
  - L{TLSRoot}: the same over TLS, trusting the certificate C{DISTRIB_CA}.
"""

from __future__ import annotations

import getpass
import os
import pwd

from twisted_web_re import distrib, resource


class _OneUser:
    """A user database of one user: the running one, at home in C{$HOME}."""

    def _entry(self) -> tuple[str, str, int, int, str, str, str]:
        real = pwd.getpwuid(os.getuid())
        return (
            getpass.getuser(),
            "x",
            real.pw_uid,
            real.pw_gid,
            "Test <User>,,,",
            os.environ["HOME"],
            "/bin/sh",
        )

    def getpwall(self) -> list[tuple[str, str, int, int, str, str, str]]:
        return [self._entry()]

    def getpwnam(self, name: str) -> tuple[str, str, int, int, str, str, str]:
        if name != getpass.getuser():
            raise KeyError(name)
        return self._entry()


def UserRoot() -> distrib.UserDirectory:
    """@return: the front of C{twistd web-re --user}, for the test's user."""
    return distrib.UserDirectory(_OneUser())


def UnixRoot() -> resource.Resource:
    """@return: a root relaying C{/me.twistd/} to C{$DISTRIB_SOCKET}."""
    root = resource.Resource()
    root.putChild(
        b"me.twistd", distrib.ResourceSubscription("unix", os.environ["DISTRIB_SOCKET"])
    )
    return root


def TwistedWebRoot() -> object:
    """
    @return: twisted.web's own front (for C{twistd web --class}), relaying
        C{/me.twistd/} to C{$DISTRIB_SOCKET}.
    """
    from twisted.web import distrib as tw_distrib
    from twisted.web import resource as tw_resource

    root = tw_resource.Resource()
    root.putChild(
        b"me.twistd",
        tw_distrib.ResourceSubscription("unix", os.environ["DISTRIB_SOCKET"]),
    )
    return root


def TCPRoot() -> resource.Resource:
    """@return: a root relaying C{/me.twistd/} to a personal server on TCP."""
    root = resource.Resource()
    subscription = distrib.ResourceSubscription(
        "127.0.0.1", int(os.environ["DISTRIB_PORT"])
    )
    subscription.timeout = float(os.environ.get("DISTRIB_TIMEOUT", "60"))
    root.putChild(b"me.twistd", subscription)
    return root


def TLSRoot() -> resource.Resource:
    """
    @return: a root relaying C{/me.twistd/} over TLS to a personal server on
        TCP port C{DISTRIB_PORT} of 127.0.0.1, whose certificate must name
        C{localhost} and be signed by the one in the PEM file C{DISTRIB_CA}.
    """
    from twisted.internet.ssl import Certificate, optionsForClientTLS

    with open(os.environ["DISTRIB_CA"], "rb") as f:
        authority = Certificate.loadPEM(f.read())
    root = resource.Resource()
    subscription = distrib.ResourceSubscription(
        "127.0.0.1",
        int(os.environ["DISTRIB_PORT"]),
        contextFactory=optionsForClientTLS("localhost", trustRoot=authority),
    )
    root.putChild(b"me.twistd", subscription)
    return root
