"""The bridge's configuration: one frozen model, validated once at start.

Where values come from, lowest priority first (fedora-messaging style):

1. the defaults written in the models below (the one place defaults live);
2. a TOML file (``bridge run --config bridge.toml``), one table per section;
3. environment variables ``HUB_BRIDGE__<SECTION>__<KEY>``, e.g.
   ``HUB_BRIDGE__HUB__PORT=5671`` or ``HUB_BRIDGE__HTTP__REPLAY_TOKEN=...``
   (double underscores separate the parts, so they never clash with
   ``$HUB_BRIDGE_HOME`` and the other single-underscore variables).

Every section rejects unknown keys and lists the valid ones; every error names
the key, what was expected and what was found, and where the value came from
(file or variable). File checks (certificates readable, private key not
readable by others, directories present) run separately in
:func:`check_files`, so ``bridge config show`` works on a machine without the
certificates. ``docs/configuration.md`` is generated from this module by
``tools/gen_config_docs.py``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from bridge.core.errors import BridgeError, Issue
from bridge.core.hosts import is_loopback_host

ENV_PREFIX = "HUB_BRIDGE__"
ENV_SEPARATOR = "__"


class ConfigError(BridgeError):
    """The configuration is invalid; the CLI exits with code 3."""


class _Section(BaseModel):
    """Base of every section: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class BridgeSection(_Section):
    """Who this bridge is on the Hub."""

    client_id: str = Field(
        "fr.health.samu440",
        pattern=r"^[a-z0-9]+(\.[a-z0-9-]+)+$",
        description="Our Hub client ID (the certificate CN and routing key), e.g. `fr.health.samu440`.",
    )
    peer_id: str = Field(
        "fr.fire.nexsis.sdis44",
        pattern=r"^[a-z0-9]+(\.[a-z0-9-]+)+$",
        description="The Hub client ID messages from the legacy side are addressed to, e.g. `fr.fire.nexsis.sdis44`.",
    )
    instance: str = Field("bridge-1", min_length=1, description="Instance name shown in logs, metrics and the console.")


class HubSection(_Section):
    """How to reach the Hub Santé (or the embedded in-process Hub)."""

    mode: Literal["embedded", "amqp"] = Field(
        "embedded",
        description="`embedded`: in-process Hub emulator and simulated NexSIS peer, no broker or certificate; "
        "`amqp`: a real RabbitMQ Hub over TLS.",
    )
    host: str = Field("127.0.0.1", min_length=1, description="Broker host name or address.")
    port: int = Field(5671, ge=1, le=65535, description="Broker AMQPS port.")
    vhost: str = Field("/15-nexsis_v1.9", description="vHost of the perimeter and version, e.g. `/15-nexsis_v1.9`.")
    tls: bool = Field(True, description="Use TLS with a client certificate (SASL EXTERNAL). Plain AMQP only on loopback.")
    ca_file: Path | None = Field(None, description="CA bundle that signed the broker's certificate (PEM).")
    cert_file: Path | None = Field(None, description="Our client certificate (PEM); its CN must equal `bridge.client_id`.")
    key_file: Path | None = Field(None, description="Our private key (PEM); must not be readable by group or others.")
    server_hostname: str | None = Field(None, description="Name checked in the broker's certificate; unset means `host`.")
    username: str | None = Field(None, description="PLAIN login, only for a loopback test broker without TLS (`tls = false`).")
    password: SecretStr | None = Field(None, description="PLAIN password going with `username` (prefer the environment variable).")
    content_type: Literal["json", "xml"] = Field("json", description="Body format we publish (`application/json` or `application/xml`).")
    prefetch: int = Field(10, ge=1, le=1000, description="Unacknowledged deliveries the broker may push to us at once.")
    heartbeat: int = Field(30, ge=0, le=600, description="AMQP heartbeat in seconds (0 disables it).")
    reconnect_min_seconds: float = Field(1.0, gt=0, description="First reconnect delay after the broker connection drops.")
    reconnect_max_seconds: float = Field(60.0, gt=0, description="Upper bound of the jittered exponential reconnect delay.")
    rcref_deadline_seconds: float = Field(
        120.0, gt=0, description="A published message without its RC-REF acknowledgement after this delay is flagged overdue."
    )

    @model_validator(mode="after")
    def _reconnect_bounds(self) -> HubSection:
        if self.reconnect_max_seconds < self.reconnect_min_seconds:
            raise ValueError(
                f"reconnect_max_seconds ({self.reconnect_max_seconds}) is below reconnect_min_seconds "
                f"({self.reconnect_min_seconds})"
            )
        return self


