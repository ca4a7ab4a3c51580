"""
The protocols: HTTP/1.1 over the sans-IO wire, the access log, and what
a connection needs to know of the peer (trusted proxies, the reactor).
"""
