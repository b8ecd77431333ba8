"""The store's transactions: one per transition, or one for many (group commit), each transition all-or-nothing.

Outside a group every transition is its own ``BEGIN IMMEDIATE`` ... ``COMMIT``. Inside a group
(:meth:`TransactionOps.begin_group`: the service keeps one open for a few milliseconds so one
fsync makes many transitions durable) a transition that fails must still be undone alone, its
error propagating, while the others of the group stay. That used to cost a ``SAVEPOINT`` and a
``RELEASE`` per transition, and with them a copy of every page the transition touched into
SQLite's sub-journal, again for each transition: about a quarter of the intake step.

Now the transitions marked :func:`replayable` run inside a group without a savepoint, and the
group remembers each one that succeeded (method, arguments, result). When one fails after it
wrote something (``total_changes`` moved), the group's transaction is rolled back, a new one is
begun (``BEGIN IMMEDIATE``: the write lock again) and the remembered transitions run again, in
order. The store never reads the clock or a random source (callers pass them in), so they
write the same rows with the same ids on the same data; each result must equal the first one,
which also catches another process having written in between (the CLI): their callers have
already acted on those results. Anything that breaks this (a transition that is not replayable
ran earlier in the group, SQLite rolled the transaction back by itself after an I/O error, a
run that fails or differs) loses the group instead: nothing written since
:meth:`TransactionOps.begin_group` stays, later transitions of the group are refused with
:class:`GroupLost`, and :meth:`TransactionOps.commit_group` raises it, so every caller waiting
for the commit learns that nothing was made durable (the service nacks them: the LRM and the
broker send again). Nothing is ever half-written, and nothing is reported durable that is not.
(One savepoint held for the whole group instead cost more than the per-transition ones: its
sub-journal outgrew SQLite's 64 KiB in-memory spill limit and went to a temporary file.)

Reads the service makes twice in a row (the RC-REF check's read of our message, then the RC-REF's
own transition; "is this case on the Hub?" once per Hub message of a sheet) may reuse the first
answer, but only while it provably still holds: :meth:`TransactionOps._read_mark` is the group's
serial and the connection's ``total_changes``, and exists only inside a group. There the write lock
is held (``BEGIN IMMEDIATE``), so no other process can write; every write of this connection moves
``total_changes``; every rollback (a failed transition, a replay, an abort) and every group's start
and end moves the serial. Outside a group nothing is reused.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from bridge.app.records import StoreUnavailable

__all__ = ["GroupLost", "TransactionOps", "replayable"]

F = TypeVar("F", bound=Callable[..., Any])
_Done = list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], Any]]


class GroupLost(StoreUnavailable):
    """A failed transition could not be undone alone: nothing of the group transaction will be committed."""


def replayable(method: F) -> F:
    """Mark a transition the group may run again (deterministic: its inputs are all in its arguments).

    Inside a group it runs without a savepoint of its own; see the module docstring.
    """

    @functools.wraps(method)
    def transition(self: TransactionOps, *args: Any, **kwargs: Any) -> Any:
        if not self._grouped or self._in_replayable:  # alone, or called by another transition
            return method(self, *args, **kwargs)
        self._in_replayable = True
        changes = self._conn.total_changes
        try:
            result = method(self, *args, **kwargs)
        except BaseException as exc:
            if self._grouped and (self._conn.total_changes != changes or not self._conn.in_transaction):
                self._undo_alone(exc)
            raise
        finally:
            self._in_replayable = False
        if self._done is not None:  # lists the caller might change afterwards are kept as they were
            self._done.append((method, tuple(tuple(a) if type(a) is list else a for a in args),
                               {k: tuple(v) if type(v) is list else v for k, v in kwargs.items()}, result))
        return result

    return transition  # type: ignore[return-value]


class _Transaction:
    """``with store._tx() as conn``: the transaction (or group member) of one transition."""

    __slots__ = ("_accepting", "_mode", "_store")

    def __init__(self, store: TransactionOps, accepting: bool) -> None:
        self._store = store
        self._accepting = accepting
        self._mode = 0

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        conn = store._conn
        try:
            if not store._grouped:
                conn.execute("BEGIN IMMEDIATE")
                self._mode = 2
            elif store._lost is not None:
                raise GroupLost(str(store._lost))
            elif not store._in_replayable:  # not replayable: a savepoint of its own, as before
                conn.execute("SAVEPOINT transition")
                self._mode = 1
        except sqlite3.OperationalError as exc:
            raise self._unavailable(exc) from exc
        return conn

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        store, conn, mode = self._store, self._store._conn, self._mode
        if kind is not None:  # whatever is undone below, no read made before it may be reused
            store._serial += 1
        try:
            if mode == 2:
                if kind is None:
                    try:
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:  # a failed COMMIT (disk full, I/O) leaves it open
                            conn.execute("ROLLBACK")
                        raise
                elif conn.in_transaction:
                    conn.execute("ROLLBACK")
            elif mode == 1:
                if kind is not None and conn.in_transaction:
                    conn.execute("ROLLBACK TO transition")
                conn.execute("RELEASE transition")
                store._done = None  # a later failure cannot replay this one: it would lose the group
        except sqlite3.OperationalError as failure:
            raise self._unavailable(failure) from failure
        if kind is not None and issubclass(kind, sqlite3.OperationalError):
            raise self._unavailable(exc) from exc  # type: ignore[arg-type]

    def _unavailable(self, exc: BaseException) -> BaseException:
        if not self._accepting:
            return exc
        # taking in a message: any storage failure means "nack it", never "drop it"
        return StoreUnavailable(f"store {self._store.path} cannot take the message now: {exc}")


class TransactionOps:
    """Transactions and group commit; a mixin of :class:`bridge.edges.store.Store`."""

    _conn: sqlite3.Connection
    path: str
    _grouped: bool = False
    _in_replayable: bool = False  # inside a replayable transition (no savepoint of its own)
    _done: _Done | None = None  # the group's successful replayable transitions; None: cannot replay
    _lost: BaseException | None = None
    _serial: int = 0  # moved by every group start / end and every rollback: a read mark older than it is stale

    def _read_mark(self) -> tuple[int, int] | None:
        """What a reused read must still match (module docstring), or None outside a group (nothing reused)."""
        if not self._grouped or self._lost is not None:
            return None
        return self._serial, self._conn.total_changes

    def _tx(self) -> _Transaction:
        """One write transaction; the lock is taken first so read-then-write is atomic.

        Inside :meth:`group` the transition stays all-or-nothing and the group's
        single COMMIT makes it durable (module docstring).
        """
        return _Transaction(self, False)

    def _accepting(self) -> _Transaction:
        """A transaction taking in a message: any storage failure means "nack it", never "drop it".

        Disk full, a lock held past the busy timeout or an I/O error become
        :class:`StoreUnavailable` (a :class:`StoreFull`), which the service answers
        with the legacy profile's nack: the LRM keeps the message and retries.
        """
        return _Transaction(self, True)

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """Several transitions in one transaction, so one fsync makes them all durable (group commit).

        A transition that fails inside the group is undone alone and its error
        propagates (module docstring). Nested groups join the outer one.
        """
        if self._grouped:
            yield
            return
        self.begin_group()
        try:
            yield
        except BaseException:
            self.abort_group()
            raise
        self.commit_group()

    @property
    def grouping(self) -> bool:
        """True while a group transaction is open."""
        return self._grouped

    def begin_group(self) -> None:
        """Open a group transaction explicitly (the service keeps one open for a few milliseconds)."""
        if self._grouped:
            return
        self._conn.execute("BEGIN IMMEDIATE")
        self._grouped, self._done, self._lost = True, [], None
        self._serial += 1

    def commit_group(self) -> None:
        """Make everything written since :meth:`begin_group` durable with one COMMIT (:class:`GroupLost`: nothing)."""
        if not self._grouped:
            return
        lost, self._grouped, self._done, self._lost = self._lost, False, None, None
        self._serial += 1
        try:
            if lost is not None:
                raise GroupLost(str(lost)) from lost
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    def abort_group(self) -> None:
        """Forget everything written since :meth:`begin_group`."""
        self._grouped, self._done, self._lost = False, None, None
        self._serial += 1
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _undo_alone(self, failure: BaseException) -> None:
        """Undo the failed transition alone: the group's transaction again, without it."""
        done, self._done = self._done, []
        self._serial += 1
        try:
            if done is None:
                raise GroupLost("a transition without replay ran earlier in this group")
            if not self._conn.in_transaction:
                raise GroupLost("SQLite rolled the whole transaction back")
            self._conn.execute("ROLLBACK")
            self._conn.execute("BEGIN IMMEDIATE")
            for method, args, kwargs, result in done:
                if method(self, *args, **kwargs) != result:
                    raise GroupLost(f"{method.__name__} gave another result when run again")
                self._done.append((method, args, kwargs, result))
        except BaseException as exc:  # noqa: BLE001 - whatever it is, the group cannot be kept
            self._lose(exc, failure)

    def _lose(self, why: BaseException, failure: BaseException) -> None:
        self._done = None
        self._serial += 1
        self._lost = GroupLost(f"store {self.path}: the group transaction is lost ({why}) after a failed"
                               f" transition ({failure!r}); nothing written since it began will be committed")
        if self._conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the commit refuses it anyway: it rolls back
                self._conn.execute("ROLLBACK")
