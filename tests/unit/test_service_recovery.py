"""The service after a crash or a broker restart: re-sent frames and failed RC-REFs are handled once."""

from __future__ import annotations

from twisted.internet import defer

from bridge.edges.amqp.errors import NotConnected
from bridge.runtime.demo import demo_frame
from bridge.testing.rig import Rig


def test_resent_frame_is_acked_again_and_published_once(tmp_path):
    """A frame re-sent by the LRM gets the same ack and the peer one createCase and one EMSI."""
    rig = Rig(tmp_path)
    try:
        first = rig.service.on_legacy_frame(demo_frame(7))
        again = rig.service.on_legacy_frame(demo_frame(7))
        rig.run()
        replies = [r.result if isinstance(r, defer.Deferred) else r for r in (first, again)]
        assert replies == [b"ACK=DEMO-000007", b"ACK=DEMO-000007"]
        assert rig.simulator.seen["createCase"] == 1 and rig.simulator.seen["emsi"] == 1
        assert len(rig.lrm.sent) == 1
    finally:
        rig.service.stop()
        rig.store.close()


def test_failed_rcref_is_sent_again_once_the_hub_is_back(tmp_path):
    """An RC-REF lost to a broker restart is re-published by the pump, not left until the next restart."""
    rig = Rig(tmp_path)
    real_publish = rig.client.publish
    refused: list[bytes] = []

    def flaky(body, **kwargs):
        if b'"reference"' in body and not refused:
            refused.append(body)
            return defer.fail(NotConnected("broker restarting"))
        return real_publish(body, **kwargs)

    rig.client.publish = flaky
    try:
        rig.service.on_legacy_frame(demo_frame(8))
        rig.run()
        assert len(refused) == 1
        assert rig.states("in") == {"acked": 1}
        assert rig.simulator.seen["reference-received"] == 1
    finally:
        rig.service.stop()
        rig.store.close()



def test_answer_is_marked_handed_over_only_after_the_write_had_its_turn(tmp_path):
    """The hand-over is recorded a reactor turn after the write, so a kill before Twisted's write cannot lose it."""
    rig = Rig(tmp_path)
    try:
        rig.lrm.connected = False
        rig.service.on_legacy_frame(demo_frame(9))
        rig.run()
        assert rig.states("in") == {"received": 1}  # the answer waits for the LRM
        rig.lrm.connected = True
        rig.service.flush_inbox()
        assert len(rig.lrm.sent) == 1 and rig.states("in") == {"received": 1}  # written, not yet recorded
        rig.service.flush_inbox()  # a second flush in that gap does not write it again
        rig.run()
        assert len(rig.lrm.sent) == 1
        assert rig.states("in") == {"acked": 1}
    finally:
        rig.service.stop()
        rig.store.close()


def test_a_hub_link_that_raises_on_publish_is_a_failed_publish_retried_later(rig):
    """The publish pass treats a link raising (not returning a failed Deferred) like any failed publish: the
    message stays queued with a retry time and goes once the link publishes again, once."""
    real_publish = rig.client.publish
    raised: list[bytes] = []

    def raising(body, **kwargs):
        if not raised:
            raised.append(body)
            raise ConnectionError("not connected to the Hub (connecting)")
        return real_publish(body, **kwargs)

    rig.client.publish = raising
    rig.service.on_legacy_frame(demo_frame(11, assistance=False))
    rig.run(5.0)
    assert len(raised) == 1
    assert rig.simulator.seen["createCase"] == 1
    assert rig.states() == {"delivered": 1}
