"""
The registry the resource scripts of a site share: components by interface,
and the resources scripts asked to have cached.  Published as
L{twisted_web_re.static.Registry}.
"""

from __future__ import annotations

from typing import Any

from twisted.python.components import Componentized
from twisted.python.reflect import qual
from zope.interface.interface import InterfaceClass

from twisted_web_re.resource import IResource

__all__ = ["Registry"]


class Registry(Componentized):
    """
    What the resource scripts of a site share: components kept by interface
    (C{getComponent}, C{setComponent}), and the resources scripts asked to
    have cached, by file name.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pathCache: dict[str, IResource] = {}

    def getComponent(
        self, interface: InterfaceClass | type, default: Any = None
    ) -> Any:
        """
        Return the component for C{interface} (made by an adapter, if there
        is one, the first time), or C{default}.

        A plain class works as the key too, as the howto's counter script
        uses it: it gets what C{setComponent} kept for it.  (twisted.web
        raises C{AttributeError}, asking the class to adapt.)
        """
        if isinstance(interface, InterfaceClass):
            return super().getComponent(interface, default)
        # setComponent keeps every component here, by the key's dotted name.
        return self._adapterCache.get(qual(interface), default)

    def cachePath(self, path: str, rsrc: IResource) -> None:
        """Remember C{rsrc} as the resource of the script at C{path}."""
        self._pathCache[path] = rsrc

    def getCachedPath(self, path: str) -> IResource | None:
        """Return the resource remembered for C{path}, or C{None}."""
        return self._pathCache.get(path)
