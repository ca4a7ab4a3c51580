"""
Which header fields a proxy passes on, and which it adds: hop-by-hop fields
are removed in both directions (RFC 9110 section 7.6.1), C{Via} is added
(section 7.6.3), and the forwarding fields (C{X-Forwarded-*}, C{Forwarded}
of RFC 7239) tell the backend who the client was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from twisted_web_re._wire.parser import HOP_BY_HOP, connectionTokens

#: Fields of a request never sent upstream: the hop-by-hop ones, and those
#: this proxy sets itself (the framing, C{Host}) or has dealt with
#: (C{Expect}).
_NOT_FORWARDED = HOP_BY_HOP | {b"content-length", b"expect", b"host"}

_NO_TOKENS: frozenset[bytes] = frozenset()

#: Bytes that cannot appear in a request-target: they would end it.
_BAD_TARGET = re.compile(rb"[\x00-\x20\x7f]").search

#: An RFC 9110 token (RFC 7239 values that are one go unquoted).
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+").fullmatch

_BAD_METHOD = re.compile(rb"[ \r\n]").search

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


def _passed(
    fields: Mapping[bytes, list[bytes]],
    dropped: frozenset[bytes],
    into: dict[bytes, list[bytes]],
) -> dict[bytes, list[bytes]]:
    """
    Add to C{into} the fields of C{fields} that are neither in C{dropped}
    nor named by its C{Connection} field nor C{Proxy-*}: their value lists
    are shared, not copied, so they must not be changed.
    """
    connection = fields.get(b"connection")
    named = connectionTokens(connection) if connection else _NO_TOKENS
    for name, values in fields.items():
        if name not in dropped and name not in named and name[:6] != b"proxy-":
            into[name] = values
    return into


def endToEnd(fields: Mapping[bytes, list[bytes]]) -> dict[bytes, list[bytes]]:
    """
    Return a copy of C{fields} (lower-cased names) without its hop-by-hop
    fields: those of L{HOP_BY_HOP}, every C{Proxy-*} field, and those the
    C{Connection} field names.
    """
    return {
        name: list(values) for name, values in _passed(fields, HOP_BY_HOP, {}).items()
    }


_VIA = {
    b"HTTP/1.1": b"1.1 " + VIA_NAME,
    b"HTTP/1.0": b"1.0 " + VIA_NAME,
    b"HTTP/2": b"2 " + VIA_NAME,
}


def viaValue(version: bytes) -> bytes:
    """
    The C{Via} element for a message received with protocol C{version}
    (C{b"HTTP/1.1"} gives C{1.1 twisted_web_re}).
    """
    value = _VIA.get(version)
    if value is None:
        label = version.partition(b"/")[2] or version
        value = label + b" " + VIA_NAME
    return value


def _appended(
    fields: dict[bytes, list[bytes]], name: bytes, value: bytes
) -> list[bytes]:
    """The values of C{name} in C{fields} and then C{value}, in a new list."""
    previous = fields.get(name)
    return [*previous, value] if previous else [value]


def _forwardedNode(address: str) -> bytes:
    """An RFC 7239 section 6 node: IPv6 addresses bracketed and quoted."""
    if ":" in address:
        return b'"[' + address.encode("ascii") + b']"'
    return address.encode("ascii")


def _forwardedValue(value: bytes) -> bytes:
    """An RFC 7239 value: a token as it is, anything else quoted."""
    if _TOKEN(value) is not None:
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
    authority: bytes | None = None,
) -> dict[bytes, list[bytes]]:
    """
    Return the fields to send upstream for a request that arrived with
    C{fields}: end-to-end fields only, without C{Content-Length}, C{Expect}
    and the client's C{Host} (the caller frames the body and names the
    backend), and with the forwarding fields C{forwarding} asks for.  The
    value lists may be those of C{fields}: change neither.

    @param version: the protocol the client spoke (for C{Via}).
    @param clientAddress: the client's IP address, if known.
    @param secure: whether the client connected over TLS.
    @param host: the client's C{Host}, if it sent one.
    @param authority: the backend's C{Host} value, sent first; C{None}
        leaves C{Host} out.
    """
    # Framing is always ours: a client's Content-Length is never sent beside
    # a Transfer-Encoding of ours (no request smuggling through the proxy).
    # The client's 100-continue was answered here, by this server.
    out = _passed(
        fields, _NOT_FORWARDED, {b"host": [authority]} if authority is not None else {}
    )
    proto = b"https" if secure else b"http"
    if forwarding.via:
        out[b"via"] = _appended(out, b"via", viaValue(version))
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
        element = b"proto=" + proto
        if clientAddress:
            element = b"for=" + _forwardedNode(clientAddress) + b";" + element
        if host is not None:
            element += b";host=" + _forwardedValue(host)
        out[b"forwarded"] = _appended(out, b"forwarded", element)
    return out


def responseFields(
    fields: Mapping[bytes, list[bytes]], version: bytes, forwarding: Forwarding
) -> dict[bytes, list[bytes]]:
    """
    Return the fields to send the client for a response that arrived with
    C{fields} over protocol C{version}: end-to-end fields only, with C{Via}.
    The value lists may be those of C{fields}: change neither.
    """
    out = _passed(fields, HOP_BY_HOP, {})
    if forwarding.via:
        out[b"via"] = _appended(out, b"via", viaValue(version))
    return out


def serialiseRequestHead(
    method: bytes, target: bytes, fields: Mapping[bytes, list[bytes]]
) -> bytes:
    """
    Return an HTTP/1.1 request head, blank line included.

    @raise ValueError: the method or target could break the request line.
    """
    if not method or _BAD_METHOD(method) is not None:
        raise ValueError(f"invalid method {method!r}")
    if not target or _BAD_TARGET(target) is not None:
        raise ValueError(f"invalid request target {target!r}")
    lines = [method + b" " + target + b" HTTP/1.1"]
    for name, values in fields.items():
        for value in values:
            lines.append(name + b": " + value)
    lines += (b"", b"")
    return b"\r\n".join(lines)
