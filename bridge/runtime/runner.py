"""Assemble a running bridge from a :class:`bridge.runtime.config.BridgeConfig`.

``bridge run`` and ``bridge demo`` both go through :func:`start_bridge`. With
``hub.mode = "embedded"`` (the default, no config file needed) the Hub is the
in-process emulator and a simulated NexSIS peer answers on it; with
``"amqp"`` the bridge connects to a real broker with mTLS and EXTERNAL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from twisted.internet import defer

from bridge.app.clock import utc_now
from bridge.app.service import BridgeService, ServiceSettings
from bridge.core.delivery import RetryPolicy
from bridge.core.errors import BridgeError, Issue
from bridge.refdata.resources import project_dir
from bridge.runtime.config import BridgeConfig
from bridge.sim.nexsis_rules import PeerRules

log = structlog.get_logger("bridge.runtime.runner")

CONTENT_TYPES = {"json": "application/json", "xml": "application/xml"}


@dataclass
class RunningBridge:
    """Handles on everything started, for the demo, tests and a clean shutdown."""

    config: BridgeConfig
    service: BridgeService
    store: Any
    hub_client: Any
    link: Any
    reloader: Any
    metrics: Any
    in_process_hub: Any = None
    simulator: Any = None
    simulator_client: Any = None
    http_port: Any = None
    extra: dict = field(default_factory=dict)

    @property
    def legacy_port(self) -> int | None:
        port = getattr(self.link, "port", None)
        return port.getHost().port if port is not None else None

    @property
    def http_url(self) -> str | None:
        """Base URL of the HTTP server (``/console``, ``/readyz``...), or None when it is disabled."""
        if self.http_port is None:
            return None
        host = self.config.http.bind
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        shown = f"[{shown}]" if ":" in shown else shown
        return f"http://{shown}:{self.http_port.getHost().port}"

    def banner(self) -> str:
        """What ``bridge run`` prints once started: where the links and the console are, and any warning."""
        config = self.config
        hub = ("EMBEDDED (in-process simulated Hub and NexSIS)" if config.hub.mode == "embedded"
               else f"amqp {config.hub.host}:{config.hub.port} vhost {config.hub.vhost}")
        legacy = (f"{config.legacy.mode} {config.legacy.host}:{self.legacy_port}" if self.legacy_port is not None
                  else f"{config.legacy.mode}")
        lines = [f"hub-bridge {config.bridge.instance} started as {config.bridge.client_id}",
                 f"  hub      {hub}",
                 f"  legacy   {legacy} (profile {config.legacy.profile})"]
        if self.http_url is not None:
            console = f"{self.http_url}/console" if config.http.console else "disabled (http.console = false)"
            lines += [f"  console  {console}", f"  health   {self.http_url}/healthz  {self.http_url}/readyz"]
        lines += [f"  WARNING  {warning}" for warning in mode_warnings(config)]
        return "\n".join(lines)

    @defer.inlineCallbacks
    def stop(self):
        """Stop taking work, let in-flight publishes settle, close everything (bounded)."""
        self.service.stop()
        yield self.link.close()
        for client in (self.hub_client, self.simulator_client):
            if client is not None:
                yield client.stop()
        if self.http_port is not None:
            yield self.http_port.stopListening()
        if self.reloader is not None:
            self.reloader.stop()
        self.store.close()


EMBEDDED_WARNING = ("embedded mode: the Hub and NexSIS are simulated in this process; "
                    "nothing the LRM sends reaches a real Hub")


def mode_warnings(config: BridgeConfig) -> list[str]:
    """Warnings an operator must see on every start, in /readyz and in the console."""
    return [EMBEDDED_WARNING] if config.hub.mode == "embedded" else []


class PortInUseError(BridgeError):
    """A listening port could not be opened; the message names the setting to change."""


def _listen_error(what: str, host: str, port: int, key: str, exc: Exception) -> PortInUseError:
    variable = "HUB_BRIDGE__" + key.upper().replace(".", "__")
    reason = getattr(exc, "socketError", None) or exc
    return PortInUseError(f"cannot listen for the {what} on {host}:{port}: {reason}",
                          [Issue(key, f"change {key} (or ${variable}), or stop what holds the port", "port-in-use")])


def _payload_validator(bundle):
    """Validate produced payloads against the official JSON Schema when a bundle is installed."""
    if bundle is None:
        return None

    def validate(name: str, payload: dict):
        return bundle.json_validator(name).issues(payload, f"/{name}")

    return validate


def _schema_version(config: BridgeConfig) -> str | None:
    """``[schemas] version``, else the vHost's ``_vX.Y`` when a bundle of that model version is installed."""
    from bridge.refdata.bundle import find_installed, version_of_vhost

    if config.schemas.version or config.schemas.dir:
        return config.schemas.version
    from_vhost = version_of_vhost(config.hub.vhost)
    return from_vhost if from_vhost and find_installed(from_vhost) is not None else None


