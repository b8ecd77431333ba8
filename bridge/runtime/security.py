"""Start-up refusals and log hygiene.

The bridge refuses to start with a private key other users could read, or with
plain AMQP to a broker that is not on this machine. Two structlog processors
keep logs safe to ship to a central log server: :func:`redact_secrets` masks
credentials wherever they appear, and :func:`limit_health_data` keeps message
lines to identifiers and operational facts (health data stays in the store,
where access is controlled) unless the operator turned ``debug_health_data``
on, and then only on debug-level lines.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bridge.core.errors import BridgeError, Issue
from bridge.core.hosts import is_loopback_host

__all__ = [
    "MASK",
    "MAX_LOGGED_CHARS",
    "WITHHELD",
    "InsecureSetup",
    "LimitHealthData",
    "LogHygiene",
    "check_private_key_permissions",
    "check_tls_required",
    "cut_long",
    "is_loopback_host",
    "limit_health_data",
    "redact_secrets",
]

MASK = "***"
WITHHELD = "[withheld]"

Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]


class InsecureSetup(BridgeError):
    """The configuration would expose keys or traffic; the CLI exits with code 3."""


# -- start-up checks --------------------------------------------------------------------------
def check_private_key_permissions(path: str | Path, *, key: str = "hub.key_file") -> None:
    """Refuse a private key file that its group or other users can access.

    ``key`` names the configuration key in the error, so the operator knows what to fix.
    """
    target = Path(path)
    try:
        info = target.stat()
    except FileNotFoundError:
        raise InsecureSetup(f"{key}: private key {target} does not exist",
                            [Issue(key, f"file {target} does not exist", "config-missing-file")]) from None
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        message = (f"private key {target} has mode {mode:04o} (group/others may access it);"
                   f" run: chmod 600 {target}")
        raise InsecureSetup(f"{key}: {message}", [Issue(key, message, "config-key-permissions")])


def check_tls_required(host_or_url: str, tls: bool, *, key: str = "hub.tls") -> None:
    """Refuse plain AMQP to a non-loopback broker. An ``amqps://`` URL counts as TLS."""
    host = host_or_url
    if "://" in host_or_url:
        parts = urlsplit(host_or_url)
        tls = tls or parts.scheme.lower() == "amqps"
        host = parts.hostname or ""
    if not tls and not is_loopback_host(host):
        message = (f"plain AMQP (no TLS) to {host!r} is refused: only a loopback broker may be reached"
                   " without TLS; set hub.tls = true with the CA, certificate and key")
        raise InsecureSetup(f"{key}: {message}", [Issue(key, message, "config-tls-required")])


# -- secrets ----------------------------------------------------------------------------------
_SECRET_WORDS = frozenset({
    "password", "passwd", "pwd", "passphrase", "secret", "token", "authorization", "auth", "cookie",
    "credential", "credentials", "apikey",
})
_SECRET_NAMES = frozenset({"key", "private_key", "api_key", "secret_key", "access_key", "key_data", "pem"})
# Every pattern below runs in time linear in the text (a log line may quote a 200 kB field
# sent by anyone): the URL pattern may only *start* at the beginning of a run of scheme
# characters (the look-behind fails in one step elsewhere), where ``[a-z][a-z0-9+.-]*://``
# was retried from every letter of a run and took 18 s on 40,000 letters. The scheme is
# then the run from its first letter, exactly what the old pattern masked.
_URL_CREDENTIALS = re.compile(
    r"(?<![a-z0-9+.-])(?P<run>[a-z0-9+.-]+)://(?P<user>[^:/@\s]+):(?P<pw>[^@/\s]+)@", re.IGNORECASE)
_BEARER = re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL)
_SCHEME_LEAD = "0123456789+.-"
_CREDENTIAL_HINT = re.compile(r"://|bearer|basic|-----BEGIN ", re.IGNORECASE)  # what each pattern above contains

#: A logged string (or bytes) value longer than this is cut, after redaction, and the cut said:
#: ``...[cut 198000 of 200000 chars]``. One log line can then cost at most a few kB and a few ms.
MAX_LOGGED_CHARS = 2048


_KEY_WORDS = re.compile(r"[^a-z0-9]+")
_CACHED_KEY_CHARS = 64  # key names up to this long have their verdict cached (the bridge's own, repeated per line)
_MAX_CACHED_KEYS = 1024  # ... and at most this many names: a peer choosing key names cannot grow the cache
_SECRET_VERDICTS: dict[str, bool] = {}