class LegacySection(_Section):
    """The legacy 15-18 link to the LRM."""

    mode: Literal["tcp-server", "tcp-client", "file"] = Field(
        "tcp-server", description="`tcp-server`: the LRM connects to us; `tcp-client`: we connect to it; `file`: drop folders."
    )
    host: str = Field("127.0.0.1", min_length=1, description="Address we listen on (server) or connect to (client).")
    port: int = Field(15018, ge=0, le=65535, description="TCP port of the legacy link (0 picks a free one, for tests).")
    profile: str = Field(
        "lrm-alpha-text", min_length=1,
        description="Legacy dialect: the name of a profile shipped with the bridge (e.g. `lrm-alpha-text`; an unknown "
        "name is refused with the list) or the path of your own `.toml` profile (its XSD next to it).")
    inbox_dir: Path | None = Field(None, description="`file` mode: folder the LRM drops messages into.")
    outbox_dir: Path | None = Field(None, description="`file` mode: folder we write messages for the LRM into.")
    max_frame_bytes: int = Field(1_048_576, ge=1024, description="Largest legacy frame accepted; larger ones are refused.")
    allowed_peers: list[str] = Field(
        ["127.0.0.1", "::1"],
        description="`tcp-server`: addresses or networks (`10.1.2.3`, `10.1.2.0/24`) the LRM may connect from; "
        "any other connection is closed unread (comma-separated in the environment variable). Behind Docker's "
        "port publishing, a client on the host itself appears as the network's gateway. Not used in "
        "`tcp-client` mode (we dial the LRM).",
    )
    max_refused_frames: int = Field(
        20, ge=1, description="Refused (dead-lettered) frames in a row after which a connection is closed; "
        "what it still had queued becomes one dead letter.",
    )
    file_settle_seconds: float = Field(
        1.0, ge=0, description="`file` mode: a file is taken once its size and mtime stayed the same this long "
        "(on top of the `.tmp` + rename convention).",
    )
    handover_deadline_seconds: float = Field(
        60.0, gt=0, description="A Hub message not handed to the LRM within this many seconds raises the "
        "inbound-overdue alarm (ERROR log, `bridge_inbound_overdue`, console); it keeps waiting.",
    )

    @field_validator("allowed_peers", mode="before")
    @classmethod
    def _peers_are_addresses(cls, peers: Any) -> Any:
        import ipaddress

        if isinstance(peers, str):  # from the environment: "10.0.0.5,10.1.0.0/24"
            peers = [peer.strip() for peer in peers.split(",") if peer.strip()]
        if not isinstance(peers, list):
            return peers  # pydantic names the wrong type
        for peer in peers:
            if not isinstance(peer, str):
                continue
            try:
                ipaddress.ip_network(peer, strict=False)
            except ValueError:
                raise ValueError(f"allowed_peers: {peer!r} is not an IP address or network") from None
        return peers

    @model_validator(mode="after")
    def _file_mode_needs_dirs(self) -> LegacySection:
        if self.mode == "file" and (self.inbox_dir is None or self.outbox_dir is None):
            raise ValueError("mode 'file' needs both inbox_dir and outbox_dir")
        return self


