# The Twisted Web howto, "Adding Children": a static site with a cgi-bin
# directory whose every file is run as a CGI program, in a .tac file.
#
# Run it with:  twistd -ny examples/cgi/cgi_bin.tac
#
# WEBROOT names the directory to serve (the howto's /var/www/htdocs), CGI_BIN
# the directory of CGI programs (the howto's /var/www/cgi-bin), and LISTEN the
# endpoint to listen on (the howto's port 80 needs root).  By default they are
# the htdocs/ and cgi-bin/ directories beside this file, on tcp:8080.
import os

from twisted.application import service, strports

from twisted_web_re import server, static, twcgi

here = os.path.dirname(os.path.abspath(__file__))
root = static.File(os.environ.get("WEBROOT", os.path.join(here, "htdocs")))
root.putChild(
    b"cgi-bin",
    twcgi.CGIDirectory(os.environ.get("CGI_BIN", os.path.join(here, "cgi-bin"))),
)
application = service.Application("web")
sc = service.IServiceCollection(application)
site = server.Site(root)
i = strports.service(os.environ.get("LISTEN", "tcp:8080"), site)
i.setServiceParent(sc)
