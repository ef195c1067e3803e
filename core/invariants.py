"""End-of-transaction invariant checks: what must hold whenever a business operation commits.

Modules register :class:`InvariantCheck` values (hook ``register_invariant_checks``). The app's
sessions collect what a transaction changed (:class:`Changes`); at the commit of the outermost
transaction, after every service and hook of the operation has run, the core flushes what is
pending and calls each check that concerns the changes. A check that finds its invariant broken
refuses the commit with an :class:`InvariantError` (a 409, like any :class:`~core.KontorError`),
so nothing of the operation is kept: the caller, or the core's error handler, rolls it back.
A transaction that changed nothing runs no check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from core.errors import KontorError

_CHANGES = "kontor_changes"


@dataclass(frozen=True)
class InvariantCheck:
    """A rule that must hold at every commit, e.g. "every posted entry is balanced".

    ``check(session, changes)`` returns ``None`` when the rule holds, else a translated sentence
    saying what is wrong; it may also raise :class:`~core.KontorError` itself. It should look only
    at what ``changes`` says the transaction touched, so that it stays cheap. ``watches`` lists
    the model classes (or table names) it concerns: the check is skipped unless the transaction
    changed one of them. Empty means every transaction that changed anything.
    ``name`` (``"<module>.<rule>"``) names the check in logs and errors.
    """

    name: str
    check: Callable[[Session, "Changes"], str | None]
    watches: tuple[type | str, ...] = ()


class InvariantError(KontorError):
    """A commit was refused because an invariant check failed; nothing of the operation is kept."""

    status = 409

    def __init__(self, message: str, *, check: str):
        super().__init__(message)
        self.check = check


@dataclass
class Changes:
    """What the current transaction changed, collected as it goes.

    ``new``, ``dirty`` and ``deleted`` are the objects the session's flushes inserted, updated and
    deleted. ``attached`` are objects a service wrote itself (a bulk insert) and then handed to the
    session as persistent (``session.add`` of a detached object). ``tables`` names the tables that
    statements run through ``session.execute`` inserted into, updated or deleted from (whose rows
    no object stands for). :func:`note_changed` adds what a service changed by other means.
    """

    new: list[Any] = field(default_factory=list)
    dirty: list[Any] = field(default_factory=list)
    deleted: list[Any] = field(default_factory=list)
    attached: list[Any] = field(default_factory=list)
    tables: set[str] = field(default_factory=set)
    _seen: dict[str, set[int]] = field(default_factory=lambda: {"new": set(), "dirty": set(), "deleted": set(),
                                                               "attached": set()}, repr=False)

    def add(self, kind: str, obj: Any) -> None:
        """Note ``obj`` under ``kind`` (new, dirty, deleted or attached), once."""
        seen = self._seen[kind]
        if id(obj) not in seen:
            seen.add(id(obj))
            getattr(self, kind).append(obj)

    def objects(self) -> Iterator[Any]:
        """Every object changed: new, dirty, deleted and attached (one may appear under several)."""
        yield from self.new
        yield from self.dirty
        yield from self.deleted
        yield from self.attached

    def of(self, *types: type) -> list[Any]:
        """The changed objects that are instances of ``types``, each once."""
        found: dict[int, Any] = {}
        for obj in self.objects():
            if isinstance(obj, types):
                found.setdefault(id(obj), obj)
        return list(found.values())

    def concern(self, watches: Iterable[type | str]) -> bool:
        """Whether anything changed is one of ``watches`` (model classes, or table names)."""
        watches = tuple(watches)
        if not watches:
            return bool(self)
        types = tuple(w for w in watches if isinstance(w, type))
        names = {w for w in watches if isinstance(w, str)}
        names |= {t.__table__.name for t in types if getattr(t, "__table__", None) is not None}
        return bool(names & self.tables) or any(
            (types and isinstance(obj, types)) or _table_of(obj) in names for obj in self.objects()
        )

    def __bool__(self) -> bool:
        return bool(self.new or self.dirty or self.deleted or self.attached or self.tables)


def _table_of(obj: Any) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return getattr(table, "name", None)


def changes_of(session: Session) -> Changes:
    """What ``session``'s current transaction has changed so far (flushed changes only)."""
    changes = session.info.get(_CHANGES)
    if changes is None:
        changes = session.info[_CHANGES] = Changes()
    return changes


def note_changed(session: Session, *objects: Any) -> None:
    """Tell the invariant checks that ``objects`` changed, for a service that wrote their rows with
    statements and attached nothing to the session."""
    changes = changes_of(session)
    for obj in objects:
        changes.add("dirty", obj)


def run_checks(session: Session, checks: Iterable[InvariantCheck]) -> None:
    """Flush ``session`` and run ``checks`` over what its transaction changed; raise
    :class:`InvariantError` for the first that fails. Nothing runs when nothing changed."""
    session.flush()
    changes = changes_of(session)
    if not changes:
        return
    for check in checks:
        if not changes.concern(check.watches):
            continue
        problem = check.check(session, changes)
        if problem:
            raise InvariantError(str(problem), check=check.name)


def install_invariant_checks(factory: sessionmaker, checks: Callable[[], Iterable[InvariantCheck]]) -> None:
    """Collect the changes of every transaction of ``factory``'s sessions and run ``checks()`` before
    each commit of an outermost transaction."""

    def after_flush(session: Session, flush_context) -> None:
        changes = changes_of(session)
        for state, (is_delete, list_only) in list(flush_context.states.items()):
            obj = state.obj()
            if list_only or obj is None:
                continue
            changes.add("deleted" if is_delete else ("new" if state.key is None else "dirty"), obj)

    def attached(session: Session, instance) -> None:
        changes_of(session).add("attached", instance)

    def executed(orm_execute_state) -> None:
        if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
            table = getattr(orm_execute_state.statement, "table", None)
            name = getattr(table, "name", None) or getattr(getattr(table, "__table__", None), "name", None)
            changes_of(orm_execute_state.session).tables.add(name or "?")

    def before_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint is released, not the operation committed: its checks run at the end
        run_checks(session, checks())

    def transaction_ended(session: Session, transaction) -> None:
        if transaction.parent is None:
            session.info.pop(_CHANGES, None)

    event.listen(factory, "after_flush", after_flush)
    event.listen(factory, "detached_to_persistent", attached)
    event.listen(factory, "do_orm_execute", executed)
    event.listen(factory, "before_commit", before_commit)
    event.listen(factory, "after_transaction_end", transaction_ended)
