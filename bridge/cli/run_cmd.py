"""``bridge run``: the service."""

from __future__ import annotations

from pathlib import Path

import click

from bridge.cli.config_cmd import CONFIG_OPTION, EXIT_CONFIG_ERROR, _load

EXIT_RUNTIME = 4

NO_HUB_MESSAGE = (
    "error: no Hub configured: 'bridge run' needs --config FILE (or $HUB_BRIDGE_CONFIG) with [hub] mode = \"amqp\".\n"
    "  To try the bridge on this machine: 'bridge demo'.\n"
    "  To run the service against the in-process simulated Hub and NexSIS (nothing reaches a real peer): "
    "'bridge run --embedded'."
)


@click.command()
@CONFIG_OPTION
@click.option("--allow-replay", is_flag=True, help="Let the ops console replay dead letters (needs http.replay_token).")
@click.option("--embedded", is_flag=True,
              help="Run against the in-process simulated Hub and NexSIS peer (tests, training): nothing reaches a "
                   "real Hub. Refused with a config whose hub.mode is 'amqp'.")
def run(config_path: Path | None, allow_replay: bool, embedded: bool) -> None:
    """Run the bridge until SIGTERM/SIGINT.

    Needs a configuration naming the Hub (hub.mode = "amqp"); with none it
    refuses (exit 3) rather than acknowledge the LRM's frames and deliver them
    to a simulator. --embedded (or hub.mode = "embedded" written in the
    config) runs the in-process Hub emulator and a simulated NexSIS peer,
    announced at WARNING on every start, in /readyz and in the console.
    On SIGTERM it stops taking frames, lets in-flight publishes confirm, acks
    what it consumed and closes the store.

    An LRM that speaks the health model (legacy.profile = "lrm-health-json")
    sends RS-EDA, RS-RI and RS-SR frames: NexSIS gets RC-EDA and RC-RI, each
    RS-SR merged onto the case's resources the store knows (docs/health.md,
    config.health-lrm.example.toml).

    Exit codes: 0 stopped by a signal; 2 bad usage; 3 configuration error
    (including no Hub configured); 4 failed to start (port in use, store
    unusable).
    """
    from twisted.internet import reactor

    from bridge.runtime.config import ConfigError, embedded_is_explicit, with_overrides
    from bridge.runtime.logging import capture_twisted_logs, configure_from
    from bridge.runtime.runner import start_bridge

    config = _load(config_path, check=True)
    if embedded and config.hub.mode == "amqp":
        click.echo("error: --embedded conflicts with hub.mode = \"amqp\" in the configuration; "
                   "a config that names a Hub never falls back to the simulator", err=True)
        raise SystemExit(EXIT_CONFIG_ERROR)
    if config.hub.mode == "embedded" and not (embedded or embedded_is_explicit(config)):
        click.echo(NO_HUB_MESSAGE, err=True)
        raise SystemExit(EXIT_CONFIG_ERROR)
    if allow_replay:
        try:
            config = with_overrides(config, {"http.allow_replay": True})
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(EXIT_CONFIG_ERROR) from None
    configure_from(config.logging)
    capture_twisted_logs()
    outcome: dict = {}

    def started(running):
        outcome["running"] = running
        reactor.addSystemEventTrigger("before", "shutdown", running.stop)
        click.echo(running.banner(), err=True)

    def failed(failure):
        outcome["error"] = failure
        click.echo(f"error: bridge failed to start: {failure.getErrorMessage()}", err=True)
        reactor.stop()

    reactor.callWhenRunning(lambda: start_bridge(config, reactor).addCallbacks(started, failed))
    reactor.run()
    if "error" in outcome:
        raise SystemExit(EXIT_RUNTIME)
