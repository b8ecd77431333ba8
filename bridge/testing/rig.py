"""A deterministic bridge for tests and benchmarks: the real service on a fake clock.

The rig joins the real :class:`bridge.app.service.BridgeService`, a real SQLite store,
the in-process Hub and a simulated NexSIS peer, all driven by a Twisted
``task.Clock``: nothing sleeps, nothing opens a socket, and a test advances time
itself. It is shared by the service tests and the hostile-input campaign.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from twisted.internet import defer, task
from twisted.python.failure import Failure

from bridge.app.service import BridgeService, ServiceSettings
from bridge.app.translator import PipelineTranslator
from bridge.core.framing import frame
from bridge.edges.store.sqlite import Store
from bridge.refdata.profiles import build_context, load_profile
from bridge.sim.inprocess_hub import InProcessHub
from bridge.sim.nexsis_rules import PeerRules
from bridge.sim.nexsis_sim import NexsisSimulator

SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


class FakeLrm:
    """The legacy side: records what the bridge hands over, can be 'disconnected'.

    It frames each payload as the real link does, so a payload the profile's framing
    cannot carry (STX in an STX/ETX link...) raises here as it would on the wire.
    """

    def __init__(self, framing: str | None = None) -> None:
        self.connected = True
        self.framing = framing
        self.sent: list[bytes] = []

    def send(self, payload: bytes) -> None:
        assert self.connected
        if self.framing is not None:
            frame(payload, self.framing)  # type: ignore[arg-type]
        self.sent.append(payload)


class Rig:
    """The service, its store, the in-process Hub and a NexSIS simulator on one fake clock."""

    def __init__(self, tmp_path: Path, *, max_pending: int = 100, profile: str = "lrm-alpha-text",
                 content_type: str = "application/json", peer_listening: bool = True,
                 peer_rules: PeerRules | None = None) -> None:
        self.clock = task.Clock()
        self.now = lambda: START + timedelta(seconds=self.clock.seconds())
        self.store = Store.open(Path(tmp_path) / "s.sqlite3", max_pending=max_pending)
        self.profile = load_profile(profile)
        translator = PipelineTranslator(self.profile, build_context(sender_id=SAMU, recipient_id=SDIS),
                                        clock=self.now)
        settings = ServiceSettings(client_id=SAMU, recipient_id=SDIS, content_type=content_type)
        self.service = BridgeService(settings, reactor=self.clock, store=self.store, translator=translator,
                                     clock=self.now, new_uuid=lambda: str(uuid.uuid4()))
        self.hub = InProcessHub([SAMU, SDIS], lambda body: [], clock=self.now, reactor=self.clock)
        self.simulator = NexsisSimulator(peer_rules or PeerRules(own_id=SDIS), self.clock, clock=self.now)
        sim_client = self.hub.client(SDIS, on_message=self.simulator.on_message, on_ack=self.simulator.on_ack,
                                     on_info=self.simulator.on_info)
        self.simulator.attach(sim_client)
        self.client = self.hub.client(SAMU, on_message=self.service.on_hub_message,
                                      on_ack=self.service.on_hub_ack, on_info=self.service.on_hub_info)
        self.lrm = FakeLrm(self.profile.framing)
        self.service.attach(hub=self.client, legacy=self.lrm)
        if peer_listening:  # False: a silent peer, messages wait in its queue (no RC-REF)
            sim_client.start()
        self.client.start()
        self.service.start()

    def run(self, seconds: float = 2.0, step: float = 0.05) -> None:
        """Advance the fake clock in small steps so every callLater and loop fires."""
        for _ in range(int(seconds / step)):
            self.clock.advance(step)

    def settled(self, reply):
        """What a service callback's result amounts to once the commit window closed (Deferreds fired).

        A failure is raised here, as it would reach Twisted's error log in production.
        """
        if not isinstance(reply, defer.Deferred):
            return reply
        box: list = []
        reply.addBoth(box.append)
        self.clock.advance(0.01)
        if not box:
            raise AssertionError("the service's Deferred did not fire after the commit window")
        if isinstance(box[0], Failure):
            box[0].raiseException()
        return box[0]

    def states(self, direction: str = "out") -> dict[str, int]:
        """How many messages of one direction are in each state."""
        return {state: n for (d, state), n in self.store.counts().items() if d == direction}

    def forget_test_records(self) -> None:
        """Empty what the test doubles record (LRM frames, simulator IDs), so memory checks see only the bridge."""
        self.lrm.sent.clear()
        self.simulator.received_ids.clear()
        self.simulator.errors.clear()

    def close(self) -> None:
        """Stop the service loops and close the store."""
        self.service.stop()
        self.store.close()
