"""``bridge hub-emulator``: a local Hub Santé on a real RabbitMQ (topology + dispatcher checks)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

DEFAULT_VHOST = "/15-nexsis_v1.9"


@click.command(name="hub-emulator")
@click.option("--client", "clients", multiple=True, required=True, metavar="ID",
              help="Client ID to provision (queues, user, permissions); repeat for several.")
@click.option("--vhost", default=DEFAULT_VHOST, show_default=True, help="vHost (perimeter and version).")
@click.option("--management-url", default="http://127.0.0.1:15672", show_default=True,
              help="RabbitMQ management API used to provision the topology.")
@click.option("--amqp-host", default="127.0.0.1", show_default=True, help="Broker host for the dispatcher.")
@click.option("--amqp-port", default=5672, show_default=True, help="Plain AMQP port for the dispatcher's admin link.")
@click.option("--admin-user", default="guest", show_default=True, envvar="HUB_EMULATOR_ADMIN_USER")
@click.option("--admin-password", default="guest", envvar="HUB_EMULATOR_ADMIN_PASSWORD",
              help="Admin password (env HUB_EMULATOR_ADMIN_PASSWORD).")
@click.option("--schemas", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Official schema folder (json-schema/ + xsd/, checked complete at start) for the 300 check; "
                   "default: bridge.validate.")
@click.option("--private-broker", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Start a private RabbitMQ (test CA, free loopback ports) in DIR instead of using a running one.")
@click.option("--xml-client", "xml_clients", multiple=True, metavar="ID",
              help="Client that wants XML: JSON messages to it are converted (the Hub's optional conversion).")
@click.option("--provision-only", is_flag=True, help="Provision the topology and exit.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Lowest level logged (INFO logs every message handled).")
@click.option("--log-format", default="auto", show_default=True, type=click.Choice(["auto", "json", "console"]),
              help="auto: key=value on a terminal, JSON lines otherwise.")
def hub_emulator(clients, vhost, management_url, amqp_host, amqp_port, admin_user, admin_password, schemas,
                 private_broker, xml_clients, provision_only, log_level, log_format) -> None:
    """Provision the Hub topology on RabbitMQ and run the Hub dispatcher (RS-ERROR on faults).

    Exit codes: 0 provisioned (--provision-only) or stopped by a signal; 2 bad usage; 3 configuration
    error (no usable schema validator, a --schemas folder that is not a complete bundle, no RabbitMQ for
    --private-broker); 4 broker unreachable, provisioning or the dispatcher failed.
    """
    from bridge.core.errors import BridgeError
    from bridge.runtime.logging import configure_logging
    from bridge.sim.hub_emulator.provision import ManagementApi, ProvisionError, provision
    from bridge.sim.hub_emulator.schemas import default_validator

    configure_logging(log_format, log_level)
    try:
        validate = default_validator(schemas)
    except BridgeError as exc:
        found = "".join(f"\n  {issue.path}: {issue.message}" for issue in exc.issues[:20])
        raise _exit(3, f"{exc.message}{found}\npass --schemas DIR (the official json-schema/ and xsd/ folders)"
                    ) from None
    broker = None
    if private_broker is not None:
        broker = _start_private_broker(private_broker, list(clients))
        management_url, amqp_port = broker.management_url, broker.amqp_port
        admin_user, admin_password = broker.admin_user, broker.admin_password
    try:
        api = ManagementApi(management_url, admin_user, admin_password)
        try:
            provision(api, vhost, clients)
        except ProvisionError as exc:
            raise _exit(4, f"provisioning failed: {exc}") from None
        click.echo(f"provisioned {vhost} for {', '.join(clients)}")
        if not provision_only:
            formats = {client: "application/xml" for client in xml_clients}
            _run_dispatcher(amqp_host, amqp_port, vhost, admin_user, admin_password, clients, validate, formats)
    finally:
        if broker is not None:
            broker.stop()


def _start_private_broker(directory: Path, clients: list[str]):
    from bridge.testing.rabbitmq import rabbitmq_missing_reason, start_broker

    reason = rabbitmq_missing_reason()
    if reason:
        raise _exit(3, reason)
    try:
        broker = start_broker(directory, clients)
    except RuntimeError as exc:
        raise _exit(4, f"private broker did not start: {exc}") from None
    click.echo(f"private RabbitMQ {broker.nodename}: amqps://127.0.0.1:{broker.amqps_port} "
               f"(certificates in {broker.cert_dir}), management {broker.management_url}")
    return broker


def _run_dispatcher(host, port, vhost, user, password, clients, validate, formats) -> None:
    from twisted.internet import reactor

    from bridge.edges.amqp.settings import AmqpConnectionSettings
    from bridge.sim.hub_emulator.dispatcher_service import DispatcherService

    settings = AmqpConnectionSettings(host=host, port=port, vhost=vhost, tls=False, username=user, password=password)
    service = DispatcherService(settings, reactor, known_clients=clients, validate=validate, formats=formats)
    failed: list[str] = []

    def started(_service):
        click.echo(f"dispatcher consuming 'dispatch' on {vhost}; Ctrl-C or SIGTERM to stop")

    def failed_to_start(failure):
        failed.append(str(failure.value))
        reactor.stop()

    reactor.callWhenRunning(lambda: service.start().addCallbacks(started, failed_to_start))
    reactor.addSystemEventTrigger("before", "shutdown", service.stop)
    reactor.run()
    if failed:
        raise _exit(4, f"dispatcher failed: {failed[0]}")


def _exit(code: int, message: str) -> click.exceptions.Exit:
    click.echo(f"error: {message}", err=True)
    sys.stderr.flush()
    return click.exceptions.Exit(code)
