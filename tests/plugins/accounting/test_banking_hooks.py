"""accounting_payment_registered and accounting_invoice_paid reach other modules, inside the
payment's transaction.

This module is itself a tiny plugin (``payment_watch``) that records what the hooks tell it.
"""
from __future__ import annotations

from datetime import date

import pytest

from core import Manifest, hookimpl

from plugins.accounting.invoicing import services as invoicing
from plugins.accounting.testing import party, pay, posted_invoice

manifest = Manifest(name="payment_watch", title="Payment watch", version="1.0",
                    summary="Records payments and paid invoices (a test plugin).", depends=("accounting",))
SEEN: list[tuple] = []


@hookimpl
def accounting_payment_registered(payment, session):
    assert session.get(type(payment), payment.id) is payment  # the same transaction
    SEEN.append(("payment", payment.number, payment.kind, str(payment.amount), len(payment.allocations)))


@hookimpl
def accounting_invoice_paid(invoice, session):
    SEEN.append(("paid", invoice.number, invoice.state, str(invoice.amount_residual)))


@pytest.fixture
def watched(settings):
    """An app with this test plugin installed next to accounting."""
    from tests.contract import install

    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], __name__)
    SEEN.clear()
    return install(settings, "payment_watch")


def test_payment_and_paid_hooks(watched):
    from core.db import session

    with watched.app_context():
        alfa = party(session, "Alfa A/S")
        sale = posted_invoice(session, alfa)
        first = pay(session, alfa, "1000.00", [(sale, "1000.00")])
        assert SEEN == [("payment", first.number, "inbound", "1000.00", 1)]
        second = pay(session, alfa, "250.00", [(sale, "250.00")])
        assert SEEN[1:] == [("paid", sale.number, "paid", "0.00"), ("payment", second.number, "inbound", "250.00", 1)]
        with pytest.raises(Exception):
            pay(session, alfa, "10.00", [(sale, "10.00")])
        assert len(SEEN) == 3  # a refused payment calls no hook
        session.rollback()


def test_a_cancelled_invoice_is_not_announced_as_paid(watched):
    from core.db import session

    with watched.app_context():
        alfa = party(session, "Alfa A/S")
        sale = posted_invoice(session, alfa)
        invoicing.cancel_invoice(session, sale, date=date(2026, 2, 10))
        assert sale.state == "cancelled" and SEEN == []
        session.rollback()

