"""
The driver's side of the peers: which servers besides Twisted's a run
measures, on which kinds and modes, and whether they are installed.

The peers are the canned-reply protocol (C{limit}, L{_limit}: the ceiling on
Twisted's reactor), uvicorn with httptools and uvloop, granian, and nginx for
the static files.  Their servers are in L{_peerservers}; each is measured
only where it serves the same answer as the Twisted servers.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import shutil
from collections.abc import Callable, Sequence
from typing import IO

import servers
from _peerservers import NGINX_KINDS, UVICORN_MODULES
from _table import GRANIAN, LIMIT, NGINX, PEER_SLOTS, UVICORN

ALL_MODES = ("ka", "pl", "nc", "idle")
"""The row keys of the load modes and of the idle-memory figure."""


def _missingModules(*names: str) -> str | None:
    """
    @return: L{None} when every module is importable, else what to install.
    """
    missing = [n for n in names if importlib.util.find_spec(n) is None]
    if not missing:
        return None
    return f"{', '.join(missing)} not installed (pip install -e '.[bench]')"


def _missingNginx() -> str | None:
    """
    @return: L{None} when nginx is installed, else what to install.
    """
    if shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin"):
        return None
    return "nginx not installed (apt-get install nginx-light)"


@dataclasses.dataclass(frozen=True)
class Peer:
    """
    A server measured beside twisted.web and twisted_web_re for reference.

    @ivar slot: its key in L{_table.Row.figures}.
    @ivar impl: its name on C{servers.py}'s command line.
    @ivar kinds: the kinds it serves.
    @ivar modes: the row keys it is measured in (of L{ALL_MODES}).
    @ivar missing: returns L{None} when it can run here, else why not.
    """

    slot: int
    impl: str
    kinds: tuple[str, ...]
    modes: tuple[str, ...]
    missing: Callable[[], str | None]

    @property
    def label(self) -> str:
        """
        @return: its column heading.
        """
        return PEER_SLOTS[self.slot]


PEERS: tuple[Peer, ...] = (
    # The canned reply never closes a connection, so it has no new-connection
    # figure (ab would wait for the close).
    Peer(LIMIT, servers.LIMIT, servers.HELLO_KINDS, ("ka", "pl", "idle"), lambda: None),
    Peer(
        UVICORN,
        "uvicorn",
        servers.HELLO_KINDS,
        ALL_MODES,
        lambda: _missingModules(*UVICORN_MODULES),
    ),
    Peer(
        GRANIAN,
        "granian",
        (*servers.HELLO_KINDS, *servers.WSGI_KINDS),
        ALL_MODES,
        lambda: _missingModules("granian"),
    ),
    Peer(NGINX, "nginx", NGINX_KINDS, ("ka",), _missingNginx),
)
"""Every peer, in column order."""

PEER_NAMES: tuple[str, ...] = tuple(p.impl for p in PEERS)
"""The names C{--peers} accepts."""


def choosePeers(names: Sequence[str], log: IO[str]) -> list[Peer]:
    """
    Pick the peers to measure, leaving out (with a printed reason) those not
    installed here.

    @param names: the peers wanted, by L{Peer.impl}.
    @param log: where to say which were left out and why.
    @return: the peers that can run.
    """
    chosen = []
    for peer in PEERS:
        if peer.impl not in names:
            continue
        reason = peer.missing()
        if reason is None:
            chosen.append(peer)
        else:
            print(f"peer {peer.label} skipped: {reason}", file=log)
    return chosen


def peersFor(peers: Sequence[Peer], kind: str | None) -> list[Peer]:
    """
    @param peers: the peers chosen for the run.
    @param kind: the kind measured, or L{None} for runs no peer takes part in.
    @return: those of C{peers} that serve C{kind}.
    """
    return [p for p in peers if kind in p.kinds]
