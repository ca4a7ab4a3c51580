"""
The resource script of the Twisted Web howto ("Resource Scripts") that keeps
persistent data in the registry, in twisted_web_re's names.

The script runs again for every request, but the registry outlives every run:
the Counter stored in it the first time is found again, so every visit
counts.  Visit /counter.rpy: "you are visitor 1", then 2, 3...

The SillyWeb module is beside this file: the script puts this directory on
the import path (once, however many times it runs), so that it works however
the server was started.  The howto leaves that to the user; a module imported
once keeps its Counter class, the key the registry finds the count by.
C{__file__} and C{registry} are put in the script's namespace by the server,
which is why they are used without being defined here.
"""

import os
import sys

from twisted_web_re import resource

_here = os.path.dirname(__file__)
if _here not in sys.path:
    sys.path.append(_here)

from SillyWeb import Counter  # noqa: E402 (importable only from here on)

counter = registry.getComponent(Counter)  # noqa: F821 (given by the server)
if not counter:
    registry.setComponent(Counter, Counter())  # noqa: F821
counter = registry.getComponent(Counter)  # noqa: F821


class MyResource(resource.Resource):
    def render_GET(self, request):
        counter.increment()
        output = f"you are visitor {counter.getValue()}"
        return output.encode("utf8")


resource = MyResource()
