"""The whole bridge on a real RabbitMQ: LRM over TCP -> bridge -> Hub dispatcher -> NexSIS sim and back."""

from __future__ import annotations

import functools
import urllib.error
import urllib.request

import pytest

from bridge.runtime.demo import demo_frame, live_demo_frame
from bridge.testing.lrm import LrmClient
from bridge.testing.waiting import wait_until
from tests.integration.rabbitmq import SAMU, SDIS, VHOST, bridge_config, client_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def running_bridge(broker, hub, reactor_thread, tmp_path):
    """A bridge (AMQP mode) and a simulated NexSIS peer, both on the test broker."""
    from bridge.edges.amqp.client import HubClient
    from bridge.runtime.runner import start_bridge
    from bridge.sim.nexsis_rules import PeerRules
    from bridge.sim.nexsis_sim import NexsisSimulator

    reactor = reactor_thread.reactor
    simulator = NexsisSimulator(PeerRules(own_id=SDIS), reactor)
    sim_client = HubClient(client_settings(broker, SDIS), reactor, on_message=simulator.on_message,
                           on_ack=simulator.on_ack, on_info=simulator.on_info, stop_on_shutdown=False)
    simulator.attach(sim_client)
    reactor_thread.call(sim_client.start, timeout=60)
    running = reactor_thread.call(start_bridge, bridge_config(broker, tmp_path, hub={"rcref_deadline_seconds": 30},
                                                      http={"enabled": True, "bind": "127.0.0.1", "port": 0}), reactor, timeout=60)
    try:
        yield running, simulator
    finally:
        reactor_thread.call(running.stop, timeout=60)
        reactor_thread.call(sim_client.stop, timeout=60)


def _metric(port: int, name: str, **labels) -> float:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    total = 0.0
    for line in text.splitlines():
        if line.startswith((name + "{", name + " ")):
            head, _, value = line.rpartition(" ")
            have = head[len(name):].strip("{}")
            if all(part in have.split(",") for part in wanted.split(",") if part):
                total += float(value)
    return total


def _ready(port: int) -> int:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5).status
    except urllib.error.HTTPError as exc:
        return exc.code


class TestEndToEnd:
    def test_cases_flow_both_ways_and_metrics_move(self, running_bridge):
        """Case sheets reach NexSIS, come back acknowledged (RC-REF) and answered (EMSI) to the LRM."""
        running, simulator = running_bridge
        http_port = running.http_port.getHost().port
        lrm = LrmClient("127.0.0.1", running.legacy_port)
        try:
            before = _metric(http_port, "bridge_messages_total", direction="out", state="delivered")
            for n in range(10):
                lrm.send(live_demo_frame(1000 + n))
            assert lrm.wait_for(lambda c: len(c.acks) == 10 and len(c.answers) == 10, timeout=60), \
                (lrm.acks, list(lrm.answers), lrm.nacks)
            assert all("REPONSE=ACC" in text for text in lrm.answers.values())
            assert wait_until(lambda: _metric(http_port, "bridge_messages_total", direction="out",
                                          state="delivered") - before == 20, timeout=30)
        finally:
            lrm.close()
        assert simulator.seen["createCase"] >= 10 and simulator.seen["emsi"] >= 10
        counts = running.store.counts()
        assert counts.get(("out", "failed"), 0) == 0
        assert counts.get(("out", "delivered"), 0) + counts.get(("out", "answered"), 0) == 20

    def test_unmappable_frame_is_dead_lettered_and_counted(self, running_bridge):
        """A case sheet with an unreadable date is dead-lettered with its bytes, and the next one still flows."""
        running, _ = running_bridge
        http_port = running.http_port.getHost().port
        lrm = LrmClient("127.0.0.1", running.legacy_port)
        bad = demo_frame(2000, "hier")
        try:
            lrm.send(bad)
            lrm.send(live_demo_frame(2001))
            assert lrm.wait_for(lambda c: "DEMO-002001" in c.answers, timeout=60)
        finally:
            lrm.close()
        assert _metric(http_port, "bridge_messages_total", direction="out", state="dead_lettered") >= 1
        entries = [entry for entry in running.store.dlq_list() if entry.original == bad]
        assert len(entries) == 1
        assert "line 2" in (entries[0].error_path or "") and "hier" in entries[0].error

    def test_readyz_follows_the_broker(self, running_bridge, broker, hub):
        """/readyz turns 503 when the broker stops serving and 200 again once it is back."""
        running, _ = running_bridge
        http_port = running.http_port.getHost().port
        assert wait_until(lambda: _ready(http_port) == 200, timeout=30)
        broker.rabbitmqctl("stop_app")
        try:
            assert wait_until(lambda: _ready(http_port) == 503, timeout=30)
        finally:
            broker.rabbitmqctl("start_app")
        assert wait_until(lambda: _ready(http_port) == 200, timeout=60)
        assert wait_until(lambda: hub.session.state == "connected", timeout=60) if hasattr(hub, "session") else True


