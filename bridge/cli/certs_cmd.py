"""``bridge certs``: make a test CA and client certificates (never for production)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="certs")
def certs() -> None:
    """Test certificates for a local Hub emulator (production uses IGC Santé certificates)."""


@certs.command(name="make-test-ca")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--client", "clients", multiple=True, required=True, metavar="ID",
              help="Client ID to issue a certificate for (CN = ID); repeat for several.")
@click.option("--server-name", "server_names", multiple=True, default=("localhost", "127.0.0.1"),
              show_default=True, help="Broker host name or IP for the server certificate.")
@click.option("--days", default=825, show_default=True, help="Validity of every certificate.")
def make_test_ca_cmd(directory: Path, clients: tuple[str, ...], server_names: tuple[str, ...], days: int) -> None:
    """Write ca.crt, server.crt/key and ID.crt/key into DIRECTORY (keys mode 0600).

    Exit codes: 0 written; 2 bad usage or DIRECTORY cannot be written.
    """
    from bridge.edges.certs import make_test_ca

    try:
        made = make_test_ca(directory, list(clients), server_names=server_names, days=days)
    except OSError as exc:
        click.echo(f"error: cannot write the certificates into {directory}: {exc.strerror or exc}", err=True)
        raise SystemExit(2) from None
    click.echo(f"CA: {made.ca_cert}")
    click.echo(f"server: {made.server_cert} ({', '.join(server_names)})")
    for client in clients:
        click.echo(f"client {client}: {made.client_cert(client)} {made.client_key(client)}")
