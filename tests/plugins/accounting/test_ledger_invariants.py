"""The ledger's invariant checked by the core at every commit: a posted entry is balanced."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import InvariantError
from plugins.accounting.ledger import services
from plugins.accounting.ledger.models import POSTED, Entry

TODAY = date.today()


def _lines(debit: str, credit: str) -> list[dict]:
    return [{"account": "1200", "debit": debit}, {"account": "4000", "credit": credit}]


def test_the_accounting_module_registers_the_balanced_entry_check(app):
    names = [c.name for c in app.extensions["kontor"].invariant_checks]
    assert "accounting.balanced_entries" in names


def test_an_unbalanced_entry_marked_posted_by_another_path_is_refused_at_commit(db):
    entry = services.create_entry(db, journal="GEN", date=TODAY, lines=_lines("100.00", "99.99"))  # a draft may be
    db.commit()
    entry.state = POSTED  # not through post_entry, which refuses it: the last line of defence holds
    with pytest.raises(InvariantError, match="must be balanced") as refused:
        db.commit()
    assert refused.value.status == 409 and refused.value.check == "accounting.balanced_entries"
    db.rollback()
    assert db.execute(select(Entry.state).where(Entry.id == entry.id)).scalar() == "draft"


def test_balanced_postings_commit_one_by_one_and_in_a_batch(db):
    entry = services.create_and_post(db, journal="GEN", date=TODAY, lines=_lines("10.00", "10.00"))
    db.commit()
    batch = services.post_batch(db, [{"journal": "GEN", "date": TODAY, "lines": _lines(f"{n}.00", f"{n}.00")}
                                     for n in range(1, 4)])
    db.commit()
    posted = db.execute(select(Entry.id).where(Entry.state == POSTED)).scalars().all()
    assert set(posted) >= {entry.id, *(e.id for e in batch)}


def test_the_check_sees_the_entries_a_batch_posting_attached(db):
    from core.invariants import changes_of

    batch = services.post_batch(db, [{"journal": "GEN", "date": TODAY, "lines": _lines("5.00", "5.00")}])
    from plugins.accounting.ledger.invariants import touched_entry_ids

    assert touched_entry_ids(changes_of(db)) == [batch[0].id]
    db.commit()
