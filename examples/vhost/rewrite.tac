# The Twisted Web howto, "Rewriting URLs": a site whose /~foo/bar.html is
# served as /users/foo/bar.html.  The howto's users child is a
# distrib.UserDirectory; here it is the users/ directory of the site.
# (twisted.web's tildeToUsers compares bytes with str, and never fires on
# Python 3; this one does.)
#
# Run it with:  WEBROOT=/path/to/site twistd -ny examples/vhost/rewrite.tac
#
# WEBROOT names the site, with its users/ directory, and LISTEN the endpoint
# (the howto's tcp:80).
import os

from twisted.application import service, strports

from twisted_web_re import rewrite, server, static

default = static.File(os.environ.get("WEBROOT", "/var/www/htdocs"))
default_root = rewrite.RewriterResource(default, rewrite.tildeToUsers)

application = service.Application("web")
sc = service.IServiceCollection(application)
site = server.Site(default_root)
i = strports.service(os.environ.get("LISTEN", "tcp:80"), site)
i.setServiceParent(sc)
