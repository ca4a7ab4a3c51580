# The Twisted Web howto, "Advanced Techniques": the ports to listen on, read
# from a file of numbers.  The howto's version forgets to import strports and
# calls addCollection, which services do not have; each service is given its
# parent here instead.
#
# Run it with:  WEBROOT=/path/to/site PORTS_FILE=ports twistd -ny examples/tac/ports.tac
#
# WEBROOT names the directory to serve (the howto's /var/www/htdocs),
# PORTS_FILE the file of port numbers (the howto's /etc/web/ports) and
# INTERFACE the address to listen on (every address unless set).
import os

from twisted.application import service, strports

from twisted_web_re import server, static

root = static.File(os.environ.get("WEBROOT", "/var/www/htdocs"))

site = server.Site(root)
application = service.Application("web")
serviceCollection = service.IServiceCollection(application)

interface = os.environ.get("INTERFACE")
with open(os.environ.get("PORTS_FILE", "/etc/web/ports")) as f:
    for num in map(int, f.read().split()):
        description = f"tcp:{num}"
        if interface:
            description += f":interface={interface}"
        strports.service(description, site).setServiceParent(serviceCollection)
