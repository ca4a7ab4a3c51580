"""
The request-encoder example of the Twisted Web howto ("Request encoders"), in
twisted_web_re's names: the C{Simple} resource wrapped in an
L{EncodingResourceWrapper} with a L{GzipEncoderFactory}, so that clients that
accept gzip get the page compressed.

Run it, then compare::

    python examples/gzip_encoding.py [PORT]
    curl -i http://localhost:8080/
    curl -i --compressed http://localhost:8080/

The second answer says C{Content-Encoding: gzip}; both say
C{Vary: Accept-Encoding}, since the answer depends on that header.  The port
is the first argument, else the C{PORT} environment variable, else 8080, as in
the howto.

As the howto warns, compressing responses served over TLS whose content an
attacker can influence may leak secrets (the BREACH attack): choose which
resources to wrap.  Only one encoder is used per request: the first factory
in the list that returns one.
"""

import os
import sys

from twisted.internet import endpoints, reactor

from twisted_web_re.resource import EncodingResourceWrapper, Resource
from twisted_web_re.server import GzipEncoderFactory, Site


class Simple(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"<html>Hello, world!</html>"


resource = Simple()
wrapped = EncodingResourceWrapper(resource, [GzipEncoderFactory()])
site = Site(wrapped)


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
