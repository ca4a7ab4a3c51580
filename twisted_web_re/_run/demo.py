"""
The page a bare C{twistd web-re} serves, so a fresh install can be seen to work.

As with C{twistd web} and its C{twisted.web.demo.Test}, a command line naming
nothing to serve publishes one small page at every URL.
"""

from __future__ import annotations

from twisted_web_re import resource
from twisted_web_re.iweb import IRequest

__all__ = ["DEMO_PAGE", "DemoPage"]

#: The body of every answer of L{DemoPage}.
DEMO_PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>twisted_web_re</title></head>
<body>
<h1>twisted_web_re is running</h1>
<p>This is the demo page of <code>twistd web-re</code>.
Run <code>twistd web-re --path DIRECTORY</code> to serve the files of a
directory, or <code>twistd web-re --help</code> to see what else it can
serve.</p>
</body>
</html>
"""


class DemoPage(resource.Resource):
    """
    A leaf resource answering C{GET} and C{HEAD} with L{DEMO_PAGE}, whatever
    the path; any other method gets 405 with an C{Allow} header.
    """

    isLeaf = True

    def render_GET(self, request: IRequest) -> bytes:
        """
        Answer with the demo page.

        @param request: The request being answered.
        @return: L{DEMO_PAGE}.
        """
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        return DEMO_PAGE
