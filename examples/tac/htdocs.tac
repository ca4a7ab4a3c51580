# The Twisted Web howto, "Advanced Configuration": a static site in a .tac file.
#
# Run it with:  WEBROOT=/path/to/site twistd -ny examples/tac/htdocs.tac
#
# WEBROOT names the directory to serve (the howto's /var/www/htdocs) and LISTEN
# the endpoint to listen on (the howto's tcp:80, which needs root: try
# LISTEN=tcp:8080).
import os

from twisted.application import service, strports

from twisted_web_re import server, static

root = static.File(os.environ.get("WEBROOT", "/var/www/htdocs"))
application = service.Application("web")
site = server.Site(root)
sc = service.IServiceCollection(application)
i = strports.service(os.environ.get("LISTEN", "tcp:80"), site)
i.setServiceParent(sc)
