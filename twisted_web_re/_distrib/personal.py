"""
A personal server: a Site published over PB for a front server to relay to,
by default on an owner-only socket in its owner's home.
"""

from __future__ import annotations

import os

from twisted.spread import pb

from twisted_web_re._distrib.jellying import UNPERSISTABLE, serverFactory
from twisted_web_re._distrib.publisher import ResourcePublisher
from twisted_web_re._distrib.userdir import UserDirectory
from twisted_web_re._distrib.wire import REQUEST_TYPE
from twisted_web_re._publish.site import Site


class PersonalServerFactory(pb.PBServerFactory):
    """
    The PB factory of a personal server: its Site starts and stops with it,
    as it would listening on HTTP (its access log file opened and closed,
    its sessions' timers run).
    """

    root: ResourcePublisher

    def startFactory(self) -> None:
        """Start the published Site."""
        super().startFactory()
        self.root.site.doStart()

    def stopFactory(self) -> None:
        """Stop the published Site: its access log is written and closed."""
        self.root.site.doStop()
        super().stopFactory()


def makePersonalServerFactory(site: Site) -> pb.PBServerFactory:
    """
    @param site: the Site to publish.
    @return: the PB factory that answers a front server's relayed requests
        with C{site}, accepting only what the relay needs (see
        L{twisted_web_re._distrib.jellying}); C{site} starts and stops with
        it.
    """
    return serverFactory(
        ResourcePublisher(site),
        REQUEST_TYPE,
        UNPERSISTABLE,
        factoryClass=PersonalServerFactory,
    )


def defaultPersonalListen() -> str:
    """
    @return: the endpoint a personal server listens on when none is given:
        the socket C{~/.twistd-web-pb}, readable and writable by its owner
        alone, with a lock file so that a server that crashed leaves no
        socket in the way of the next.
    """
    path = os.path.expanduser(os.path.join("~", UserDirectory.userSocketName))
    quoted = path.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")
    return f"unix:{quoted}:mode=600:lockfile=1"


def ownerOnly(description: str) -> str:
    """
    @param description: an endpoint description a personal server listens on.
    @return: it with C{mode=600} if it is a UNIX socket with no mode given,
        so that only its owner can connect.
    """
    kind = description.split(":", 1)[0]
    if kind == "unix" and ":mode=" not in description:
        return description + ":mode=600"
    return description


def personalListen(descriptions: list[str]) -> list[str]:
    """
    @param descriptions: the C{--listen} endpoints given to C{--personal}.
    @return: the endpoints to listen on: L{defaultPersonalListen} when none
        was given; else each UNIX socket made owner-only (C{mode=600} unless
        a mode is given) and the howto's C{wantPID=} read as the endpoint
        parser's C{lockfile=}.
    """
    if not descriptions:
        return [defaultPersonalListen()]
    return [ownerOnly(d.replace(":wantPID=", ":lockfile=")) for d in descriptions]
