"""
An HTTP/2 client made of the C{h2} library's client-side connection, driving
an L{HTTP2Connection} over a C{StringTransport} with a C{MemoryReactorClock}:
frames in, frames out, no sockets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from _httpparse import HOST, PEER
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (
    DataReceived,
    Event,
    InformationalResponseReceived,
    ResponseReceived,
    StreamEnded,
    StreamReset,
)
from twisted.internet.testing import MemoryReactorClock, StringTransport

from twisted_web_re import http
from twisted_web_re._protocols.http2 import HTTP2Connection
from twisted_web_re._protocols.http2engine import FrameSplitter
from twisted_web_re._wire.limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True)
class GoAway:
    """A GOAWAY the server sent."""

    last_stream_id: int
    error_code: int


@dataclass
class H2Response:
    """
    What the client received on one stream.

    @ivar status: the final status, or C{None}.
    @ivar headers: the final response's fields (name to list of values).
    @ivar informational: the status of each 1xx response.
    @ivar body: the DATA received.
    @ivar ended: whether the server ended the stream.
    @ivar reset: the RST_STREAM error code, or C{None}.
    """

    status: int | None = None
    headers: dict[bytes, list[bytes]] = field(default_factory=dict)
    informational: list[int] = field(default_factory=list)
    body: bytes = b""
    ended: bool = False
    reset: int | None = None

    def header(self, name: bytes) -> bytes | None:
        """The first value of C{name}, or C{None}."""
        values = self.headers.get(name)
        return values[0] if values else None


class SendBufferTransport(StringTransport):
    """
    A transport that pushes back like TCP with a client that does not read:
    past C{bufferSize} unsent bytes the producer is paused, until L{drain}.
    """

    bufferSize = 64 * 1024

    def __init__(self) -> None:
        super().__init__(hostAddress=HOST, peerAddress=PEER)
        self.unsent = 0
        self.producerPaused = False

    def write(self, data: bytes) -> None:
        super().write(data)
        self.unsent += len(data)
        if self.unsent > self.bufferSize and not self.producerPaused:
            self.producerPaused = True
            self.producer.pauseProducing()

    def drain(self) -> None:
        """The client read everything written so far."""
        self.unsent = 0
        if self.producerPaused:
            self.producerPaused = False
            self.producer.resumeProducing()

    def read(self, size: int) -> bytes:
        """
        The client reads up to C{size} bytes of what was written: return
        them; the producer is resumed once no more than C{bufferSize} are
        left unread.
        """
        written = self.value()
        taken, left = written[:size], written[size:]
        self.clear()
        self.io.write(left)
        self.unsent = len(left)
        if self.producerPaused and self.unsent <= self.bufferSize:
            self.producerPaused = False
            self.producer.resumeProducing()
        return taken


def processWith(handler: Callable[[http.Request], Any]) -> type[http.Request]:
    """A request class whose C{process} calls C{handler}."""

    class HandlerRequest(http.Request):
        def process(self) -> None:
            handler(self)

    return HandlerRequest


class H2Client:
    """
    One HTTP/2 connection to a server driven by hand.

    @ivar server: the L{HTTP2Connection} under test.
    @ivar client: the C{h2} client connection.
    @ivar transport: the server's transport.
    @ivar clock: the server's reactor.
    @ivar logged: every request the server's access log was given.
    @ivar events: every event the client received, in order.
    @ivar autoAcknowledge: whether received DATA re-opens the server's
        windows at once (as a client that reads does).
    """

    def __init__(
        self,
        requestFactory: Any = None,
        *,
        site: Any = None,
        limits: Limits = DEFAULT_LIMITS,
        refuseBody: Any = None,
        transport: StringTransport | None = None,
        clientSettings: dict[int, int] | None = None,
        connect: bool = True,
        upgrade: tuple[bytes, bytes, bytes, Any] | None = None,
    ) -> None:
        self.clock = MemoryReactorClock()
        self.logged: list[Any] = []
        self.events: list[Event] = []
        self.responses: dict[int, H2Response] = {}
        self.goaways: list[GoAway] = []
        # The server's GOAWAY is kept from the h2 client, which would refuse
        # every frame after it (the streams in flight that a graceful GOAWAY
        # lets finish).
        self._splitter = FrameSplitter(2**24 - 1)
        self.autoAcknowledge = True
        self.transport = transport or StringTransport(
            hostAddress=HOST, peerAddress=PEER
        )
        server = self.server = HTTP2Connection()
        server.requestFactory = requestFactory
        server.site = site
        server.configure(
            limits=limits,
            reactor=self.clock,
            accessLog=self.logged.append,
            refuseBody=refuseBody,
        )
        if upgrade is not None:
            server.upgradedFrom(*upgrade)
        self.client = H2Connection(
            H2Configuration(client_side=True, header_encoding=None)
        )
        if connect:
            self.connect(clientSettings)

    def connect(self, clientSettings: dict[int, int] | None = None) -> None:
        """Connect, and exchange prefaces and SETTINGS."""
        self.server.makeConnection(self.transport)
        self.client.initiate_connection()
        if clientSettings:
            self.client.update_settings(clientSettings)
        self.pump()

    @property
    def closed(self) -> bool:
        """Whether the server has started closing the connection."""
        return bool(self.transport.disconnecting)

    def send(self, data: bytes) -> None:
        """Deliver raw C{data} to the server, then read what it answers."""
        self.server.dataReceived(data)
        self.pump()

    def pump(self) -> None:
        """Exchange bytes both ways until neither side has more to say."""
        for _ in range(1000):
            out = self.client.data_to_send()
            if out and not self.closed:
                self.server.dataReceived(out)
            received = self.transport.value()
            self.transport.clear()
            if isinstance(self.transport, SendBufferTransport):
                self.transport.drain()
            for piece in self._splitter.split(received):
                if isinstance(piece, tuple):
                    payload = piece[1]
                    self.goaways.append(
                        GoAway(
                            int.from_bytes(payload[:4], "big") & 0x7FFFFFFF,
                            int.from_bytes(payload[4:8], "big"),
                        )
                    )
                else:
                    self._receive(piece)
            if not out and not received:
                return
        raise AssertionError("the exchange did not settle")

    def _receive(self, data: bytes) -> None:
        for event in self.client.receive_data(data):
            self.events.append(event)
            streamId = getattr(event, "stream_id", None)
            if isinstance(event, ResponseReceived):
                response = self.responses.setdefault(streamId, H2Response())
                response.status = int(dict(event.headers)[b":status"])
                for name, value in event.headers:
                    if not name.startswith(b":"):
                        response.headers.setdefault(name, []).append(value)
            elif isinstance(event, InformationalResponseReceived):
                response = self.responses.setdefault(streamId, H2Response())
                response.informational.append(int(dict(event.headers)[b":status"]))
            elif isinstance(event, DataReceived):
                response = self.responses.setdefault(streamId, H2Response())
                response.body += event.data
                if self.autoAcknowledge and event.flow_controlled_length:
                    self.client.acknowledge_received_data(
                        event.flow_controlled_length, streamId
                    )
            elif isinstance(event, StreamEnded):
                self.responses.setdefault(streamId, H2Response()).ended = True
            elif isinstance(event, StreamReset):
                self.responses.setdefault(
                    streamId, H2Response()
                ).reset = event.error_code

    def request(
        self,
        path: bytes = b"/",
        method: bytes = b"GET",
        headers: Iterable[tuple[bytes, bytes]] = (),
        body: bytes | None = None,
        end: bool = True,
        authority: bytes | None = b"example.com",
    ) -> int:
        """
        Send a request; return its stream id.  With C{body}, the body follows
        in DATA frames as the windows allow; C{end=False} leaves the stream
        open for more.
        """
        streamId = self.client.get_next_available_stream_id()
        fields = [(b":method", method), (b":scheme", b"https"), (b":path", path)]
        if authority is not None:
            fields.append((b":authority", authority))
        fields.extend(headers)
        self.client.send_headers(streamId, fields, end_stream=end and body is None)
        if body is not None:
            self.sendBody(streamId, body, end)
        self.pump()
        return streamId

    def sendBody(self, streamId: int, body: bytes, end: bool = True) -> None:
        """Send C{body} on C{streamId} as far as the windows allow."""
        size = self.client.max_outbound_frame_size
        pos = 0
        while pos < len(body):
            window = self.client.local_flow_control_window(streamId)
            if window <= 0:
                raise AssertionError(f"no window left after {pos} bytes")
            piece = body[pos : pos + min(size, window)]
            pos += len(piece)
            self.client.send_data(streamId, piece, end_stream=end and pos == len(body))
            self.pump()
        if end and not body:
            self.client.end_stream(streamId)
        self.pump()

    def response(self, streamId: int) -> H2Response:
        """What was received on C{streamId} so far."""
        return self.responses.get(streamId, H2Response())

    def goaway(self) -> GoAway | None:
        """The first GOAWAY the server sent, if any."""
        return self.goaways[0] if self.goaways else None
