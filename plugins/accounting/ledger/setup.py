"""What the ledger loads on install: the generic chart, the journals, two fiscal years and the settings.

The accounts postings need are not set here: each account role posts to its default code's
account of this chart until the company maps it to another (:mod:`plugins.accounting.ledger.roles`).
"""
from __future__ import annotations

from datetime import date as Date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import current_company_id, lazy_gettext as _l

from plugins.accounting.ledger import chart, years
from plugins.accounting.ledger.models import Account, Config, Journal

#: code, name, type, default account code
JOURNALS = (
    ("SAL", _l("Sales"), "sales", None),
    ("PUR", _l("Purchases"), "purchase", None),
    ("BNK", _l("Bank"), "bank", "1100"),
    ("CSH", _l("Cash"), "cash", "1110"),
    ("GEN", _l("General"), "general", None),
)


def load_default_data(db: Session, today: Date | None = None) -> None:
    """Load into the current company the chart, the journals SAL/PUR/BNK/CSH/GEN, this and next
    fiscal year (from the company's fiscal-year start), and its settings row."""
    if db.scalar(select(Account.id).where(Account.company_id == current_company_id(db)).limit(1)) is None:
        chart.load_default_chart(db)
    codes = dict(db.execute(select(Account.code, Account.id).where(Account.company_id == current_company_id(db))).all())
    journals = {}
    for code, name, type_, account_code in JOURNALS:
        journal = db.scalar(select(Journal).where(Journal.code == code, Journal.company_id == current_company_id(db)))
        if journal is None:
            journal = Journal(code=code, name=str(name), type=type_, default_account_id=codes.get(account_code),
                              active=True, last_hash="")
            db.add(journal)
        journals[code] = journal
    db.flush()
    years.ensure_years(db, today or Date.today())
    config = db.scalar(select(Config).where(Config.company_id == current_company_id(db)))
    if config is None:
        config = Config(default_payment_terms_days=14)
        db.add(config)
    config.sales_journal_id = config.sales_journal_id or journals["SAL"].id
    config.purchase_journal_id = config.purchase_journal_id or journals["PUR"].id
    config.general_journal_id = config.general_journal_id or journals["GEN"].id
    db.flush()
