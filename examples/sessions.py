"""
A page-view counter kept in the visitor's session, in the style of the
Twisted Web howto ("Session"; the counter is the one of its session-storage
tutorial), in twisted_web_re's names.

C{request.getSession()} finds the visitor's L{server.Session} from its cookie,
or makes one and sets the cookie.  The counter is stored on the session as a
component: C{ICounter(session)} adapts the session with the adapter
registered for it, creating the L{Counter} on the first call and returning
the same one afterwards, for as long as the session lives (15 minutes
without a visit).

Run it, then reload C{http://localhost:8080/} in a browser: the count goes up.
Another browser (or a private window) has its own count::

    python examples/sessions.py [PORT]
    curl -c jar -b jar http://localhost:8080/    # Visit #1 for you!
    curl -c jar -b jar http://localhost:8080/    # Visit #2 for you!

The port is the first argument, else the C{PORT} environment variable, else
8080, as in the howto.
"""

import os
import sys

from twisted.internet import endpoints, reactor
from twisted.python.components import registerAdapter
from zope.interface import Attribute, Interface, implementer

from twisted_web_re.resource import Resource
from twisted_web_re.server import Session, Site


class ICounter(Interface):
    value = Attribute("An int value which counts up once per page view.")


@implementer(ICounter)
class Counter:
    def __init__(self, session):
        self.value = 0


registerAdapter(Counter, Session, ICounter)


class CounterResource(Resource):
    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()
        counter = ICounter(session)
        counter.value += 1
        return b"Visit #%d for you!" % (counter.value,)


site = Site(CounterResource())


def portFromArgs(argv=None):
    """
    Return the port to listen on: C{argv[1]}, else C{$PORT}, else 8080.
    """
    argv = sys.argv if argv is None else argv
    return int(argv[1] if len(argv) > 1 else os.environ.get("PORT", "8080"))


def main(argv=None):
    endpoint = endpoints.TCP4ServerEndpoint(reactor, portFromArgs(argv))
    endpoint.listen(site)
    reactor.run()


if __name__ == "__main__":
    main()
