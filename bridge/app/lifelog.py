"""One INFO line per step of a message's life, all with the same keys, so one grep tells the story.

Every line written here carries ``distribution_id``, ``case_id``, ``direction`` (``out``:
LRM -> Hub, ``in``: Hub -> LRM) and ``adapter`` (the LRM's adapter), plus the step's own
keys; the event names are the vocabulary below (snake_case, documented in
``docs/observability.md``). ``grep '"distribution_id": "fr.health.samu440_…"'`` on the JSON
logs gives a message's whole life; ``grep '"case_id": "…"'`` a case's.

The service calls these helpers in one line each; they only pass keyword arguments to a
structlog logger (no serialisation here: the renderer does it once, and lines below the
configured level cost a method call).
"""

from __future__ import annotations

import logging
from typing import Any

import structlog


class _Logger:
    """``structlog.get_logger(name)`` without the cost of structlog's lazy proxy on every line.

    The bridge does not let structlog cache loggers (``cache_logger_on_first_use=False``): the
    configuration may change after the first line (a test's stream, ``capture_logs``), and a
    cached logger would keep the old one. Then every call on the proxy builds a new bound
    logger (and a new output logger) first: ~2 µs, a fifth of an INFO line. This keeps the
    bound logger it built while structlog's configuration is the same objects (processors
    list, wrapper class, logger factory, context class), and builds a new one when any changes.
    """

    __slots__ = ("_cached", "_proxy")

    def __init__(self, name: str) -> None:
        self._proxy = structlog.get_logger(name)
        # the four config objects, then the logger and whether it writes INFO lines
        self._cached: tuple[Any, Any, Any, Any, Any, bool] | None = None

    def current(self) -> Any:
        return self._current()[4]

    def _current(self) -> tuple[Any, Any, Any, Any, Any, bool]:
        config = structlog.get_config()
        cached = self._cached
        if (cached is None or cached[0] is not config["processors"] or cached[1] is not config["wrapper_class"]
                or cached[2] is not config["logger_factory"] or cached[3] is not config["context_class"]):
            logger = self._proxy.bind()
            cached = (config["processors"], config["wrapper_class"], config["logger_factory"],
                      config["context_class"], logger, _writes_info(logger))
            self._cached = cached  # one tuple: a thread reading it sees a logger with its own configuration
        return cached

    def info_enabled(self) -> bool:
        """Whether an INFO line would be written: False only when the wrapper class filters INFO out by itself."""
        return self._current()[5]


def _writes_info(logger: Any) -> bool:
    """False for structlog's level-filtering loggers (``make_filtering_bound_logger``) set above INFO, whose
    level is part of the class (so of the configuration this is cached with); True for anything else."""
    if type(logger).__name__.startswith("BoundLoggerFilteringAt"):
        return bool(logger.is_enabled_for(logging.INFO))
    return True


log = _Logger("bridge.message")

# event name -> when it is written (the table of docs/observability.md; a test keeps them equal)
STEPS: dict[str, str] = {
    "message_received": "stored durably: an LRM frame's Hub message in the outbox (out), a Hub message in the inbox (in)",
    "message_translated": "translated: into a Hub message of type `kind` (out), into the LRM's format (in)",
    "message_published": "handed to the broker (out)",
    "message_confirmed": "the broker confirmed the publish (out)",
    "rcref_received": "the recipient's RC-REF acknowledgement arrived (out)",
    "message_answered": "the functional answer (EMSI) to this message arrived (out)",
    "message_handed_over": "written to the LRM (in)",
    "rcref_sent": "our RC-REF acknowledgement for it was confirmed by the broker (in)",
    "message_dead_lettered": "parked for an operator with its original bytes: retries exhausted (out), "
                             "not translatable for the LRM (in); `error` says why",
    "message_failed": "refused by the Hub or the peer (RS-ERROR, out); `code` and `reason` say why",
}


def step(event: str, *, distribution_id: str | None, case_id: str | None, direction: str, adapter: str,
         **extra: Any) -> None:
    """Write one step of a message's life at INFO (WARNING for failures and dead letters)."""
    cached = log._current()
    if event in _WARNINGS:
        method = cached[4].warning
    elif cached[5]:
        method = cached[4].info
    else:  # below the configured level: not even the call (five per case sheet on a bridge at WARNING)
        return
    method(event, distribution_id=distribution_id, case_id=case_id, direction=direction, adapter=adapter, **extra)


_WARNINGS = frozenset({"message_dead_lettered", "message_failed"})


def of_message(event: str, msg: Any, adapter: str, **extra: Any) -> None:
    """A step of a stored message (:class:`bridge.app.records.Message`)."""
    step(event, distribution_id=msg.distribution_id, case_id=msg.case_id, direction=str(msg.direction),
         adapter=adapter, **extra)


def inbound(event: str, received: Any, case_id: str | None, adapter: str, **extra: Any) -> None:
    """A step of a Hub message coming in (:class:`bridge.core.edxl.Unwrapped`)."""
    step(event, distribution_id=received.distribution_id, case_id=case_id, direction="in", adapter=adapter, **extra)


def outbound_stored(translations: Any, items: Any, adapter: str) -> None:
    """An LRM frame's Hub messages, stored in the outbox: received, then translated, for each."""
    for translation, item in zip(translations, items, strict=False):
        step("message_received", distribution_id=translation.distribution_id, case_id=translation.case_id,
             direction="out", adapter=adapter)
        step("message_translated", distribution_id=translation.distribution_id, case_id=translation.case_id,
             direction="out", adapter=adapter, kind=item.name)
