"""
The resource script of the Twisted Web howto ("Resource Scripts") that keeps
persistent data in the registry, in twisted_web_re's names.

The script runs again for every request, but the registry outlives every run:
the Counter stored in it the first time is found again, so every visit
counts.  Visit /counter.rpy: "you are visitor 1", then 2, 3...

The SillyWeb module (beside this file) must be importable: run the server with
this directory on PYTHONPATH.  C{registry} is put in the script's namespace by
the server, which is why it is used without being defined here.
"""

from SillyWeb import Counter

from twisted_web_re import resource

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
