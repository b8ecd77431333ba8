"""``bridge demo``: the embedded end-to-end scenario."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.command()
@click.option("--messages", "-n", default=20, show_default=True, type=click.IntRange(1, 100_000),
              help="Case sheets the simulated LRM sends.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--hub", "hub_url", default=None, metavar="amqps://HOST:PORT/VHOST",
              help="Run against a real broker (with --certs) instead of the in-process Hub.")
@click.option("--certs", type=click.Path(exists=True, file_okay=False), default=None,
              help="Directory from 'bridge certs make-test-ca' (ca.crt, <client>.crt/.key).")
@click.option("--behaviour", type=click.Choice(["accept", "refuse", "no-answer", "late", "malformed"]),
              default="accept", show_default=True, help="How the simulated NexSIS peer answers.")
@click.option("--engagement", type=click.Choice(["none", "one", "several"]), default="none", show_default=True,
              help="Resources the simulated NexSIS engages after accepting: none, one vehicle, or two with "
                   "status changes over time (RC-RI), merged onto the LRM's case sheet.")
@click.option("--status-interval", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Seconds between the simulated vehicles' status changes (--engagement several).")
@click.option("--timeout", type=float, default=None, help="Give up after this many seconds.")
@click.option("--rate", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Case sheets per second; 0 sends them all at once (latencies then include the queue).")
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="ERROR",
              show_default=True, help="Log lines shown on stderr while the demo runs.")
def demo(messages: int, as_json: bool, hub_url: str | None, certs: str | None, behaviour: str, engagement: str,
         status_interval: float, timeout: float | None, rate: float, log_level: str) -> None:
    """Run the whole chain on this machine: LRM -> bridge -> Hub -> NexSIS and back.

    With no option it needs nothing installed: the Hub is emulated in process
    and a simulated NexSIS peer acknowledges (RC-REF) and answers (EMSI).
    With --hub and --certs the same scenario runs on a real broker whose Hub
    topology and dispatcher are up (e.g. 'bridge hub-emulator --private-broker
    DIR --client fr.health.samu440 --client fr.fire.nexsis.sdis44'; the
    certificates are then in DIR/certs). It prints the story of each case
    sheet (sent, stored, acknowledged, answered or refused, or why not) and a
    summary; its temporary store is removed at the end.

    Exit codes: 0 every case sheet acknowledged and answered (a refusal is an
    answer); 2 bad usage; 4 a case was not answered, failed, or the demo could
    not run.
    """
    from twisted.internet import task

    from bridge.runtime.config import BridgeConfig
    from bridge.runtime.demo import run_demo
    from bridge.runtime.logging import configure_logging
    from bridge.sim.nexsis_rules import Behaviour, Engagement

    # The demo's answers come back through lossy EMSI -> legacy code tables, so every answer logs
    # fallback warnings; the summary is what the demo is for, --log-level shows the rest.
    configure_logging(format="json" if as_json else "auto", level=log_level)
    if hub_url is not None and certs is None:
        raise click.UsageError("--hub needs --certs DIR (see 'bridge hub-emulator --private-broker DIR')")
    config = BridgeConfig()
    outcome: dict = {}

    def progress(summary) -> None:
        if not as_json and sys.stderr.isatty():
            sys.stderr.write(f"\r  sent {summary.sent}  stored {summary.stored}  acknowledged {summary.acknowledged}"
                             f"  answered {summary.answered}  failed {summary.failed}   ")

    def main(reactor_):
        from bridge.sim.nexsis_rules import PeerRules

        d = run_demo(reactor_, messages=messages, config=config, progress=progress, timeout=timeout, rate=rate,
                     peer_rules=PeerRules(own_id=config.bridge.peer_id, behaviour=Behaviour(behaviour),
                                          engagement=Engagement(engagement), status_interval=status_interval),
                     hub_url=hub_url, certs=Path(certs) if certs else None)
        return d.addCallback(lambda summary: outcome.update(summary=summary))

    try:
        task.react(lambda r: main(r))
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise
    summary = outcome.get("summary")
    if summary is None:
        raise SystemExit(4)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), sort_keys=True))
    else:
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        _table(summary)
    raise SystemExit(0 if summary.ok else 4)


def _table(summary) -> None:
    rows = [("case sheets sent", summary.sent), ("stored (LRM acked)", summary.stored),
            ("acknowledged (RC-REF)", summary.acknowledged), ("answered (EMSI)", summary.answered),
            ("resource updates (RC-RI)", f"{summary.resource_updates}/{summary.expected_updates}"),
            ("failed", summary.failed), ("Hub messages", summary.hub_messages),
            ("RC-REF latency p50 (ms)", summary.p50_ms), ("RC-REF latency p99 (ms)", summary.p99_ms),
            ("answer latency p50 (ms)", summary.answer_p50_ms), ("duration (s)", summary.seconds)]
    _stories(summary.cases)
    rows[4:4] = [("  of which accepted", summary.accepted), ("  of which refused", summary.refused)]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        click.echo(f"  {name:<{width}}  {'-' if value is None else value}")
    verdict = "OK" if summary.ok else "FAILED: " + _why(summary.cases)
    click.echo(f"  {'result':<{width}}  {verdict}")


STORIES_SHOWN = 20


def _stories(cases: list[dict]) -> None:
    """One line per case sheet (the first 20, then the ones that did not end well)."""
    shown = cases[:STORIES_SHOWN] + [c for c in cases[STORIES_SHOWN:] if c["outcome"] not in ("answered",)][:20]
    for case in shown:
        reason = f": {case['reason']}" if case.get("reason") else ""
        click.echo(f"  {case['case']}  {', '.join(case['steps']) or 'not sent'} -> {case['outcome']}{reason}")
    if len(cases) > len(shown):
        click.echo(f"  ... {len(cases) - len(shown)} more cases (--json lists them all)")
    click.echo("")


def _why(cases: list[dict]) -> str:
    """The most common reason cases did not end with an answer."""
    from collections import Counter

    reasons = Counter(f"{c['outcome']}" + (f" ({c['reason']})" if c.get("reason") else "")
                      for c in cases if c["outcome"] not in ("answered", "refused by NexSIS"))
    if not reasons:
        return "see the cases above"
    text, count = reasons.most_common(1)[0]
    return f"{count} case(s) {text}"
