# The Twisted Web howto, "Using VHostMonster": served as /vhost.rpy, a request
# for /vhost.rpy/http/example.com:80/a/b is served as /a/b sent to
# http://example.com:80, so the URLs the site makes name the proxy in front.
# Any client reaching the site can send such a URL: serve it only behind the
# proxy, or give VHostMonsterResource(trustedProxies=[...]) the proxy's address.
from twisted_web_re import vhost

resource = vhost.VHostMonsterResource()
