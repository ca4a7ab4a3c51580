"""
Host names compared as a server must compare them: one canonical form for
every spelling a client or a configuration may use.

RFC 9110 section 4.2.3 makes the host of an http(s) URI case-insensitive, and
a fully qualified name may end in the root's dot (C{example.com.}).  A name
with letters outside ASCII is on the wire in its IDNA A-label form
(C{xn--bcher-kva.de}, RFC 5890), and may be written in a configuration in its
Unicode form (C{bücher.de}).  An IPv6 address is written in brackets in a
URI, and in many ways (C{[0::1]}, C{[::1]}).  L{canonicalHost} maps all of
these to one key.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING
from urllib.parse import unquote_to_bytes

import idna

if TYPE_CHECKING:
    from twisted_web_re._publish.request import Request

# RFC 3986 section 3.2.2: a reg-name's characters (unreserved and
# sub-delims; percent-encodings are decoded before this is matched).
_REG_NAME = re.compile(rb"[A-Za-z0-9\-._~!$&'()*+,;=]*")
_PORT = re.compile(rb"[0-9]{1,5}")


def canonicalHost(name: bytes | str) -> bytes:
    """
    Return the canonical form of the host name C{name}: ASCII, lower case,
    without a trailing dot; a Unicode name in its IDNA A-label form; an IPv6
    address in brackets, compressed.

    C{b"Example.COM."}, C{"example.com"} and C{b"example.com"} give
    C{b"example.com"}; C{"Bücher.de"}, C{b"b%C3%BCcher.de"} and
    C{b"XN--BCHER-KVA.de"} give C{b"xn--bcher-kva.de"}; C{"::1"} and
    C{b"[0::1]"} give C{b"[::1]"}.

    @param name: a host name or address, without a port.
    @raise ValueError: C{name} is no host name: it has a port, bytes that are
        not UTF-8, characters no host name has, or is not valid IDNA.
    """
    raw = name.encode("utf-8") if isinstance(name, str) else bytes(name)
    if b"%" in raw:
        raw = unquote_to_bytes(raw)
    if raw.startswith(b"[") and raw.endswith(b"]"):
        return b"[%s]" % _ipv6(raw[1:-1], name)
    if b":" in raw:
        return b"[%s]" % _ipv6(raw, name)
    if not raw.isascii():
        try:
            raw = idna.encode(raw.decode("utf-8"), uts46=True)
        except (UnicodeError, idna.IDNAError) as error:
            raise ValueError(f"not a valid host name: {name!r} ({error})") from None
    if raw.endswith(b"."):
        raw = raw[:-1]
    if _REG_NAME.fullmatch(raw) is None:
        raise ValueError(f"not a valid host name: {name!r}")
    return raw.lower()


def _ipv6(address: bytes, name: bytes | str) -> bytes:
    """The compressed form of an IPv6 C{address}, which C{name} gave."""
    try:
        parsed = ipaddress.IPv6Address(address.decode("ascii"))
    except (UnicodeError, ValueError):
        raise ValueError(
            f"not a valid host name (an IPv6 address, or one with a port?): {name!r}"
        ) from None
    return parsed.compressed.encode("ascii")


def requestedHost(request: Request) -> bytes | None:
    """
    Return the canonical host C{request} was sent to: the authority of a
    target in absolute form, else its C{Host} field, without the port.

    @return: C{None} when the request names no host (an HTTP/1.0 request
        without C{Host}) or names one that is not valid.
    """
    uri = request.uri
    absolute = uri[:1] != b"/" and b"://" in uri
    if not absolute and not request.requestHeaders.hasHeader(b"host"):
        return None
    try:
        return canonicalHost(request.getRequestHostname())
    except ValueError:
        return None


def hostAndPort(segment: bytes, secure: bool) -> tuple[bytes, int]:
    """
    Split a C{host[:port]} path segment (as in C{/vhost.rpy/http/host:port/})
    into its canonical host and its port (the scheme's default when not
    given).

    @param segment: the segment, percent-decoded.
    @param secure: whether the scheme is C{https} (default port 443, else 80).
    @raise ValueError: C{segment} is not a host with an optional port of at
        most 65535.
    """
    host, port = segment, b""
    if segment.startswith(b"["):
        end = segment.find(b"]")
        if end < 0:
            raise ValueError(f"not a host and port: {segment!r}")
        host, rest = segment[: end + 1], segment[end + 1 :]
        if rest:
            if rest[:1] != b":":
                raise ValueError(f"not a host and port: {segment!r}")
            port = rest[1:]
    elif b":" in segment:
        # An IPv6 address must be in brackets here, or its last group would
        # be taken for the port.
        host, _, port = segment.partition(b":")
    if not host or (port and (_PORT.fullmatch(port) is None or int(port) > 65535)):
        raise ValueError(f"not a host and port: {segment!r}")
    number = int(port) if port else (443 if secure else 80)
    return canonicalHost(host), number
