# The howto's "simple but complete web proxy", as a .tac file: point a
# browser's HTTP proxy setting at it.  Run: twistd -n -y forward.tac
# PROXY_LISTEN sets where it listens (default tcp:8080 on 127.0.0.1).
import os

from twisted.application import service, strports

from twisted_web_re import http, proxy


class ProxyFactory(http.HTTPFactory):
    def buildProtocol(self, addr):
        return proxy.Proxy()


application = service.Application("proxy")
listen = os.environ.get("PROXY_LISTEN", "tcp:8080:interface=127.0.0.1")
strports.service(listen, ProxyFactory()).setServiceParent(application)
