"""
The twisted.web2 tutorial's directory-like resources, carried over to
twisted_web_re's (twisted.web's) resource API: C{addSlash = True} and
C{child_<name>} attributes.

The tutorial's C{Toplevel} has C{addSlash = True}: it stands for a directory,
so its URL ends in a slash, and a request without one is redirected (301) to
the URL with it, query string kept.  Its children are class attributes named
C{child_<segment>}: C{child_elephant} is served at C{/elephant}, and
C{child_docs} at C{/docs/} (itself a directory, so C{/docs} redirects to
C{/docs/}).  C{Child} sets C{Last-Modified} and C{ETag}, so a client that
already has the page gets 304 Not Modified for a conditional request.

Run it, then visit C{http://localhost:8080/}::

    python examples/directory.py [PORT]
    curl -i http://localhost:8080/docs          # 301, Location: /docs/

The port is the first argument, else the C{PORT} environment variable, else
8080, as in the tutorial.

Ported from web2: resources render with C{render_GET(request)} returning
bytes instead of C{render(ctx)} returning an C{http.Response}; headers are set
on the request; C{request.setETag} and C{request.setLastModified} answer the
conditional request (the tutorial's web2 did that by itself); and the
tutorial's C{child_monkey}, a C{static.File}, is replaced by C{child_docs}, a
second directory, since static files are not part of this example.
"""

import os
import sys
import time
import zlib

from twisted.internet import endpoints, reactor

from twisted_web_re import http
from twisted_web_re.resource import Resource
from twisted_web_re.server import Site


class Child(Resource):
    creation_time = time.time()
    text = b"Yo Ho Ho and a bottle of rum."

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain")
        etag = b'"%08x"' % (zlib.crc32(self.text),)
        if request.setETag(etag) is http.CACHED:
            return b""
        if request.setLastModified(self.creation_time) is http.CACHED:
            return b""
        return self.text


class Docs(Resource):
    addSlash = True

    def render_GET(self, request):
        return b"<html><body>The docs directory.</body></html>"


class Toplevel(Resource):
    addSlash = True
    child_elephant = Child()
    child_docs = Docs()

    def render_GET(self, request):
        return b"""<html><body>
<a href="elephant">A defined child</a><br>
<a href="docs/">A child directory</a></body></html>"""


site = Site(Toplevel())


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
