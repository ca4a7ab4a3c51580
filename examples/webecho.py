"""
Example 4-1 of I{Twisted Network Programming Essentials}, 2nd edition:
C{webecho.py}, an HTTP server written without twisted.web.

A L{basic.LineReceiver} collects the request's lines until the empty line that
ends the head, then answers with a status line and the request's own lines, and
closes the connection.  It shows the shape of an HTTP exchange; it is not a
real HTTP server (it ignores any body, and answers every request the same way).

Run it and talk to it with C{telnet localhost 8000} or a browser::

    python examples/webecho.py [PORT]

The port is the first argument, else the C{PORT} environment variable, else
8000, as in the book.

Ported to Python 3: the protocol speaks bytes, and the reactor is started only
when the file is run as a script, so that it can also be imported.
"""

import os
import sys

from twisted.internet import protocol, reactor
from twisted.protocols import basic


class HTTPEchoProtocol(basic.LineReceiver):
    def __init__(self):
        self.lines = []

    def lineReceived(self, line):
        self.lines.append(line)
        if not line:
            self.sendResponse()

    def sendResponse(self):
        self.sendLine(b"HTTP/1.1 200 OK")
        self.sendLine(b"")
        responseBody = b"You said:\r\n\r\n" + b"\r\n".join(self.lines)
        self.transport.write(responseBody)
        self.transport.loseConnection()


class HTTPEchoFactory(protocol.ServerFactory):
    def buildProtocol(self, addr):
        return HTTPEchoProtocol()


def portFromArgs(argv=None):
    """
    Return the port to listen on: C{argv[1]}, else C{$PORT}, else 8000.
    """
    argv = sys.argv if argv is None else argv
    return int(argv[1] if len(argv) > 1 else os.environ.get("PORT", "8000"))


def main(argv=None):
    reactor.listenTCP(portFromArgs(argv), HTTPEchoFactory())
    reactor.run()


if __name__ == "__main__":
    main()
