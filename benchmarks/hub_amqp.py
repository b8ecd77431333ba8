"""Throughput of the Hub link on a real RabbitMQ: publish with confirms, and end to end via the emulator.

Starts a private broker (test CA, loopback ports), provisions the Hub topology,
runs the emulator's dispatcher (official-schema validation when the corpus is
found) and two clients over TLS + EXTERNAL. Prints: confirmed publishes per
second one at a time (latency-bound) and pipelined, and messages per second
delivered end to end (client -> hubsante -> dispatcher checks -> distribution
-> recipient consumer, acked).
Run: ``.venv/bin/python benchmarks/hub_amqp.py [--n 500] [--window 100]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from twisted.internet import defer

from bridge.edges.amqp.client import HubClient
from bridge.edges.amqp.settings import AmqpConnectionSettings, HubClientSettings
from bridge.sim.hub_emulator.dispatcher_service import DispatcherService
from bridge.sim.hub_emulator.provision import ManagementApi, provision
from bridge.sim.hub_emulator.schemas import reference_validator
from bridge.testing.messages import make_message
from bridge.testing.rabbitmq import rabbitmq_missing_reason, start_broker
from bridge.testing.reactor import ReactorThread

VHOST = "/15-nexsis_v1.9"
SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
ROOT = Path(__file__).resolve().parents[1]


def _settings(broker, who: str) -> HubClientSettings:
    return HubClientSettings(host="127.0.0.1", port=broker.amqps_port, vhost=VHOST, client_id=who,
                             ca_cert=broker.ca.ca_cert, cert=broker.ca.client_cert(who),
                             key=broker.ca.client_key(who), prefetch=100)


def _payload() -> dict:
    ref = ROOT.parent / "shared" / "hub-reference"
    path = ref / "examples/RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json"
    return json.loads(path.read_text()) if path.exists() else {"reference": {"distributionID": f"{SDIS}_x"}}


def _bodies(n: int) -> list[bytes]:
    payload, now = _payload(), datetime.now(UTC)
    return [json.dumps(make_message(SAMU, SDIS, payload, now=now)).encode() for _ in range(n)]


@defer.inlineCallbacks
def _pipelined(client: HubClient, bodies: list[bytes], window: int):
    for start in range(0, len(bodies), window):
        yield defer.gatherResults([client.publish(b) for b in bodies[start:start + window]], consumeErrors=True)


@defer.inlineCallbacks
def _one_by_one(client: HubClient, bodies: list[bytes]):
    for body in bodies:
        yield client.publish(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--window", type=int, default=100)
    args = parser.parse_args()
    reason = rabbitmq_missing_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    broker = start_broker(Path(tempfile.mkdtemp(prefix="hub-bench-")), [SAMU, SDIS])
    thread = ReactorThread().start()
    try:
        provision(ManagementApi(broker.management_url), VHOST, [SAMU, SDIS])
        ref = ROOT.parent / "shared" / "hub-reference"
        validate = reference_validator(ref) if (ref / "json-schema").is_dir() else (lambda _b: [])
        admin = AmqpConnectionSettings(host="127.0.0.1", port=broker.amqp_port, vhost=VHOST, tls=False,
                                       username="guest", password="guest")
        service = DispatcherService(admin, thread.reactor, known_clients=[SAMU, SDIS], validate=validate)
        thread.call(service.start)
        received = {"count": 0}
        all_in = threading.Event()

        def on_message(_delivery):
            received["count"] += 1
            if received["count"] >= received.get("target", 10**9):
                all_in.set()

        samu = HubClient(_settings(broker, SAMU), thread.reactor, stop_on_shutdown=False)
        sdis = HubClient(_settings(broker, SDIS), thread.reactor, on_message=on_message, stop_on_shutdown=False)
        thread.call(samu.start)
        thread.call(sdis.start)
        print(f"schema validation in dispatcher: {'official corpus' if (ref / 'json-schema').is_dir() else 'off'}")

        bodies = _bodies(args.n)
        received.update(count=0, target=args.n)
        start = time.perf_counter()
        thread.call(_one_by_one, samu, bodies, timeout=600)
        confirmed = time.perf_counter() - start
        all_in.wait(600)
        e2e_serial = time.perf_counter() - start
        print(f"publish+confirm one at a time: {args.n / confirmed:8.0f}/s  ({confirmed * 1e3 / args.n:6.2f} ms each)")
        print(f"end to end (serial publishes): {args.n / e2e_serial:8.0f}/s")

        all_in.clear()
        received.update(count=0)
        bodies = _bodies(args.n)
        start = time.perf_counter()
        thread.call(_pipelined, samu, bodies, args.window, timeout=600)
        confirmed = time.perf_counter() - start
        all_in.wait(600)
        e2e = time.perf_counter() - start
        print(f"publish+confirm, window {args.window}: {args.n / confirmed:8.0f}/s")
        print(f"end to end (pipelined):        {args.n / e2e:8.0f}/s   dispatcher counts: {service.counts}")
        thread.call(samu.stop)
        thread.call(sdis.stop)
        thread.call(service.stop)
    finally:
        thread.stop()
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
