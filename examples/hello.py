"""
The C{Hello} resource of the Twisted Web howto ("Resource objects"), in
twisted_web_re's names: a leaf resource that says where it is in the URL
tree, by printing C{request.prepath}.

Because C{Hello} is a leaf (C{isLeaf = True}), traversal stops at it: it
renders every URL of the site, and since it is the root no segment has been
consumed, so C{prepath} is always C{[]} (the rest of the URL is in
C{request.postpath}).  See C{resourcetree.py} for the same resource in a tree.

Run it, then visit C{http://localhost:8080/} or C{http://localhost:8080/a/b}::

    python examples/hello.py [PORT]

The port is the first argument, else the C{PORT} environment variable, else
8080, as in the howto.

Ported to Python 3: path segments are bytes, so C{getChild} compares the
name with C{b""} (the howto's C{''} never equals a bytes segment), and the
page is encoded before it is returned.
"""

import os
import sys

from twisted.internet import endpoints, reactor

from twisted_web_re import server
from twisted_web_re.resource import Resource


class Hello(Resource):
    isLeaf = True

    def getChild(self, name, request):
        if name == b"":
            return self
        return Resource.getChild(self, name, request)

    def render_GET(self, request):
        output = f"Hello, world! I am located at {request.prepath}."
        return output.encode("utf8")


resource = Hello()


def portFromArgs(argv=None):
    """
    Return the port to listen on: C{argv[1]}, else C{$PORT}, else 8080.
    """
    argv = sys.argv if argv is None else argv
    return int(argv[1] if len(argv) > 1 else os.environ.get("PORT", "8080"))


def main(argv=None):
    endpoint = endpoints.TCP4ServerEndpoint(reactor, portFromArgs(argv))
    endpoint.listen(server.Site(resource))
    reactor.run()


if __name__ == "__main__":
    main()
