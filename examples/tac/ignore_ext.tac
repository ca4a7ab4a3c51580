# The Twisted Web howto, "Modifying File Resources": ignoreExt gives resource
# scripts extension-less URLs, so that /foo is served by foo.rpy when there is
# no file called foo.
#
# Run it with:  WEBROOT=/path/to/site twistd -ny examples/tac/ignore_ext.tac
#
# WEBROOT names the directory to serve (the howto's /var/www/htdocs) and LISTEN
# the endpoint to listen on (the howto's tcp:80).
import os

from twisted.application import service, strports

from twisted_web_re import script, server, static

root = static.File(os.environ.get("WEBROOT", "/var/www/htdocs"))
root.ignoreExt(".rpy")
root.processors = {".rpy": script.ResourceScript}
application = service.Application("web")
sc = service.IServiceCollection(application)
site = server.Site(root)
i = strports.service(os.environ.get("LISTEN", "tcp:80"), site)
i.setServiceParent(sc)
