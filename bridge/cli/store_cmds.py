"""``bridge dlq|messages|replay|store``: look into the durable store and act on it.

Every command reads the same configuration as ``bridge run`` (``--config FILE``, else
``$HUB_BRIDGE_CONFIG``, plus the ``HUB_BRIDGE__SECTION__KEY`` variables): the store is
``--store PATH`` if given, else ``[store] path``, else ``bridge.sqlite3`` in the user data
directory; ``[store] max_pending`` and ``retention_days`` are the defaults of ``dlq replay``
and ``store purge``. They print a table for people and ``--json`` for scripts. The store
may be in use by the running bridge: SQLite WAL lets these commands read and write
alongside it. Times (``--since``, ``--from``, ``--to``) are ISO 8601 (an offset-less time is
local time) or an age such as ``90m``, ``2h``, ``3d``.

Exit codes: 0 done; 1 a replay was refused; 2 bad usage, no such store, message or entry;
3 configuration error (invalid config, store of a newer version).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

EXIT_INVALID, EXIT_USAGE, EXIT_CONFIG = 1, 2, 3
_AGE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_CONFIG_KEY = "hub_bridge.config_path"


def store_config(config_path: Path | None = None) -> Any:
    """The configuration ``bridge run`` would read (file, then environment), without file checks; exit 3 if invalid."""
    from bridge.runtime.config import ConfigError, load_config

    if config_path is None:
        ctx = click.get_current_context(silent=True)
        config_path = ctx.meta.get(_CONFIG_KEY) if ctx is not None else None
    try:
        return load_config(config_path, os.environ, check=False)
    except ConfigError as exc:
        _fail(str(exc), EXIT_CONFIG)


def default_store_path(config_path: Path | None = None) -> Path:
    """``[store] path`` of the configuration (file or ``$HUB_BRIDGE__STORE__PATH``), else the user data dir."""
    return store_config(config_path).store.effective_path()


def parse_time(text: str, now: datetime) -> datetime:
    """ISO 8601 (offset-less means local time), ``now``, or an age like ``2h`` counted back from ``now``."""
    value = text.strip()
    if value.lower() == "now":
        return now
    age = _AGE.match(value.lower())
    if age:
        return now - timedelta(**{_UNITS[age[2]]: float(age[1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{text!r} is neither ISO 8601 (2026-05-18T16:15:00+02:00) nor an age (90m, 2h, 3d)") from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def _remember_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    ctx.meta[_CONFIG_KEY] = value
    return value


_STORE_PATH = click.option("--store", "store_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
                           help="Store file (default: [store] path of the configuration, else the user data dir).")
_CONFIG = click.option("--config", type=click.Path(path_type=Path, dir_okay=False), envvar="HUB_BRIDGE_CONFIG",
                       default=None, expose_value=False, is_eager=True, callback=_remember_config,
                       help="The bridge's TOML configuration (default: $HUB_BRIDGE_CONFIG), as for 'bridge run'.")


def STORE_OPTION(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--store PATH`` and ``--config FILE`` (the same configuration as ``bridge run``)."""
    return _CONFIG(_STORE_PATH(command))


JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


@contextmanager
def open_store(store_path: Path | None, *, max_pending: int | None = None) -> Iterator[Any]:
    """Open an existing store or exit with a message naming the path and the exit code's meaning."""
    from bridge.edges.store import DEFAULT_MAX_PENDING, Store
    from bridge.edges.store.migrations import StoreVersionError

    config = store_config()
    path = store_path or config.store.effective_path()
    try:
        store = Store.open(path, create=False, max_pending=max_pending or config.store.max_pending or DEFAULT_MAX_PENDING)
    except FileNotFoundError as exc:
        _fail(str(exc), EXIT_USAGE)
    except StoreVersionError as exc:
        _fail(str(exc), EXIT_CONFIG)
    except Exception as exc:  # noqa: BLE001 - sqlite3.DatabaseError: not a database, locked...
        _fail(f"cannot open store {path}: {exc}", EXIT_USAGE)
    try:
        yield store
    finally:
        store.close()


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def _now() -> datetime:
    return datetime.now(UTC)


def _short(value: object, width: int) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], widths: Sequence[int]) -> str:
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(_short(v, w).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _when(value: datetime | None) -> str:
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M:%S%z")


def _emit(as_json: bool, data: object, human: Callable[[], str]) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else human())


def _preview(original: bytes, limit: int = 2000) -> str:
    text = original[:limit].decode("utf-8", errors="backslashreplace")
    return text + (f"\n… ({len(original) - limit} more bytes)" if len(original) > limit else "")


