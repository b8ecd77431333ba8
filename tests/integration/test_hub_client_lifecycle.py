"""Real broker: the Hub client's shutdown finishes in-flight work and its reconnect is observable."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from twisted.internet import task

from bridge.edges.amqp.client import HubClient
from bridge.testing.messages import make_message
from tests.integration.rabbitmq import SAMU, SDIS, VHOST, Inbox, client_settings

pytestmark = pytest.mark.integration


def _queue_depth(broker, name: str) -> int:
    out = broker.rabbitmqctl("list_queues", "-p", VHOST, "-q", "--no-table-headers", "name", "messages")
    depths = dict(line.split() for line in out.splitlines() if line.strip())
    return int(depths[name])


def _case(hub_reference) -> dict:
    path = hub_reference / "examples/RC-EDA/RC-EDA-FuiteDeGaz-AliceGregoireNormand.01.json"
    return json.loads(path.read_text())


def test_stop_lets_in_flight_callback_finish_and_ack(broker, hub, reactor_thread, hub_reference):
    """stop() while a callback runs waits for it, acks, then closes: nothing is left in the queue."""
    seen = Inbox()
    done = []

    def slow(delivery):
        seen(delivery)
        return task.deferLater(reactor_thread.reactor, 1.0, done.append, delivery.body)

    sdis = HubClient(client_settings(broker, SDIS), reactor_thread.reactor, on_message=slow, stop_on_shutdown=False)
    samu = HubClient(client_settings(broker, SAMU), reactor_thread.reactor, stop_on_shutdown=False)
    reactor_thread.call(sdis.start)
    reactor_thread.call(samu.start)
    body = json.dumps(make_message(SAMU, SDIS, _case(hub_reference), now=datetime.now(UTC))).encode()
    try:
        reactor_thread.call(samu.publish, body)
        seen.get()
        reactor_thread.call(sdis.stop)
        assert done == [body]  # the callback finished before stop() returned
        assert _queue_depth(broker, f"{SDIS}.message") == 0  # and its message was acked, not requeued
    finally:
        reactor_thread.call(samu.stop)
        reactor_thread.call(sdis.stop)


def test_reconnects_after_connection_loss(broker, hub, reactor_thread):
    """A dropped connection moves the client to disconnected, then back to connected by itself."""
    states: list[str] = []
    reconnected = Inbox()
    samu = HubClient(client_settings(broker, SAMU, reconnect_attempts=20), reactor_thread.reactor,
                     on_info=lambda d: None, stop_on_shutdown=False)
    samu.add_state_listener(states.append)
    reactor_thread.call(samu.start)
    samu.add_state_listener(lambda s: reconnected(s) if s == "connected" else None)
    try:
        reactor_thread.call(lambda: samu.session.connection.transport.abortConnection())
        assert reconnected.get() == "connected"
        assert states[:2] == ["connecting", "connected"] and "disconnected" in states[2:]
    finally:
        reactor_thread.call(samu.stop)


def test_consumer_cancelled_by_broker_triggers_reconnect(broker, hub, reactor_thread):
    """When the broker cancels a consumer (queue deleted), the client reconnects once the queue is back."""
    from bridge.sim.hub_emulator.provision import ManagementApi, add_client

    states = Inbox()
    sdis = HubClient(client_settings(broker, SDIS, reconnect_attempts=100, reconnect_max=0.3),
                     reactor_thread.reactor, on_info=lambda d: None, stop_on_shutdown=False)
    reactor_thread.call(sdis.start)
    sdis.add_state_listener(states)
    api = ManagementApi(broker.management_url)
    try:
        api.call("DELETE", f"queues/%2F15-nexsis_v1.9/{SDIS}.info")
        assert states.get() == "disconnected"
        add_client(api, VHOST, SDIS)  # the operator restores the queue
        for _ in range(200):  # connecting/disconnected cycles until the queue is back, then connected
            if states.get() == "connected":
                break
        assert sdis.state == "connected"
    finally:
        add_client(api, VHOST, SDIS)
        reactor_thread.call(sdis.stop)


CHILD = """
import sys
from twisted.internet import reactor, task
from bridge.edges.amqp.client import HubClient
from bridge.edges.amqp.settings import HubClientSettings

def slow(delivery):
    print("received", flush=True)
    return task.deferLater(reactor, 1.0, lambda: print("handled", flush=True))

client = HubClient(HubClientSettings.model_validate_json(sys.argv[1]), reactor, on_message=slow)
reactor.callWhenRunning(lambda: client.start().addCallback(lambda _c: print("ready", flush=True)))
reactor.run()
print("exited", client.state, flush=True)
"""


def test_sigterm_finishes_in_flight_work_then_exits(broker, hub, reactor_thread, hub_reference, tmp_path):
    """A process running HubClient, sent SIGTERM mid-callback, finishes and acks it, then exits 0."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "child.out"
    settings = client_settings(broker, SDIS).model_dump_json()
    with open(out, "wb") as sink:
        child = subprocess.Popen([sys.executable, "-c", CHILD, settings], stdout=sink, stderr=subprocess.STDOUT)

    def wait_for(word: bytes) -> None:
        for _ in range(600):  # bounded: 60 s
            if word in out.read_bytes() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert word in out.read_bytes(), out.read_text()

    samu = HubClient(client_settings(broker, SAMU), reactor_thread.reactor, stop_on_shutdown=False)
    try:
        wait_for(b"ready")
        reactor_thread.call(samu.start)
        body = json.dumps(make_message(SAMU, SDIS, _case(hub_reference), now=datetime.now(UTC))).encode()
        reactor_thread.call(samu.publish, body)
        wait_for(b"received")
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == 0
        text = out.read_text()
        assert text.index("handled") < text.index("exited stopped")
        assert _queue_depth(broker, f"{SDIS}.message") == 0
    finally:
        reactor_thread.call(samu.stop)
        if child.poll() is None:
            child.kill()
            child.wait(10)
