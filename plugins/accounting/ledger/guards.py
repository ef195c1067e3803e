"""The ORM's side of posted immutability: a flush that would change or delete a posted entry or
line is refused before it reaches the database (whose triggers refuse it too)."""
from __future__ import annotations

from sqlalchemy import event, inspect
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


def refuse_posted_changes(session: Session, _flush_context, _instances) -> None:
    """``before_flush`` guard: no UPDATE or DELETE of a posted entry or line through the ORM."""
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
    """Register the guard for every session (it only looks at entries and lines)."""
    if not event.contains(Session, "before_flush", refuse_posted_changes):
        event.listen(Session, "before_flush", refuse_posted_changes)
