"""
L{UserDirectory}: the root of C{twistd web-re --user}: each user's
C{~/public_html} at C{/<user>/}, each user's personal server at
C{/<user>.twistd/}, and at C{/} the list of the users that have either.

The front may well run with more rights than its users, so it trusts their
homes no further than it must: a user's C{public_html} is served only if it
is a directory that the user owns (a link to someone else's directory is not
followed), links inside it do not lead out of it unless both the site's
operator and the user allow it, and a personal server's socket is used only
if it is a socket the user owns.
"""

from __future__ import annotations

import os
import stat
import sys
from html import escape
from typing import Protocol
from urllib.parse import quote

from twisted_web_re._distrib.subscription import ResourceSubscription
from twisted_web_re.iweb import IRequest
from twisted_web_re.resource import IResource, NoResource, Resource
from twisted_web_re.static import File

try:
    import pwd as _pwd
except ImportError:  # pragma: no cover - not on Windows
    _pwd = None  # type: ignore[assignment]


class UserDatabase(Protocol):
    """What L{UserDirectory} asks of its user database: L{pwd}'s calls."""

    def getpwall(self) -> list[tuple[str, str, int, int, str, str, str]]:
        """@return: every user's entry."""

    def getpwnam(self, name: str) -> tuple[str, str, int, int, str, str, str]:
        """
        @return: the entry of the user C{name}.
        @raise KeyError: there is no such user.
        """


_PAGE = """<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>Users</title></head>
<body>
<h1>Users</h1>
<ul>
{items}</ul>
</body>
</html>
"""


def _ownedBy(path: str, uid: int, kind: int) -> bool:
    """
    @return: whether C{path} (not following a last link) is of file type
        C{kind} (C{stat.S_IFDIR}, C{stat.S_IFSOCK}) and owned by C{uid}.
    """
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_IFMT(info.st_mode) == kind and info.st_uid == uid


class UserDirectory(Resource):
    """
    Lists the users who publish something, and serves what each publishes
    (twisted.web's C{distrib.UserDirectory}).

    @cvar userDirName: the directory in a home that C{/<user>/} serves.
    @cvar userSocketName: the socket in a home that C{/<user>.twistd/}
        relays to.
    @cvar userSymlinksName: the file in a home by which its user asks that
        symbolic links in C{public_html} be followed out of it.
    @ivar allowUserSymlinks: whether users may ask for that (off by
        default): the site's operator lets each user who has the file
        C{userSymlinksName} (a regular file of theirs, not a link) have
        links in their C{public_html} followed wherever they lead, with the
        front's rights.
    """

    userDirName = "public_html"
    userSocketName = ".twistd-web-pb"
    userSymlinksName = ".twistd-web-symlinks"

    def __init__(
        self, userDatabase: UserDatabase | None = None, allowUserSymlinks: bool = False
    ) -> None:
        """
        @param userDatabase: where users are looked up: the L{pwd} module by
            default; anything with its C{getpwall} and C{getpwnam}.
        @param allowUserSymlinks: see L{allowUserSymlinks}.
        """
        super().__init__()
        self.allowUserSymlinks = allowUserSymlinks
        if userDatabase is None:
            if _pwd is None:  # pragma: no cover - not on Windows
                raise RuntimeError("UserDirectory needs a user database here")
            userDatabase = _pwd  # type: ignore[assignment]
        self._pwd = userDatabase
        self._subscriptions: dict[str, ResourceSubscription] = {}

    def _users(self) -> list[tuple[str, str]]:
        """
        @return: a link and its text for each user's C{public_html} and
            personal server that exist, users in the database's order.
        """
        found = []
        for entry in self._pwd.getpwall():  # type: ignore[union-attr]
            name, uid, gecos, home = entry[0], entry[2], entry[4], entry[5]
            shown = gecos.split(",")[0] or name
            if _ownedBy(os.path.join(home, self.userDirName), uid, stat.S_IFDIR):
                found.append((name, f"{shown} (file)"))
            if _ownedBy(os.path.join(home, self.userSocketName), uid, stat.S_IFSOCK):
                found.append((name + ".twistd", f"{shown} (twistd)"))
        return found

    def render_GET(self, request: IRequest) -> bytes:
        """
        @return: the list of users as HTML, each name escaped and linked.
        """
        items = "".join(
            f'<li><a href="{escape(quote(link, safe=""))}/">{escape(text)}</a></li>\n'
            for link, text in self._users()
        )
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return _PAGE.format(items=items).encode("utf-8")

    def getChild(self, path: bytes, request: IRequest) -> IResource:
        """
        @return: this listing for C{""}; for C{<user>}, that user's
            C{public_html}; for C{<user>.twistd}, a subscription to that
            user's personal server; 404 for an unknown user or one without
            the entry asked for.
        """
        if path == b"":
            return self
        name = path.decode(sys.getfilesystemencoding(), "surrogateescape")
        personal = name.endswith(".twistd")
        user = name[: -len(".twistd")] if personal else name
        if not user or "/" in user or "\x00" in user:
            return NoResource()
        try:
            entry = self._pwd.getpwnam(user)  # type: ignore[union-attr]
        except KeyError:
            return NoResource()
        uid, home = entry[2], entry[5]
        if personal:
            socket = os.path.join(home, self.userSocketName)
            if not _ownedBy(socket, uid, stat.S_IFSOCK):
                return NoResource()
            subscription = self._subscriptions.get(user)
            if subscription is None:
                subscription = ResourceSubscription("unix", socket)
                self._subscriptions[user] = subscription
            return subscription
        directory = os.path.join(home, self.userDirName)
        if not _ownedBy(directory, uid, stat.S_IFDIR):
            return NoResource()
        follow = self.allowUserSymlinks and _ownedBy(
            os.path.join(home, self.userSymlinksName), uid, stat.S_IFREG
        )
        return File(directory, followSymlinks=follow)
