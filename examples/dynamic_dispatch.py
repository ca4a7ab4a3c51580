"""
Example 4-6 of I{Twisted Network Programming Essentials}, 2nd edition:
C{dynamic_dispatch.py}, a calendar server, in twisted_web_re's names.

C{CalendarHome} is the root.  It is not a leaf, so traversal asks its
C{getChild} for each segment: a year (C{/2013}) gives a C{YearPage} that
renders that year's calendar; the empty segment of C{/} gives the home page
itself; anything else, a 404 L{NoResource}.  C{YearPage} is not a leaf and
has no children, so C{/2013/} (one more, empty, segment) is a 404.

Run it, then visit C{http://localhost:8000/} and C{http://localhost:8000/2013}::

    python examples/dynamic_dispatch.py [PORT]

The port is the first argument, else the C{PORT} environment variable, else
8000, as in the book.

Ported to Python 3: segments are bytes, so C{getChild} compares the name
with C{b""} (the book's C{''} would never match, and C{/} would be a 404),
and the pages are encoded before they are returned.
"""

import os
import sys
from calendar import calendar

from twisted.internet import reactor

from twisted_web_re.resource import NoResource, Resource
from twisted_web_re.server import Site


class YearPage(Resource):
    def __init__(self, year):
        Resource.__init__(self)
        self.year = year

    def render_GET(self, request):
        page = "<html><body><pre>%s</pre></body></html>" % (calendar(self.year),)
        return page.encode("utf-8")


class CalendarHome(Resource):
    def getChild(self, name, request):
        if name == b"":
            return self
        if name.isdigit():
            return YearPage(int(name))
        return NoResource()

    def render_GET(self, request):
        return b"<html><body>Welcome to the calendar server!</body></html>"


root = CalendarHome()
factory = Site(root)


def portFromArgs(argv=None):
    """
    Return the port to listen on: C{argv[1]}, else C{$PORT}, else 8000.
    """
    argv = sys.argv if argv is None else argv
    return int(argv[1] if len(argv) > 1 else os.environ.get("PORT", "8000"))


def main(argv=None):
    reactor.listenTCP(portFromArgs(argv), factory)
    reactor.run()


if __name__ == "__main__":
    main()
