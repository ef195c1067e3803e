"""Reading the audit log: verifying its hash chain, searching it, and a record's history."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Iterator

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.audit.models import AuditHead, AuditRecord
from core.audit.recorder import GENESIS, chain_hash, hashed_fields
from core.web.listing import Page, keyset_page

#: Rows read per query while verifying: memory stays flat however long the log is.
VERIFY_CHUNK = 5000

_AUDIT = AuditRecord.__table__
# plain table columns, not ORM attributes: rows come back without the ORM's per-row loading cost
_CHAIN_COLUMNS = tuple(_AUDIT.c[name] for name in (
    "seq", "at", "user_id", "username", "origin", "action", "module", "table_name", "record_id", "changes",
    "company_id", "prev_hash", "hash"))


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :func:`verify_chain`.

    When the chain is broken, ``broken_at`` is the seq of the first bad link and ``reason`` one of
    ``hash`` (the record's content does not match its hash), ``link`` (its ``prev_hash`` is not the
    previous record's hash), ``gap`` (records are missing before it), ``head`` (the chain's tip does
    not match the last record). ``expected``/``stored`` are the hashes (or seqs) compared.
    """

    intact: bool
    records: int
    broken_at: int | None = None
    reason: str = ""
    expected: str | None = None
    stored: str | None = None

    def describe(self) -> str:
        """A one-line account of the result, for the CLI and logs."""
        if self.intact:
            return f"audit log intact: {self.records} records"
        if self.reason == "gap":
            return (f"audit log broken at seq {self.broken_at}: record missing "
                    f"(expected seq {self.expected}, found {self.stored})")
        if self.reason == "head":
            return (f"audit log broken at seq {self.broken_at}: the chain head does not match "
                    f"(expected {self.expected}, stored {self.stored})")
        what = "hash" if self.reason == "hash" else "previous hash"
        return (f"audit log broken at seq {self.broken_at}: {what} mismatch "
                f"(expected {self.expected}, stored {self.stored})")


def _chunks(db: Session, upto: int, size: int) -> Iterator[list]:
    """The records with seq <= ``upto``, in seq order, ``size`` rows per query (keyset)."""
    last = 0
    while True:
        rows = db.execute(
            select(*_CHAIN_COLUMNS).where(_AUDIT.c.seq > last, _AUDIT.c.seq <= upto)
            .order_by(_AUDIT.c.seq).limit(size)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def verify_chain(
    db: Session, *, chunk_size: int = VERIFY_CHUNK, progress: Callable[[int], Any] | None = None
) -> VerifyResult:
    """Recompute the hash chain in seq order and report the first broken link.

    Reads the chain head first and checks every record up to it, so records appended meanwhile
    do not disturb the check. ``progress(n)`` is called after each chunk with its row count.
    """
    head = db.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    expected_seq, prev = 1, GENESIS
    for rows in _chunks(db, head_seq, chunk_size):
        for row in rows:
            if row.seq != expected_seq:
                return VerifyResult(False, expected_seq - 1, expected_seq, "gap", str(expected_seq), str(row.seq))
            if row.prev_hash != prev:
                return VerifyResult(False, expected_seq - 1, row.seq, "link", prev, row.prev_hash)
            computed = chain_hash(prev, hashed_fields(row._mapping))
            if computed != row.hash:
                return VerifyResult(False, expected_seq - 1, row.seq, "hash", computed, row.hash)
            prev = row.hash
            expected_seq += 1
        if progress is not None:
            progress(len(rows))
    count = expected_seq - 1
    if count != head_seq:
        return VerifyResult(False, count, count + 1, "gap", str(count + 1), "none")
    if prev != head_hash:
        return VerifyResult(False, count, head_seq, "head", prev, head_hash)
    # the whole log, whichever companies the verifier works in
    beyond = db.execute(select(func.max(AuditRecord.seq)).execution_options(kontor_unscoped=True)).scalar() or 0
    tip = db.execute(select(AuditHead.seq).where(AuditHead.id == 1)).scalar() or 0
    if beyond > tip:
        # rows were inserted past the tip without moving it: they are outside the chain
        return VerifyResult(False, count, tip + 1, "head", str(tip), str(beyond))
    return VerifyResult(True, count)


def chain_length(db: Session) -> int:
    """How many records the chain head says the log holds."""
    return db.execute(select(AuditHead.seq).where(AuditHead.id == 1)).scalar() or 0


@dataclass(frozen=True)
class AuditFilters:
    """What to look for in the log; empty fields do not filter. Dates are UTC days, inclusive."""

    user: str = ""
    module: str = ""
    table: str = ""
    record_id: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (empty ones left out)."""
        args = {"user": self.user, "module": self.module, "table": self.table, "record_id": self.record_id,
                "action": self.action, "date_from": self.date_from.isoformat() if self.date_from else "",
                "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in args.items() if v}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def records_query(filters: AuditFilters) -> Select:
    """The audit records matching ``filters`` (unordered)."""
    stmt = select(AuditRecord)
    if filters.user:
        stmt = stmt.where(AuditRecord.username == filters.user)
    if filters.module:
        stmt = stmt.where(AuditRecord.module == filters.module)
    if filters.table:
        stmt = stmt.where(AuditRecord.table_name == filters.table)
    if filters.record_id:
        stmt = stmt.where(AuditRecord.record_id == filters.record_id)
    if filters.action:
        stmt = stmt.where(AuditRecord.action == filters.action)
    if filters.date_from:
        stmt = stmt.where(AuditRecord.at >= _day_start(filters.date_from))
    if filters.date_to and filters.date_to < date.max:  # up to the last day a date holds: no bound
        stmt = stmt.where(AuditRecord.at < _day_start(filters.date_to + timedelta(days=1)))
    return stmt


def list_records(db: Session, filters: AuditFilters, *, after: str | None = None, limit: int = 50) -> Page:
    """One page of the records matching ``filters``, newest first (keyset on seq).

    ``after`` is the ``next_cursor`` of the previous page.
    """
    return keyset_page(db, records_query(filters), sort_keys={"seq": AuditRecord.seq}, id_column=AuditRecord.seq,
                       sort="-seq", cursor=after, size=limit, filters=filters.as_args())


def record_history(db: Session, table_name: str, record_id: str, *, after: str | None = None,
                   limit: int = 50) -> Page:
    """The audit records of one row (``table_name``, ``record_id``), newest first."""
    page = list_records(db, AuditFilters(table=table_name, record_id=str(record_id)), after=after, limit=limit)
    page.filters = {}  # the row is in the path of the history page, not in its query
    return page


@dataclass(frozen=True)
class Change:
    """One field's change in a record: its value before and after."""

    field: str
    before: Any
    after: Any


def changes_of(record: AuditRecord) -> list[Change]:
    """The changed fields of ``record``, sorted by field name."""
    try:
        data = json.loads(record.changes or "{}")
    except json.JSONDecodeError:
        return []
    if not isinstance(data, dict):
        return []
    found = []
    for name in sorted(data):
        pair = data[name]
        before, after = (pair[0], pair[1]) if isinstance(pair, list) and len(pair) == 2 else (None, pair)
        found.append(Change(name, before, after))
    return found
