"""The simulated NexSIS peer (an edge): a Hub client driven by ``bridge.sim.nexsis_rules``.

It runs on any Hub client with the ``HubClient`` interface: the real AMQP one
(``bridge nexsis-sim --hub amqps://...``) or the in-process Hub of the embedded
default. Everything it received and sent is counted, so tests and the demo can
check what the peer saw.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from twisted.internet import defer

from bridge.core.edxl import unwrap
from bridge.core.errors import BridgeError
from bridge.refdata.hub_bodies import decode_hub_body, encode_hub_body
from bridge.sim.nexsis_rules import PeerRules, replies_for

log = structlog.get_logger("bridge.sim.nexsis_sim")


class NexsisSimulator:
    """Answers what the Hub delivers to the peer's queues, per its :class:`PeerRules`."""

    def __init__(self, rules: PeerRules, reactor, *, content_type: str = "application/json",
                 clock: Callable[[], datetime] | None = None, new_uuid: Callable[[], str] | None = None) -> None:
        self.rules = rules
        self.reactor = reactor
        self.content_type = content_type
        self.clock = clock or (lambda: datetime.now(UTC).astimezone())
        self.new_uuid = new_uuid or (lambda: str(uuid.uuid4()))
        self.client = None
        self.seen: Counter[str] = Counter()
        self.received_ids: list[str] = []
        self.errors: list[dict] = []

    def attach(self, client) -> None:
        """Bind to a Hub client whose on_message/on_ack/on_info call this simulator."""
        self.client = client

    def on_message(self, delivery) -> None:
        try:
            received = unwrap(decode_hub_body(delivery.body, delivery.content_type))
        except BridgeError as exc:
            self.seen["invalid"] += 1
            log.warning("nexsis_sim_invalid_message", error=exc.message)
            return
        self.seen[received.payload_name] += 1
        self.received_ids.append(received.distribution_id)
        for reply in replies_for(received, self.rules, now=self.clock(), new_uuid=self.new_uuid):
            body = encode_hub_body(reply.message, self.content_type)
            if reply.delay:
                self.reactor.callLater(reply.delay, self._publish, body)
            else:
                self._publish(body)

    def on_ack(self, delivery) -> None:
        self.seen["reference-received"] += 1

    def on_info(self, delivery) -> None:
        self.seen["error-received"] += 1
        with contextlib.suppress(BridgeError):
            self.errors.append(unwrap(decode_hub_body(delivery.body, delivery.content_type)).payload)

    def _publish(self, body: bytes) -> defer.Deferred:
        d = defer.maybeDeferred(self.client.publish, body, content_type=self.content_type)
        d.addErrback(lambda f: log.warning("nexsis_sim_publish_failed", error=f.getErrorMessage()))
        return d
