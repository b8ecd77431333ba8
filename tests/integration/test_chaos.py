"""Crash and broker-restart campaign, short version, plus a broker redelivery after a consumer crash.

The full campaign (5,000 messages, 20 kills, 3 broker restarts) is ``benchmarks/chaos.py``;
figures in docs/reliability.md, "Crash and restart campaign".
"""

from __future__ import annotations

from collections import Counter

import pytest
from twisted.internet import defer

from bridge.runtime.demo import live_demo_frame
from bridge.testing.lrm import LrmClient
from tests.integration.rabbitmq import SDIS, bridge_config, client_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def rabbitmq_available():
    """Skip (with the reason) when RabbitMQ cannot be started here."""
    from bridge.testing.rabbitmq import rabbitmq_missing_reason

    reason = rabbitmq_missing_reason()
    if reason:
        pytest.skip(reason)


@pytest.mark.timeout(420)
def test_short_campaign_loses_nothing_and_applies_nothing_twice(rabbitmq_available, reactor_thread, tmp_path):
    """500 frames, 5 kill -9 of the bridge and 1 broker restart: every frame acked, every Hub message and answer arrives once."""
    from bridge.testing.chaos import Campaign, CampaignPlan

    plan = CampaignPlan(messages=500, revisions=4, kills=5, broker_restarts=1, seed=20261125, timeout=300)
    lines: list[str] = []
    report = Campaign(plan, tmp_path / "chaos", reactor_thread, log=lines.append).run()
    detail = report.summary() + "\n" + "\n".join(lines[-10:])
    assert report.kills == 5 and report.broker_restarts == 1, detail
    assert report.quiescent, detail
    assert report.acked == report.sent_frames == 500, detail
    assert report.peer_lost == 0 and report.peer_applied_twice == 0, detail
    assert report.peer_unique == report.expected_hub_messages == 1000, detail
    assert report.case_final_mismatches == 0 and report.peer_rs_errors == 0, detail
    assert report.lrm_answers_lost == 0 and report.dead_letters == 0, detail
    assert report.ok, detail


def test_redelivery_after_a_consumer_crash_is_handed_over_once(broker, hub, reactor_thread, tmp_path, monkeypatch):
    """The bridge's link dies after it stored an answer but before the broker ack: the redelivery reaches the LRM zero more times."""
    from bridge.app.ports import Nack
    from bridge.app.service import BridgeService
    from bridge.edges.amqp.client import HubClient
    from bridge.runtime.runner import start_bridge
    from bridge.sim.nexsis_rules import PeerRules
    from bridge.sim.nexsis_sim import NexsisSimulator

    reactor = reactor_thread.reactor
    original = BridgeService.on_hub_message
    redelivered: list[bool] = []

    def crash_before_ack(self, delivery):
        redelivered.append(delivery.redelivered)
        result = original(self, delivery)
        if len(redelivered) > 1:
            return result
        self.hub.session.connection.transport.abortConnection()  # the "crash": no ack will ever leave
        never_acked = defer.Deferred()
        reactor.callLater(1.0, never_acked.errback, Nack("link gone before the ack"))
        return never_acked

    monkeypatch.setattr(BridgeService, "on_hub_message", crash_before_ack)
    simulator = NexsisSimulator(PeerRules(own_id=SDIS), reactor)
    sim_client = HubClient(client_settings(broker, SDIS), reactor, on_message=simulator.on_message,
                           on_ack=simulator.on_ack, on_info=simulator.on_info, stop_on_shutdown=False)
    simulator.attach(sim_client)
    reactor_thread.call(sim_client.start, timeout=60)
    running = reactor_thread.call(start_bridge, bridge_config(broker, tmp_path), reactor, timeout=60)
    frames: Counter[str] = Counter()
    lrm = LrmClient("127.0.0.1", running.legacy_port)
    sort = lrm._sort
    lrm._sort = lambda text: (frames.update([text.split("\r\n", 1)[0]]), sort(text))
    try:
        lrm.send(live_demo_frame(6001))
        assert lrm.wait_for(lambda c: "DEMO-006001" in c.answers and len(redelivered) >= 2, timeout=60), redelivered
        lrm.poll(3.0)  # room for a second hand-over, were there one
        states = reactor_thread.call(running.store.counts)
    finally:
        lrm.close()
        reactor_thread.call(running.stop, timeout=60)
        reactor_thread.call(sim_client.stop, timeout=60)
    assert redelivered[:2] == [False, True]
    assert frames["NUM_DOSSIER=DEMO-006001"] == 1, frames
    assert states.get(("in", "acked"), 0) + states.get(("in", "handed_over"), 0) == 1, states
