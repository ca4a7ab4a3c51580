"""
Example 4-5 of I{Twisted Network Programming Essentials}, 2nd edition:
C{dynamic_content.py}, a clock page, in twisted_web_re's names.

C{ClockPage} is a leaf resource (C{isLeaf = True}), so it renders every URL
of the site; its C{render_GET} returns the local time.  It has no
C{render_POST}, so a POST is answered 405 Method Not Allowed, with an
C{Allow} header naming the methods it has (GET and HEAD).

Run it, then visit any URL on C{http://localhost:8000/} and reload::

    python examples/dynamic_content.py [PORT]

The port is the first argument, else the C{PORT} environment variable, else
8000, as in the book.

Ported to Python 3: C{render_GET} returns bytes, and the reactor is started
only when the file is run as a script.
"""

import os
import sys
import time

from twisted.internet import reactor

from twisted_web_re.resource import Resource
from twisted_web_re.server import Site


class ClockPage(Resource):
    isLeaf = True

    def render_GET(self, request):
        return ("The local time is %s" % (time.ctime(),)).encode("utf-8")


resource = ClockPage()
factory = Site(resource)


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
