"""A throw-away certificate authority for tests, demos and the Hub emulator.

The Hub authenticates clients by TLS certificate (SASL EXTERNAL, CN = client
ID). To exercise that path without the production PKI we make a small CA with
the ``cryptography`` library: a server certificate for the broker and one
client certificate per client ID. Tests also need certificates the broker
must refuse: an expired one, and one signed by another CA.

Files written in ``directory``: ``ca.crt``/``ca.key``, ``server.crt``/``server.key``,
``<client>.crt``/``<client>.key``. Private keys are mode 0600 unless
``key_mode`` says otherwise (a broker that drops root privileges must read its
own key).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DEFAULT_DAYS = 825


@dataclass(frozen=True)
class Authority:
    """A CA key pair kept in memory to sign more certificates."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class TestCA:
    """Paths of what :func:`make_test_ca` wrote."""

    __test__ = False  # not a pytest class

    directory: Path
    ca_cert: Path
    server_cert: Path
    server_key: Path

    def client_cert(self, client_id: str) -> Path:
        return self.directory / f"{client_id}.crt"

    def client_key(self, client_id: str) -> Path:
        return self.directory / f"{client_id}.key"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "hub-bridge test CA"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def new_authority(common_name: str = "hub-bridge test CA", *, days: int = DEFAULT_DAYS) -> Authority:
    """Make a self-signed CA (in memory)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(cert, key)


def issue(
    authority: Authority,
    common_name: str,
    *,
    server_names: Sequence[str] = (),
    days: int = DEFAULT_DAYS,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Sign a leaf certificate: a server one when ``server_names`` is given, else a client one."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or _now() - dt.timedelta(minutes=5)
    end = not_after or start + dt.timedelta(days=days)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            authority.key.public_key()), critical=False)
    )
    if server_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [_san(name) for name in server_names]), critical=False)
    return builder.sign(authority.key, hashes.SHA256()), key


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def write_pair(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey,
    *, key_mode: int = 0o600,
) -> tuple[Path, Path]:
    """Write ``stem.crt`` and ``stem.key`` (PEM); the key gets ``key_mode``."""
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, key_mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    os.chmod(key_path, key_mode)
    return cert_path, key_path


def make_test_ca(
    directory: Path | str,
    clients: Iterable[str],
    *,
    server_names: Sequence[str] = ("localhost", "127.0.0.1"),
    days: int = DEFAULT_DAYS,
    expired_clients: Iterable[str] = (),
    other_ca_clients: Iterable[str] = (),
    key_mode: int = 0o600,
) -> TestCA:
    """Write a CA, a server certificate and client certificates into ``directory``.

    ``expired_clients`` get a certificate from this CA that expired yesterday;
    ``other_ca_clients`` get a valid certificate signed by a different CA
    (``other-ca.crt`` is written too). Both kinds must be refused by the broker.
    """
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    authority = new_authority(days=days)
    write_pair(root, "ca", authority.certificate, authority.key, key_mode=0o600)
    server_cert, server_key = write_pair(
        root, "server", *issue(authority, server_names[0], server_names=server_names, days=days),
        key_mode=key_mode)
    for client in clients:
        write_pair(root, client, *issue(authority, client, days=days), key_mode=key_mode)
    for client in expired_clients:
        write_expired_client(root, authority, client, key_mode=key_mode)
    other_ca_clients = list(other_ca_clients)
    if other_ca_clients:
        other = new_authority("another CA", days=days)
        (root / "other-ca.crt").write_bytes(other.certificate.public_bytes(serialization.Encoding.PEM))
        for client in other_ca_clients:
            write_pair(root, client, *issue(other, client, days=days), key_mode=key_mode)
    return TestCA(root, root / "ca.crt", server_cert, server_key)


def write_expired_client(
    directory: Path, authority: Authority, client_id: str, *, stem: str | None = None, key_mode: int = 0o600,
) -> tuple[Path, Path]:
    """Write a client certificate valid from 30 days ago until yesterday."""
    now = _now()
    pair = issue(authority, client_id, not_before=now - dt.timedelta(days=30),
                 not_after=now - dt.timedelta(days=1))
    return write_pair(directory, stem or client_id, *pair, key_mode=key_mode)


def load_authority(directory: Path | str) -> Authority:
    """Reload the CA written by :func:`make_test_ca` to sign more certificates later."""
    root = Path(directory)
    cert = x509.load_pem_x509_certificate((root / "ca.crt").read_bytes())
    key = serialization.load_pem_private_key((root / "ca.key").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return Authority(cert, key)