# -- bridge dlq --------------------------------------------------------------------------------
@click.group("dlq")
def dlq() -> None:
    """Dead-letter queue: list, inspect and replay messages that could not go through."""


@dlq.command("list")
@STORE_OPTION
@JSON_OPTION
@click.option("--since", help="Only entries created since this time or age (e.g. 2h).")
@click.option("--include-replayed", is_flag=True, help="Also show entries already replayed.")
def dlq_list(store_path: Path | None, as_json: bool, since: str | None, include_replayed: bool) -> None:
    """List dead-letter entries, oldest first.

    Exit codes: 0 listed (also when empty); 2 bad usage, no store at the path; 3 invalid configuration or a store written by a newer bridge.
    """
    with open_store(store_path) as store:
        entries = store.dlq_list(parse_time(since, _now()) if since else None, include_replayed=include_replayed)
    rows = [(e.id, _when(e.created_at), e.direction, e.source, e.message_id or "-", len(e.attempts),
             e.error_path or "", e.error) for e in entries]
    _emit(as_json, [e.summary() for e in entries], lambda: _table(
        ["ID", "CREATED", "DIR", "SOURCE", "MSG", "TRIES", "WHERE", "ERROR"], rows,
        [5, 24, 3, 11, 5, 5, 28, 60]) + f"\n{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")


@dlq.command("show")
@click.argument("dlq_id", type=int)
@STORE_OPTION
@JSON_OPTION
@click.option("--raw", is_flag=True, help="Write only the original bytes to stdout.")
def dlq_show(dlq_id: int, store_path: Path | None, as_json: bool, raw: bool) -> None:
    """Show one entry: error, where it failed, attempt history and the original bytes.

    Exit codes: 0 shown; 2 bad usage, no store or no such entry; 3 invalid configuration or a store
    written by a newer bridge.
    """
    from bridge.edges.store import UnknownMessage

    with open_store(store_path) as store:
        try:
            entry = store.dlq_get(dlq_id)
        except UnknownMessage as exc:
            _fail(str(exc), EXIT_USAGE)
    if raw:
        click.echo(entry.original, nl=False)  # bytes go to the binary stream untouched
        return
    data = {**entry.summary(), "original": entry.original.decode("utf-8", errors="backslashreplace")}
    _emit(as_json, data, lambda: _describe_dead_letter(entry))


def _describe_dead_letter(entry: Any) -> str:
    lines = [f"dead letter {entry.id}  ({entry.direction}, from {entry.source}, created {_when(entry.created_at)})",
             f"  message:   {entry.message_id or '- (bytes never became a message)'}",
             f"  adapter:   {entry.adapter or '-'}  profile: {entry.profile or '-'}",
             f"  error:     {entry.error}",
             f"  where:     {entry.error_path or '-'}"]
    if entry.hub_error_code:
        lines.append(f"  hub code:  {entry.hub_error_code}")
    if entry.replayed_at:
        lines.append(f"  replayed:  {_when(entry.replayed_at)} as message {entry.replayed_as}")
    if entry.last_replay_error:
        lines.append(f"  last replay failed: {entry.last_replay_error}")
    lines.append(f"  attempts ({len(entry.attempts)}):")
    lines += [f"    {_when(a.ts)}  {a.error}" for a in entry.attempts]
    lines += [f"  original ({len(entry.original)} bytes):", _preview(entry.original)]
    return "\n".join(lines)


@dlq.command("replay")
@click.argument("dlq_id", type=int, required=False)
@click.option("--all", "replay_every", is_flag=True, help="Replay every pending entry (see --since).")
@click.option("--since", help="With --all: only entries created since this time or age.")
@click.option("--max-pending", type=int, default=None, help="Outbox limit to respect (default: [store] max_pending).")
@STORE_OPTION
@JSON_OPTION
def dlq_replay(dlq_id: int | None, replay_every: bool, since: str | None, max_pending: int | None,
               store_path: Path | None, as_json: bool) -> None:
    """Send entries again: outbound ones are re-translated by the running bridge with its current tables.

    Exit codes: 0 every entry queued; 1 an entry was refused (the reason is shown); 2 bad usage, no store
    or no such entry; 3 invalid configuration or a store written by a newer bridge.
    """
    from bridge.app.replay import ReplayOutcome, replay_all, replay_dead_letter
    from bridge.edges.store import StoreFull, UnknownMessage

    if (dlq_id is None) == (not replay_every):
        _fail("give either one ID or --all", EXIT_USAGE)
    if since and not replay_every:
        _fail("--since only goes with --all", EXIT_USAGE)
    now = _now()
    with open_store(store_path, max_pending=max_pending) as store:
        if replay_every:
            outcomes = replay_all(store, now=now, since=parse_time(since, now) if since else None)
        else:
            try:
                outcomes = [replay_dead_letter(store, dlq_id, now=now)]
            except UnknownMessage as exc:
                _fail(str(exc), EXIT_USAGE)
            except StoreFull as exc:
                outcomes = [ReplayOutcome(dlq_id, error=str(exc))]
    _emit(as_json, [o.as_dict() for o in outcomes], lambda: _describe_outcomes(outcomes))
    if any(not o.ok for o in outcomes):
        raise SystemExit(EXIT_INVALID)


