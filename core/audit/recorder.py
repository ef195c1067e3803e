"""Writes the audit log: every flush of audited models, and explicit events such as logins.

Who acts comes from the one actor context, :mod:`core.actor`. Records are chained: each carries
SHA-256 over the previous record's hash and its own canonical JSON. Writers lock the one-row chain
head, so the chain stays linear across workers and hosts.
"""
from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import Session

from core.actor import Actor, acting, acting_as, set_actor
from core.company.scope import CompanyScoped, current_company_id
from core.audit.models import AuditHead, AuditRecord
from core.orm import utcnow

__all__ = ["Actor", "acting_as", "install_listeners", "record_event", "set_actor", "write_records"]

GENESIS = "0" * 64
REDACTED = "***"


def plain(value: Any) -> Any:
    """A JSON-safe, exact rendering of a column value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def canonical(record: dict[str, Any]) -> str:
    """The canonical JSON a record's hash is computed over."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(prev_hash: str, record: dict[str, Any]) -> str:
    """SHA-256 of the previous hash joined to the record's canonical JSON."""
    return hashlib.sha256((prev_hash + canonical(record)).encode()).hexdigest()


def hashed_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The fields of an audit row that its hash covers (everything but the hashes).

    ``company_id`` is covered when a record has one; records written before companies existed
    have none, so their hashes stay what they were.
    """
    fields = _hashed_fields(row)
    if row.get("company_id") is not None:
        fields["company_id"] = row["company_id"]
    return fields


def _hashed_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "at": row["at"].isoformat(),
        "user_id": row["user_id"],
        "username": row["username"],
        "origin": row["origin"],
        "action": row["action"],
        "module": row["module"],
        "table_name": row["table_name"],
        "record_id": row["record_id"],
        "changes": row["changes"],
    }


def _module_of(table_name: str) -> str:
    return table_name.split("_", 1)[0] if "_" in table_name else table_name


def lock_audit_chain(session: Session) -> None:
    """Lock the audit chain's head for the rest of the transaction, now.

    Every audited write locks it when its records are written (:func:`write_records`). A service
    that goes on to lock rows of its own (a journal's chain head, a stock counter) takes this lock
    first, so every transaction locks in one order (audit head, then its own rows) and concurrent
    writers queue instead of deadlocking. PostgreSQL only: SQLite holds the write lock already.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.connection().execute(select(AuditHead.seq).where(AuditHead.id == 1).with_for_update())


def write_records(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append ``entries`` (action, module, table_name, record_id, changes) to the chain."""
    if not entries:
        return
    conn = session.connection()
    head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()).first()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    actor = acting()
    at = utcnow()
    rows = []
    for entry in entries:
        seq += 1
        row = {
            "seq": seq,
            "at": at,
            "user_id": actor.user_id,
            # cut to the column sizes before hashing: what is stored is exactly what was hashed
            "username": actor.username[:80],
            "origin": actor.origin[:300],
            "action": entry["action"][:40],
            "module": (entry.get("module") or _module_of(entry.get("table_name", "")))[:64],
            "table_name": entry.get("table_name", "")[:80],
            "record_id": str(entry.get("record_id", ""))[:80],
            "changes": json.dumps(entry.get("changes") or {}, sort_keys=True, ensure_ascii=False, default=plain),
            "company_id": entry.get("company_id"),
        }
        row["prev_hash"] = prev
        row["hash"] = prev = chain_hash(row["prev_hash"], hashed_fields(row))
        rows.append(row)
    conn.execute(insert(AuditRecord), rows)
    if head:
        conn.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=prev))
    else:
        conn.execute(insert(AuditHead).values(id=1, seq=seq, hash=prev))


def record_event(
    session: Session,
    action: str,
    *,
    module: str = "core",
    table_name: str = "",
    record_id: Any = "",
    changes: dict[str, Any] | None = None,
    company_id: int | None = None,
) -> None:
    """Audit an act that is not a row change: a login, a module install, a permission grant; one
    company's act (a year closed) names the company, so only those who work in it see it."""
    write_records(
        session,
        [{"action": action, "module": module, "table_name": table_name, "record_id": record_id, "changes": changes,
          "company_id": company_id}],
    )


def _identity(obj) -> str:
    ids = inspect(obj).mapper.primary_key_from_instance(obj)
    if any(i is None for i in ids):
        return ""
    return str(ids[0]) if len(ids) == 1 else "/".join(str(i) for i in ids)


def _changes(obj, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    mapper = state.mapper
    exclude = set(getattr(obj, "__audit_exclude__", ()))
    redact = set(getattr(obj, "__audit_redact__", ()))
    changes: dict[str, list[Any]] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        if key in exclude:
            continue
        history = state.attrs[key].history
        if action == "insert":
            before, after = None, state.attrs[key].value
        elif action == "delete":
            before, after = (history.unchanged or history.deleted or [None])[0], None
        else:
            if not history.has_changes():
                continue
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            if before == after:
                continue
        if key in redact:
            before, after = (REDACTED if before is not None else None), (REDACTED if after is not None else None)
        changes[key] = [plain(before), plain(after)]
    for rel in mapper.relationships:
        if rel.secondary is None or rel.key in exclude:
            continue
        history = state.attrs[rel.key].history
        if not history.has_changes() and action == "update":
            continue
        if action == "update":
            before = sorted(str(_identity(o) or o) for o in (history.unchanged + history.deleted))
            after = sorted(str(_identity(o) or o) for o in (history.unchanged + history.added))
        elif action == "insert":
            before, after = [], sorted(str(_identity(o) or o) for o in state.attrs[rel.key].value or [])
        else:
            continue
        if before != after:
            changes[rel.key] = [before, after]
    return changes


def _company_of(session: Session, obj) -> int | None:
    """The company an audited row's change belongs to: a per-company record's own; None for the
    core's shared records (parties, tags, users); for a module's other rows (an invoice's lines, a
    statement's lines), the company they were written in."""
    if isinstance(obj, CompanyScoped):
        return obj.company_id
    if type(obj).__module__.startswith("core."):
        return None
    return current_company_id(session) or None


def _audited(obj) -> bool:
    return getattr(type(obj), "__audited__", False)


def _after_flush(session: Session, flush_context) -> None:
    # The unit of work's own list of what it wrote is the source of truth: every row this flush
    # inserted, updated or deleted, whatever the session's views of new and dirty objects say.
    entries = []
    for state, (is_delete, list_only) in list(flush_context.states.items()):
        obj = state.obj()
        if list_only or obj is None or not _audited(obj):
            continue
        action = "delete" if is_delete else ("insert" if state.key is None else "update")
        changes = _changes(obj, action)
        if action == "update" and not changes:
            continue
        table = state.mapper.local_table.name
        entries.append({"action": action, "table_name": table, "record_id": _identity(obj), "changes": changes,
                        "company_id": _company_of(session, obj)})
    write_records(session, entries)


def _load_deleted(session: Session, _flush_context, _instances) -> None:
    # an expired row about to be deleted is read now: after the flush its values are gone
    for obj in session.deleted:
        if not _audited(obj):
            continue
        state = inspect(obj)
        for key in state.unloaded & set(state.mapper.column_attrs.keys()):
            getattr(obj, key)


def _keep_old_value(target, value, oldvalue, initiator):
    return value


def _watch_old_values(mapper, class_) -> None:
    """Load an unloaded column before it is overwritten, so the audit record has its old value."""
    if not getattr(class_, "__audited__", False) or class_ in _watched:
        return
    _watched.add(class_)
    for attr in mapper.column_attrs:
        event.listen(getattr(class_, attr.key), "set", _keep_old_value, active_history=True)


_watched: set[type] = set()


def install_listeners(factory) -> None:
    """Audit every flush of sessions made by ``factory``."""
    from core.orm import Base

    if not getattr(factory, "_kontor_audited", False):  # a flag: see install_scope_listeners
        factory._kontor_audited = True
        event.listen(factory, "after_flush", _after_flush)
        event.listen(factory, "before_flush", _load_deleted)
    if not event.contains(Base, "mapper_configured", _watch_old_values):
        event.listen(Base, "mapper_configured", _watch_old_values, propagate=True)
    for mapper in list(Base.registry.mappers):
        if mapper.configured:
            _watch_old_values(mapper, mapper.class_)
