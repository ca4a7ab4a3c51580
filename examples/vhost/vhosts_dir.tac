# The Twisted Web howto, "Advanced Techniques": no configuration of virtual
# hosts, just one directory per host name under VHOSTS.  (The howto's version
# forgets to import os.)
#
# Run it with:  VHOSTS=/path/to/vhosts WEBROOT=/path/to/htdocs \
#                   twistd -ny examples/vhost/vhosts_dir.tac
#
# VHOSTS names the directory of sites (the howto's /var/vhosts), WEBROOT the
# default site (the howto's /var/www/htdocs) and LISTEN the endpoint (the
# howto's tcp:80).
import os

from twisted.application import service, strports

from twisted_web_re import server, static, vhost

vhosts = os.environ.get("VHOSTS", "/var/vhosts")

root = vhost.NameVirtualHost()
root.default = static.File(os.environ.get("WEBROOT", "/var/www/htdocs"))
for dir in os.listdir(vhosts):
    root.addHost(dir, static.File(os.path.join(vhosts, dir)))

application = service.Application("web")
sc = service.IServiceCollection(application)
site = server.Site(root)
i = strports.service(os.environ.get("LISTEN", "tcp:80"), site)
i.setServiceParent(sc)
