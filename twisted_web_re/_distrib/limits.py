"""
The limits of the relay between a front server and a personal server: how
big a piece of body is, how many pieces may be in flight, how long each side
waits.  Each is a module constant that a deployment may change.
"""

from __future__ import annotations

#: Bytes of body in one relayed piece, either way.  Well under banana's
#: 640 KiB string limit, so a piece is never refused for its size.
PIECE_SIZE = 64 * 1024

#: Response pieces a personal server sends before it waits for the front to
#: take one: with L{PIECE_SIZE}, at most 256 KiB of a response is in flight,
#: however large the response.
WINDOW = 4

#: A request body up to this size travels with the request itself (as
#: twisted.web sends every body); a larger one is read in pieces.
INLINE_BODY_LIMIT = 64 * 1024

#: Bytes of a request body arriving from the front's client that wait for
#: the personal server to read them before the front stops reading its
#: client (and reads again once half of them were taken).
UPLOAD_BUFFER = WINDOW * PIECE_SIZE

#: Bytes a peer may send for one PB message before the connection is dropped:
#: banana would otherwise buffer an expression of any size.
MESSAGE_LIMIT = 1024 * 1024

#: Header fields a relayed request or response may carry.
MAX_FIELDS = 200

#: Bytes of names and values of all the fields of a relayed head together.
MAX_HEAD_BYTES = 256 * 1024

#: Seconds the front waits to connect to a personal server before answering
#: 502 Bad Gateway.
CONNECT_TIMEOUT = 10.0

#: Seconds the front waits for the personal server's next message (the
#: response head, then each piece of body) before giving up: 504 Gateway
#: Timeout before the head, an aborted response after it.
RESPONSE_TIMEOUT = 60.0