class StoreSection(_Section):
    """The durable SQLite store (outbox, inbox, dead letters)."""

    path: Path | None = Field(None, description="SQLite file; unset means `$HUB_BRIDGE_HOME/bridge.sqlite3` (user data dir).")
    synchronous: Literal["FULL", "NORMAL"] = Field("FULL", description="SQLite `synchronous` pragma; FULL survives power loss.")
    max_pending: int = Field(10_000, ge=1, description="Outbox size at which the LRM gets the profile's nack (back-pressure).")
    retention_days: int = Field(
        30, ge=1, description="Finished messages older than this are purged by the running bridge (hourly) and by "
        "`bridge store purge` (failed and dead-lettered ones are kept).")

    def effective_path(self) -> Path:
        """The store file, defaulting to the user data directory."""
        from bridge.refdata.resources import default_store_path

        return self.path if self.path is not None else default_store_path()


class DeliverySection(_Section):
    """Retries of publishing to the Hub."""

    max_attempts: int = Field(8, ge=1, description="Publish attempts before a message is dead-lettered.")
    backoff_base: float = Field(1.0, gt=0, description="First retry delay in seconds; doubles at each attempt.")
    backoff_max: float = Field(300.0, gt=0, description="Upper bound of one retry delay in seconds.")
    jitter: float = Field(0.2, ge=0, le=1, description="Random spread of each delay, as a fraction of it.")


class MappingsSection(_Section):
    """CSV mapping tables."""

    dir: Path | None = Field(None, description="Mapping tables folder; unset means the tables shipped with the bridge "
                             "(package data, `mappings/` in a checkout).")
    reload_interval_seconds: float = Field(5.0, ge=0, description="How often to check the tables for changes (0: no hot reload).")


class NomenclaturesSection(_Section):
    """CISU code lists."""

    dir: Path | None = Field(None, description="Official code lists folder; unset means the release installed by "
                             "`bridge nomenclatures import`, if any; the lists shipped with the bridge always apply too.")


class SchemasSection(_Section):
    """Official schema bundle."""

    dir: Path | None = Field(None, description="Schema bundle folder; unset means the one installed by `bridge schemas install`.")
    version: str | None = Field(
        None, description="Installed bundle this link speaks (label, release such as `25.07.15`, or model version "
        "such as `1.9`); unset: the version in the vHost name (`/15-nexsis_v1.9` -> 1.9) when such a bundle is "
        "installed, else the default bundle.")


class ConfidentialitySection(_Section):
    """What of a case may reach a fire-side (`fr.fire.`) recipient (docs/confidentiality.md)."""

    allow_to_fire: list[str] = Field(
        default_factory=list, description="Fields the table marks `opt-in` that this deployment sends to the fire "
        "side anyway (e.g. `patients.sex`, `patients.age`); empty: none (the default).")
    basis: str = Field("", description="The documented basis for `allow_to_fire` (agreement, convention, legal "
                       "ground); required when `allow_to_fire` is not empty.")

    @model_validator(mode="after")
    def _basis_needed(self) -> ConfidentialitySection:
        if self.allow_to_fire and not self.basis.strip():
            raise ValueError("confidentiality.allow_to_fire needs confidentiality.basis (the documented ground)")
        return self


class HttpSection(_Section):
    """Metrics, health endpoints and the ops console."""

    enabled: bool = Field(True, description="Serve `/metrics`, `/healthz`, `/readyz` and the console.")
    bind: str = Field("127.0.0.1", description="Listen address; loopback by default, anything else must be set explicitly.")
    port: int = Field(9180, ge=0, le=65535, description="Listen port (0 picks a free one).")
    console: bool = Field(True, description="Serve the ops console at `/console`.")
    allow_replay: bool = Field(False, description="Let the console replay dead letters (also needs `replay_token`).")
    replay_token: SecretStr | None = Field(
        None, min_length=16, description="Bearer token the console's replay button must send (16+ characters)."
    )

    @model_validator(mode="after")
    def _replay_needs_token(self) -> HttpSection:
        if self.allow_replay and self.replay_token is None:
            raise ValueError("allow_replay = true needs a replay_token (set HUB_BRIDGE__HTTP__REPLAY_TOKEN)")
        try:
            ipaddress.ip_address(self.bind)
        except ValueError:
            if self.bind != "localhost":
                raise ValueError(f"bind must be an IP address, found {self.bind!r}") from None
        return self

    def is_loopback(self) -> bool:
        """True when only this machine can reach the HTTP server."""
        return is_loopback_host(self.bind)


