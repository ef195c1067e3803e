"""The ledger's invariant, checked by the core at every commit: a posted entry is balanced.

The posting services refuse an unbalanced entry already; this check is the last line of defence
against any other path (a module's hook, a bulk write, a bug) leaving Σdebit ≠ Σcredit in the
books. It looks only at the entries the transaction touched, so it costs one grouped query.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import Changes, InvariantCheck, all_companies, gettext as _
from plugins.accounting.ledger.models import POSTED, Account, Entry, Line

#: Entries checked per query (well under every backend's limit on bound parameters).
_CHUNK = 500


def touched_entry_ids(changes: Changes) -> list[int]:
    """The ids of the entries the transaction created, changed or attached, or whose lines it touched."""
    ids = {entry.id for entry in changes.of(Entry) if entry.id is not None}
    ids |= {line.entry_id for line in changes.of(Line) if line.entry_id is not None}
    return sorted(ids)


def unbalanced_posted_entries(session: Session, entry_ids: list[int]) -> list[str]:
    """The numbers (or ids) of the posted entries among ``entry_ids`` whose debits and credits differ."""
    found: list[str] = []
    for start in range(0, len(entry_ids), _CHUNK):
        chunk = entry_ids[start:start + _CHUNK]
        rows = session.execute(
            select(Entry.id, Entry.number)
            .join(Line, Line.entry_id == Entry.id)
            .where(Entry.id.in_(chunk), Entry.state == POSTED)
            .group_by(Entry.id, Entry.number)
            .having(func.sum(Line.debit) != func.sum(Line.credit))
            .order_by(Entry.id)
        ).all()
        found.extend(row.number or f"#{row.id}" for row in rows)
    return found


def entries_across_companies(session: Session, entry_ids: list[int]) -> list[str]:
    """The numbers (or ids) of the entries among ``entry_ids`` with a line of another company than
    the entry's, or on an account of another company."""
    found: list[str] = []
    for start in range(0, len(entry_ids), _CHUNK):
        chunk = entry_ids[start:start + _CHUNK]
        rows = session.execute(
            select(Entry.id, Entry.number).distinct()
            .join(Line, Line.entry_id == Entry.id)
            .join(Account, Account.id == Line.account_id)
            .where(Entry.id.in_(chunk),
                   (Line.company_id != Entry.company_id) | (Account.company_id != Entry.company_id))
            .order_by(Entry.id)
        ).all()
        found.extend(row.number or f"#{row.id}" for row in rows)
    return found


def check_balanced(session: Session, changes: Changes) -> str | None:
    """None when every posted entry the transaction touched is balanced and every entry it touched
    keeps its lines in its own company's books, else what is wrong.

    Checked whatever company the transaction worked in (the entries of every company it touched).
    """
    ids = touched_entry_ids(changes)
    if not ids:
        return None
    with all_companies():
        unbalanced = unbalanced_posted_entries(session, ids)
        mixed = entries_across_companies(session, ids)
    if unbalanced:
        return _("A posted entry must be balanced (total debit equal to total credit): %(entries)s is not.",
                 entries=", ".join(unbalanced))
    if mixed:
        return _("An entry's lines belong to its company and post to that company's accounts: %(entries)s does not.",
                 entries=", ".join(mixed))
    return None


#: Registered by the accounting module (hook ``register_invariant_checks``).
BALANCED_ENTRIES = InvariantCheck("accounting.balanced_entries", check_balanced, watches=(Entry, Line))
