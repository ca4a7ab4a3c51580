# The howto's reverse proxy: a Site whose root is a ReverseProxyResource.
# PROXY_BACKEND_PORT names the backend on 127.0.0.1 (the howto uses
# www.yahoo.com, port 80).  Run: twistd -n -y reverse.tac
import os

from twisted.application import service, strports

from twisted_web_re import proxy, server

backendPort = int(os.environ.get("PROXY_BACKEND_PORT", "8000"))
site = server.Site(proxy.ReverseProxyResource("127.0.0.1", backendPort, b""))
application = service.Application("reverse-proxy")
listen = os.environ.get("PROXY_LISTEN", "tcp:8080:interface=127.0.0.1")
strports.service(listen, site).setServiceParent(application)
