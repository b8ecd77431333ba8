"""Versioned schema of the store: a list of SQL scripts tracked by ``PRAGMA user_version``.

Append new scripts at the end; never edit a script that has shipped. Each one
runs in its own ``BEGIN IMMEDIATE`` transaction together with the version bump,
so a crash mid-migration leaves the previous version intact, and two processes
opening the same file at once migrate it only once.
"""

from __future__ import annotations

import sqlite3

from bridge.core.errors import BridgeError

__all__ = ["LATEST_VERSION", "MIGRATIONS", "StoreVersionError", "migrate"]

_V1 = """
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    state           TEXT NOT NULL,
    distribution_id TEXT,
    case_id         TEXT,
    case_version    TEXT,
    adapter         TEXT,
    profile         TEXT,
    content_type    TEXT,
    original        BLOB NOT NULL,
    translated      BLOB,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    published_at    TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error      TEXT,
    error_path      TEXT,
    hub_error_code  INTEGER,
    rcref_deadline  TEXT,
    rcref_overdue_at TEXT,
    replay_of       INTEGER REFERENCES dead_letters(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX messages_distribution_id ON messages(direction, distribution_id)
    WHERE distribution_id IS NOT NULL;
CREATE UNIQUE INDEX inbox_case_version ON messages(case_id, case_version)
    WHERE direction = 'in' AND case_id IS NOT NULL AND case_version IS NOT NULL;
CREATE INDEX messages_direction_state ON messages(direction, state, id);
CREATE INDEX messages_case ON messages(case_id, id);
CREATE INDEX messages_published_at ON messages(published_at) WHERE published_at IS NOT NULL;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    ts          TEXT NOT NULL,
    event       TEXT NOT NULL,
    from_state  TEXT,
    to_state    TEXT NOT NULL,
    detail      TEXT
);
CREATE INDEX events_message ON events(message_id, id);

CREATE TABLE dead_letters (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id     INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    source         TEXT NOT NULL,
    adapter        TEXT,
    profile        TEXT,
    content_type   TEXT,
    original       BLOB NOT NULL,
    error          TEXT NOT NULL,
    error_path     TEXT,
    hub_error_code INTEGER,
    attempts       TEXT NOT NULL DEFAULT '[]',
    created_at     TEXT NOT NULL,
    replayed_at    TEXT,
    replayed_as    INTEGER REFERENCES messages(id) ON DELETE SET NULL,
    last_replay_error TEXT
);
CREATE INDEX dead_letters_pending ON dead_letters(replayed_at, created_at);
"""

# v2: queue bookkeeping that stays cheap with a deep backlog.
# - the "oldest queued message of each case" of next_publishable reads a covering index;
# - the back-pressure count is a counter kept by triggers in the same transaction as
#   the state change (no COUNT(*) over the outbox on every accepted frame), correct
#   whichever process (service, CLI replay) moves a message.
_PENDING = "('received', 'translated')"
_V2 = f"""
CREATE INDEX messages_queue_by_case ON messages(direction, state, case_id, id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters (name, value)
    SELECT 'outbox_pending', COUNT(*) FROM messages WHERE direction = 'out' AND state IN {_PENDING};
CREATE TRIGGER outbox_pending_insert AFTER INSERT ON messages
    WHEN NEW.direction = 'out' AND NEW.state IN {_PENDING}
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'outbox_pending';
END;
CREATE TRIGGER outbox_pending_delete AFTER DELETE ON messages
    WHEN OLD.direction = 'out' AND OLD.state IN {_PENDING}
BEGIN
    UPDATE counters SET value = value - 1 WHERE name = 'outbox_pending';
END;
CREATE TRIGGER outbox_pending_update AFTER UPDATE OF state ON messages
    WHEN NEW.direction = 'out' AND (OLD.state IN {_PENDING}) <> (NEW.state IN {_PENDING})
BEGIN
    UPDATE counters SET value = value + (CASE WHEN NEW.state IN {_PENDING} THEN 1 ELSE -1 END)
    WHERE name = 'outbox_pending';
END;
"""

# v3: idempotent legacy intake (bridge/edges/store/intake.py). The SHA-256 of each accepted
# frame, so an LRM re-sending a frame it got no ack for (bridge crash between commit and ack)
# does not create a second set of Hub messages. Purged with the frame's first message.
_V3 = """
CREATE TABLE legacy_intake (
    frame_sha256 TEXT PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL
);
CREATE INDEX legacy_intake_message ON legacy_intake(message_id);
"""

# v4: the console's time-range search, export and charts walk a time index, never the whole table;
# the mapping notes of a translation (fallbacks, drops, warnings) are found by event name per message.
_V4 = """
CREATE INDEX IF NOT EXISTS messages_created_at ON messages(created_at);
CREATE INDEX IF NOT EXISTS dead_letters_created_at ON dead_letters(created_at);
"""

# v5: counts that do not scan. The number of messages per (direction, state), kept by
# triggers in the same transaction as every insert, state change and delete (whichever
# process makes it), so /metrics, /readyz and the console read a handful of rows instead
# of a GROUP BY over the whole table (82 ms at 1M rows). Filled once from the existing rows.
_V5 = """
CREATE TABLE state_counts (
    direction TEXT NOT NULL,
    state     TEXT NOT NULL,
    value     INTEGER NOT NULL,
    PRIMARY KEY (direction, state)
) WITHOUT ROWID;
INSERT INTO state_counts (direction, state, value)
    SELECT direction, state, COUNT(*) FROM messages GROUP BY direction, state;
CREATE TRIGGER state_counts_insert AFTER INSERT ON messages
BEGIN
    INSERT INTO state_counts (direction, state, value) VALUES (NEW.direction, NEW.state, 1)
        ON CONFLICT (direction, state) DO UPDATE SET value = value + 1;
END;
CREATE TRIGGER state_counts_delete AFTER DELETE ON messages
BEGIN
    UPDATE state_counts SET value = value - 1 WHERE direction = OLD.direction AND state = OLD.state;
END;
CREATE TRIGGER state_counts_update AFTER UPDATE OF direction, state ON messages
    WHEN OLD.direction <> NEW.direction OR OLD.state <> NEW.state
BEGIN
    UPDATE state_counts SET value = value - 1 WHERE direction = OLD.direction AND state = OLD.state;
    INSERT INTO state_counts (direction, state, value) VALUES (NEW.direction, NEW.state, 1)
        ON CONFLICT (direction, state) DO UPDATE SET value = value + 1;
END;
"""

