"""Test CA: the certificates the broker and the clients load."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

from click.testing import CliRunner
from cryptography import x509
from cryptography.x509.oid import NameOID

from bridge.edges.certs import make_test_ca


def _cn(path) -> str:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_client_certificates_carry_the_client_id_as_cn(tmp_path):
    """Each client certificate's CN is its client ID and is signed by the CA."""
    made = make_test_ca(tmp_path, ["fr.health.samu440"])
    cert = x509.load_pem_x509_certificate(made.client_cert("fr.health.samu440").read_bytes())
    ca = x509.load_pem_x509_certificate(made.ca_cert.read_bytes())
    assert _cn(made.client_cert("fr.health.samu440")) == "fr.health.samu440"
    cert.verify_directly_issued_by(ca)


def test_private_keys_are_private(tmp_path):
    """Keys are written mode 0600 by default."""
    made = make_test_ca(tmp_path, ["a.b.c"])
    assert stat.S_IMODE(made.client_key("a.b.c").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "ca.key").stat().st_mode) == 0o600


def test_expired_and_other_ca_certificates(tmp_path):
    """The negative-test certificates are expired or signed by another CA."""
    made = make_test_ca(tmp_path, [], expired_clients=["old.client"], other_ca_clients=["stranger"])
    old = x509.load_pem_x509_certificate(made.client_cert("old.client").read_bytes())
    stranger = x509.load_pem_x509_certificate(made.client_cert("stranger").read_bytes())
    ca = x509.load_pem_x509_certificate(made.ca_cert.read_bytes())
    assert old.not_valid_after_utc < datetime.now(UTC)
    assert stranger.issuer != ca.subject


def test_cli_make_test_ca(tmp_path):
    """`bridge certs make-test-ca DIR --client ID` writes the CA, server and client files."""
    from bridge.cli.certs_cmd import certs

    result = CliRunner().invoke(certs, ["make-test-ca", str(tmp_path / "ca"), "--client", "fr.fire.nexsis.sdis44"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "ca").iterdir()} >= {
        "ca.crt", "ca.key", "server.crt", "server.key", "fr.fire.nexsis.sdis44.crt", "fr.fire.nexsis.sdis44.key"}
