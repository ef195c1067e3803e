"""The demo year of invoices and bills: posted, balanced, some in euros, some credited."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from plugins.accounting.invoicing import demo
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.ledger.models import Entry, Line
from plugins.accounting.tax import demo as tax_demo


def test_the_demo_year(db):
    added = []
    tax_demo.load(db, added.append)
    demo.load(db, added.append)
    kinds = Counter(db.execute(select(Invoice.kind, Invoice.state)).all())
    assert sum(n for (kind, state), n in kinds.items() if kind == "out_invoice" and state != "draft") == demo.INVOICES
    assert sum(n for (kind, state), n in kinds.items() if kind == "in_invoice") == demo.BILLS
    assert kinds[("out_invoice", "draft")] == demo.DRAFTS
    assert kinds[("out_invoice", "cancelled")] > 0 and kinds[("out_refund", "posted")] > 0
    assert db.execute(select(func.count()).select_from(Invoice).where(Invoice.currency == "EUR")).scalar_one() > 10
    first, last = db.execute(select(func.min(Invoice.invoice_date), func.max(Invoice.invoice_date))).one()
    assert first >= date.today() - timedelta(days=366) and last <= date.today()
    assert (last - first).days > 330
    unbalanced = db.execute(select(Line.entry_id).group_by(Line.entry_id)
                            .having(func.sum(Line.debit) != func.sum(Line.credit))).all()
    assert unbalanced == []
    assert db.execute(select(func.count()).select_from(Entry).where(Entry.state == "posted")).scalar_one() >= 230
    demo.load(db, added.append)  # a second run adds nothing
    assert db.execute(select(func.count()).select_from(Invoice)).scalar_one() == sum(kinds.values())