class LoggingSection(_Section):
    """Log output."""

    format: Literal["auto", "json", "console"] = Field(
        "auto", description="`json` lines, coloured `console` key=value, or `auto` (console on a TTY, JSON otherwise)."
    )
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Lowest level written.")
    debug_health_data: bool = Field(
        False, description="Log patient/health content at debug level. Keep false in production."
    )


class BridgeConfig(_Section):
    """The whole configuration, one section per TOML table."""

    bridge: BridgeSection = Field(default_factory=BridgeSection, description="Identity on the Hub.")
    hub: HubSection = Field(default_factory=HubSection, description="Hub connection.")
    legacy: LegacySection = Field(default_factory=LegacySection, description="Legacy 15-18 link.")
    store: StoreSection = Field(default_factory=StoreSection, description="Durable store.")
    delivery: DeliverySection = Field(default_factory=DeliverySection, description="Publish retries.")
    mappings: MappingsSection = Field(default_factory=MappingsSection, description="Mapping tables.")
    nomenclatures: NomenclaturesSection = Field(default_factory=NomenclaturesSection, description="Code lists.")
    schemas: SchemasSection = Field(default_factory=SchemasSection, description="Schema bundle.")
    confidentiality: ConfidentialitySection = Field(default_factory=ConfidentialitySection,
                                                    description="Medical confidentiality towards the fire side.")
    http: HttpSection = Field(default_factory=HttpSection, description="HTTP endpoints.")
    logging: LoggingSection = Field(default_factory=LoggingSection, description="Logging.")

    @model_validator(mode="after")
    def _cross_checks(self) -> BridgeConfig:
        named = sorted(self.hub.model_fields_set & HUB_CONNECTION_KEYS)
        if named and "mode" not in self.hub.model_fields_set:
            # a config that names a Hub never falls back to the simulator because `mode` was forgotten
            raise ValueError(
                f"[hub] names a broker ({', '.join('hub.' + key for key in named)}) but hub.mode is not set: "
                "set hub.mode = \"amqp\" (or \"embedded\" for the in-process simulator)"
            )
        if self.bridge.client_id == self.bridge.peer_id:
            raise ValueError(f"bridge.peer_id equals bridge.client_id ({self.bridge.client_id!r})")
        if self.hub.mode == "amqp" and not self.hub.tls:
            if not is_loopback_host(self.hub.host):
                raise ValueError(f"hub.tls = false is only allowed for a loopback broker, found host {self.hub.host!r}")
            if self.hub.username is None or self.hub.password is None:
                raise ValueError("hub.tls = false needs hub.username and hub.password (PLAIN login)")
        return self

    def hub_client_settings(self):
        """The AMQP Hub client's settings (``bridge.edges.amqp.settings.HubClientSettings``) for this config."""
        from bridge.edges.amqp.settings import HubClientSettings

        hub = self.hub
        return HubClientSettings(
            host=hub.host, port=hub.port, vhost=hub.vhost, tls=hub.tls,
            ca_cert=hub.ca_file, cert=hub.cert_file, key=hub.key_file, server_hostname=hub.server_hostname,
            username=hub.username, password=hub.password.get_secret_value() if hub.password else None,
            heartbeat=hub.heartbeat, reconnect_initial=hub.reconnect_min_seconds, reconnect_max=hub.reconnect_max_seconds,
            client_id=self.bridge.client_id, content_type=f"application/{hub.content_type}", prefetch=hub.prefetch,
        )


