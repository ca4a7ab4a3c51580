"""
The copied request: what a front server sends a personal server for each
request, and the checks the personal server makes of it before use.

The state is a dictionary under the jelly type twisted.web's front uses
(L{REQUEST_TYPE}), with twisted.web's keys (C{method}, C{uri}, C{path},
C{clientproto}, C{prepath}, C{postpath}, C{requestHeaders} as
C{(name, values)} pairs, C{client} and C{host} as tuples, C{content_data},
C{remote}, C{args}, C{received_cookies}), so that each implementation's
personal server can read the other's front.  Ours adds C{relayVersion}
(the response then comes back as one head and pieces of body, see
L{twisted_web_re._distrib.relay}), C{secure}, and C{bodyLength} (a body
larger than C{content_data} is read from C{remote} in pieces; L{None} for
a chunked body still arriving, read until an empty piece).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from twisted.internet.address import IPv4Address, IPv6Address, UNIXAddress
from twisted.internet.interfaces import IAddress
from twisted.spread import pb
from twisted.spread.jelly import InsecureJelly

from twisted_web_re._distrib.limits import (
    INLINE_BODY_LIMIT,
    MAX_FIELDS,
    MAX_HEAD_BYTES,
)
from twisted_web_re._wire.parser import HOP_BY_HOP
from twisted_web_re.http_headers import Headers
from twisted_web_re.iweb import IRequest

if TYPE_CHECKING:
    from twisted.spread.pb import RemoteReference

#: The jelly type of the copied request: twisted.web's, so that a
#: twisted.web personal server unjellies our request, and ours its.
REQUEST_TYPE = b"twisted.web.server.Request"

#: The version of our relay protocol, sent in C{relayVersion}.
RELAY_VERSION = 1


def addressToTuple(address: IAddress) -> tuple[object, ...]:
    """
    @param address: a request's client or host address.
    @return: it as twisted.web's distrib sends it: C{("INET", host, port)}
        (IPv6 included, which twisted.web would send as it is) or
        C{("UNIX", path)}; any other address as C{("UNIX", None)}.
    """
    if isinstance(address, (IPv4Address, IPv6Address)):
        return ("INET", address.host, address.port)
    if isinstance(address, UNIXAddress):
        name = address.name
        return (
            "UNIX",
            name.decode("utf-8", "replace") if isinstance(name, bytes) else name,
        )
    return ("UNIX", None)


def tupleToAddress(value: object) -> IAddress:
    """
    @param value: an address as L{addressToTuple} gives it.
    @return: the address.
    @raise InsecureJelly: C{value} is not such a tuple.
    """
    if isinstance(value, (tuple, list)) and len(value) == 3 and value[0] == "INET":
        host, port = value[1], value[2]
        if isinstance(host, str) and type(port) is int and 0 <= port < 65536:
            if ":" in host:
                return IPv6Address("TCP", host, port)
            return IPv4Address("TCP", host, port)
    if (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and value[0] == "UNIX"
        and (value[1] is None or isinstance(value[1], str))
    ):
        return UNIXAddress(value[1])
    raise InsecureJelly(f"not an address: {value!r:.100}")


def _bytes(state: dict[object, object], key: str, limit: int = MAX_HEAD_BYTES) -> bytes:
    value = state.get(key)
    if type(value) is not bytes or len(value) > limit:
        raise InsecureJelly(f"{key} must be bytes of at most {limit}")
    return value


def _segments(state: dict[object, object], key: str) -> list[bytes]:
    value = state.get(key)
    if not isinstance(value, list) or not all(type(s) is bytes for s in value):
        raise InsecureJelly(f"{key} must be a list of bytes")
    return list(value)


def _headers(value: object) -> Headers:
    """
    @raise InsecureJelly: C{value} is not a list of C{(name, values)} pairs
        within L{MAX_FIELDS} and L{MAX_HEAD_BYTES}.
    """
    if not isinstance(value, list) or len(value) > MAX_FIELDS:
        raise InsecureJelly("requestHeaders must be a short list of pairs")
    headers = Headers()
    size = 0
    for pair in value:
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise InsecureJelly("a header must be a (name, values) pair")
        name, values = pair
        if type(name) is not bytes or not isinstance(values, list):
            raise InsecureJelly("a header is bytes and a list of bytes")
        if not all(type(v) is bytes for v in values):
            raise InsecureJelly("header values must be bytes")
        size += len(name) + sum(len(v) for v in values)
        if size > MAX_HEAD_BYTES:
            raise InsecureJelly("the request head is too large")
        headers.setRawHeaders(name, values)
    return headers


@dataclass
class RequestState:
    """
    A copied request, checked.

    @ivar method: the method.
    @ivar uri: the request-target.
    @ivar clientproto: the version label.
    @ivar prepath: the segments the front consumed (where the personal
        server is mounted).
    @ivar postpath: the segments left for the personal server.
    @ivar headers: the request's fields.
    @ivar client: the client's address, as the front saw it.
    @ivar host: the address the front received the request on.
    @ivar secure: whether the client reached the front over TLS.
    @ivar inlineBody: the body, or its first part when C{bodyLength} is more.
    @ivar bodyLength: the body's whole length, or L{None} when it is not
        known (chunked, still arriving at the front).
    @ivar remote: the front's relay for this request.
    @ivar relayVersion: our protocol's version, or C{None} from a twisted.web
        front.
    """

    method: bytes
    uri: bytes
    clientproto: bytes
    prepath: list[bytes]
    postpath: list[bytes]
    headers: Headers
    client: IAddress
    host: IAddress
    secure: bool
    inlineBody: bytes
    bodyLength: int | None
    remote: RemoteReference
    relayVersion: int | None


def readRequestState(state: object) -> RequestState:
    """
    Check a copied request's state and keep what a personal server uses.

    @param state: the state as unjellied (plain data and one reference).
    @return: the checked state.
    @raise InsecureJelly: a key is missing or of the wrong type or size.
    """
    if not isinstance(state, dict):
        raise InsecureJelly("the request state must be a dictionary")
    remote = state.get("remote")
    if not isinstance(remote, pb.RemoteReference):
        raise InsecureJelly("the request state has no remote reference")
    inline = state.get("content_data", b"")
    if type(inline) is not bytes or len(inline) > INLINE_BODY_LIMIT * 16:
        raise InsecureJelly("content_data must be bytes of bounded size")
    bodyLength = state["bodyLength"] if "bodyLength" in state else len(inline)
    if bodyLength is not None and (
        type(bodyLength) is not int or bodyLength < len(inline)
    ):
        raise InsecureJelly("bodyLength must be an int no less than content_data")
    version = state.get("relayVersion")
    if version is not None and type(version) is not int:
        raise InsecureJelly("relayVersion must be an int")
    return RequestState(
        method=_bytes(state, "method", 256),
        uri=_bytes(state, "uri"),
        clientproto=_bytes(state, "clientproto", 64)
        if "clientproto" in state
        else b"HTTP/1.1",
        prepath=_segments(state, "prepath"),
        postpath=_segments(state, "postpath"),
        headers=_headers(state.get("requestHeaders")),
        client=tupleToAddress(state.get("client")),
        host=tupleToAddress(state.get("host")),
        secure=state.get("secure") is True,
        inlineBody=inline,
        bodyLength=bodyLength,
        remote=remote,
        relayVersion=version,
    )


class RequestCopy(pb.Copyable):
    """
    What a front server sends for one request: the state of L{copyState},
    under L{REQUEST_TYPE}.
    """

    def __init__(self, state: dict[str, object]) -> None:
        """@param state: the request's state, from L{copyState}."""
        self._state = state

    def getTypeToCopy(self) -> bytes:
        """@return: L{REQUEST_TYPE}."""
        return REQUEST_TYPE

    def getStateToCopy(self) -> dict[str, object]:
        """@return: the request's state."""
        return self._state


