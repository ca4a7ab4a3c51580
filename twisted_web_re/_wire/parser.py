"""
Parsing request heads: the request line, the header fields, and the framing and
connection facts that follow from them (RFC 9112 sections 2-3, 5, 6, 9).

A head is parsed in one pass over complete bytes: a regular expression for the
request line, one C{findall} for every field line, and a count that proves every
line matched.  Nothing here keeps state between calls.
"""

from __future__ import annotations

import re

from twisted_web_re._wire.errors import (
    BadRequest,
    ContentTooLarge,
    ExpectationFailed,
    HeaderFieldsTooLarge,
    NotImplementedCoding,
    URITooLong,
    VersionNotSupported,
)
from twisted_web_re._wire.limits import Limits

_TOKEN = rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+"

# RFC 9112 section 3: method SP request-target SP HTTP-version, then CRLF (or the
# bare LF that section 2.2 lets a recipient accept).
_REQUEST_LINE = re.compile(
    rb"(" + _TOKEN + rb") ([\x21-\x7e]+) HTTP/([0-9])\.([0-9])\r?\n"
)

# What an incomplete first line may look like so far; anything else is rejected
# before it is complete (a TLS handshake on a plain port, binary garbage).
_PARTIAL_REQUEST_LINE = re.compile(
    rb"[!#$%&'*+.^_`|~0-9A-Za-z-]*(?: [\x21-\x7e]*(?: H?T?T?P?/?[0-9]?\.?[0-9]?\r?)?)?"
)

# RFC 9112 section 5: field-name ":" OWS field-value OWS.  No whitespace before
# the colon (section 5.1: MUST reject), no obs-fold (a line starting with SP/HTAB
# does not match), no CTL but HTAB in the value (which also rules out bare CR).
# Anchored at line starts, so the number of matches equals the number of lines
# exactly when every line is a valid field line.
# The value is greedy but must end in a non-blank byte, so trailing OWS is left
# out with one step of backtracking instead of a lazy scan.
# The response reader (response.py) applies the same rule.
FIELD_LINE = re.compile(
    rb"^(" + _TOKEN + rb"):[ \t]*"
    rb"((?:[^\x00-\x20\x7f](?:[^\x00-\x08\x0a-\x1f\x7f]*[^\x00-\x20\x7f])?)?)"
    rb"[ \t]*\r?\n",
    re.MULTILINE,
)

# RFC 9110 section 7.2 and RFC 3986 section 3.2.2: uri-host [ ":" port ].
_URI_HOST = (
    rb"\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[\x21-\x5a\x5e-\x7e]+\]"
    rb"|[A-Za-z0-9\-._~!$&'()*+,;=%]*"
)
_HOST = re.compile(rb"(?:" + _URI_HOST + rb")(?::[0-9]*)?")
_AUTHORITY = re.compile(rb"(" + _URI_HOST + rb")(?::([0-9]*))?")

_CONTENT_LENGTH = re.compile(rb"[0-9]+")

# RFC 9112 section 3.2.2: absolute-form, of the only schemes served here
# (schemes are case-insensitive); the authority runs to the path, the query
# or the end.
_ABSOLUTE_FORM = re.compile(rb"([Hh][Tt][Tt][Pp]([Ss]?))://([^/?#]*)")

#: The body length of a head that carries no body.
NO_BODY = 0

#: The body length of a head whose body is chunked.
CHUNKED = -1


