"""``bridge nexsis-sim``: a simulated NexSIS peer on a real Hub (or the emulator)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="nexsis-sim")
@click.option("--client-id", default="fr.fire.nexsis.sdis44", show_default=True,
              help="The peer's client ID (its certificate CN).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Broker host.")
@click.option("--port", default=5671, show_default=True, type=int, help="Broker AMQPS port.")
@click.option("--vhost", default="/15-nexsis_v1.9", show_default=True, help="vHost of the perimeter and version.")
@click.option("--certs", type=click.Path(exists=True, file_okay=False, path_type=Path), required=True,
              help="Directory with ca.crt and <client-id>.crt/.key (see 'bridge certs make-test-ca').")
@click.option("--behaviour", type=click.Choice(["accept", "refuse", "no-answer", "late", "malformed"]),
              default="accept", show_default=True, help="How requests for assistance are answered.")
@click.option("--late-delay", default=5.0, show_default=True, help="Seconds before a 'late' answer.")
@click.option("--operations", is_flag=True, help="Follow accepted requests with an #OPERATION_GLOBALE# update.")
@click.option("--engagement", type=click.Choice(["none", "one", "several"]), default="none", show_default=True,
              help="After accepting, engage no resource, one vehicle, or two with status changes over time (RC-RI).")
@click.option("--status-interval", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds between status changes with --engagement several.")
@click.option("--xml", "use_xml", is_flag=True, help="Publish application/xml instead of JSON.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Lowest level logged (INFO logs every message handled).")
@click.option("--log-format", default="auto", show_default=True, type=click.Choice(["auto", "json", "console"]),
              help="auto: key=value on a terminal, JSON lines otherwise.")
def nexsis_sim(client_id: str, host: str, port: int, vhost: str, certs: Path, behaviour: str, late_delay: float,
               operations: bool, engagement: str, status_interval: float, use_xml: bool, log_level: str, log_format: str) -> None:
    """Answer like NexSIS: RC-REF for every case and request, EMSI answer per --behaviour.

    Runs until SIGTERM/SIGINT, reconnecting to the broker as needed.

    Exit codes: 0 stopped by a signal; 2 bad usage (e.g. --certs missing).
    """
    from twisted.internet import reactor

    from bridge.edges.amqp.client import HubClient
    from bridge.edges.amqp.settings import HubClientSettings
    from bridge.runtime.logging import configure_logging
    from bridge.sim.nexsis_rules import Behaviour, Engagement, PeerRules
    from bridge.sim.nexsis_sim import NexsisSimulator

    configure_logging(log_format, log_level)
    content_type = "application/xml" if use_xml else "application/json"
    rules = PeerRules(own_id=client_id, behaviour=Behaviour(behaviour), late_delay=late_delay,
                      send_operations=operations, engagement=Engagement(engagement),
                      status_interval=status_interval)
    simulator = NexsisSimulator(rules, reactor, content_type=content_type)
    settings = HubClientSettings(host=host, port=port, vhost=vhost, ca_cert=certs / "ca.crt",
                                 cert=certs / f"{client_id}.crt", key=certs / f"{client_id}.key",
                                 server_hostname="localhost" if host in ("127.0.0.1", "::1") else None,
                                 client_id=client_id, content_type=content_type)
    client = HubClient(settings, reactor, on_message=simulator.on_message, on_ack=simulator.on_ack,
                       on_info=simulator.on_info)
    simulator.attach(client)
    reactor.callWhenRunning(client.start)
    reactor.run()
