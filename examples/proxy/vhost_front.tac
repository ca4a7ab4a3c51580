# The howto's front server for "Using VHostMonster": a NameVirtualHost whose
# host VHOST_NAME (example.com) is a ReverseProxyResource to an internal
# server serving vhost.rpy (examples/vhost/vhost.rpy, under
# `twistd -n web-re --path DIR`).  Through /vhost.rpy/<scheme>/<name>/ the
# internal server sees the outer scheme and host name, so the URLs and
# redirects it makes name the front, not itself.
# Run: twistd -n -y vhost_front.tac
# FRONT_LISTEN is where it listens (the howto's tcp:80 needs root; default
# tcp:8080 on 127.0.0.1); INTERNAL_HOST and INTERNAL_PORT name the internal
# server (the howto's internal:8538; default 127.0.0.1:8538); VHOST_SCHEME is
# the scheme clients use (http; https where a TLS front terminates it).
import os

from twisted.application import service, strports

from twisted_web_re import proxy, server, vhost

vhostName = os.environ.get("VHOST_NAME", "example.com").encode("ascii")
scheme = os.environ.get("VHOST_SCHEME", "http").encode("ascii")
reverseProxy = proxy.ReverseProxyResource(
    os.environ.get("INTERNAL_HOST", "127.0.0.1"),
    int(os.environ.get("INTERNAL_PORT", "8538")),
    b"/vhost.rpy/" + scheme + b"/" + vhostName + b"/",
)
root = vhost.NameVirtualHost()
root.addHost(vhostName, reverseProxy)
site = server.Site(root)
application = service.Application("web-proxy")
listen = os.environ.get("FRONT_LISTEN", "tcp:8080:interface=127.0.0.1")
strports.service(listen, site).setServiceParent(application)
