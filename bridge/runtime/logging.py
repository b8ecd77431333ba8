"""structlog setup: JSON lines in production, coloured key=value on a terminal.

Every line about a message carries the same five keys (``distribution_id``,
``case_id``, ``direction``, ``adapter``, ``state``), bound once with
:func:`message_logger`, so an operator can grep one message's whole life.
Two hygiene processors run before rendering: secrets (tokens, passwords,
keys) are masked, and health data (payloads, patient fields) is kept out of
every line unless ``debug_health_data`` is on *and* the line is at debug
level. They come from :mod:`bridge.runtime.security` when it is installed; the small
fallbacks here apply the same rules otherwise.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable, MutableMapping
from typing import Any, Literal, TextIO

import structlog

MESSAGE_KEYS = ("distribution_id", "case_id", "direction", "adapter", "state")

Processor = Callable[[Any, str, MutableMapping[str, Any]], MutableMapping[str, Any]]

SECRET_WORDS = ("password", "passwd", "secret", "token", "authorization", "private_key", "api_key")
HEALTH_KEYS = frozenset(
    {
        "payload", "body", "original", "translated", "raw", "content", "document", "frame",
        "patient", "patients", "victim", "victims", "health", "medical", "diagnosis", "symptoms",
        "name", "first_name", "last_name", "birth_date", "phone", "address", "free_text", "note", "notes",
    }
)
MASK = "***"
# operational keys the bridge's own edges log (HTTP server, readiness), allowed at every level
OPERATIONAL_KEYS = (
    "instance", "console", "allow_replay", "check", "checks", "failing", "enabled", "hub", "legacy", "legacy_port",
    "http_port", "previous", "purged", "waiting", "writes", "detail", "messages", "profile",
)


def fallback_redact_secrets(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask values whose key names a secret (token, password, authorization...)."""
    for key in list(event_dict):
        if any(word in key.lower() for word in SECRET_WORDS):
            event_dict[key] = MASK
    return event_dict


