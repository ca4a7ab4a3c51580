"""
HTTP/2 field lists both ways: a request's pseudo-header fields and fields
made into the head every request is fed, and a response head made into the
field list of a HEADERS frame (RFC 9113 section 8.3).

C{h2} has already checked what RFC 9113 section 8.2 requires of a request's
fields (names in lower case, no connection-specific fields, the
pseudo-header fields present, once, and first); here are the checks the
HTTP/1.1 parser would also make of the same request, each with its status.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from twisted_web_re._version import SERVER_NAME
from twisted_web_re._wire.errors import (
    BadRequest,
    ContentTooLarge,
    HeaderFieldsTooLarge,
    URITooLong,
)
from twisted_web_re._wire.limits import Limits
from twisted_web_re._wire.serialise import httpDate
from twisted_web_re._wire.status import NO_BODY_CODES
from twisted_web_re.http_headers import Headers

#: The version label of every request carried by HTTP/2.
VERSION = b"HTTP/2"

# RFC 3986 section 3.2: an IP literal or a registered name, then a port.
_AUTHORITY = re.compile(
    rb"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]*)(?::[0-9]*)?"
)

# Fields that mean something only on an HTTP/1.1 connection (RFC 9113
# section 8.2.2); a response must not carry them.
_CONNECTION_SPECIFIC = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
    }
)

# Fields the stream writes from its own decisions.
_MANAGED = _CONNECTION_SPECIFIC | {b"content-length"}

# A 304 names the validators of the 200 it stands for, not the
# representation's metadata (RFC 9110 section 15.4.5), as on HTTP/1.1.
_MANAGED_304 = _MANAGED | {b"content-type", b"content-encoding"}

_SERVER = (b"server", SERVER_NAME)

# Fields of an HTTP/1.1 request that asked for h2c which mean nothing once
# it is carried by HTTP/2 (RFC 9113 section 8.2.2, RFC 7540 section 3.2).
_UPGRADE_ONLY = _CONNECTION_SPECIFIC | {b"http2-settings", b"te", b"host"}


@dataclass(frozen=True, slots=True)
class RequestHead:
    """
    A request's head as every protocol feeds it to its request.

    @ivar method: the method.
    @ivar target: the request-target (C{:path}, or C{:authority} for
        CONNECT).
    @ivar fields: the fields by lower-cased name, C{host} from C{:authority}
        when the request has none; every C{cookie} field joined in one (RFC
        9113 section 8.2.3).
    @ivar length: the declared C{content-length}, or C{None}.
    @ivar expectContinue: whether the client waits for a C{100} before its
        body.
    """

    method: bytes
    target: bytes
    fields: dict[bytes, list[bytes]]
    length: int | None
    expectContinue: bool


def requestHead(headers: Iterable[tuple[bytes, bytes]], limits: Limits) -> RequestHead:
    """
    Make the head of a request from the field list C{h2} decoded and checked.

    @param headers: the fields, pseudo-header fields first.
    @param limits: the limits the HTTP/1.1 parser applies too.
    @raise WireError: the request is refused, with the status it earns.
    """
    method = target = authority = b""
    fields: dict[bytes, list[bytes]] = {}
    count = 0
    for name, value in headers:
        if name[:1] == b":":
            if name == b":method":
                method = value
            elif name == b":path":
                target = value
            elif name == b":authority":
                authority = value
            continue
        count += 1
        values = fields.get(name)
        if values is None:
            fields[name] = [value]
        else:
            values.append(value)
    cookies = fields.get(b"cookie")
    if cookies is not None and len(cookies) > 1:
        # RFC 9113 section 8.2.3: cookie fields sent apart are one field.
        count -= len(cookies) - 1
        fields[b"cookie"] = [b"; ".join(cookies)]
    if count > limits.maxHeaderCount:
        raise HeaderFieldsTooLarge("too many header fields")
    if method == b"CONNECT":
        target = authority
    elif target[:1] != b"/" and not (target == b"*" and method == b"OPTIONS"):
        raise BadRequest("invalid request target")
    if len(target) + len(method) + 10 > limits.maxRequestLine:
        raise URITooLong("request target too long")
    if authority:
        if _AUTHORITY.fullmatch(authority) is None:
            raise BadRequest("invalid :authority")
        if b"host" not in fields:
            # RFC 9113 section 8.3.1: :authority stands for Host.
            fields[b"host"] = [authority]
    length = None
    declared = fields.get(b"content-length")
    if declared is not None:
        # h2 has checked that every value is the same decimal number.
        length = int(declared[0])
        maxBody = limits.maxBodySize
        if maxBody is not None and length > maxBody:
            raise ContentTooLarge("request body too large")
    expect = fields.get(b"expect")
    return RequestHead(
        method,
        target,
        fields,
        length,
        expect is not None and expect[0].lower() == b"100-continue",
    )


def upgradedRequestFields(
    method: bytes, target: bytes, headers: Headers
) -> list[tuple[bytes, bytes]]:
    """
    Make the HTTP/2 field list of the HTTP/1.1 request that asked for h2c
    by C{Upgrade} (RFC 7540 section 3.2), to be answered as stream 1: its
    C{Host} as C{:authority}, without the fields that only meant something
    on the HTTP/1.1 connection.

    @param method: the request's method.
    @param target: its request-target.
    @param headers: its fields.
    """
    fields = [(b":method", method), (b":path", target)]
    host = headers.getRawHeaders(b"host")
    if host:
        fields.append((b":authority", host[0]))
    for name, values in headers.getAllRawHeaders():
        name = name.lower()
        if name not in _UPGRADE_ONLY:
            fields.extend((name, value) for value in values)
    return fields


@dataclass(slots=True)
class ResponseHead:
    """
    A response head made into HTTP/2 fields, with what the stream must know
    to send its body.

    @ivar code: the status code.
    @ivar fields: the field list, C{:status} first; C{content-length} is
        added by L{withLength} when the body's length is known.
    @ivar bodyAllowed: whether the response has a body (not for HEAD, 1xx,
        204, 304).
    @ivar declared: the length the application declared, or C{None}.
    @ivar problem: what was wrong with the application's framing, to log.
    """

    code: int
    fields: list[tuple[bytes, bytes]]
    bodyAllowed: bool
    declared: int | None
    problem: str | None

    def withLength(self, length: int | None) -> list[tuple[bytes, bytes]]:
        """
        Return the fields to send, with C{content-length}: the declared one,
        else C{length} when the whole body is known (or, for a HEAD, the
        length the GET would have).
        """
        code = self.code
        if self.declared is not None:
            length = self.declared
        if length is None or code < 200 or code == 204:
            return self.fields
        if code == 304 and self.declared is None:
            return self.fields
        return [*self.fields, (b"content-length", b"%d" % length)]


def responseHead(
    code: int,
    fields: Mapping[bytes, list[bytes]],
    cookies: Sequence[bytes],
    method: bytes,
) -> ResponseHead:
    """
    Make the HTTP/2 head of a response: the application's fields but the
    connection-specific ones, each C{Set-Cookie}, and C{Date} and C{Server}
    unless the application set its own.

    @param fields: the fields by lower-cased name.
    @param method: the request's method.
    """
    out = [(b":status", b"%d" % code)]
    append = out.append
    managed = _MANAGED if code != 304 else _MANAGED_304
    for name, values in fields.items():
        if name in managed:
            continue
        if name == b"te":
            # RFC 9113 section 8.2.2: only "trailers" may be sent.
            values = [v for v in values if v.strip().lower() == b"trailers"]
        for value in values:
            append((name, value))
    for cookie in cookies:
        append((b"set-cookie", cookie))
    if b"date" not in fields:
        append((b"date", httpDate()))
    if b"server" not in fields:
        append(_SERVER)
    declared = None
    problem = None
    length = fields.get(b"content-length")
    if length is not None:
        if len(length) == 1 and length[0].isdigit():
            declared = int(length[0])
        else:
            problem = f"invalid response Content-Length {length!r} ignored"
    bodyAllowed = code >= 200 and code not in NO_BODY_CODES and method != b"HEAD"
    return ResponseHead(code, out, bodyAllowed, declared, problem)