HUB_CONNECTION_KEYS = frozenset({"host", "port", "ca_file", "cert_file", "key_file", "server_hostname",
                                  "username", "password"})


def embedded_is_explicit(config: BridgeConfig) -> bool:
    """True when ``hub.mode`` was written in the file or environment, not left to its default."""
    return "mode" in config.hub.model_fields_set


SECTIONS: dict[str, type[_Section]] = {
    name: field.default_factory for name, field in BridgeConfig.model_fields.items()  # type: ignore[misc]
}


def env_var_name(section: str, key: str) -> str:
    """The environment variable overriding ``[section] key``."""
    return f"{ENV_PREFIX}{section.upper()}{ENV_SEPARATOR}{key.upper()}"


def load_config(path: Path | None, env: Mapping[str, str] | None = None, *, check: bool = True) -> BridgeConfig:
    """Defaults, then the TOML file, then ``HUB_BRIDGE__SECTION__KEY`` variables; raise ConfigError.

    With ``check`` (the default) the certificate and directory checks of
    :func:`check_files` run too, as ``bridge run`` needs them.
    """
    env = os.environ if env is None else env
    data, origins = _read_toml(path) if path is not None else ({}, {})
    _overlay_env(data, origins, env)
    try:
        config = BridgeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_where(path) + " is invalid", _issues_from(exc, origins)) from None
    if check:
        issues = check_files(config)
        if issues:
            raise ConfigError(_where(path) + " refers to unusable files", issues)
    return config


def _where(path: Path | None) -> str:
    return f"configuration {path}" if path is not None else "configuration (defaults + environment)"


def _read_toml(path: Path) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"configuration {path} is not valid TOML: {exc}") from None
    origins = {(section, key): str(path) for section, table in data.items() if isinstance(table, dict) for key in table}
    return data, origins


def _overlay_env(data: dict[str, Any], origins: dict[tuple[str, ...], str], env: Mapping[str, str]) -> None:
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = name[len(ENV_PREFIX) :].lower().split(ENV_SEPARATOR)
        if len(parts) != 2 or not all(parts):
            raise ConfigError(
                f"environment variable {name}: expected {ENV_PREFIX}<SECTION>{ENV_SEPARATOR}<KEY>",
                [Issue(name, f"valid sections: {', '.join(SECTIONS)}", "config-env")],
            )
        section, key = parts
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"environment variable {name}: [{section}] is not a table in the file")
        table[key] = env[name]
        origins[(section, key)] = f"${name}"


def _issues_from(exc: ValidationError, origins: Mapping[tuple[str, ...], str]) -> list[Issue]:
    return [_issue_from(error, origins) for error in exc.errors(include_url=False)]


def _issue_from(error: Mapping[str, Any], origins: Mapping[tuple[str, ...], str]) -> Issue:
    loc = tuple(str(part) for part in error["loc"])
    key = ".".join(loc) or "(top level)"
    origin = origins.get(loc[:2])
    source = f" (from {origin})" if origin else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        return Issue(key, f"unknown key{source}; valid keys: {', '.join(_valid_keys(loc))}", "config-unknown-key")
    found = error.get("input")
    shown = "***" if "token" in key else repr(found)
    message = str(error["msg"])
    if kind not in ("value_error", "assertion_error") and not isinstance(found, dict):
        message = f"{message}; found {shown}"
    return Issue(key, message.removeprefix("Value error, ") + source, "config-invalid")


def _valid_keys(loc: tuple[str, ...]) -> list[str]:
    if len(loc) <= 1:
        return list(SECTIONS)
    section = SECTIONS.get(loc[0])
    return list(section.model_fields) if section else list(SECTIONS)


