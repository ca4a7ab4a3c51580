"""
The sans-IO HTTP/1.1 wire layer: request heads, body framing, response heads.

Nothing here imports Twisted; every limit and every rejection of peer input lives
here, with the status code it earns.
"""
