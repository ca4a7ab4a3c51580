# The Twisted Web howto, "Adding Children": the filesystem overridden by
# putChild, so that /doc serves the documentation of the installed packages.
# (The howto runs the reactor itself; the same site as a .tac file.)
#
# Run it with:  WEBROOT=/path/to/site twistd -ny examples/tac/doc_child.tac
#
# WEBROOT names the site (the howto's /var/www/htdocs), DOCROOT what /doc
# serves (the howto's /usr/share/doc), LISTEN the endpoint (the howto's tcp:80).
import os

from twisted.application import service, strports

from twisted_web_re import server, static

root = static.File(os.environ.get("WEBROOT", "/var/www/htdocs"))
root.putChild(b"doc", static.File(os.environ.get("DOCROOT", "/usr/share/doc")))
application = service.Application("web")
site = server.Site(root)
sc = service.IServiceCollection(application)
i = strports.service(os.environ.get("LISTEN", "tcp:80"), site)
i.setServiceParent(sc)
