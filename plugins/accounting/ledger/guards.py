"""The ORM's side of posted immutability: a flush that would change or delete a posted entry or
line, or an issued document beyond what its services change, is refused before it reaches the
database (whose triggers refuse it too)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from core import KontorError, gettext as _

from plugins.accounting.ledger.models import POSTED, Entry, Line


def _was_posted(obj) -> bool:
    """Whether the row as loaded from the database is posted (whatever it is being changed to)."""
    history = inspect(obj).attrs.state.history
    if history.deleted:
        return history.deleted[0] == POSTED
    return (history.unchanged or [None])[0] == POSTED


def _changed(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[attr.key].history.has_changes() for attr in state.mapper.column_attrs)


@dataclass(frozen=True)
class IssuedDocument:
    """A kind of document that is final once numbered: only ``mutable`` columns still change, and
    its ``state`` only as ``state_allowed(before, after)`` says (``before`` None when not loaded)."""

    model: type
    mutable: frozenset[str]
    state_allowed: Callable[[str | None, str], bool]
    changed: str
    deleted: str


_ISSUED: dict[type, IssuedDocument] = {}


def guard_issued(model: type, *, mutable: set[str], state_allowed: Callable[[str | None, str], bool],
                 changed: str, deleted: str) -> None:
    """Refuse, on every flush, a change to a numbered ``model`` beyond ``mutable`` columns and the
    allowed state moves (message ``changed``), and its deletion (message ``deleted``).

    The area that owns ``model`` calls it once on import, beside the triggers its migration creates.
    """
    _ISSUED[model] = IssuedDocument(model, frozenset(mutable), state_allowed, changed, deleted)


def _stored_number(session: Session, obj) -> str | None:
    """The document's number as stored (as loaded, or read when the loaded value is not at hand)."""
    history = inspect(obj).attrs.number.history
    if history.deleted or history.unchanged:
        return (history.deleted or history.unchanged)[0]
    if inspect(obj).key is None:
        return None
    model = type(obj)
    with session.no_autoflush:
        return session.execute(select(model.number).where(model.id == obj.id)).scalar_one_or_none()


def _refuse_issued_changes(session: Session) -> None:
    for obj in session.deleted:
        rule = _ISSUED.get(type(obj))
        if rule is not None and _stored_number(session, obj) is not None:
            raise KontorError(str(rule.deleted), field="state", status=409)
    for obj in session.dirty:
        rule = _ISSUED.get(type(obj))
        if rule is None or _stored_number(session, obj) is None:
            continue
        state = inspect(obj)
        frozen = [a.key for a in state.mapper.column_attrs
                  if a.key not in rule.mutable and state.attrs[a.key].history.has_changes()]
        moved = state.attrs.state.history
        before = (moved.deleted or moved.unchanged or [None])[0]
        if frozen or (moved.added and not rule.state_allowed(before, moved.added[0])):
            raise KontorError(str(rule.changed), field=frozen[0] if frozen else "state", status=409)


def refuse_posted_changes(session: Session, _flush_context, _instances) -> None:
    """``before_flush`` guard: no UPDATE or DELETE of a posted entry or line through the ORM, and no
    change to an issued document beyond what :func:`guard_issued` allows."""
    _refuse_issued_changes(session)
    for obj in session.deleted:
        if isinstance(obj, (Entry, Line)) and _was_posted(obj):
            raise KontorError(_("A posted entry is never deleted: reverse it."), field="state", status=409)
    for obj in session.dirty:
        if isinstance(obj, (Entry, Line)) and _was_posted(obj) and _changed(obj):
            raise KontorError(_("A posted entry is never changed: reverse it."), field="state", status=409)
    for obj in session.new:
        if isinstance(obj, Line) and obj.entry is not None and obj.entry not in session.new \
                and _was_posted(obj.entry):
            raise KontorError(_("A posted entry takes no new lines."), field="lines", status=409)


def install() -> None:
    """Register the guard for every session (it only looks at entries, lines and issued documents)."""
    if not event.contains(Session, "before_flush", refuse_posted_changes):
        event.listen(Session, "before_flush", refuse_posted_changes)