def test_demo_runs_on_the_real_broker(broker, hub, reactor_thread):
    """'bridge demo --hub amqps://...' plays the same scenario through RabbitMQ and the dispatcher."""
    from bridge.runtime.demo import run_demo

    url = f"amqps://127.0.0.1:{broker.amqps_port}/{VHOST.replace('/', '%2F')}"
    scenario = functools.partial(run_demo, reactor_thread.reactor, messages=20, hub_url=url,
                                 certs=broker.ca.directory, timeout=60)
    summary = reactor_thread.call(scenario, timeout=120)
    assert summary.ok, summary.as_dict()
    assert summary.acknowledged == summary.answered == 20


def test_bridge_takes_frames_while_the_broker_is_unreachable(reactor_thread, tmp_path):
    """Broker down at start: /healthz answers, /readyz says not ready, LRM frames are stored and acked."""
    from bridge.edges.certs import make_test_ca
    from bridge.runtime.config import BridgeConfig
    from bridge.runtime.runner import start_bridge
    from bridge.testing.rabbitmq import free_port

    ca = make_test_ca(tmp_path / "certs", [SAMU])
    config = BridgeConfig.model_validate({
        "bridge": {"client_id": SAMU, "peer_id": SDIS},
        "hub": {"mode": "amqp", "host": "127.0.0.1", "port": free_port(), "vhost": VHOST,
                "ca_file": str(ca.ca_cert), "cert_file": str(ca.client_cert(SAMU)),
                "key_file": str(ca.client_key(SAMU)), "reconnect_min_seconds": 0.2, "reconnect_max_seconds": 1.0},
        "legacy": {"mode": "tcp-server", "host": "127.0.0.1", "port": 0, "profile": "lrm-alpha-text"},
        "store": {"path": str(tmp_path / "bridge.sqlite3")},
        "http": {"enabled": True, "bind": "127.0.0.1", "port": 0},
        "mappings": {"reload_interval_seconds": 0},
    })
    running = reactor_thread.call(start_bridge, config, reactor_thread.reactor, timeout=30)
    try:
        http_port = running.http_port.getHost().port
        assert urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=5).status == 200
        assert _ready(http_port) == 503
        lrm = LrmClient("127.0.0.1", running.legacy_port)
        try:
            lrm.send(live_demo_frame(3000))
            assert lrm.wait_for(lambda c: c.acks == ["ACK=DEMO-003000"], timeout=20)
        finally:
            lrm.close()
        assert running.store.counts().get(("out", "translated")) == 2
    finally:
        reactor_thread.call(running.stop, timeout=60)


def test_engaged_resources_reach_the_lrm_through_the_real_broker(broker, hub, reactor_thread):
    """NexSIS engages two vehicles with status changes (RC-RI): every update crosses the dispatcher to the LRM."""
    from bridge.runtime.demo import run_demo
    from bridge.sim.nexsis_rules import Engagement, PeerRules

    url = f"amqps://127.0.0.1:{broker.amqps_port}/{VHOST.replace('/', '%2F')}"
    rules = PeerRules(own_id=SDIS, engagement=Engagement.SEVERAL, status_interval=0.2)
    scenario = functools.partial(run_demo, reactor_thread.reactor, messages=3, hub_url=url, peer_rules=rules,
                                 certs=broker.ca.directory, timeout=60)
    summary = reactor_thread.call(scenario, timeout=120)
    assert summary.ok, summary.as_dict()
    assert summary.resource_updates == summary.expected_updates == 15
