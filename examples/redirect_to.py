"""
Example 4-7 of I{Twisted Network Programming Essentials}, 2nd edition: the
calendar server of Example 4-6 (C{dynamic_dispatch.py}) with a
C{CalendarHome.render_GET} that redirects to the current year's calendar with
L{redirectTo}, in twisted_web_re's names.

C{/} answers 302 Found with C{Location: 2026} (this year), a URL relative to
C{/}, so the browser goes on to C{/2026} and shows that year's calendar.  The
body is a small HTML page with a link, for clients that do not follow
redirects.

Run it, then visit C{http://localhost:8000/}::

    python examples/redirect_to.py [PORT]

The port is the first argument, else the C{PORT} environment variable, else
8000, as in the book.

Ported to Python 3: L{redirectTo} takes the URL as bytes (the book passes the
year, an int, which it never accepted), and segments are bytes as in
C{dynamic_dispatch.py}.
"""

import os
import sys
from calendar import calendar
from datetime import datetime

from twisted.internet import reactor

from twisted_web_re.resource import NoResource, Resource
from twisted_web_re.server import Site
from twisted_web_re.util import redirectTo


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
        return redirectTo(b"%d" % (datetime.now().year,), request)


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
