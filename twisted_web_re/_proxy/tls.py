"""
TLS to backends: the certificate is always verified against the host name
(with service_identity), by the system's certificate authorities or by those
of a file the user names.
"""

from __future__ import annotations

from pathlib import Path

from twisted.internet.interfaces import IOpenSSLClientConnectionCreator
from twisted.internet.ssl import (
    Certificate,
    optionsForClientTLS,
    trustRootFromCertificates,
)


def clientTLS(host: str, caFile: str | None = None) -> IOpenSSLClientConnectionCreator:
    """
    The TLS options for connecting to C{host}.

    @param caFile: a PEM file of one or more CA certificates to trust instead
        of the system's.
    @raise ValueError: C{caFile} cannot be read or holds no certificate.
    """
    if caFile is None:
        return optionsForClientTLS(host)
    try:
        pem = Path(caFile).read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read the CA file {caFile!r}: {error}") from None
    marker = b"-----END CERTIFICATE-----"
    blocks = [block + marker for block in pem.split(marker) if b"-----BEGIN" in block]
    if not blocks:
        raise ValueError(f"no certificate in the CA file {caFile!r}")
    try:
        certificates = [Certificate.loadPEM(block) for block in blocks]
    except Exception as error:
        raise ValueError(f"invalid certificate in {caFile!r}: {error}") from None
    return optionsForClientTLS(host, trustRoot=trustRootFromCertificates(certificates))
