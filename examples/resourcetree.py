"""
The resource tree of the Twisted Web howto ("Resource Trees"), in
twisted_web_re's names: a C{Hello} root with two C{Hello} children put at
C{fred} and C{bob} with C{putChild}.

These URLs are all valid, and each page says where the resource that
rendered it is (its C{request.prepath})::

    http://localhost:8080/          I am located at [b''].
    http://localhost:8080/fred      I am located at [b'fred'].
    http://localhost:8080/bob       I am located at [b'bob'].
    http://localhost:8080/fred/     I am located at [b'fred', b''].
    http://localhost:8080/bob/      I am located at [b'bob', b''].

Any other child, such as C{/alice}, is a 404.

Run it::

    python examples/resourcetree.py [PORT]

The port is the first argument, else the C{PORT} environment variable, else
8080, as in the howto.

One change from the howto: there C{Hello} is a leaf (C{isLeaf = True}), and
a leaf stops traversal, so the root would render every URL itself and
C{fred} and C{bob} would never be reached.  Here C{Hello} is not a leaf, so
the children are found; its C{getChild} returns the resource itself for the
empty segment after a trailing slash, which is what makes C{/fred/} valid.
Path segments are bytes in Python 3, so C{putChild} takes C{b"fred"} and
C{getChild} compares with C{b""}.
"""

import os
import sys

from twisted.internet import endpoints, reactor

from twisted_web_re import server
from twisted_web_re.resource import Resource


class Hello(Resource):
    def getChild(self, name, request):
        if name == b"":
            return self
        return Resource.getChild(self, name, request)

    def render_GET(self, request):
        output = f"Hello, world! I am located at {request.prepath}."
        return output.encode("utf8")


root = Hello()
root.putChild(b"fred", Hello())
root.putChild(b"bob", Hello())


def portFromArgs(argv=None):
    """
    Return the port to listen on: C{argv[1]}, else C{$PORT}, else 8080.
    """
    argv = sys.argv if argv is None else argv
    return int(argv[1] if len(argv) > 1 else os.environ.get("PORT", "8080"))


def main(argv=None):
    endpoint = endpoints.TCP4ServerEndpoint(reactor, portFromArgs(argv))
    endpoint.listen(server.Site(root))
    reactor.run()


if __name__ == "__main__":
    main()
