"""
Example 4-8 of I{Twisted Network Programming Essentials}, 2nd edition:
C{handle_post.py}, a form and its echo, in twisted_web_re's names.

C{FormPage.render_GET} serves a page with a text box called C{form-field};
submitting it POSTs the form (C{application/x-www-form-urlencoded}), and
C{render_POST} finds the text in C{request.args}, escapes it so that it
cannot inject markup into the page, and shows it.

Run it, then visit C{http://localhost:8000/} and submit the form, or::

    python examples/handle_post.py [PORT]
    curl --data-urlencode 'form-field=<b>hi</b>' http://localhost:8000/

The port is the first argument, else the C{PORT} environment variable, else
8000, as in the book.

Ported to Python 3: C{request.args} has bytes keys and values, so the field
is C{request.args[b"form-field"][0]}, decoded before escaping;
C{html.escape} replaces C{cgi.escape}, which Python 3.8 removed (it escapes
quotes too, which C{cgi.escape} did not by default).
"""

import html
import os
import sys

from twisted.internet import reactor

from twisted_web_re.resource import Resource
from twisted_web_re.server import Site


class FormPage(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"""<html>
<body>
<form method="POST">
<input name="form-field" type="text" />
<input type="submit" />
</form>
</body>
</html>
"""

    def render_POST(self, request):
        submitted = request.args[b"form-field"][0].decode("utf-8", "replace")
        page = """<html>
<body>You submitted: %s</body>
</html>
""" % (html.escape(submitted),)
        return page.encode("utf-8")


factory = Site(FormPage())


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
