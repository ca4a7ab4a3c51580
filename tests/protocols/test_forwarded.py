"""
Tests for L{twisted_web_re._protocols.forwarded}: the real client behind
trusted proxies.
"""

from __future__ import annotations

import pytest

from twisted_web_re._protocols.forwarded import forwardedClientHost, parseTrustedProxies

PROXIES = parseTrustedProxies(["127.0.0.1", "10.0.0.0/8", "::1"])

CASES = [
    # (peer, headers, expected client, what it shows)
    ("127.0.0.1", {}, "127.0.0.1", "no forwarding header: the peer"),
    (
        "127.0.0.1",
        {b"x-forwarded-for": [b"1.2.3.4"]},
        "1.2.3.4",
        "a trusted proxy's X-Forwarded-For is believed",
    ),
    (
        "5.6.7.8",
        {b"x-forwarded-for": [b"1.2.3.4"]},
        "5.6.7.8",
        "an untrusted peer's X-Forwarded-For is ignored",
    ),
    (
        "127.0.0.1",
        {b"x-forwarded-for": [b"6.6.6.6, 1.2.3.4, 10.0.0.2"]},
        "1.2.3.4",
        "the right-most hop that is not a trusted proxy is the client",
    ),
    (
        "127.0.0.1",
        {b"x-forwarded-for": [b"6.6.6.6", b"1.2.3.4"]},
        "1.2.3.4",
        "several header lines are one list, in order",
    ),
    (
        "127.0.0.1",
        {b"x-forwarded-for": [b"10.0.0.3, 10.0.0.2"]},
        "10.0.0.3",
        "a chain of trusted proxies only: the left-most of them",
    ),
    (
        "127.0.0.1",
        {b"x-forwarded-for": [b"1.2.3.4, garbage"]},
        "127.0.0.1",
        "a hop that is not an address stops the walk at the last believed",
    ),
    (
        "127.0.0.1",
        {b"forwarded": [b"for=192.0.2.60;proto=http;by=203.0.113.43"]},
        "192.0.2.60",
        "RFC 7239 Forwarded for= with other parameters",
    ),
    (
        "127.0.0.1",
        {b"forwarded": [b'for="[2001:db8:cafe::17]:4711"']},
        "2001:db8:cafe::17",
        "a quoted, bracketed IPv6 node with a port",
    ),
    (
        "127.0.0.1",
        {b"forwarded": [b'for="192.0.2.43:47011", for=10.0.0.9']},
        "192.0.2.43",
        "a quoted IPv4 node with a port, behind a trusted proxy",
    ),
    (
        "127.0.0.1",
        {b"forwarded": [b"for=unknown"]},
        "127.0.0.1",
        "an unknown node names nobody",
    ),
    (
        "127.0.0.1",
        {
            b"forwarded": [b"for=192.0.2.60"],
            b"x-forwarded-for": [b"6.6.6.6"],
        },
        "192.0.2.60",
        "Forwarded wins over X-Forwarded-For",
    ),
    (
        "::1",
        {b"x-forwarded-for": [b"2001:db8::5"]},
        "2001:db8::5",
        "IPv6 peer and client",
    ),
]


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [pytest.param(p, h, e, id=why) for p, h, e, why in CASES],
)
def test_forwardedClientHost(
    peer: str, headers: dict[bytes, list[bytes]], expected: str
) -> None:
    """
    The client is found by walking the forwarding chain from the right,
    believing only trusted proxies.
    """
    assert forwardedClientHost(peer, headers, PROXIES) == expected


def test_noTrustedProxies() -> None:
    """
    With no trusted proxies configured, forwarding headers are never read.
    """
    headers = {b"x-forwarded-for": [b"1.2.3.4"]}
    assert forwardedClientHost("127.0.0.1", headers, ()) == "127.0.0.1"


@pytest.mark.parametrize("proxy", ["nonsense", "10.0.0.0/40", "300.1.1.1"])
def test_invalidProxies(proxy: str) -> None:
    """
    A configured proxy that is not an address or network raises ValueError.
    """
    with pytest.raises(ValueError):
        parseTrustedProxies([proxy])
