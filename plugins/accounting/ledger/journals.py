"""Journals: the books entries are kept in, each numbered and hash-chained on its own."""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import KontorError, NotFound, current_company_id, gettext as _

from plugins.accounting.ledger.models import JOURNAL_TYPES, Account, Entry, Journal


def get_journal(db: Session, journal_id: int) -> Journal:
    """The journal with ``journal_id``; :class:`NotFound` if none."""
    journal = db.get(Journal, journal_id)
    if journal is None:
        raise NotFound(_("There is no journal %(id)s.", id=journal_id), field="id")
    return journal


def entry_counts(db: Session) -> dict[int, tuple[int, int]]:
    """Per journal: (posted entries, drafts)."""
    counts: dict[int, list[int]] = {}
    for journal_id, state, n in db.execute(select(Entry.journal_id, Entry.state, func.count(Entry.id))
                                           .group_by(Entry.journal_id, Entry.state)):
        counts.setdefault(journal_id, [0, 0])[0 if state == "posted" else 1] += n
    return {k: (v[0], v[1]) for k, v in counts.items()}


def _clean(db: Session, data: dict[str, Any], journal: Journal | None) -> dict[str, Any]:
    current = (lambda name, default=None: getattr(journal, name) if journal is not None else default)
    code = str(data.get("code", current("code", "")) or "").strip().upper()
    if not code or len(code) > 10 or not code.replace("-", "").replace("_", "").isalnum():
        raise KontorError(_("A code has 1 to 10 letters or digits."), field="code", status=422)
    clash = db.scalar(select(Journal).where(Journal.code == code, Journal.company_id == current_company_id(db)))
    if clash is not None and clash is not journal:
        raise KontorError(_("The code %(code)s is already used.", code=code), field="code", status=422)
    if journal is not None and code != journal.code and db.scalar(
            select(Entry.id).where(Entry.journal_id == journal.id, Entry.state == "posted").limit(1)) is not None:
        raise KontorError(_("The journal has posted entries: its code is part of their numbers and hashes."),
                          field="code", status=422)
    name = str(data.get("name", current("name", "")) or "").strip()
    if not name or len(name) > 100:
        raise KontorError(_("A name of 1 to 100 characters is required."), field="name", status=422)
    type_ = str(data.get("type", current("type", "")) or "").strip().lower()
    if type_ not in JOURNAL_TYPES:
        raise KontorError(_("Choose a type: %(types)s.", types=", ".join(JOURNAL_TYPES)), field="type", status=422)
    raw = data.get("default_account_id", current("default_account_id"))
    account_id = None
    if raw not in (None, ""):
        try:
            account = db.get(Account, int(raw))
        except (TypeError, ValueError):
            account = None
        if account is None or not account.postable:
            raise KontorError(_("Choose a postable account."), field="default_account_id", status=422)
        if type_ in ("bank", "cash") and account.kind != type_:
            raise KontorError(_("A %(type)s journal's account must be a %(type)s account.", type=type_),
                              field="default_account_id", status=422)
        account_id = account.id
    if type_ in ("bank", "cash") and account_id is None:
        raise KontorError(_("A bank or cash journal needs its account."), field="default_account_id", status=422)
    active = data.get("active", current("active", True))
    active = active if isinstance(active, bool) else str(active).strip().lower() in ("1", "true", "yes", "on")
    return {"code": code, "name": name, "type": type_, "default_account_id": account_id, "active": active}


def create_journal(db: Session, data: dict[str, Any]) -> Journal:
    """Create a journal (code, name, type, default_account_id; bank and cash journals need their account)."""
    journal = Journal(last_hash="", **_clean(db, data, None))
    db.add(journal)
    db.flush()
    return journal


def update_journal(db: Session, journal: Journal, data: dict[str, Any]) -> Journal:
    """Change a journal; its code is fixed once it has posted entries."""
    for name, value in _clean(db, data, journal).items():
        setattr(journal, name, value)
    db.flush()
    return journal
