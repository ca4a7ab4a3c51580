"""
The WSGI application of the Twisted Web howto ("Serving WSGI Applications").

Serve it, with this directory on the import path, with::

    PYTHONPATH=examples/wsgi twistd -n web-re --wsgi=helloworld.application
"""


def application(environ, start_response):
    """Basic WSGI Application"""
    start_response("200 OK", [("Content-type", "text/plain")])
    return [b"Hello World!"]
