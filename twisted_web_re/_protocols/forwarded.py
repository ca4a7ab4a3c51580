"""
Finding the real client behind trusted proxies, from C{Forwarded} (RFC 7239)
or C{X-Forwarded-For}.

Those headers are only as trustworthy as whoever added them: they are read only
when the connecting peer is a configured proxy, and only as far back as the
chain of trusted proxies goes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# RFC 7239 section 4: forwarded-pair = token "=" value, value = token /
# quoted-string; the for= node is an IPv4 address, a bracketed IPv6 address,
# "unknown" or an obfuscated identifier, optionally with a port.
_PAIR = re.compile(
    rb'\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*'
)
_NODE = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::\w+)?|([0-9.]+)(?::\w+)?|(.*)")


def parseTrustedProxies(proxies: Iterable[str]) -> tuple[Network, ...]:
    """
    Parse proxy addresses or networks (C{"10.0.0.1"}, C{"10.0.0.0/8"}, C{"::1"}).

    @raise ValueError: one is neither.
    """
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def isTrusted(host: str, trusted: tuple[Network, ...]) -> bool:
    """
    Return whether C{host}, an address as text, lies in one of the
    C{trusted} networks; a name that is not an address never does.
    """
    address = _address(host)
    return address is not None and any(address in network for network in trusted)


def _forwardedHops(values: list[bytes]) -> list[str]:
    """The C{for=} nodes of C{Forwarded} values, as host text, in order."""
    hops = []
    for value in values:
        for element in value.split(b","):
            node = ""
            for pair in element.split(b";"):
                match = _PAIR.fullmatch(pair)
                if match is None or match.group(1).lower() != b"for":
                    continue
                raw = match.group(2)
                if raw.startswith(b'"'):
                    raw = re.sub(rb"\\(.)", rb"\1", raw[1:-1])
                text = raw.decode("latin-1")
                parts = _NODE.fullmatch(text)
                node = (parts.group(1) or parts.group(2) or text) if parts else text
            hops.append(node)
    return hops


def _xForwardedHops(values: list[bytes]) -> list[str]:
    """The addresses of C{X-Forwarded-For} values, in order."""
    return [
        hop.strip().decode("latin-1") for value in values for hop in value.split(b",")
    ]


def forwardedClientHost(
    peerHost: str, headers: Mapping[bytes, list[bytes]], trusted: tuple[Network, ...]
) -> str:
    """
    Return the host of the client behind trusted proxies.

    When C{peerHost} is a trusted proxy, the forwarding chain (C{Forwarded} if
    present, else C{X-Forwarded-For}) is read from the right: each trusted
    proxy's predecessor is believed, and the first hop that is not a trusted
    proxy is the client.  Hops further left were written by the client and
    could be forged.  A hop that is not an address (C{unknown}, an obfuscated
    name, garbage) ends the walk at the last address believed.
    """
    if not trusted or not isTrusted(peerHost, trusted):
        return peerHost
    forwarded = headers.get(b"forwarded")
    if forwarded is not None:
        hops = _forwardedHops(forwarded)
    else:
        hops = _xForwardedHops(headers.get(b"x-forwarded-for", []))
    host = peerHost
    for hop in reversed(hops):
        if _address(hop) is None:
            return host
        host = hop
        if not isTrusted(hop, trusted):
            return hop
    return host
