"""The ledger's demo records: the owners' capital paid in a year ago, then a year of salaries and rent."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugins.accounting.companies import in_each_company
from plugins.accounting.ledger import services, years
from plugins.accounting.ledger.models import Entry


def load(db: Session, progress, today: date | None = None) -> None:
    """Post the demo's general entries in every company of the group (each in its own books)."""
    in_each_company(db, lambda: _load(db, progress, today))


def _load(db: Session, progress, today: date | None = None) -> None:
    """Post the current company's demo general entries (once: nothing is added when demo entries exist already)."""
    if db.scalar(select(Entry.id).where(Entry.source.like("demo:%")).limit(1)) is not None:
        return
    today = today or date.today()
    start = today - timedelta(days=364)
    years.ensure_years(db, start)
    years.ensure_years(db, today)
    if services.lock_date(db) is not None and start <= services.lock_date(db):
        return
    specs = [{"journal": "GEN", "date": start, "reference": "Share capital", "source": "demo:capital",
              "narration": "The owners' capital paid in.",
              "lines": [{"account": "1100", "debit": Decimal("200000.00")},
                        {"account": "3000", "credit": Decimal("200000.00")}]}]
    month = date(start.year, start.month, 1)
    while month <= today:
        last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        day = min(last, today)
        if day >= start:
            specs.append({"journal": "GEN", "date": day, "reference": f"Payroll {month:%Y-%m}",
                          "source": f"demo:payroll:{month:%Y-%m}",
                          "lines": [{"account": "6000", "debit": Decimal("42500.00")},
                                    {"account": "1100", "credit": Decimal("31875.00")},
                                    {"account": "2400", "credit": Decimal("10625.00")}]})
            specs.append({"journal": "GEN", "date": day, "reference": f"Rent {month:%Y-%m}",
                          "source": f"demo:rent:{month:%Y-%m}",
                          "lines": [{"account": "6100", "debit": Decimal("12000.00")},
                                    {"account": "1100", "credit": Decimal("12000.00")}]})
        month = last + timedelta(days=1)
    services.post_batch(db, specs)
    progress(len(specs))
