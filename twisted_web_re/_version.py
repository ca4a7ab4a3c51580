"""The version of twisted_web_re, and the name it gives itself on the wire."""

__version__ = "0.1.0"

#: The C{Server} field of every response.
SERVER_NAME = b"TwistedWebRe/" + __version__.encode("ascii")
