"""
Resolving the reactor: an injected one, or Twisted's global one at call time.
"""

from __future__ import annotations

from typing import Any

import twisted.internet


def resolveReactor(reactor: Any = None) -> Any:
    """
    Return C{reactor}, or the global reactor if it is C{None}.

    The global reactor is imported only when needed, so a program may install
    another reactor before using this package.
    """
    if reactor is not None:
        return reactor
    try:
        # Where "from twisted.internet import reactor" finds it once it is
        # installed, without the import machinery (this runs per connection).
        return twisted.internet.reactor
    except AttributeError:
        from twisted.internet import reactor as default

        return default