def _message_validator(schemas):
    from bridge.refdata import hub_codec as codec

    return lambda body: codec.validate(body, schemas=schemas)


@defer.inlineCallbacks
def start_bridge(config: BridgeConfig, reactor, *, peer_rules: PeerRules | None = None):
    """Open the store, load tables, connect the Hub, open the legacy link; fires with a RunningBridge."""
    from bridge.app.translator import LiveMappings, PipelineTranslator
    from bridge.core.adapters.base import AdapterContext
    from bridge.edges.metrics import BridgeMetrics
    from bridge.edges.store.sqlite import Store
    from bridge.refdata.adapters import installed_adapters
    from bridge.refdata.bundle import resolve_bundle
    from bridge.refdata.mapping_loader import MappingReloader
    from bridge.refdata.nomenclature_store import load_nomenclatures
    from bridge.refdata.profiles import HubCodec, labels_of, load_profile, new_uuid, new_uuid7

    bridge_id, peer_id = config.bridge.client_id, config.bridge.peer_id
    store = Store.open(config.store.effective_path(), synchronous=config.store.synchronous, max_pending=config.store.max_pending)
    nomenclatures = load_nomenclatures(config.nomenclatures.dir)
    reloader = MappingReloader(config.mappings.dir or project_dir("mappings"), nomenclatures)
    if config.mappings.reload_interval_seconds > 0:
        reloader.start(interval=config.mappings.reload_interval_seconds, clock=reactor)
    profile = load_profile(config.legacy.profile)
    bundle = resolve_bundle(config.schemas.dir, version=_schema_version(config))
    schemas = bundle.path if bundle is not None else None  # every message of this link: one model line
    from bridge.refdata.confidentiality_store import load_policy

    policy = load_policy(config.mappings.dir, config.confidentiality.allow_to_fire, config.confidentiality.basis)
    ctx = AdapterContext(now=utc_now(), new_id=new_uuid, mappings=LiveMappings(reloader.current),
                         sender_id=bridge_id, recipient_id=peer_id, labels=labels_of(nomenclatures),
                         nomenclatures=nomenclatures, codec=HubCodec(schemas), adapters=installed_adapters(),
                         confidentiality=policy)
    translator = PipelineTranslator(profile, ctx, clock=utc_now, validator=_payload_validator(bundle))
    retry = RetryPolicy(base=config.delivery.backoff_base, max_delay=config.delivery.backoff_max,
                        max_attempts=config.delivery.max_attempts, jitter=config.delivery.jitter)
    settings = ServiceSettings(client_id=bridge_id, recipient_id=peer_id,
                               content_type=CONTENT_TYPES[config.hub.content_type],
                               rcref_deadline=timedelta(seconds=config.hub.rcref_deadline_seconds), retry=retry,
                               handover_deadline=timedelta(seconds=config.legacy.handover_deadline_seconds),
                               retention=timedelta(days=config.store.retention_days))
    from bridge.edges.http.provider import StoreConsoleProvider
    from bridge.edges.http.wiring import MappingCoverage

    hub_client_ref: list = [None]  # filled once the Hub client exists; metrics may ask before

    def broker_connected() -> bool:
        client = hub_client_ref[0]
        return client is not None and client.state == "connected"

    provider = StoreConsoleProvider(store, clock=utc_now, coverage_fn=MappingCoverage(reloader),
                                    broker_connected=broker_connected, mapping_version=lambda: reloader.version,
                                    instance=config.bridge.instance, warnings=mode_warnings(config),
                                    handover_deadline=timedelta(seconds=config.legacy.handover_deadline_seconds),
                                    case_prefix=bridge_id, encodings={profile.name: profile.encoding},
                                    usage_fn=translator.usage.snapshot, try_frame_fn=translator.preview)
    metrics = BridgeMetrics(snapshot=provider.metrics_snapshot, broker_connected=broker_connected)
    # the bridge's own distributionIDs are time-ordered (new_uuid7): each new message lands at the end of the store's
    # distributionID index instead of on a random leaf; the case objects' ids (new_id above) stay version 4
    service = BridgeService(settings, reactor=reactor, store=store, translator=translator, metrics=metrics,
                            new_uuid=new_uuid7)
    running = RunningBridge(config=config, service=service, store=store, hub_client=None, link=None,
                            reloader=reloader, metrics=metrics, extra={"provider": provider,
                                                                       "broker_connected": broker_connected})
    handlers = dict(on_message=service.on_hub_message, on_ack=service.on_hub_ack, on_info=service.on_hub_info)
    if config.hub.mode == "embedded":
        _start_embedded_hub(running, reactor, handlers, peer_rules or PeerRules(own_id=peer_id), schemas)
    else:
        running.hub_client = _amqp_client(config, reactor, handlers)
    hub_client_ref[0] = running.hub_client
    try:
        running.link = _open_legacy_link(config, profile, service, reactor)
    except PortInUseError:
        reloader.stop()
        store.close()
        raise
    service.attach(hub=running.hub_client, legacy=running.link)
    metrics.set_mapping_version(reloader.version or "")
    service.start()
    try:
        running.http_port = _start_http(config, reactor, running)  # /healthz answers even while the Hub is away
    except PortInUseError:
        yield running.stop()  # release the legacy port and the store before saying why
        raise
    if running.simulator_client is not None:
        yield running.simulator_client.start()
    connected = running.hub_client.start()
    if config.hub.mode == "embedded":
        yield connected
    else:
        # A broker that is down at start must not stop the bridge from taking LRM frames into
        # its outbox; the client keeps reconnecting and /readyz says "broker_connected": false.
        connected.addErrback(lambda failure: log.error("hub_connect_failed", error=failure.getErrorMessage()))
    service.flush_inbox()
    for warning in mode_warnings(config):
        log.warning("embedded_mode", warning=warning, instance=config.bridge.instance)
    log.info("bridge_started", client_id=bridge_id, hub=config.hub.mode, legacy=config.legacy.mode,
             legacy_port=running.legacy_port, profile=profile.name)
    return running


