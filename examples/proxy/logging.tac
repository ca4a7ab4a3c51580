# The "logging proxy": a ProxyRequest subclass installed through
# Proxy.requestFactory prints each request's client and host.
# Run: twistd -n -y logging.tac
import os

from twisted.application import service, strports

from twisted_web_re import http, proxy


class LoggingProxyRequest(proxy.ProxyRequest):
    def process(self):
        print(
            "Request from %s for %s"
            % (self.getClientIP(), self.getAllHeaders()[b"host"].decode())
        )
        try:
            proxy.ProxyRequest.process(self)
        except KeyError:
            print("HTTPS is not supported at the moment!")


class LoggingProxy(proxy.Proxy):
    requestFactory = LoggingProxyRequest


class LoggingProxyFactory(http.HTTPFactory):
    def buildProtocol(self, addr):
        return LoggingProxy()


application = service.Application("logging-proxy")
listen = os.environ.get("PROXY_LISTEN", "tcp:8080:interface=127.0.0.1")
strports.service(listen, LoggingProxyFactory()).setServiceParent(application)
