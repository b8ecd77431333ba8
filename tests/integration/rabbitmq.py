"""Test helpers for the real-broker tests: client settings, raw publishing, queue readers."""

from __future__ import annotations

import json
import queue
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pika
from twisted.internet import defer

from bridge.edges.amqp.connection import connect
from bridge.edges.amqp.consumer import Delivery
from bridge.edges.amqp.settings import AmqpConnectionSettings, HubClientSettings
from bridge.testing.rabbitmq import Broker

if TYPE_CHECKING:
    from bridge.runtime.config import BridgeConfig

VHOST = "/15-nexsis_v1.9"
SAMU, SDIS = "fr.health.samu440", "fr.fire.nexsis.sdis44"
EXPIRED, STRANGER = "fr.health.samu-expired", "fr.health.samu-stranger"
CLIENTS = [SAMU, SDIS]


def client_settings(broker: Broker, client_id: str, **overrides) -> HubClientSettings:
    """TLS + EXTERNAL settings for ``client_id`` using the test CA's files."""
    values = dict(
        host="127.0.0.1", port=broker.amqps_port, vhost=VHOST, client_id=client_id,
        ca_cert=broker.ca.ca_cert, cert=broker.ca.client_cert(client_id), key=broker.ca.client_key(client_id),
        reconnect_initial=0.1, reconnect_max=0.5, reconnect_attempts=0, heartbeat=10, connect_timeout=10,
        shutdown_timeout=10,
    )
    values.update(overrides)
    return HubClientSettings(**values)


def admin_settings(broker: Broker) -> AmqpConnectionSettings:
    """The emulator's privileged PLAIN link on the loopback non-TLS port."""
    return AmqpConnectionSettings(host="127.0.0.1", port=broker.amqp_port, vhost=VHOST, tls=False,
                                  username=broker.admin_user, password=broker.admin_password,
                                  reconnect_initial=0.1, reconnect_max=1.0)


class Inbox:
    """A thread-safe mailbox a consumer callback fills and a test reads with a bounded wait."""

    def __init__(self) -> None:
        self._items: queue.Queue[Delivery] = queue.Queue()

    def __call__(self, delivery: Delivery) -> None:
        self._items.put(delivery)

    def get(self, timeout: float = 20) -> Delivery:
        try:
            return self._items.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"nothing received within {timeout} s") from None

    def get_json(self, timeout: float = 20) -> dict:
        return json.loads(self.get(timeout).body)


@dataclass
class RawLink:
    """A bare connection + channel, to publish what a well-behaved client never would."""

    connection: object
    channel: object

    @classmethod
    @defer.inlineCallbacks
    def open(cls, settings: AmqpConnectionSettings, reactor):
        connection = yield connect(settings, reactor)
        channel = yield connection.channel()
        return cls(connection, channel)

    def publish(self, body: bytes, routing_key: str, *, exchange: str = "hubsante",
                content_type: str | None = "application/json", delivery_mode: int | None = 2):
        properties = pika.BasicProperties(content_type=content_type, delivery_mode=delivery_mode)
        return self.channel.basic_publish(exchange, routing_key, body, properties=properties)

    def close(self):
        if self.connection.is_open:
            closed = self.connection.closed
            self.connection.close()
            return closed
        return None


def bridge_config(broker: Broker, tmp_path: Path, *, hub: dict[str, Any] | None = None,
                  http: dict[str, Any] | None = None) -> BridgeConfig:
    """A bridge in AMQP mode on the test broker (client certificate of SAMU), TCP legacy server on a free port."""
    from bridge.runtime.config import BridgeConfig

    return BridgeConfig.model_validate({
        "bridge": {"client_id": SAMU, "peer_id": SDIS},
        "hub": {"mode": "amqp", "host": "127.0.0.1", "port": broker.amqps_port, "vhost": VHOST,
                "ca_file": str(broker.ca.ca_cert), "cert_file": str(broker.ca.client_cert(SAMU)),
                "key_file": str(broker.ca.client_key(SAMU)), "reconnect_min_seconds": 0.2,
                "reconnect_max_seconds": 1.0, **(hub or {})},
        "legacy": {"mode": "tcp-server", "host": "127.0.0.1", "port": 0, "profile": "lrm-alpha-text"},
        "store": {"path": str(tmp_path / "bridge.sqlite3")},
        "http": http or {"enabled": False},
        "mappings": {"reload_interval_seconds": 0},
    })
