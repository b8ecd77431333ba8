"""``bridge run``: the service."""

from __future__ import annotations

from pathlib import Path

import click

from bridge.cli.config_cmd import CONFIG_OPTION, EXIT_CONFIG_ERROR, _load

EXIT_RUNTIME = 4


@click.command()
@CONFIG_OPTION
@click.option("--allow-replay", is_flag=True, help="Let the ops console replay dead letters (needs http.replay_token).")
def run(config_path: Path | None, allow_replay: bool) -> None:
    """Run the bridge until SIGTERM/SIGINT.

    With no configuration it runs the embedded default: an in-process Hub
    emulator, a simulated NexSIS peer and a legacy TCP listener on
    127.0.0.1:15018 (profile lrm-alpha-text); no RabbitMQ, no certificates.
    On SIGTERM it stops taking frames, lets in-flight publishes confirm, acks
    what it consumed and closes the store.
    """
    from twisted.internet import reactor

    from bridge.runtime.config import ConfigError, with_overrides
    from bridge.runtime.logging import capture_twisted_logs, configure_logging
    from bridge.runtime.runner import start_bridge

    config = _load(config_path, check=True)
    if allow_replay:
        try:
            config = with_overrides(config, {"http.allow_replay": True})
        except ConfigError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(EXIT_CONFIG_ERROR) from None
    configure_logging(format=config.logging.format, level=config.logging.level,
                      debug_health_data=config.logging.debug_health_data)
    capture_twisted_logs()
    outcome: dict = {}

    def started(running):
        outcome["running"] = running
        reactor.addSystemEventTrigger("before", "shutdown", running.stop)

    def failed(failure):
        outcome["error"] = failure
        click.echo(f"error: bridge failed to start: {failure.getErrorMessage()}", err=True)
        reactor.stop()

    reactor.callWhenRunning(lambda: start_bridge(config, reactor).addCallbacks(started, failed))
    reactor.run()
    if "error" in outcome:
        raise SystemExit(EXIT_RUNTIME)
