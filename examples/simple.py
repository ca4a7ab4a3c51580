"""
The C{Simple} site of the Twisted Web howto ("Site Objects"), in
twisted_web_re's names: one leaf resource answering every GET with a fixed
page, published by a L{server.Site} on a TCP endpoint.

Run it, then visit C{http://localhost:8080/} (or any path below it)::

    python examples/simple.py [PORT]

The port is the first argument, else the C{PORT} environment variable, else
8080, as in the howto.

Ported: C{from twisted_web_re import server, resource} replaces
C{from twisted.web import server, resource}, and the reactor is started only
when the file is run as a script.
"""

import os
import sys

from twisted.internet import endpoints, reactor

from twisted_web_re import resource, server


class Simple(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"<html>Hello, world!</html>"


site = server.Site(Simple())


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
