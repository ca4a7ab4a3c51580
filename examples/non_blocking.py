"""
Example 4-10 of I{Twisted Network Programming Essentials}, 2nd edition:
C{non_blocking.py}, waiting for something slow without blocking, in
twisted_web_re's names.

C{BusyPage.render_GET} asks L{deferLater} for a Deferred that fires after the
wait, and returns L{NOT_DONE_YET} at once; when the Deferred fires,
C{_delayedRender} writes the page and finishes the request.  Meanwhile the
reactor serves other requests, so N requests made at once are all answered
after about one wait, not N.  Compare C{blocking.py}.

Run it, then request C{http://localhost:8000/} from several clients at once
(some browsers queue requests for the same URL themselves: use curl)::

    python examples/non_blocking.py [PORT [SECONDS]]

The port is the first argument, else the C{PORT} environment variable, else
8000, as in the book; the wait is the second argument, else the
C{BUSY_SECONDS} environment variable, else 5 seconds, as in the book.

Ported to Python 3: the page is bytes, and the wait can be shortened (the
tests use a fraction of a second).  Unlike the book, the pending call is
cancelled if the client goes away first (C{notifyFinish}), since finishing a
request whose connection is lost is an error.
"""

import os
import sys
import time

from twisted.internet import reactor
from twisted.internet.defer import CancelledError
from twisted.internet.task import deferLater

from twisted_web_re.resource import Resource
from twisted_web_re.server import NOT_DONE_YET, Site


def busySeconds(argv=None):
    """
    Return how long each request waits: C{argv[2]}, else C{$BUSY_SECONDS},
    else 5.
    """
    argv = sys.argv if argv is None else argv
    return float(argv[2] if len(argv) > 2 else os.environ.get("BUSY_SECONDS", "5"))


class BusyPage(Resource):
    isLeaf = True
    seconds = 5.0

    def _delayedRender(self, request):
        request.write(("Finally done, at %s" % (time.asctime(),)).encode("utf-8"))
        request.finish()

    def render_GET(self, request):
        d = deferLater(reactor, self.seconds, lambda: request)
        d.addCallback(self._delayedRender)
        d.addErrback(lambda failure: failure.trap(CancelledError))
        request.notifyFinish().addErrback(lambda _: d.cancel())
        return NOT_DONE_YET


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
