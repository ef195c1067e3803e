"""Work done once per company of the group: the demo loaders run for every company in its own scope."""
from __future__ import annotations

from typing import Callable

from sqlalchemy.orm import Session

from core import in_company, list_companies


def in_each_company(db: Session, work: Callable[[], None]) -> None:
    """Run ``work`` once inside each active company of the group (the default company first), so that
    what it reads and writes belongs to that company: its chart, taxes, currency and numbering."""
    companies = sorted(list_companies(db, active_only=True), key=lambda c: (not c.is_default, c.id))
    for company in companies:
        with in_company(company.id):
            work()