def copyState(
    request: IRequest,
    remote: pb.Referenceable,
    body: bytes,
    bodyLength: int | None,
) -> dict[str, object]:
    """
    Describe a front server's request for a personal server.

    @param request: the front's request, at the resource relaying it.
    @param remote: the relay the personal server answers to.
    @param body: the body, or nothing when it is to be read in pieces.
    @param bodyLength: the body's whole length, or L{None} if not known.
    @return: the state of the request's copy.
    """
    return {
        "method": request.method,
        "uri": request.uri,
        "path": request.path,
        "clientproto": request.clientproto,
        "prepath": list(request.prepath or ()),
        "postpath": list(request.postpath or ()),
        "requestHeaders": [
            (name, list(values))
            for name, values in request.requestHeaders.getAllRawHeaders()
        ],
        "client": addressToTuple(request.getClientAddress()),
        "host": addressToTuple(request.getHost()),
        "secure": bool(request.isSecure()),
        "args": _copiedArgs(request, body, bodyLength),
        "received_cookies": dict(getattr(request, "received_cookies", {})),
        "content_data": body,
        "bodyLength": bodyLength,
        "remote": remote,
        "relayVersion": RELAY_VERSION,
    }


def _copiedArgs(
    request: IRequest, body: bytes, bodyLength: int | None
) -> dict[bytes, list[bytes]]:
    """
    @return: the arguments a twisted.web personal server takes as the
        request's (ours parses its own): those of the query and, when the
        whole body travels with the copy, of a form in it; the front never
        parses a larger body, nor fails for a malformed one.
    """
    if body and bodyLength == len(body):
        try:
            return {name: list(values) for name, values in request.args.items()}
        except Exception:
            pass
    query = request.uri.partition(b"?")[2]
    return parse_qs(query, keep_blank_values=True) if query else {}