def _describe_outcomes(outcomes: Sequence[Any]) -> str:
    lines = [f"dead letter {o.dlq_id}: " + (f"queued as message {o.message_id}" if o.ok else f"NOT replayed: {o.error}")
             for o in outcomes]
    done = sum(o.ok for o in outcomes)
    return "\n".join(lines + [f"{done} replayed, {len(outcomes) - done} refused"])


# -- bridge messages ---------------------------------------------------------------------------
@click.group("messages")
def messages() -> None:
    """Messages in the store and their full history."""


@messages.command("list")
@click.option("--state", help="Only messages in this state (received, published, delivered, answered, "
                              "handed_over, acked, failed, dead_lettered...).")
@click.option("--case", "case_id", help="Only this case: the Hub case id, or the LRM's own dossier number (the "
                                        "last part of the Hub case id; exact match, case-sensitive).")
@click.option("--since", help="Only messages received since this time or age (e.g. 2h).")
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True, help="Newest N messages.")
@STORE_OPTION
@JSON_OPTION
def messages_list(state: str | None, case_id: str | None, since: str | None, limit: int,
                  store_path: Path | None, as_json: bool) -> None:
    """List messages, oldest first, filtered by state, case and time.

    Exit codes: 0 listed (also when none match); 2 bad usage, no store at the path; 3 invalid configuration or a store written by a newer bridge.
    """
    from bridge.core.delivery import State

    if state is not None and state not in {s.value for s in State}:
        raise click.BadParameter(f"{state!r} is not a state; states: {', '.join(sorted(s.value for s in State))}",
                                 param_hint="--state")
    with open_store(store_path) as store:
        found = store.search(state=state, case=case_id, since=parse_time(since, _now()) if since else None,
                             limit=limit)
    rows = [(m.id, _when(m.updated_at), m.direction, m.state, m.case_id or "", m.distribution_id or "",
             m.last_error or "") for m in found]
    _emit(as_json, [m.summary() for m in found], lambda: _table(
        ["ID", "UPDATED", "DIR", "STATE", "CASE", "DISTRIBUTION ID", "LAST ERROR"], rows,
        [6, 24, 3, 13, 36, 44, 50]) + f"\n{len(found)} message{'' if len(found) == 1 else 's'}")


@messages.command("show")
@click.argument("message_id", type=int, required=False)
@click.option("--case", "case_id", help="Every message of this case (Hub case id, or LRM dossier number: the last "
                                        "part of the Hub case id, exact match, case-sensitive).")
@STORE_OPTION
@JSON_OPTION
def messages_show(message_id: int | None, case_id: str | None, store_path: Path | None, as_json: bool) -> None:
    """Show one message (or all of a case) with every state change it went through.

    Exit codes: 0 shown; 2 bad usage, no store, no such message or case; 3 invalid configuration or a
    store written by a newer bridge.
    """
    from bridge.edges.store import UnknownMessage

    if (message_id is None) == (case_id is None):
        _fail("give either one message ID or --case CASEID", EXIT_USAGE)
    with open_store(store_path) as store:
        try:
            found = [store.get(message_id)] if message_id is not None else store.by_case(case_id)
        except UnknownMessage as exc:
            _fail(str(exc), EXIT_USAGE)
        histories = {m.id: store.history(m.id) for m in found}
    if not found:
        _fail(f"no message of case {case_id!r} in the store", EXIT_USAGE)
    data = [{**m.summary(), "history": [e.as_dict() for e in histories[m.id]]} for m in found]
    _emit(as_json, data, lambda: "\n\n".join(_describe_message(m, histories[m.id]) for m in found))


