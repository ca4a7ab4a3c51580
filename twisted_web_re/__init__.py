"""
twisted_web_re: the server side of Twisted Web, reimplemented.

Import the modules you know from C{twisted.web} from here instead:
C{from twisted_web_re import server, resource}.
"""

from __future__ import annotations

from twisted_web_re._version import __version__

__all__ = ["__version__"]