def fallback_limit_health_data(debug: bool) -> Processor:
    """A processor that replaces health-data values by their size, except on debug lines when ``debug``."""

    def limit_health_data(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if debug and method == "debug":
            return event_dict
        for key in list(event_dict):
            if key.lower() in HEALTH_KEYS:
                value = event_dict[key]
                size = len(value) if isinstance(value, (str, bytes, bytearray)) else None
                event_dict[key] = f"[withheld: {size} chars]" if size is not None else "[withheld]"
        return event_dict

    return limit_health_data


def hygiene_processors(debug_health_data: bool) -> list[Processor]:
    """The security module's hygiene (secrets masked, then health data withheld, in one pass) when present,
    else the two fallbacks above."""
    try:
        from bridge.runtime.security import LogHygiene
    except ImportError:
        return [fallback_redact_secrets, fallback_limit_health_data(debug_health_data)]
    return [LogHygiene(debug_health_data, extra_safe_keys=OPERATIONAL_KEYS)]


class UtcTimestamper:
    """structlog processor: ``timestamp`` in ISO 8601 UTC, the text ``TimeStamper(fmt="iso", utc=True)`` writes.

    The date and time up to the second are formatted once per second (a ``datetime`` per
    line was a tenth of a line's cost); microseconds are appended, and left out when zero,
    as ``datetime.isoformat`` does.
    """

    __slots__ = ("_second",)

    def __init__(self) -> None:
        # (epoch second, "...%06dZ" template with its text, its text with "Z"): one tuple, so threads see a whole
        self._second: tuple[int, str, str] = (-1, "", "")

    def __call__(self, logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        now = time.time_ns()
        second = now // 1_000_000_000
        cached = self._second
        if cached[0] != second:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            cached = (second, text + ".%06dZ", text + "Z")
            self._second = cached
        micros = now // 1000 % 1_000_000
        event_dict["timestamp"] = cached[1] % micros if micros else cached[2]
        return event_dict


def render_stack_and_exception() -> Processor:
    """``StackInfoRenderer`` then ``format_exc_info``, each only on a line that asked for it.

    Both only act on their key (``stack_info``, ``exc_info``: ``log.exception`` sets the
    latter), so a line without either skips two calls; a line with them is rendered by
    structlog's own processors, unchanged.
    """
    stack_info = structlog.processors.StackInfoRenderer()
    exc_info = structlog.processors.format_exc_info

    def stack_and_exception(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if "stack_info" in event_dict:
            event_dict = stack_info(logger, method, event_dict)
        if "exc_info" in event_dict:
            event_dict = exc_info(logger, method, event_dict)
        return event_dict

    return stack_and_exception


def _json_fallback(value: Any) -> Any:
    """What the JSON renderer writes for a value JSON has no type for: its ``__structlog__()``, else its repr."""
    try:
        return value.__structlog__()
    except AttributeError:
        return repr(value)


def json_renderer() -> Processor:
    """The last processor in JSON mode: the line exactly as ``JSONRenderer(sort_keys=True)`` renders it.

    ``json.dumps`` with options builds an encoder object on each call, and its ``encode``
    goes through Python-level steps before the C encoder runs; here the C encoder
    (``json.encoder.c_make_encoder``, what ``JSONEncoder.iterencode`` itself calls) is made
    directly, with the same arguments and a fresh circular-reference table each line.
    Without the C accelerator (another Python), a ``JSONEncoder`` built once.
    """
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:  # pragma: no cover - CPython has it
        encode = json.JSONEncoder(sort_keys=True, default=_json_fallback).encode

        def render_json_py(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
            return encode(event_dict)

        return render_json_py  # type: ignore[return-value]  # a renderer returns the line
    escape = json.encoder.encode_basestring_ascii  # ensure_ascii=True, as json.dumps

    def render_json(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        # (markers, default, encoder, indent, key_separator, item_separator, sort_keys, skipkeys, allow_nan)
        return "".join(make_encoder({}, _json_fallback, escape, None, ": ", ", ", True, False, True)(event_dict, 0))

    return render_json  # type: ignore[return-value]  # a renderer returns the line


def _wants_console(format: str, stream: TextIO) -> bool:
    if format == "auto":
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())
    return format == "console"


def build_processors(format: str, debug_health_data: bool, stream: TextIO) -> list[Processor]:
    """The processor chain, ending with the renderer chosen for ``format``."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        UtcTimestamper(),
        *hygiene_processors(debug_health_data),
    ]
    if _wants_console(format, stream):
        return [*shared, structlog.processors.StackInfoRenderer(), structlog.dev.ConsoleRenderer(colors=True)]
    return [*shared, render_stack_and_exception(), json_renderer()]


def configure_logging(
    format: Literal["auto", "json", "console"] = "auto",
    level: str = "INFO",
    debug_health_data: bool = False,
    stream: TextIO | None = None,
) -> None:
    """Configure structlog for the whole process (call once, at start, from the CLI or the service).

    Lines from libraries that use the standard ``logging`` module (pika...) go through the
    same processors and renderer, so the output stays one format.
    """
    explicit_stream = stream
    stream = stream if stream is not None else sys.stderr
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")  # noqa: TRY004 - a bad value, not a bad type
    processors = build_processors(format, debug_health_data, stream)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.WriteLoggerFactory(file=stream),  # write + flush: print() costs more
        cache_logger_on_first_use=False,
    )
    _route_stdlib_logging(processors, numeric_level, explicit_stream)


def configure_from(section: Any, stream: TextIO | None = None) -> None:
    """:func:`configure_logging` from the ``[logging]`` section of the configuration (``bridge run``)."""
    configure_logging(format=section.format, level=section.level, debug_health_data=section.debug_health_data,
                      stream=stream)


class _BridgeHandler(logging.StreamHandler):
    """Our root handler (reconfiguring replaces it); without an explicit stream, the current ``sys.stderr``."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__(stream)
        self.follow_stderr = stream is None

    def emit(self, record: logging.LogRecord) -> None:
        if self.follow_stderr:
            self.stream = sys.stderr
        super().emit(record)


def _route_stdlib_logging(processors: list[Processor], level: int, stream: TextIO | None) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *processors[:-1]],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, processors[-1]],
    )
    handler = _BridgeHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _BridgeHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(max(level, logging.INFO))  # libraries' debug output (pika is chatty) stays off


def capture_twisted_logs() -> None:
    """Send Twisted's own log events (unhandled Deferred errors, connection notices) into the same output.

    Twisted buffers its events until someone begins logging; without this, an
    "Unhandled error in Deferred" would never reach the operator. Call once per process,
    after :func:`configure_logging` (``bridge run`` does).
    """
    from twisted.logger import STDLibLogObserver, globalLogBeginner

    globalLogBeginner.beginLoggingTo([STDLibLogObserver(name="twisted")], redirectStandardIO=False)


def message_logger(
    log: Any, *, distribution_id: str | None, case_id: str | None, direction: str, adapter: str, state: str
) -> Any:
    """``log`` bound with the five keys every line about one message carries."""
    return log.bind(distribution_id=distribution_id, case_id=case_id, direction=direction, adapter=adapter, state=state)