def readResponseHead(
    code: object, reason: object, headers: object, cookies: object
) -> tuple[int, bytes, Headers, list[bytes]]:
    """
    Check a response head a personal server sent.

    @return: the status, reason phrase, fields (less those that frame or
        route the front's own connection) and cookies.
    @raise ValueError: a part is of the wrong type, too large, or would
        break the response's syntax.
    """
    if type(code) is not int or not 100 <= code <= 999:
        raise ValueError(f"bad status {code!r:.50}")
    if type(reason) is not bytes or _UNSAFE_VALUE.search(reason) or len(reason) > 512:
        raise ValueError(f"bad reason phrase {reason!r:.50}")
    if not isinstance(headers, list) or len(headers) > MAX_FIELDS:
        raise ValueError("the fields must be a list of bounded length")
    if not isinstance(cookies, list) or len(cookies) > MAX_FIELDS:
        raise ValueError("the cookies must be a list of bounded length")
    fields = Headers()
    size = 0
    for pair in headers:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError("a field must be a (name, values) pair")
        name, values = pair
        if type(name) is not bytes or not _TOKEN.match(name):
            raise ValueError(f"bad field name {name!r:.50}")
        if not isinstance(values, list):
            raise ValueError("field values must be a list")
        for value in values:
            if type(value) is not bytes or _UNSAFE_VALUE.search(value):
                raise ValueError(f"bad value of {name!r:.50}")
            size += len(name) + len(value)
        if name.lower() not in HOP_BY_HOP:
            fields.setRawHeaders(name, values)
    for cookie in cookies:
        if type(cookie) is not bytes or _UNSAFE_VALUE.search(cookie):
            raise ValueError("bad cookie")
        size += len(cookie)
    if size > MAX_HEAD_BYTES:
        raise ValueError("the response head is too large")
    return code, reason, fields, list(cookies)


# RFC 9110 section 5.6.2: a field name is a token.
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")

# RFC 9110 section 5.5: no CR, LF, NUL or other controls but HTAB in a value:
# a personal server must not split the front's response.
_UNSAFE_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
