"""
Shared pytest set-up: the Hypothesis profiles, loopback ports, certificates.

Choose the Hypothesis profile with the C{HYPOTHESIS_PROFILE} environment
variable: C{dev} (the default; random examples, Hypothesis' own deadline) or
C{ci} (derandomised, no deadline, 200 examples), which C{.ci/run} selects.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import settings
from twisted.logger import LogEvent, globalLogPublisher

# Tests live in one folder per room of the package (protocols/, publish/,
# files/, gateways/, run/, and wire/ and e2e/); a room's tests may reuse the
# client harness of another's (test_oserror drives test_static's and
# test_twcgi's), so every room folder is importable from the start, whatever
# order pytest collects them in.
_TESTS = os.path.dirname(os.path.abspath(__file__))
for _room in ("protocols", "publish", "files", "gateways", "run"):
    if os.path.join(_TESTS, _room) not in sys.path:
        sys.path.insert(0, os.path.join(_TESTS, _room))

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200)
settings.register_profile("dev")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

#: The only address the tests ever listen on or connect to.
LOOPBACK = "127.0.0.1"


def freePort(host: str = LOOPBACK) -> int:
    """
    Find a TCP port on C{host} that nothing listens on at the moment.

    The port is free when this returns; another process could take it before
    the caller binds it, which on a test machine is rare enough to accept.

    @param host: The local address to look on; loopback unless told.
    @return: The port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def tcpPort() -> int:
    """
    A TCP port on 127.0.0.1 that nothing listened on when the test began.
    """
    return freePort()


def writeSelfSignedCertificate(directory: Path) -> tuple[Path, Path]:
    """
    Write a fresh self-signed certificate for C{localhost} and C{127.0.0.1}.

    @param directory: Where to write C{cert.pem} and C{key.pem}.
    @return: The paths of the certificate and of its private key, both PEM.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address(LOOPBACK)),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certPath = directory / "cert.pem"
    keyPath = directory / "key.pem"
    certPath.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyPath.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certPath, keyPath


@pytest.fixture
def selfSignedCertificate(tmp_path: Path) -> tuple[Path, Path]:
    """
    The paths of a fresh self-signed certificate and key for 127.0.0.1.
    """
    return writeSelfSignedCertificate(tmp_path)


@pytest.fixture
def logged() -> Iterator[list[LogEvent]]:
    """Every Twisted log event emitted during the test, in order."""
    events: list[LogEvent] = []
    globalLogPublisher.addObserver(events.append)
    try:
        yield events
    finally:
        globalLogPublisher.removeObserver(events.append)