class RequestHead:
    """
    A parsed, validated request head.

    @ivar method: the method token, as sent (methods are case-sensitive).
    @ivar target: the request-target, as sent.
    @ivar version: C{b"HTTP/1.1"} or C{b"HTTP/1.0"}; later 1.x minors are
        treated as 1.1 (RFC 9110 section 2.5).
    @ivar headers: lower-cased field name to the list of its raw values, in
        arrival order.
    @ivar bodyLength: L{NO_BODY}, L{CHUNKED}, or the Content-Length.
    @ivar keepAlive: whether the client allows the connection to persist.
    @ivar expectContinue: whether the client waits for C{100 Continue}.
    """

    __slots__ = (
        "bodyLength",
        "expectContinue",
        "headers",
        "keepAlive",
        "method",
        "target",
        "version",
    )

    def __init__(
        self,
        method: bytes,
        target: bytes,
        version: bytes,
        headers: dict[bytes, list[bytes]],
        bodyLength: int,
        keepAlive: bool,
        expectContinue: bool,
    ) -> None:
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.bodyLength = bodyLength
        self.keepAlive = keepAlive
        self.expectContinue = expectContinue

    def __repr__(self) -> str:
        return (
            f"<RequestHead {self.method!r} {self.target!r} {self.version!r} "
            f"body={self.bodyLength}>"
        )


def skipEmptyLines(buf: bytes, pos: int) -> int:
    """
    Return the offset of the first byte after any empty lines at C{pos}.

    RFC 9112 section 2.2: a server SHOULD ignore at least one empty line received
    before the request line.
    """
    while True:
        if buf.startswith(b"\r\n", pos):
            pos += 2
        elif buf.startswith(b"\n", pos):
            pos += 1
        else:
            return pos


def findHeadEnd(buf: bytes, pos: int) -> tuple[int, int]:
    """
    Find the empty line that ends the head starting at C{pos}.

    @return: C{(fieldsEnd, headEnd)}: the offset just past the last field line,
        and the offset just past the empty line; C{(-1, -1)} when the head is not
        complete yet.
    """
    crlf = buf.find(b"\n\r\n", pos)
    lf = buf.find(b"\n\n", pos, crlf + 2 if crlf >= 0 else len(buf))
    if lf >= 0:
        return lf + 1, lf + 2
    if crlf >= 0:
        return crlf + 1, crlf + 3
    return -1, -1


def _lineLength(buf: bytes, pos: int, lineEnd: int) -> int:
    """The length of the line at C{pos} ending at the LF at C{lineEnd}, less
    its CR LF or LF."""
    if lineEnd > pos and buf[lineEnd - 1] == 0x0D:
        return lineEnd - 1 - pos
    return lineEnd - pos


def checkIncompleteHead(buf: bytes, pos: int, limits: Limits) -> None:
    """
    Reject an incomplete head that can already be seen to be bad.

    Called when L{findHeadEnd} found no end, so that an oversized or garbled
    head is refused now rather than waited for.

    @raise URITooLong: the request line is already longer than allowed.
    @raise HeaderFieldsTooLarge: the head is already larger than allowed.
    @raise BadRequest: the request line can no longer become valid.
    """
    lineEnd = buf.find(b"\n", pos)
    if lineEnd < 0:
        if buf[pos:] == b"\r":
            return
        size = len(buf) - pos
        if buf.endswith(b"\r"):
            size -= 1
        if size > limits.maxRequestLine:
            raise URITooLong("request line too long")
        if _PARTIAL_REQUEST_LINE.fullmatch(buf, pos) is None:
            raise BadRequest("malformed request line")
    elif _lineLength(buf, pos, lineEnd) > limits.maxRequestLine:
        raise URITooLong("request line too long")
    elif _REQUEST_LINE.match(buf, pos) is None:
        # A complete line that is no request line (an HTTP/0.9 "GET /", say)
        # will not become one.
        raise BadRequest("malformed request line")
    if len(buf) - pos > limits.maxHeadSize:
        raise HeaderFieldsTooLarge("request head too large")


