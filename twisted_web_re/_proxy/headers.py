"""
Which header fields a proxy passes on, and which it adds: hop-by-hop fields
are removed in both directions (RFC 9110 section 7.6.1), C{Via} is added
(section 7.6.3), and the forwarding fields (C{X-Forwarded-*}, C{Forwarded}
of RFC 7239) tell the backend who the client was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twisted_web_re._wire.parser import connectionTokens

#: Fields that describe one connection, never the message: RFC 9110 section
#: 7.6.1, with C{Proxy-Connection} and C{Keep-Alive} that old clients send.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)

#: The name this proxy gives itself in C{Via} (a pseudonym: RFC 9110 section
#: 7.6.3 lets a proxy hide its host name).
VIA_NAME = b"twisted_web_re"


@dataclass(frozen=True)
class Forwarding:
    """
    Which fields a proxy adds to the requests it forwards.

    @ivar via: add C{Via} to requests and responses.
    @ivar xForwardedFor: append the client's address to C{X-Forwarded-For}.
    @ivar xForwardedProto: set C{X-Forwarded-Proto} to C{http} or C{https}.
    @ivar xForwardedHost: set C{X-Forwarded-Host} to the client's C{Host}.
    @ivar forwarded: append an RFC 7239 C{Forwarded} element (C{for},
        C{proto}, C{host}).
    """

    via: bool = True
    xForwardedFor: bool = True
    xForwardedProto: bool = True
    xForwardedHost: bool = True
    forwarded: bool = True


#: What a reverse proxy adds by default: everything.
REVERSE_FORWARDING = Forwarding()

#: What a forward proxy adds by default: only C{Via}, since the others would
#: tell every web site the address of the client behind the proxy.
FORWARD_FORWARDING = Forwarding(
    xForwardedFor=False, xForwardedProto=False, xForwardedHost=False, forwarded=False
)


def endToEnd(fields: Mapping[bytes, list[bytes]]) -> dict[bytes, list[bytes]]:
    """
    Return a copy of C{fields} (lower-cased names) without its hop-by-hop
    fields: those of L{HOP_BY_HOP}, every C{Proxy-*} field, and those the
    C{Connection} field names.
    """
    named = connectionTokens(fields.get(b"connection", []))
    return {
        name: list(values)
        for name, values in fields.items()
        if name not in HOP_BY_HOP and name not in named and name[:6] != b"proxy-"
    }


def viaValue(version: bytes) -> bytes:
    """
    The C{Via} element for a message received with protocol C{version}
    (C{b"HTTP/1.1"} gives C{1.1 twisted_web_re}).
    """
    label = version.partition(b"/")[2] or version
    return label + b" " + VIA_NAME


def _forwardedNode(address: str) -> bytes:
    """An RFC 7239 section 6 node: IPv6 addresses bracketed and quoted."""
    if ":" in address:
        return b'"[' + address.encode("ascii") + b']"'
    return address.encode("ascii")


def _forwardedValue(value: bytes) -> bytes:
    """An RFC 7239 value: a token as it is, anything else quoted."""
    if value and all(
        c in b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        b"abcdefghijklmnopqrstuvwxyz"
        for c in value
    ):
        return value
    escaped = value.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return b'"' + escaped + b'"'


def requestFields(
    fields: Mapping[bytes, list[bytes]],
    version: bytes,
    clientAddress: str | None,
    secure: bool,
    host: bytes | None,
    forwarding: Forwarding,
) -> dict[bytes, list[bytes]]:
    """
    Return the fields to send upstream for a request that arrived with
    C{fields}: end-to-end fields only, without C{Content-Length}, C{Expect}
    and C{Host} (the caller frames the body and names the backend), and with
    the forwarding fields C{forwarding} asks for.

    @param version: the protocol the client spoke (for C{Via}).
    @param clientAddress: the client's IP address, if known.
    @param secure: whether the client connected over TLS.
    @param host: the client's C{Host}, if it sent one.
    """
    out = endToEnd(fields)
    # Framing is always ours: a client's Content-Length is never sent beside
    # a Transfer-Encoding of ours (no request smuggling through the proxy).
    out.pop(b"content-length", None)
    # The client's 100-continue was answered here, by this server.
    out.pop(b"expect", None)
    out.pop(b"host", None)
    proto = b"https" if secure else b"http"
    if forwarding.via:
        out.setdefault(b"via", []).append(viaValue(version))
    if forwarding.xForwardedFor and clientAddress:
        previous = out.get(b"x-forwarded-for")
        address = clientAddress.encode("ascii")
        if previous:
            out[b"x-forwarded-for"] = [b", ".join([*previous, address])]
        else:
            out[b"x-forwarded-for"] = [address]
    if forwarding.xForwardedProto:
        out[b"x-forwarded-proto"] = [proto]
    if forwarding.xForwardedHost and host is not None:
        out[b"x-forwarded-host"] = [host]
    if forwarding.forwarded:
        parts = []
        if clientAddress:
            parts.append(b"for=" + _forwardedNode(clientAddress))
        parts.append(b"proto=" + proto)
        if host is not None:
            parts.append(b"host=" + _forwardedValue(host))
        out.setdefault(b"forwarded", []).append(b";".join(parts))
    return out


def responseFields(
    fields: Mapping[bytes, list[bytes]], version: bytes, forwarding: Forwarding
) -> dict[bytes, list[bytes]]:
    """
    Return the fields to send the client for a response that arrived with
    C{fields} over protocol C{version}: end-to-end fields only, with C{Via}.
    """
    out = endToEnd(fields)
    if forwarding.via:
        out.setdefault(b"via", []).append(viaValue(version))
    return out


def serialiseRequestHead(
    method: bytes, target: bytes, fields: Mapping[bytes, list[bytes]]
) -> bytes:
    """
    Return an HTTP/1.1 request head, blank line included.

    @raise ValueError: the method or target could break the request line.
    """
    if not method or b" " in method or b"\r" in method or b"\n" in method:
        raise ValueError(f"invalid method {method!r}")
    if not target or any(c <= 0x20 or c == 0x7F for c in target):
        raise ValueError(f"invalid request target {target!r}")
    lines = [method, b" ", target, b" HTTP/1.1\r\n"]
    for name, values in fields.items():
        for value in values:
            lines += [name, b": ", value, b"\r\n"]
    lines.append(b"\r\n")
    return b"".join(lines)