def _is_secret_key(name: str) -> bool:
    verdict = _SECRET_VERDICTS.get(name)
    if verdict is None:
        verdict = _secret_name(name)
        if len(name) <= _CACHED_KEY_CHARS and len(_SECRET_VERDICTS) < _MAX_CACHED_KEYS:
            _SECRET_VERDICTS[name] = verdict
    return verdict


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    words = set(_KEY_WORDS.split(lowered))
    return lowered in _SECRET_NAMES or bool(words & _SECRET_WORDS) or lowered.endswith(("_secret", "_token"))


def _mask_url(match: re.Match[str]) -> str:
    run = match["run"]
    scheme = run.lstrip(_SCHEME_LEAD)
    if not scheme:  # a scheme starts with a letter: "123://a:b@" is not a URL with credentials
        return match[0]
    return f"{run}://{match['user']}:{MASK}@"


def _has_credential_hint(text: str) -> bool:
    """Whether ``_CREDENTIAL_HINT`` finds something in ``text``: the same answer, faster on ASCII text.

    The case-insensitive regex costs ~20 ns a character; on ASCII text (every id, state and
    code the bridge logs) its matches are exactly those of the lowered words, which ``in``
    finds ten times faster. Non-ASCII text keeps the regex (it also matches ``ſ`` for ``s``
    and ``ı``/``İ`` for ``i``, which lowering does not reproduce).
    """
    if text.isascii():
        lowered = text.lower()
        return "://" in lowered or "bearer" in lowered or "basic" in lowered or "-----begin " in lowered
    return _CREDENTIAL_HINT.search(text) is not None


def _scrub_text(text: str) -> str:
    # One search for what every pattern needs (same case rules as each pattern, so never less):
    # most values of a line (ids, states, codes) hold none of it, and three substitutions per
    # value were most of the cost of an INFO line.
    if not _has_credential_hint(text):
        return text
    text = _URL_CREDENTIALS.sub(_mask_url, text)
    text = _BEARER.sub(lambda m: f"{m[1]} {MASK}", text)
    return _PEM_KEY.sub(f"-----PRIVATE KEY {MASK}-----", text)


def cut_long(value: str | bytes | bytearray, limit: int = MAX_LOGGED_CHARS) -> str | bytes | bytearray:
    """``value`` itself when short; else its first ``limit`` characters and a marker saying how much was cut."""
    if len(value) <= limit:
        return value
    head = value[:limit] if isinstance(value, str) else repr(bytes(value[:limit]))
    unit = "chars" if isinstance(value, str) else "bytes"
    return f"{head}...[cut {len(value) - limit} of {len(value)} {unit}]"


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return cut_long(_scrub_text(value))
    if isinstance(value, (bytes, bytearray)):
        return cut_long(value)
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and _is_secret_key(k) else _redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact(v) for v in value)
    return value


_PLAIN_TYPES = (int, float, bool)  # values with nothing to scrub or cut (exact types: a subclass goes the long way)
_MAX_SHAPE_KEYS = 32  # lines with up to this many keys, all short, have their key set's verdicts cached


def _cacheable_shape(keys: tuple[str, ...], cache: dict[Any, Any]) -> bool:
    """Whether a line's key names may be kept as a cache key: few, short, and the cache not full (bounded)."""
    return (len(keys) <= _MAX_SHAPE_KEYS and len(cache) < _MAX_CACHED_KEYS
            and all(type(k) is str and len(k) <= _CACHED_KEY_CHARS for k in keys))


