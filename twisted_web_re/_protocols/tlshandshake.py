"""
The TLS handshake: choosing the application protocol by ALPN (RFC 7301),
C{h2} only on a connection fit for HTTP/2 (RFC 9113 section 9.2), the TLS
settings of C{twistd web-re}'s C{ssl:} ports, and saying in the log why a
handshake failed.

Twisted's TLS layer installs its own ALPN choice on every context it makes.
When the client's offer and the factory's protocols have nothing in common,
that choice hands OpenSSL an empty name, which OpenSSL answers with an
C{internal_error} alert: the client cannot tell what went wrong.  RFC 7301
section 3.2 asks for a C{no_application_protocol} alert instead, which is
what L{selectProtocol} makes OpenSSL send.  pyOpenSSL lets a context be
changed only before its first connection, so L{useOwnSelection} is for the
moment a port is set up, not for a connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from OpenSSL import SSL
from twisted.internet.endpoints import SSL4ServerEndpoint
from twisted.internet.interfaces import IProtocolNegotiationFactory
from twisted.logger import Logger
from twisted.python.failure import Failure

_log = Logger()

#: At most this many of a client's protocol names are logged, each cut to
#: L{_NAME_LOGGED} characters: the offer comes from the client, and may be
#: tens of kilobytes long.
_NAMES_LOGGED = 8
_NAME_LOGGED = 40

#: The TLS 1.2 cipher suites of C{twistd web-re}'s C{ssl:} ports: forward
#: secret key exchange with AEAD encryption only, which is what RFC 9113
#: section 9.2.2 leaves off its block list (Mozilla's "intermediate"
#: list).  The TLS 1.3 suites, all of them fit, are OpenSSL's own.
HTTP2_CIPHERS = (
    b"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    b"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    b"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    b"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"
    b"DHE-RSA-CHACHA20-POLY1305"
)


class NoApplicationProtocol(SSL.Error):
    """
    A TLS client offered by ALPN only protocols that the server does not
    speak; the handshake is refused with a C{no_application_protocol} alert.

    Its argument has the form of OpenSSL's error queue, a list of
    C{(library, function, reason)}, as Twisted's TLS layer expects of every
    L{SSL.Error} that ends a handshake.
    """

    def __init__(self) -> None:
        super().__init__([("ALPN", "", "no application protocol in common")])


def _context(endpoint: object) -> SSL.Context | None:
    """
    The one TLS context an C{ssl:} endpoint will listen with, which may
    still be changed; C{None} if there is none such.

    Twisted keeps an endpoint's TLS options private, as
    C{_sslContextFactory}; where that is not found, or its context cannot
    be made, or is made afresh each time (so a change would be lost),
    there is none.
    """
    if not isinstance(endpoint, SSL4ServerEndpoint):
        return None
    getContext = getattr(
        getattr(endpoint, "_sslContextFactory", None), "getContext", None
    )
    if getContext is None:
        return None
    try:
        context = getContext()
    except Exception:
        # Options OpenSSL cannot apply (a bad dhParameters= file, say): the
        # same error is reported when the endpoint listens, as without us.
        return None
    if not isinstance(context, SSL.Context) or getContext() is not context:
        return None
    return context


def useSecureDefaults(endpoint: object) -> bool:
    """
    Have an C{ssl:} endpoint accept TLS 1.2 and later only, and in TLS 1.2
    only the cipher suites of L{HTTP2_CIPHERS}, as RFC 9113 section 9.2
    asks of a server offering HTTP/2.

    To be called before the endpoint listens, and only where its
    description did not choose the TLS method (C{sslmethod=}) itself.

    @param endpoint: a server endpoint, of any kind.
    @return: whether the endpoint's TLS settings are now these.
    """
    context = _context(endpoint)
    if context is None:
        return False
    context.set_min_proto_version(SSL.TLS1_2_VERSION)
    context.set_cipher_list(HTTP2_CIPHERS)
    return True


def fitForHTTP2(connection: SSL.Connection) -> bool:
    """
    Tell whether a TLS connection, as negotiated so far (OpenSSL chooses
    the version and cipher before the ALPN protocol), may carry HTTP/2:
    TLS 1.3, or TLS 1.2 with forward secret key exchange and AEAD
    encryption (RFC 9113 section 9.2).

    @param connection: the server side of the connection.
    """
    version = connection.get_protocol_version_name()
    if version == "TLSv1.3":
        return True
    if version != "TLSv1.2":
        return False
    cipher = connection.get_cipher_name() or ""
    return cipher.startswith(("ECDHE-", "DHE-")) and (
        "-GCM-" in cipher or "CHACHA20-POLY1305" in cipher
    )


def useOwnSelection(endpoint: object) -> bool:
    """
    Have an C{ssl:} endpoint choose protocols by L{selectProtocol} rather
    than by Twisted's own choice.

    To be called before the endpoint listens.  Twisted keeps an endpoint's
    TLS options private, as C{_sslContextFactory}; where that is not found,
    or its context cannot be made or changed any more, nothing is done, and
    the endpoint keeps Twisted's choice.

    @param endpoint: a server endpoint, of any kind.
    @return: whether the endpoint now uses L{selectProtocol}.
    """
    context = _context(endpoint)
    if context is None:
        return False
    try:
        context.set_alpn_select_callback(selectProtocol)
    except ValueError:  # pyOpenSSL: the context has made connections already
        return False
    return True


def selectProtocol(connection: SSL.Connection, offered: Sequence[bytes]) -> Any:
    """
    Choose, of the protocols a TLS client offers by ALPN, the one its
    factory prefers (per C{IProtocolNegotiationFactory.acceptableProtocols}),
    C{h2} only if the connection is L{fitForHTTP2}.

    @param connection: the server side of the TLS connection, made by
        Twisted's TLS layer.
    @param offered: the protocols the client offers, as ALPN names.
    @return: the chosen name; or L{SSL.NO_OVERLAPPING_PROTOCOLS}, to go on
        without ALPN, if the factory names no protocol at all.
    @raise NoApplicationProtocol: If the factory names protocols but the
        client offers none of them; OpenSSL then ends the handshake with the
        C{no_application_protocol} alert.  This is logged.
    """
    tls = connection.get_app_data()
    wrapped = getattr(getattr(tls, "factory", None), "wrappedFactory", None)
    negotiation = IProtocolNegotiationFactory(wrapped, None)
    spoken = list(negotiation.acceptableProtocols()) if negotiation else []
    if not spoken:
        return SSL.NO_OVERLAPPING_PROTOCOLS
    for name in spoken:
        if name in offered and (name != b"h2" or fitForHTTP2(connection)):
            return name
    _log.info(
        "TLS handshake with {peer} refused (no_application_protocol): it"
        " offered only {offered} by ALPN; this server speaks {spoken}",
        peer=peerText(tls),
        offered=_namesText(offered),
        spoken=_namesText(spoken),
    )
    raise NoApplicationProtocol()


def logHandshakeFailure(transport: object, reason: Failure | None) -> None:
    """
    Log, in one line, why a TLS handshake failed, unless
    L{selectProtocol} has said it already.

    @param transport: the connection's transport (Twisted's TLS layer).
    @param reason: why the connection was lost before its handshake ended.
    """
    if reason is None or not isinstance(reason.value, SSL.Error):
        return  # the client went away: nothing to explain
    if isinstance(reason.value, NoApplicationProtocol):
        return
    _log.info(
        "TLS handshake with {peer} failed: {why}",
        peer=peerText(transport),
        why=_openSSLText(reason.value),
    )


def peerText(transport: object) -> str:
    """
    @param transport: a transport, or C{None}.
    @return: its peer as C{host:port}, or C{"a client"} if it has none.
    """
    getPeer = getattr(transport, "getPeer", None)
    peer = getPeer() if getPeer is not None else None
    host, port = getattr(peer, "host", None), getattr(peer, "port", None)
    if host is None:
        return "a client"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _openSSLText(error: SSL.Error) -> str:
    """
    @param error: an error from pyOpenSSL, usually holding OpenSSL's error
        queue as C{(library, function, reason)} triples.
    @return: OpenSSL's reasons, on one line.
    """
    queue = error.args[0] if error.args else None
    if isinstance(queue, list):
        reasons = [
            str(entry[-1]) for entry in queue if isinstance(entry, tuple) and entry
        ]
        if reasons:
            return "; ".join(reasons)
    return " ".join(str(error).split()) or error.__class__.__name__


def _namesText(names: Sequence[bytes]) -> str:
    """
    @param names: ALPN protocol names, perhaps from a client.
    @return: them, comma-separated, with control and non-ASCII bytes
        escaped, at most L{_NAMES_LOGGED} of them and each at most
        L{_NAME_LOGGED} characters long.
    """
    shown = [repr(name)[2:-1][:_NAME_LOGGED] for name in names[:_NAMES_LOGGED]]
    if len(names) > _NAMES_LOGGED:
        shown.append(f"and {len(names) - _NAMES_LOGGED} more")
    return ", ".join(shown) or "nothing"
