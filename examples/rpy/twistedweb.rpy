"""
The first .rpy of the Twisted Web howto ("Resources"), unchanged: a script
written for twisted.web itself, which twisted_web_re serves as it is.

Visit /twistedweb.rpy: the page is <html>Hello, world!</html>.  A method the
resource has no render_ method for (DELETE, say) is answered 405, with an
Allow header naming GET and HEAD.  Needs Twisted's twisted.web installed, as
any script importing it does.
"""

from twisted.web.resource import Resource


class MyResource(Resource):
    def render_GET(self, request):
        return b"<html>Hello, world!</html>"


resource = MyResource()
