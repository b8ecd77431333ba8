"""Cases the partner created, handed to the LRM: which Hub case a dossier number of the LRM stands for.

Why: a legacy sheet has no field for a Hub case id. When NexSIS creates a case, the bridge
writes it to the LRM under the partner's case number (``senderCaseId``), and the LRM's later
frames about it carry only that number; without this table they would go out under
``{our id}.{number}``, a new case on the fire side instead of an update. Table ``case_links``
(migration 7): one row per dossier number. A number handed over for two different Hub cases
is marked ambiguous and no longer used (the bridge does not guess which one the LRM means).

A mixin of :class:`bridge.edges.store.Store`, relying on its ``_tx`` and ``_conn``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bridge.app.records import to_db_time
from bridge.edges.store.transactions import replayable

__all__ = ["CaseLink", "CaseLinkOps", "LinkOutcome"]

LinkOutcome = Literal["linked", "known", "ambiguous"]


@dataclass(frozen=True, slots=True)
class CaseLink:
    """One dossier number of the LRM and the Hub case it stands for (unusable when ``ambiguous``)."""

    reference: str
    hub_case_id: str
    ambiguous: bool


class CaseLinkOps:
    """Record and read case links (see the module docstring)."""

    _conn: sqlite3.Connection
    _tx: Any

    @replayable
    def link_case(self, reference: str, hub_case_id: str, *, profile: str | None, at: datetime) -> LinkOutcome:
        """Record that the LRM's dossier ``reference`` is the Hub case ``hub_case_id``.

        ``known``: already so; ``ambiguous``: the number was linked to another case (now or
        before), so it is no longer used for either.
        """
        with self._tx() as conn:
            row = conn.execute("SELECT hub_case_id, ambiguous FROM case_links WHERE reference = ?",
                               (reference,)).fetchone()
            if row is None:
                conn.execute("INSERT INTO case_links (reference, hub_case_id, profile, linked_at) VALUES (?, ?, ?, ?)",
                             (reference, hub_case_id, profile, to_db_time(at)))
                return "linked"
            if row[0] == hub_case_id and not row[1]:
                return "known"
            conn.execute("UPDATE case_links SET ambiguous = 1 WHERE reference = ?", (reference,))
            return "ambiguous"

    def case_link(self, reference: str) -> CaseLink | None:
        """The link of one dossier number, if the bridge recorded one (primary key lookup)."""
        row = self._conn.execute("SELECT reference, hub_case_id, ambiguous FROM case_links WHERE reference = ?",
                                 (reference,)).fetchone()
        return None if row is None else CaseLink(row[0], row[1], bool(row[2]))

    def case_links(self) -> Iterator[CaseLink]:
        """Every recorded link, by dossier number (operators, tests)."""
        for row in self._conn.execute("SELECT reference, hub_case_id, ambiguous FROM case_links ORDER BY reference"):
            yield CaseLink(row[0], row[1], bool(row[2]))
