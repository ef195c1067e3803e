"""The demo payments and bank statements, on top of the demo invoices and bills."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from plugins.accounting.banking import demo, services
from plugins.accounting.banking.models import Payment, Statement, StatementLine
from plugins.accounting.invoicing import demo as invoicing_demo
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.ledger.models import Line
from plugins.accounting.tax import demo as tax_demo


def test_the_demo_payments_and_statements(db):
    added = []
    tax_demo.load(db, added.append)
    invoicing_demo.load(db, added.append)
    before = len(added)
    demo.load_demo_data(db, added.append)
    db.commit()
    payments = db.execute(select(func.count()).select_from(Payment)).scalar_one()
    assert payments > 150 and len(added) - before > 150
    states = Counter(db.execute(select(Invoice.state).where(Invoice.kind.in_(("out_invoice", "in_invoice"))))
                     .scalars())
    assert states["paid"] > 150 and states["partial"] > 5 and states["posted"] > 10
    assert db.execute(select(func.count()).select_from(Payment).where(Payment.currency == "EUR")).scalar_one() > 5
    formats = sorted(db.execute(select(Statement.format)).scalars())
    assert formats == ["camt053", "csv"]
    lines = Counter(db.execute(select(StatementLine.state)).scalars())
    assert lines["matched"] >= 3 and lines["unmatched"] >= 3
    for statement in db.execute(select(Statement)).scalars():
        assert statement.balance_difference == 0
    waiting = db.execute(select(StatementLine).where(StatementLine.state == "unmatched")).scalars().all()
    from plugins.accounting.banking import statements
    assert sum(1 for line in waiting if statements.suggestions(db, line)) >= 2
    unbalanced = db.execute(select(Line.entry_id).group_by(Line.entry_id)
                            .having(func.sum(Line.debit) != func.sum(Line.credit))).all()
    assert unbalanced == []
    # residuals agree with the open items the reports read
    for invoice in db.execute(select(Invoice).where(Invoice.state == "partial")).scalars():
        item = next(i for i in services.open_items(db, invoice.party_id,
                                                   "receivable" if invoice.kind == "out_invoice" else "payable")
                    if i["invoice_id"] == invoice.id)
        assert abs(item["open_currency"]) == invoice.amount_residual
    demo.load_demo_data(db, added.append)  # a second run adds nothing
    assert db.execute(select(func.count()).select_from(Payment)).scalar_one() == payments
