"""
Example 4-9 of I{Twisted Network Programming Essentials}, 2nd edition:
C{blocking.py}, how not to wait for something slow, in twisted_web_re's
names.

C{BusyPage.render_GET} sleeps before answering.  The sleep blocks the one
thread the reactor runs in, so the server does nothing else meanwhile: N
requests made at once are answered one after the other, the last after N
sleeps.  Compare C{non_blocking.py}.

Run it, then request C{http://localhost:8000/} from several clients at once::

    python examples/blocking.py [PORT [SECONDS]]

The port is the first argument, else the C{PORT} environment variable, else
8000, as in the book; the sleep is the second argument, else the
C{BUSY_SECONDS} environment variable, else 5 seconds, as in the book.

Ported to Python 3: the page is bytes, and the sleep can be shortened (the
tests use a fraction of a second).
"""

import os
import sys
import time

from twisted.internet import reactor

from twisted_web_re.resource import Resource
from twisted_web_re.server import Site


def busySeconds(argv=None):
    """
    Return how long a request keeps the server busy: C{argv[2]}, else
    C{$BUSY_SECONDS}, else 5.
    """
    argv = sys.argv if argv is None else argv
    return float(argv[2] if len(argv) > 2 else os.environ.get("BUSY_SECONDS", "5"))


class BusyPage(Resource):
    isLeaf = True
    seconds = 5.0

    def render_GET(self, request):
        time.sleep(self.seconds)
        return ("Finally done, at %s" % (time.asctime(),)).encode("utf-8")


def portFromArgs(argv=None):
    """
    Return the port to listen on: C{argv[1]}, else C{$PORT}, else 8000.
    """
    argv = sys.argv if argv is None else argv
    return int(argv[1] if len(argv) > 1 else os.environ.get("PORT", "8000"))


def main(argv=None):
    page = BusyPage()
    page.seconds = busySeconds(argv)
    factory = Site(page)
    reactor.listenTCP(portFromArgs(argv), factory)
    reactor.run()


if __name__ == "__main__":
    main()
