# The Twisted Web howto, "Virtual Hosts": one server answering for several
# host names, each with its own site, and a default site for the others.
# The howto's addHost("foo.com", ...) works here as written: the name matches
# whether given as str or bytes (on twisted.web under Python 3, a str name
# never matches).
#
# Run it with:  WWW=/path/to/www twistd -ny examples/vhost/vhost.tac
#
# WWW names the directory holding the sites htdocs/, foo/, bar/ and baz/ (the
# howto's /var/www) and LISTEN the endpoint to listen on (the howto's tcp:80).
import os

from twisted.application import service, strports

from twisted_web_re import script, server, static, vhost

www = os.environ.get("WWW", "/var/www")

root = vhost.NameVirtualHost()

# Add a default -- htdocs
root.default = static.File(os.path.join(www, "htdocs"))

# Add a simple virtual host -- foo.com
root.addHost("foo.com", static.File(os.path.join(www, "foo")))

# Add a simple virtual host -- bar.com
root.addHost("bar.com", static.File(os.path.join(www, "bar")))

# The "baz" people want to use Resource Scripts in their web site
baz = static.File(os.path.join(www, "baz"))
baz.processors = {".rpy": script.ResourceScript}
baz.ignoreExt(".rpy")
root.addHost("baz", baz)

application = service.Application("web")
sc = service.IServiceCollection(application)
site = server.Site(root)
i = strports.service(os.environ.get("LISTEN", "tcp:80"), site)
i.setServiceParent(sc)