def parseHead(
    buf: bytes, pos: int, fieldsEnd: int, headEnd: int, limits: Limits
) -> RequestHead:
    """
    Parse and validate the complete head at C{buf[pos:headEnd]}.

    @param fieldsEnd: from L{findHeadEnd}.
    @param headEnd: from L{findHeadEnd}.
    @raise WireError: a subclass naming the status the request earns.
    """
    line = _REQUEST_LINE.match(buf, pos)
    if line is None:
        if _lineLength(buf, pos, buf.find(b"\n", pos)) > limits.maxRequestLine:
            raise URITooLong("request line too long")
        raise BadRequest("malformed request line")
    if line.end(4) - pos > limits.maxRequestLine:
        raise URITooLong("request line too long")
    if headEnd - pos > limits.maxHeadSize:
        raise HeaderFieldsTooLarge("request head too large")
    lineEnd = line.end()
    method, target, major, minor = line.groups()
    if major != b"1":
        raise VersionNotSupported("only HTTP/1.x is supported")
    version = b"HTTP/1.0" if minor == b"0" else b"HTTP/1.1"

    fields = FIELD_LINE.findall(buf, lineEnd, fieldsEnd)
    if len(fields) != buf.count(b"\n", lineEnd, fieldsEnd):
        raise BadRequest("malformed header field")
    if len(fields) > limits.maxHeaderCount:
        raise HeaderFieldsTooLarge("too many header fields")
    headers: dict[bytes, list[bytes]] = {}
    for name, value in fields:
        key = name.lower()
        values = headers.get(key)
        if values is None:
            headers[key] = [value]
        else:
            values.append(value)

    if target[:1] != b"/":
        _checkTarget(method, target)
    hosts = headers.get(b"host")
    if hosts is None:
        if version == b"HTTP/1.1":
            raise BadRequest("missing Host header")
    elif len(hosts) != 1 or (hosts[0] not in _validHosts and not _checkHost(hosts[0])):
        raise BadRequest("invalid Host header")

    if b"transfer-encoding" in headers or b"content-length" in headers:
        bodyLength = _bodyLength(version, headers, limits)
    else:
        bodyLength = NO_BODY
    if b"connection" in headers:
        keepAlive = _keepAlive(version, headers)
    else:
        keepAlive = version == b"HTTP/1.1"
    return RequestHead(
        method,
        target,
        version,
        headers,
        bodyLength,
        keepAlive,
        b"expect" in headers and _expectContinue(headers) and version == b"HTTP/1.1",
    )


class TargetAuthority:
    """
    The authority of a request-target in absolute form, which the server
    uses instead of the C{Host} field (RFC 9112 section 3.2.2).

    @ivar secure: whether the target's scheme is C{https}.
    @ivar authority: the authority as sent: host and any port.
    @ivar host: the host as sent (an IPv6 literal with its brackets).
    @ivar port: the port given, or the scheme's default (80, 443).
    """

    __slots__ = ("authority", "host", "port", "secure")

    def __init__(self, secure: bool, authority: bytes, host: bytes, port: int) -> None:
        self.secure = secure
        self.authority = authority
        self.host = host
        self.port = port

    def __repr__(self) -> str:
        return f"<TargetAuthority {self.authority!r} port={self.port}>"


def targetAuthority(target: bytes) -> TargetAuthority | None:
    """
    Return the authority of C{target} if it is in absolute form, with the
    C{http} or C{https} scheme and a valid authority: a host that is not
    empty, no userinfo (RFC 9110 section 4.2.1 and 4.2.4), a port of at most
    65535.

    @return: C{None} for any other target.
    """
    match = _ABSOLUTE_FORM.match(target)
    if match is None:
        return None
    authority = match.group(3)
    parts = _AUTHORITY.fullmatch(authority)
    if parts is None:
        return None
    host, port = parts.group(1), parts.group(2)
    if not host or (port and len(port) > 5):
        return None
    secure = bool(match.group(2))
    number = int(port) if port else (443 if secure else 80)
    if number > 65535:
        return None
    return TargetAuthority(secure, authority, host, number)


_validHosts: set[bytes] = set()
_VALID_HOSTS_CACHE = 256


