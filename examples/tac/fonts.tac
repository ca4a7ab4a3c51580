# The Twisted Web howto, "Modifying File Resources": a content type set on one
# File.  Here contentTypes belongs to this File and the Files it makes for its
# children; in twisted.web it is one dictionary shared by every File, so the
# same line changes them all.
#
# Run it with:  WEBROOT=/path/to/fonts twistd -ny examples/tac/fonts.tac
#
# WEBROOT names the directory to serve (the howto's /srv/fonts) and LISTEN the
# endpoint to listen on (the howto's tcp:80).
import os

from twisted.application import service, strports

from twisted_web_re import server, static

root = static.File(os.environ.get("WEBROOT", "/srv/fonts"))

root.contentTypes[".woff2"] = "application/font-woff2"

application = service.Application("web")
sc = service.IServiceCollection(application)
site = server.Site(root)
i = strports.service(os.environ.get("LISTEN", "tcp:80"), site)
i.setServiceParent(sc)
