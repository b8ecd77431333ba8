"""Give a RabbitMQ node the Hub Santé topology, through the management HTTP API.

Per vHost (one per perimeter and version, e.g. ``/15-nexsis_v1.9``):

- exchanges ``hubsante`` (topic), ``distribution`` (direct), ``distribution.dlx`` (fanout);
- queue ``dispatch`` bound with ``#`` on ``hubsante``; ``dispatch.dlq`` bound on ``distribution.dlx``;
- per client ``{id}.message|.ack|.info`` (24 h TTL, dead-lettered to ``distribution.dlx``),
  bound on ``distribution`` with the queue name as routing key;
- a user per client ID with no password (only EXTERNAL can log it in) and the
  Hub's permissions: configure nothing, write ``hubsante`` only, read its own queues.

Every call is an idempotent PUT/POST, so provisioning twice is harmless.
Blocking I/O: call it before the reactor runs, or from a thread.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

DAY_MS = 24 * 3600 * 1000
QUEUE_KINDS = ("message", "ack", "info")
EXCHANGES = {"hubsante": "topic", "distribution": "direct", "distribution.dlx": "fanout"}


class ProvisionError(RuntimeError):
    """The management API refused a call; the message names the call and the answer."""


@dataclass(frozen=True)
class ManagementApi:
    """A tiny client of the RabbitMQ management HTTP API (admin credentials, loopback)."""

    base_url: str
    user: str = "guest"
    password: str = "guest"
    timeout: float = 30

    def call(self, method: str, path: str, body: object | None = None) -> object | None:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url.rstrip("/") + "/api/" + path, data=data, method=method)
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise ProvisionError(f"{method} /api/{path}: HTTP {exc.code} {exc.read()[:300]!r}") from exc
        except OSError as exc:
            raise ProvisionError(f"{method} /api/{path}: {exc}") from exc
        return json.loads(raw) if raw else None


def _q(name: str) -> str:
    return quote(name, safe="")


def client_queues(client_id: str) -> list[str]:
    return [f"{client_id}.{kind}" for kind in QUEUE_KINDS]


def provision(api: ManagementApi, vhost: str, clients: Iterable[str]) -> None:
    """Create the vHost, the Hub exchanges and queues, and a user with the Hub's rights per client."""
    v = _q(vhost)
    api.call("PUT", f"vhosts/{v}", {})
    api.call("PUT", f"permissions/{v}/{_q(api.user)}", {"configure": ".*", "write": ".*", "read": ".*"})
    for name, kind in EXCHANGES.items():
        api.call("PUT", f"exchanges/{v}/{_q(name)}", {"type": kind, "durable": True})
    _queue(api, v, "dispatch", {})
    _queue(api, v, "dispatch.dlq", {})
    _bind(api, v, "hubsante", "dispatch", "#")
    _bind(api, v, "distribution.dlx", "dispatch.dlq", "")
    for client in clients:
        add_client(api, vhost, client)


def add_client(api: ManagementApi, vhost: str, client_id: str) -> None:
    """Queues, bindings, password-less user and permissions for one client ID."""
    v = _q(vhost)
    for queue in client_queues(client_id):
        _queue(api, v, queue, {"x-message-ttl": DAY_MS, "x-dead-letter-exchange": "distribution.dlx"})
        _bind(api, v, "distribution", queue, queue)
    api.call("PUT", f"users/{_q(client_id)}", {"password_hash": "", "tags": ""})
    own_queues = "^" + re.escape(client_id) + r"\.(message|ack|info)$"
    api.call("PUT", f"permissions/{v}/{_q(client_id)}", {"configure": "^$", "write": "^hubsante$", "read": own_queues})


def _queue(api: ManagementApi, v: str, name: str, arguments: dict) -> None:
    api.call("PUT", f"queues/{v}/{_q(name)}", {"durable": True, "auto_delete": False, "arguments": arguments})


def _bind(api: ManagementApi, v: str, exchange: str, queue: str, key: str) -> None:
    api.call("POST", f"bindings/{v}/e/{_q(exchange)}/q/{_q(queue)}", {"routing_key": key})


def vhost_name(perimeter: str, version: str) -> str:
    """``("15-nexsis", "1.9")`` -> ``/15-nexsis_v1.9``, the Hub's naming."""
    return f"/{perimeter}_v{version}"