# v6: retention without a table scan. The hourly purge looked for finished messages by
# state and age over the whole table (0.8 s with the write lock held at 1M rows, even
# with nothing to delete); this index finds them directly. Each transition moves a row
# to the end of its new state's range (updated_at only grows), so keeping it is cheap.
_V6 = """
CREATE INDEX IF NOT EXISTS messages_state_updated ON messages(state, updated_at);
"""

# v7: cases the partner created, handed to the LRM. A legacy sheet has no field for a Hub case
# id: the LRM's later frames carry only the dossier number the bridge wrote (the partner's
# senderCaseId). This is which Hub case each such number stands for, so those frames go out
# under the partner's caseId as an update (docs/fidelity.md). ``ambiguous``: two Hub cases were
# handed over under one number, or the LRM already used it for a case of its own: not used.
_V7 = """
CREATE TABLE IF NOT EXISTS case_links (
    reference   TEXT PRIMARY KEY,
    hub_case_id TEXT NOT NULL,
    profile     TEXT,
    ambiguous   INTEGER NOT NULL DEFAULT 0,
    linked_at   TEXT NOT NULL
) WITHOUT ROWID;
"""

# v8: `bridge messages --case DOSSIER` (and ``Store.by_case``) found a dossier number with
# ``case_id LIKE '%.DOSSIER'``: a leading wildcard, so a scan of the whole messages table. This
# indexes the last dot-separated part of the case id (the dossier number in
# ``fr.health.samu440.DEMO-000001``; the whole id when it has no dot), so that lookup is an index
# search. The expression must match ``CASE_LOCAL`` in queries.py exactly, or SQLite ignores it.
_V8 = """
CREATE INDEX IF NOT EXISTS messages_case_local
    ON messages(substr(case_id, length(rtrim(case_id, replace(case_id, '.', ''))) + 1), id);
"""

# v9: counters touched once per transition. A state change ran three trigger statements (the
# per-state count -1, then an upsert +1, then the outbox_pending counter of v2 when it crossed
# "pending"), and an insert two. The per-state counts now move in one two-row upsert, and the
# back-pressure figure is read from them (out/received + out/translated: two primary-key rows),
# so the v2 counter and its triggers go. Same transaction as the change, as before.
_V9 = """
DROP TRIGGER IF EXISTS outbox_pending_insert;
DROP TRIGGER IF EXISTS outbox_pending_delete;
DROP TRIGGER IF EXISTS outbox_pending_update;
DROP TABLE IF EXISTS counters;
DROP TRIGGER IF EXISTS state_counts_update;
CREATE TRIGGER state_counts_update AFTER UPDATE OF direction, state ON messages
    WHEN OLD.direction <> NEW.direction OR OLD.state <> NEW.state
BEGIN
    INSERT INTO state_counts (direction, state, value) VALUES (OLD.direction, OLD.state, -1), (NEW.direction, NEW.state, 1)
        ON CONFLICT (direction, state) DO UPDATE SET value = value + excluded.value;
END;
"""

# v10: the overdue RC-REF flag without reading every published message. The service's pump (every 0.2 s)
# asked for the published messages past their RC-REF deadline and not yet flagged, walking every published
# row (with its bodies) to test the deadline: about 1 ms per call under load. This partial index holds only
# those still waiting for their RC-REF and not flagged, by deadline: the flag reads the overdue ones and stops.
# An entry is added by the confirm and removed by the RC-REF or the flag (same statements, no trigger).
_V10 = """
CREATE INDEX IF NOT EXISTS messages_rcref_due ON messages(rcref_deadline)
    WHERE direction = 'out' AND state = 'published' AND rcref_overdue_at IS NULL;
"""

#: (version, script). Version numbers are consecutive, starting at 1.
MIGRATIONS: list[tuple[int, str]] = [
    (1, _V1),
    (2, _V2),
    (3, _V3),
    (4, _V4),
    (5, _V5),
    (6, _V6),
    (7, _V7),
    (8, _V8),
    (9, _V9),
    (10, _V10),
]
LATEST_VERSION = MIGRATIONS[-1][0]


class StoreVersionError(BridgeError):
    """The store file was written by a newer bridge than this one."""


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, *, path: str = "store") -> int:
    """Bring the schema to :data:`LATEST_VERSION`; idempotent. Returns the final version.

    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    found = _version(conn)
    if found > LATEST_VERSION:
        raise StoreVersionError(
            f"{path}: store schema version {found} is newer than this bridge knows ({LATEST_VERSION});"
            " upgrade hub-bridge or point --store at another file"
        )
    for version, script in MIGRATIONS:
        if version <= found:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _version(conn) < version:  # another process may have migrated meanwhile
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {int(version)}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return _version(conn)


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (trigger bodies hold ';' of their own)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        raise ValueError(f"incomplete SQL statement in migration: {current.strip()[:80]!r}")
    return statements