def _describe_message(msg: Any, history: Sequence[Any]) -> str:
    lines = [f"message {msg.id}  {msg.direction}  {msg.state}",
             f"  distributionID: {msg.distribution_id or '-'}",
             f"  case: {msg.case_id or '-'}  version: {msg.case_version or '-'}",
             f"  adapter: {msg.adapter or '-'}  profile: {msg.profile or '-'}  content: {msg.content_type or '-'}",
             f"  attempts: {msg.attempts}  next attempt: {_when(msg.next_attempt_at) or '-'}"]
    if msg.last_error:
        lines.append(f"  last error: {msg.last_error}  at {msg.error_path or '-'}")
    if msg.replay_of:
        lines.append(f"  replay of dead letter {msg.replay_of}")
    rows = [(_when(e.ts), e.event, e.from_state or "", e.to_state, e.detail or "") for e in history]
    return "\n".join(lines) + "\n" + _table(["WHEN", "EVENT", "FROM", "TO", "DETAIL"], rows, [24, 14, 13, 13, 70])


# -- bridge replay ------------------------------------------------------------------------------
@click.command("replay")
@click.option("--from", "start", required=True, help="Start of the window (ISO 8601 or age, e.g. 3h).")
@click.option("--to", "end", default="now", show_default=True, help="End of the window (exclusive).")
@STORE_OPTION
@JSON_OPTION
def replay(start: str, end: str, store_path: Path | None, as_json: bool) -> None:
    """Re-publish what was published in a window, with the same distributionIDs (receivers deduplicate).

    Exit codes: 0 queued (also when nothing was published in the window); 2 bad usage, no store at the path; 3 invalid configuration or a store written by a newer bridge.
    """
    from bridge.app.replay import replay_window

    now = _now()
    t0, t1 = parse_time(start, now), parse_time(end, now)
    with open_store(store_path) as store:
        try:
            ids = replay_window(store, t0, t1, now=now)
        except ValueError as exc:
            _fail(str(exc), EXIT_USAGE)
    _emit(as_json, {"from": t0.isoformat(), "to": t1.isoformat(), "requeued": ids},
          lambda: f"{len(ids)} message(s) published between {_when(t0)} and {_when(t1)} queued for re-publish"
          + (f": {', '.join(map(str, ids))}" if ids else ""))


# -- bridge store -------------------------------------------------------------------------------
@click.group("store")
def store_group() -> None:
    """Maintenance of the durable store."""


@store_group.command("purge")
@click.option("--older-than", "days", type=click.FloatRange(min=0), default=None,
              help="Age in days of the finished messages to delete (default: [store] retention_days, 30).")
@click.option("--include-failed", is_flag=True, help="Also delete failed / dead-lettered messages and DLQ entries.")
@STORE_OPTION
@JSON_OPTION
def purge(days: float | None, include_failed: bool, store_path: Path | None, as_json: bool) -> None:
    """Delete delivered messages older than N days; failed ones only with --include-failed.

    The running bridge does the same periodically with [store] retention_days (failed ones kept).

    Exit codes: 0 purged; 2 bad usage, no store at the path; 3 invalid configuration or a store written by a newer bridge.
    """
    cutoff = _now() - timedelta(days=days if days is not None else store_config().store.retention_days)
    with open_store(store_path) as store:
        deleted = store.purge_delivered(cutoff, include_failed=include_failed)
    _emit(as_json, {"deleted": deleted, "older_than": cutoff.isoformat(), "include_failed": include_failed},
          lambda: f"deleted {deleted} row(s) last updated before {_when(cutoff)}"
          + ("" if include_failed else " (failed and dead-lettered messages kept)"))


@store_group.command("stats")
@STORE_OPTION
@JSON_OPTION
def stats(store_path: Path | None, as_json: bool) -> None:
    """Messages by direction and state, outbox depth and dead-letter size.

    Exit codes: 0 shown; 2 bad usage, no store at the path; 3 invalid configuration or a store written by a newer bridge.
    """
    now = _now()
    with open_store(store_path) as store:
        counts = store.counts()
        data = {"by_state": {f"{d}/{s}": n for (d, s), n in sorted(counts.items())},
                "outbox_depth": store.outbox_depth(), "oldest_pending_seconds": store.oldest_pending_age(now),
                "dlq_size": store.dlq_size()}
    rows = [(key, n) for key, n in data["by_state"].items()]
    _emit(as_json, data, lambda: _table(["DIRECTION/STATE", "COUNT"], rows, [28, 8])
          + f"\noutbox depth {data['outbox_depth']}, oldest pending {data['oldest_pending_seconds']:.0f} s,"
          f" dead letters {data['dlq_size']}")
