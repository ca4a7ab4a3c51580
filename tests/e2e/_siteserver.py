"""
A L{twisted_web_re.server.Site} for the end-to-end tests of object
publishing, run in its own process.

Its resource tree:

  - C{/}: the root, a directory-like resource (C{addSlash}) answering C{root};
  - C{/tree/} (a directory), C{/tree/fred}, C{/tree/bob}: pages saying where
    they are (their C{prepath}), as the Twisted Web howto's C{Hello};
  - C{/form}: a form on GET; on POST, C{request.args[b"field"]} echoed back,
    HTML-escaped, as the book's C{handle_post.py};
  - C{/form-after-body}: on POST, reads the whole of C{request.content} first,
    then answers C{<bytes read> <field values>} from C{request.args};
  - C{/whereami}: C{getRequestHostname()} and C{prePathURL()}, on two lines;
  - C{/gzip}: a long page behind an L{EncodingResourceWrapper} with a
    L{GzipEncoderFactory};
  - C{/counter}: a page-view counter kept on the session;
  - C{/slow?ms=MS}: a render returning a Deferred that fires MS milliseconds
    later (default 300) with C{slow MS}; cancelled if the client goes away;
  - C{/hang}: a C{NOT_DONE_YET} render that never finishes on its own;
  - C{/boom}: a render that raises;
  - C{/stats}: JSON counters: renders of C{/slow} and C{/hang} begun and
    ended by the client going away (C{notifyFinish} failing), Deferreds
    cancelled, and live sessions.

Run::

    python tests/e2e/_siteserver.py

It listens on 127.0.0.1 on a free port and, once listening, prints one line
C{PORT <port>} on standard output; its log goes to standard error.
L{startSiteServer} runs it from a test; stop it with L{_servers.stopServer}.
"""

from __future__ import annotations

import html
import json
import sys
from pathlib import Path
from typing import Any

import _servers

REPO = Path(__file__).resolve().parent.parent.parent

#: The long page served gzipped at C{/gzip}.
GZIP_PAGE = b"<html><body>" + b"<p>compress me, compress me</p>\n" * 500 + b"</body>"


def buildSite() -> Any:
    """
    Build the site described in the module docstring.
    """
    from twisted.internet import reactor
    from twisted.internet.defer import CancelledError
    from twisted.internet.task import deferLater
    from twisted.python.components import registerAdapter
    from zope.interface import Attribute, Interface, implementer

    from twisted_web_re import server
    from twisted_web_re.resource import EncodingResourceWrapper, Resource

    stats = {
        "slowStarted": 0,
        "slowLost": 0,
        "cancelled": 0,
        "hangStarted": 0,
        "hangLost": 0,
    }

    class Root(Resource):
        addSlash = True

        def render_GET(self, request: Any) -> bytes:
            return b"root"

    class Hello(Resource):
        def getChild(self, name: bytes, request: Any) -> Any:
            if name == b"":
                return self
            return Resource.getChild(self, name, request)

        def render_GET(self, request: Any) -> bytes:
            return f"Hello, world! I am located at {request.prepath}.".encode()

    class Tree(Resource):
        addSlash = True

        def render_GET(self, request: Any) -> bytes:
            return b"tree"

    class Form(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            return b'<form method="POST"><input name="field"></form>'

        def render_POST(self, request: Any) -> bytes:
            values = request.args.get(b"field", [b""])
            text = ", ".join(html.escape(v.decode("utf-8", "replace")) for v in values)
            return f"You submitted: {text}".encode()

    class FormAfterBody(Resource):
        isLeaf = True

        def render_POST(self, request: Any) -> bytes:
            read = len(request.content.read())
            return b"%d %s" % (read, b",".join(request.args.get(b"field", [])))

    class WhereAmI(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            return request.getRequestHostname() + b"\n" + request.prePathURL()

    class Big(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            return GZIP_PAGE

    class ICounter(Interface):
        value = Attribute("Views so far.")

    @implementer(ICounter)
    class Counter:
        def __init__(self, session: Any) -> None:
            self.value = 0

    registerAdapter(Counter, server.Session, ICounter)

    class CounterPage(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            counter = ICounter(request.getSession())
            counter.value += 1
            return b"%d" % counter.value

    class Slow(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> Any:
            ms = int(request.args.get(b"ms", [b"300"])[0])
            stats["slowStarted"] += 1

            def lost(reason: Any) -> None:
                stats["slowLost"] += 1

            def cancelled(reason: Any) -> None:
                reason.trap(CancelledError)
                stats["cancelled"] += 1
                return reason

            request.notifyFinish().addErrback(lost)
            d = deferLater(reactor, ms / 1000, lambda: b"slow %d" % ms)
            d.addErrback(cancelled)
            return d

    class Hang(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> int:
            stats["hangStarted"] += 1

            def lost(reason: Any) -> None:
                stats["hangLost"] += 1

            request.notifyFinish().addErrback(lost)
            request.write(b"waiting")
            return server.NOT_DONE_YET

    class Boom(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            raise RuntimeError("<b>the code's secret</b>")

    class Stats(Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            request.setHeader(b"content-type", b"application/json")
            answer = dict(stats, sessions=len(site.sessions))
            return json.dumps(answer, sort_keys=True).encode("ascii")

    root = Root()
    tree = Tree()
    tree.putChild(b"fred", Hello())
    tree.putChild(b"bob", Hello())
    root.putChild(b"tree", tree)
    root.putChild(b"form", Form())
    root.putChild(b"form-after-body", FormAfterBody())
    root.putChild(b"whereami", WhereAmI())
    root.putChild(
        b"gzip", EncodingResourceWrapper(Big(), [server.GzipEncoderFactory()])
    )
    root.putChild(b"counter", CounterPage())
    root.putChild(b"slow", Slow())
    root.putChild(b"hang", Hang())
    root.putChild(b"boom", Boom())
    root.putChild(b"stats", Stats())
    site = server.Site(root)
    return site


def main() -> int:
    """
    Serve until killed; print C{PORT <port>} once listening.
    """
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from twisted.internet import reactor
    from twisted.logger import globalLogBeginner, textFileLogObserver

    globalLogBeginner.beginLoggingTo(
        [textFileLogObserver(sys.stderr)], redirectStandardIO=False
    )
    port = reactor.listenTCP(0, buildSite(), interface=_servers.LOOPBACK)  # type: ignore[attr-defined]
    sys.stdout.write(f"PORT {port.getHost().port}\n")
    sys.stdout.flush()
    reactor.run()  # type: ignore[attr-defined]
    return 0


def startSiteServer(outputDir: Path) -> _servers.Server:
    """
    Start the site server and wait until it listens.

    @param outputDir: where to keep its log.
    @raise RuntimeError: it exited, or did not listen within
        L{_servers.START_DEADLINE}.
    """
    server, words = _servers.launch(__file__, outputDir)
    server.port = int(words[1])
    return server


if __name__ == "__main__":
    sys.exit(main())
