"""
Tests for setting the HTTP/2 limits on a site: by their names, as keyword
arguments of L{HTTPFactory} and L{Site}, reaching every HTTP/2 connection.
"""

from __future__ import annotations

import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import RemoteSettingsChanged
from h2.settings import SettingCodes
from twisted.internet.testing import MemoryReactorClock, StringTransport

from twisted_web_re import http, resource, server


def _serverSettings(factory: http.HTTPFactory) -> dict[int, int]:
    """The SETTINGS a connection from C{factory} sends a prior-knowledge client."""
    channel = factory.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    client = H2Connection(H2Configuration(client_side=True))
    client.initiate_connection()
    channel.dataReceived(client.data_to_send())
    settings: dict[int, int] = {}
    for event in client.receive_data(transport.value()):
        if isinstance(event, RemoteSettingsChanged):
            for code, change in event.changed_settings.items():
                settings[code] = change.new_value
    channel.connectionLost(None)  # type: ignore[arg-type]
    return settings


def test_siteTakesHTTP2LimitsByName() -> None:
    """
    C{Site(root, h2MaxConcurrentStreams=5, h2MaxFrameSize=32768)} makes every
    HTTP/2 connection advertise (and so enforce) those values.
    """
    site = server.Site(
        resource.Resource(),
        reactor=MemoryReactorClock(),
        h2MaxConcurrentStreams=5,
        h2MaxFrameSize=32768,
    )
    settings = _serverSettings(site)
    assert settings[SettingCodes.MAX_CONCURRENT_STREAMS] == 5
    assert settings[SettingCodes.MAX_FRAME_SIZE] == 32768
    assert site.limits.h2MaxConcurrentStreams == 5


def test_unknownHTTP2LimitRefused() -> None:
    """
    A keyword that names no HTTP/2 limit is refused with a C{TypeError}
    naming it, rather than ignored; an HTTP/1.1 limit's name is not taken
    through this door either.
    """
    with pytest.raises(TypeError, match="h2MaxStreams"):
        http.HTTPFactory(h2MaxStreams=5)
    with pytest.raises(TypeError, match="idleTimeout"):
        http.HTTPFactory(idleTimeout=5)


def test_badHTTP2LimitRefused() -> None:
    """An HTTP/2 limit out of its range is refused with a C{ValueError}."""
    with pytest.raises(ValueError):
        http.HTTPFactory(h2MaxFrameSize=100)
