"""
Example 4-2 of I{Twisted Network Programming Essentials}, 2nd edition:
C{requesthandler.py}, an HTTP server on the protocol-level API, in
twisted_web_re's names.

An L{http.Request} subclass answers in L{process()}: C{/} and C{/about} with a
small HTML page, any other path with 404.  An L{http.HTTPChannel} subclass
makes its requests with it, and an L{http.HTTPFactory} subclass builds that
channel for every connection.

Run it, then visit C{http://localhost:8000/}, C{http://localhost:8000/about} and
C{http://localhost:8000/foo}::

    python examples/requesthandler.py [PORT]

The port is the first argument, else the C{PORT} environment variable, else
8000, as in the book.

Ported to Python 3: paths and bodies are bytes, C{in} replaces C{has_key}, and
the reactor is started only when the file is run as a script.  Like the book,
C{buildProtocol} returns C{MyHTTP()} without setting its C{factory}: the
channel then runs with the default limits and writes no access log.
"""

import os
import sys

from twisted.internet import reactor

from twisted_web_re import http


class MyRequestHandler(http.Request):
    resources = {
        b"/": b"<h1>Home</h1>Home page",
        b"/about": b"<h1>About</h1>All about me",
    }

    def process(self):
        self.setHeader(b"Content-Type", b"text/html")
        if self.path in self.resources:
            self.write(self.resources[self.path])
        else:
            self.setResponseCode(http.NOT_FOUND)
            self.write(b"<h1>Not Found</h1>Sorry, no such resource.")
        self.finish()


class MyHTTP(http.HTTPChannel):
    requestFactory = MyRequestHandler


class MyHTTPFactory(http.HTTPFactory):
    def buildProtocol(self, addr):
        return MyHTTP()


def portFromArgs(argv=None):
    """
    Return the port to listen on: C{argv[1]}, else C{$PORT}, else 8000.
    """
    argv = sys.argv if argv is None else argv
    return int(argv[1] if len(argv) > 1 else os.environ.get("PORT", "8000"))


def main(argv=None):
    reactor.listenTCP(portFromArgs(argv), MyHTTPFactory())
    reactor.run()


if __name__ == "__main__":
    main()