def _checkHost(host: bytes) -> bool:
    """
    Return whether C{host} is a valid C{Host} value, remembering the first few
    valid ones (a server sees the same few names again and again).
    """
    if _HOST.fullmatch(host) is None:
        return False
    if len(_validHosts) < _VALID_HOSTS_CACHE:
        _validHosts.add(host)
    return True


def _checkTarget(method: bytes, target: bytes) -> None:
    """
    Check the request-target is in a form RFC 9112 section 3.2 allows here.

    @raise BadRequest: it is not.
    """
    if target[:1] == b"/":
        return
    if target == b"*":
        if method == b"OPTIONS":
            return
    elif method == b"CONNECT":
        if b"/" not in target and b":" in target:
            return
    elif targetAuthority(target) is not None:
        return
    raise BadRequest("invalid request target")


def _bodyLength(
    version: bytes, headers: dict[bytes, list[bytes]], limits: Limits
) -> int:
    """
    Decide how the request body is framed (RFC 9112 section 6.3).

    Anything that two parties could read two ways is refused, so that no
    request can be smuggled past a proxy in front of this server.
    """
    codings = headers.get(b"transfer-encoding")
    lengths = headers.get(b"content-length")
    if codings is not None:
        if version == b"HTTP/1.0":
            raise BadRequest("Transfer-Encoding in an HTTP/1.0 request")
        if lengths is not None:
            raise BadRequest("both Transfer-Encoding and Content-Length")
        names = [
            item.strip().lower() for value in codings for item in value.split(b",")
        ]
        names = [name for name in names if name]
        if not names or names[-1] != b"chunked":
            raise BadRequest("chunked is not the final transfer coding")
        if len(names) > 1:
            if b"chunked" in names[:-1]:
                raise BadRequest("chunked applied more than once")
            raise NotImplementedCoding("unsupported transfer coding")
        return CHUNKED
    if lengths is None:
        return NO_BODY
    if len(lengths) != 1 or _CONTENT_LENGTH.fullmatch(lengths[0]) is None:
        raise BadRequest("invalid Content-Length")
    digits = lengths[0].lstrip(b"0")
    if len(digits) > 18:
        # Larger than any body could be; int() of thousands of digits would
        # also be slow (and refused by CPython's digit limit).
        if limits.maxBodySize is None:
            raise BadRequest("Content-Length out of range")
        raise ContentTooLarge("request body too large")
    length = int(digits or b"0")
    if limits.maxBodySize is not None and length > limits.maxBodySize:
        raise ContentTooLarge("request body too large")
    return length


#: Fields that describe one connection, never the message: RFC 9110 section
#: 7.6.1, with C{Proxy-Connection} and C{Keep-Alive} that old clients send.
#: A proxy or a front relaying a message drops them; each hop sets its own.
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


def connectionTokens(values: list[bytes]) -> set[bytes]:
    """
    Return the lower-cased tokens of C{Connection} field values.

    The field is a comma-separated list (RFC 9110 section 7.6.1), so
    C{keep-alive,close} holds two tokens.
    """
    return {
        token.strip().lower() for value in values for token in value.split(b",")
    } - {b""}


def _keepAlive(version: bytes, headers: dict[bytes, list[bytes]]) -> bool:
    """
    Decide whether the client lets the connection persist (RFC 9112 section 9.3).
    """
    values = headers.get(b"connection")
    if values is None:
        return version == b"HTTP/1.1"
    tokens = connectionTokens(values)
    if b"close" in tokens:
        return False
    return version == b"HTTP/1.1" or b"keep-alive" in tokens


def _expectContinue(headers: dict[bytes, list[bytes]]) -> bool:
    """
    Decide whether the client waits for C{100 Continue} (RFC 9110 section 10.1.1).

    @raise ExpectationFailed: for any expectation other than 100-continue.
    """
    values = headers.get(b"expect")
    if values is None:
        return False
    if len(values) == 1 and values[0].strip().lower() == b"100-continue":
        return True
    raise ExpectationFailed("unsupported expectation")
