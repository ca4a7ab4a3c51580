# The Twisted Web howto, "Serving WSGI Applications": a WSGI application served
# as the root resource of a site, in a .tac file.
#
# Run it with:  twistd -ny examples/wsgi/wsgi_root.tac
#
# LISTEN names the endpoint to listen on (the howto's tcp:8080).
#
# The howto starts the pool as the file is read; here it starts once the
# reactor runs, because `twistd -y` (without -n) forks into the background
# after reading the file, and a thread pool's threads do not survive a fork.
import os

from twisted.application import service, strports
from twisted.internet import reactor
from twisted.python.threadpool import ThreadPool

from twisted_web_re import server
from twisted_web_re.wsgi import WSGIResource

# Create and start a thread pool,
wsgiThreadPool = ThreadPool()
reactor.callWhenRunning(wsgiThreadPool.start)

# ensuring that it will be stopped when the reactor shuts down
reactor.addSystemEventTrigger("after", "shutdown", wsgiThreadPool.stop)


def application(environ, start_response):
    """A basic WSGI application"""
    start_response("200 OK", [("Content-type", "text/plain")])
    return [b"Hello World!"]


# Create the WSGI resource
wsgiAppAsResource = WSGIResource(reactor, wsgiThreadPool, application)

# Hooks for twistd
application = service.Application("Twisted.web.wsgi Hello World Example")
server = strports.service(
    os.environ.get("LISTEN", "tcp:8080"), server.Site(wsgiAppAsResource)
)
server.setServiceParent(application)
