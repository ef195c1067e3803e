from datetime import date

import pytest

from plugins.accounting.testing import party, posted_invoice, session_of


@pytest.fixture
def modules():
    """Every test here runs with accounting installed."""
    return ("accounting",)


@pytest.fixture
def books(app):
    """The banking pages' and API's books: Alfa's posted sale of 1,000.00 + VAT (2026-02-20) and Beta's
    bill of 400.00 + VAT (2026-02-25, reference RE-2026-118), committed; their ids and numbers.
    (Test files with books of their own define their own ``books``.)"""
    with session_of(app) as db:
        alfa, beta = party(db, "Alfa A/S"), party(db, "Beta GmbH")
        sale = posted_invoice(db, alfa, day=date(2026, 2, 20))
        bill = posted_invoice(db, beta, "400.00", kind="in_invoice", day=date(2026, 2, 25), reference="RE-2026-118")
        db.commit()
        return {"alfa": alfa.id, "beta": beta.id, "sale": sale.id, "sale_number": sale.number, "bill": bill.id,
                "bill_number": bill.number}


@pytest.fixture
def in_app(app):
    """Run a block in its own app context and session, committed at the end (for tests that also make
    HTTP requests: a request would otherwise share and close the test's session)."""
    from contextlib import contextmanager

    @contextmanager
    def block():
        with app.app_context():
            from core.db import session

            yield session
            session.commit()
    return block