def redact_secrets(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask secret-named keys (nested too) and credentials inside strings.

    ``routing_key`` and other ``*_key`` names that are not secrets are kept;
    ``amqps://user:pw@host`` keeps the user, ``Bearer xyz`` keeps the scheme. Then every
    string or bytes value over :data:`MAX_LOGGED_CHARS` is cut, with a marker naming the
    size cut: redaction is linear in the text and the line stays small, whatever a peer sent.

    Per line, the work is one pass over the values (which key names a secret is cached per
    name), and the short plain strings (ids, states, codes: most of every line) are looked at together,
    one search for a credential hint over them joined by newlines (no hint contains one, so
    the joined text holds a hint exactly when one of the values does); only when it finds
    one is each scrubbed, as the long values always are.
    """
    _redact_values(event_dict)
    for name in [name for name in event_dict if _is_secret_key(name)]:
        event_dict[name] = MASK
    return event_dict


def _redact_values(event_dict: MutableMapping[str, Any], skip: frozenset[str] = frozenset()) -> None:
    """Scrub credentials from every value and cut the long ones, in place (keys in ``skip`` left as they are)."""
    short: list[str] = []  # short plain strings (a withheld one too: it only widens the hint search)
    for name, value in event_dict.items():  # values replaced in place, no key added or removed
        kind = type(value)
        if kind is str:
            if len(value) <= MAX_LOGGED_CHARS:
                short.append(value)
            elif not (skip and name in skip):
                event_dict[name] = cut_long(_scrub_text(value))
        elif value is not None and kind not in _PLAIN_TYPES and not (skip and name in skip):
            event_dict[name] = _redact(value)
    if short and _has_credential_hint("\n".join(short)):
        for name, value in event_dict.items():
            if type(value) is str and len(value) <= MAX_LOGGED_CHARS and name not in skip:
                event_dict[name] = cut_long(_scrub_text(value))


# -- health data ------------------------------------------------------------------------------
#: Keys a line may carry at any level: identifiers and operational facts, never message content.
SAFE_KEYS = frozenset({
    "event", "level", "log_level", "timestamp", "logger", "logger_name", "exc_info", "exception", "stack",
    "stack_info", "distribution_id", "case_id", "message_id", "dlq_id", "state", "from_state", "to_state",
    "adapter", "direction", "profile", "code", "hub_code", "hub_error_code", "error", "error_code",
    "error_path", "path", "line", "table", "attempt", "attempts", "delay", "retry_at", "count", "size",
    "bytes", "length", "duration", "seconds", "peer", "host", "port", "bind", "url", "vhost", "queue",
    "exchange", "routing_key", "content_type", "client_id", "sender", "sender_id", "recipient",
    "recipient_id", "consumer_tag", "delivery_tag", "redelivered", "version", "mode", "status", "reason",
    "kind", "deadline", "limit", "pending", "depth", "store", "file", "connection", "channel", "pid",
    "source", "directory", "link", "check", "checks", "console", "open_connections", "findings",
    "interval", "timeout", "tables", "signal", "reconnect_in", "method",
})
_SAFE_SUFFIXES = ("_id", "_ids", "_count", "_seconds", "_at", "_code", "_path", "_state", "_size", "_version")


class LimitHealthData:
    """structlog processor: withhold every value whose key is not a known identifier or operational fact.

    An allow-list, so a payload logged under any new name (``body``, ``victims``,
    ``raw``...) is withheld by default. With ``debug=True`` debug-level lines pass
    untouched: the operator asked for them explicitly, and only at that level.
    """

    def __init__(self, debug: bool = False, *, extra_safe_keys: Iterable[str] = ()) -> None:
        self.debug = debug
        self.safe_keys = SAFE_KEYS | frozenset(extra_safe_keys)

    def is_safe(self, key: str) -> bool:
        return key in self.safe_keys or key.startswith("_") or key.endswith(_SAFE_SUFFIXES)

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if self.debug and method == "debug":
            return event_dict
        for key in [key for key in event_dict if not self.is_safe(key)]:
            event_dict[key] = WITHHELD
        return event_dict


class LogHygiene:
    """structlog processor: :func:`redact_secrets` then :class:`LimitHealthData`, in one pass over the line.

    The result is theirs, one after the other (``tests/unit/test_security.py`` compares them
    on generated lines): a secret-named key is masked, then any key not on the allow-list is
    withheld (so a secret under a non-listed name reads ``[withheld]``, as before). Which keys
    are secret and which are withheld is known per set of key names; a value about to be
    withheld is not scrubbed first (a 200 kB ``body`` costs nothing).
    """

    def __init__(self, debug: bool = False, *, extra_safe_keys: Iterable[str] = ()) -> None:
        self.limiter = LimitHealthData(debug, extra_safe_keys=extra_safe_keys)
        self._shapes: dict[tuple[str, ...], tuple[tuple[str, ...], frozenset[str]]] = {}

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        keys = tuple(event_dict)
        shape = self._shapes.get(keys)
        if shape is None:
            is_safe = self.limiter.is_safe
            shape = (tuple(name for name in keys if _is_secret_key(name)),
                     frozenset(name for name in keys if not is_safe(name)))
            if _cacheable_shape(keys, self._shapes):
                self._shapes[keys] = shape
        secret, unsafe = shape
        withhold = bool(unsafe) and not (self.limiter.debug and method == "debug")
        _redact_values(event_dict, unsafe if withhold else frozenset())
        for name in secret:
            event_dict[name] = MASK
        if withhold:
            for name in unsafe:
                event_dict[name] = WITHHELD
        return event_dict


def limit_health_data(debug: bool = False) -> LimitHealthData:
    """The health-data limiter for ``debug_health_data`` (what ``bridge.runtime.logging`` installs)."""
    return LimitHealthData(debug)