def with_overrides(config: BridgeConfig, overrides: Mapping[str, Any]) -> BridgeConfig:
    """``config`` with dotted keys replaced (``{"http.allow_replay": True}``), validated again.

    For command-line flags such as ``bridge run --allow-replay``: the result obeys the
    same rules as a file (a replay token is still required), and errors name the flag's key.
    """
    data = config.model_dump()
    origins: dict[tuple[str, ...], str] = {}
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        if section not in SECTIONS or key not in SECTIONS[section].model_fields:
            raise ConfigError(f"unknown configuration key {dotted!r}", [Issue(dotted, "unknown key", "config-unknown-key")])
        data[section][key] = value
        origins[(section, key)] = "the command line"
    for section in data.values():  # model_dump masks nothing: SecretStr objects validate as themselves
        section.update({k: v.get_secret_value() for k, v in section.items() if isinstance(v, SecretStr)})
    try:
        return BridgeConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("configuration with command-line overrides is invalid", _issues_from(exc, origins)) from None


def check_files(config: BridgeConfig) -> list[Issue]:
    """Problems with the files the configuration points at (certificates, folders)."""
    issues: list[Issue] = []
    if config.hub.mode == "amqp" and config.hub.tls:
        for key in ("ca_file", "cert_file", "key_file"):
            issues += _check_readable_file(f"hub.{key}", getattr(config.hub, key))
        if config.hub.key_file is not None and not issues:
            issues += _check_key_permissions(config.hub.key_file)
    issues += _check_profile(config.legacy.profile)
    for key, folder in (
        ("legacy.inbox_dir", config.legacy.inbox_dir),
        ("legacy.outbox_dir", config.legacy.outbox_dir),
        ("mappings.dir", config.mappings.dir),
        ("nomenclatures.dir", config.nomenclatures.dir),
        ("schemas.dir", config.schemas.dir),
    ):
        if folder is not None and not folder.is_dir():
            issues.append(Issue(key, f"folder {folder} does not exist", "config-missing-dir"))
    if config.schemas.version and config.schemas.dir is None:
        from bridge.refdata.bundle import find_installed

        if find_installed(config.schemas.version) is None:
            issues.append(Issue("schemas.version", f"no installed schema bundle matches {config.schemas.version!r} "
                                "(see `bridge schemas list`)", "config-missing-bundle"))
    return issues


def _check_profile(name: str) -> list[Issue]:
    """The legacy profile must exist (shipped name or a .toml path); the message lists the known ones."""
    from bridge.refdata.profiles import profile_path

    try:
        profile_path(name)
    except BridgeError as exc:
        known = "; ".join(issue.message for issue in exc.issues)
        return [Issue("legacy.profile", f"{exc.message}; {known}", "config-unknown-profile")]
    return []


def _check_readable_file(key: str, path: Path | None) -> list[Issue]:
    if path is None:
        return [Issue(key, "required when hub.mode = 'amqp' with TLS; found nothing", "config-missing-file")]
    if not path.is_file():
        return [Issue(key, f"file {path} does not exist", "config-missing-file")]
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        return [Issue(key, f"file {path} is unreadable: {exc.strerror or exc}", "config-unreadable-file")]
    return []


def _check_key_permissions(path: Path) -> list[Issue]:
    """Use the security module's check when it is installed (it names the mode and the chmod fix)."""
    try:
        from bridge.runtime.security import check_private_key_permissions
    except ImportError:
        return _fallback_key_permissions(path)
    try:
        check_private_key_permissions(path)
    except BridgeError as exc:
        return exc.issues or [Issue("hub.key_file", exc.message, "config-key-permissions")]
    except (OSError, ValueError) as exc:
        return [Issue("hub.key_file", str(exc), "config-key-permissions")]
    return []


def _fallback_key_permissions(path: Path) -> list[Issue]:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        return [
            Issue("hub.key_file", f"{path} has mode {mode:o}: readable by others; run chmod 600 {path}", "config-key-permissions")
        ]
    return []


def redacted_dump(config: BridgeConfig) -> dict[str, dict[str, Any]]:
    """The effective configuration as plain data, secrets masked, unset keys left out (TOML has no null)."""
    dumped = config.model_dump(mode="json")
    return {
        section: {key: value for key, value in table.items() if value is not None}
        for section, table in dumped.items()
    }
