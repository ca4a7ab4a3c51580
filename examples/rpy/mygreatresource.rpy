"""
The "very simple Resource Script" of the Twisted Web howto ("Resource
Scripts"), in twisted_web_re's names.

Serve this directory and visit /mygreatresource.rpy: the page is
<html>foo</html>.  The script runs again for every request, so an edit shows
at the next reload.
"""

from twisted_web_re import resource


class MyGreatResource(resource.Resource):
    def render_GET(self, request):
        return b"<html>foo</html>"


resource = MyGreatResource()