def _start_embedded_hub(running: RunningBridge, reactor, handlers: dict, rules: PeerRules, schemas) -> None:
    from bridge.sim.inprocess_hub import InProcessHub
    from bridge.sim.nexsis_sim import NexsisSimulator

    config = running.config
    hub = InProcessHub([config.bridge.client_id, rules.own_id], _message_validator(schemas), reactor=reactor)
    simulator = NexsisSimulator(rules, reactor)
    sim_client = hub.client(rules.own_id, on_message=simulator.on_message, on_ack=simulator.on_ack,
                            on_info=simulator.on_info)
    simulator.attach(sim_client)
    running.in_process_hub, running.simulator, running.simulator_client = hub, simulator, sim_client
    running.hub_client = hub.client(config.bridge.client_id, **handlers)


def _amqp_client(config: BridgeConfig, reactor, handlers: dict):
    from bridge.edges.amqp.client import HubClient

    return HubClient(config.hub_client_settings(), reactor, **handlers)


def _open_legacy_link(config: BridgeConfig, profile, service: BridgeService, reactor):
    legacy = config.legacy
    max_frame = min(profile.max_frame, legacy.max_frame_bytes)
    if legacy.mode == "file":
        from bridge.edges.filedrop import FileDropLink

        link = FileDropLink(service, inbox=legacy.inbox_dir, outbox=legacy.outbox_dir, max_bytes=max_frame,
                            settle_seconds=legacy.file_settle_seconds)
        link.start(reactor)
        return link
    from bridge.edges.tcp.link import LegacyLink

    link = LegacyLink(service, framing=profile.framing, max_frame=max_frame, allowed_peers=legacy.allowed_peers,
                      max_refused_frames=legacy.max_refused_frames)
    if legacy.mode == "tcp-server":
        from twisted.internet.error import CannotListenError

        try:
            link.listen(reactor, legacy.host, legacy.port)
        except CannotListenError as exc:
            raise _listen_error("legacy link", legacy.host, legacy.port, "legacy.port", exc) from None
    else:
        link.connect(reactor, legacy.host, legacy.port)
    return link


def _start_http(config: BridgeConfig, reactor, running: RunningBridge):
    if not config.http.enabled:
        return None
    from bridge.edges.http.server import start_http
    from bridge.edges.http.wiring import readiness_checks

    checks = readiness_checks(store=running.store, broker_connected=running.extra["broker_connected"],
                              reloader=running.reloader)
    liveness = {}
    link_healthy = getattr(running.link, "healthy", None)
    if link_healthy is not None:  # the file-drop poll loop: a stalled loop fails /healthz and /readyz
        liveness["legacy_file_polling"] = link_healthy
        checks = {**checks, **liveness}
    from twisted.internet.error import CannotListenError

    try:
        return start_http(reactor, config.http, metrics=running.metrics, checks=checks,
                          provider=running.extra["provider"], liveness=liveness,
                          notes={"hub_mode": config.hub.mode, "warnings": mode_warnings(config)})
    except CannotListenError as exc:
        raise _listen_error("HTTP endpoints", config.http.bind, config.http.port, "http.port", exc) from None
