"""The currencies and exchange rates pages, the import of a rates file, the revaluation button and
who may use them."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.testing import make_user
from plugins.accounting.currencies import services
from plugins.accounting.currencies.models import Currency, ExchangeRate
from plugins.accounting.ledger.models import Entry
from plugins.accounting.testing import ensure_year, party, posted_entry

D = Decimal
GOOD = b"date;currency;rate\n2026-01-01;EUR;7,4510\n02.01.2026;USD;6.8\n2026-01-02;EUR;7.4520\n"


def count_rates(db):
    return db.execute(select(func.count()).select_from(ExchangeRate)).scalar_one()


@pytest.fixture
def foreign_receivable(db):
    """1,000.00 EUR owed by a customer since 2026-01-10 at 7.45; the rate is 7.46 from 2026-01-31."""
    ensure_year(db, date(2026, 1, 1))
    services.set_rate(db, "EUR", "2026-01-01", "7.45")
    services.set_rate(db, "EUR", "2026-01-31", "7.46")
    posted_entry(db, "SAL", date(2026, 1, 10), [
        {"account": "1200", "debit": "7450.00", "credit": "0", "party_id": party(db).id, "currency": "EUR",
         "amount_currency": "1000.00", "rate": "7.45"},
        {"account": "4000", "debit": "0", "credit": "7450.00"}])
    db.commit()


def test_import_page(admin_client, db):
    from io import BytesIO

    page = admin_client.get("/accounting/rates/import")
    assert page.status_code == 200
    bad = admin_client.post_form("/accounting/rates/import", {"file": (BytesIO(b"date,currency,rate\n2026-01-01,EUR,x\n"),
                                                                       "rates.csv")}, content_type="multipart/form-data")
    assert bad.status_code == 422 and "Nothing was imported" in bad.get_data(as_text=True)
    good = admin_client.post_form("/accounting/rates/import", {"file": (BytesIO(GOOD), "rates.csv")},
                                  content_type="multipart/form-data")
    assert good.status_code == 303
    listing = admin_client.get("/accounting/rates?currency=USD")
    assert listing.status_code == 200 and "6.8" in listing.get_data(as_text=True)
    db.expire_all()
    assert count_rates(db) == 3


def test_manual_entry_page(admin_client, db):
    assert admin_client.post_form("/accounting/rates", {"currency": "EUR", "date": "2026-04-01", "rate": "7.46"}
                                  ).status_code == 303
    bad = admin_client.post_form("/accounting/rates", {"currency": "EUR", "date": "2026-04-01", "rate": "seven"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)
    db.expire_all()
    assert services.rate_on(db, "EUR", date(2026, 4, 1)) == D("7.46")


def test_currencies_page_changes_digits_and_active(admin_client, db):
    assert admin_client.get("/accounting/currencies").status_code == 200
    assert admin_client.post_form("/accounting/currencies/CZK", {"digits": "2", "active": "1"}).status_code == 303
    refused = admin_client.post_form("/accounting/currencies/DKK", {"digits": "2"})  # the company currency
    assert refused.status_code == 422
    too_many = admin_client.post_form("/accounting/currencies/EUR", {"digits": "5", "active": "1"})
    assert too_many.status_code == 422
    assert admin_client.post_form("/accounting/currencies", {"code": "mxn", "name": "Mexican peso", "digits": "2"}
                                  ).status_code == 303
    db.expire_all()
    assert db.get(Currency, "CZK").active and db.get(Currency, "DKK").active
    assert db.get(Currency, "EUR").digits == 2 and db.get(Currency, "MXN").name == "Mexican peso"


def test_revalue_from_the_currencies_page(admin_client, foreign_receivable, db):
    response = admin_client.post_form("/accounting/revalue", {"date": "2026-01-31"})
    assert response.status_code == 303
    db.expire_all()
    entry = db.execute(select(Entry).where(Entry.source == "revaluation:2026-01-31",
                                           Entry.date == date(2026, 1, 31))).scalar_one()
    assert sorted((line.account.code, line.debit, line.credit) for line in entry.lines) == [
        ("1200", D("10.00"), D("0.00")), ("8100", D("0.00"), D("10.00"))]  # 1,000 EUR from 7.45 to 7.46
    bad = admin_client.post_form("/accounting/revalue", {"date": "31/01/2026"})
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.get_data(as_text=True)


def test_a_viewer_may_not_manage_currencies_rates_or_revalue(app, client):
    make_user(app, "viewer", ["accounting_viewer"], "viewer password 1")
    client.login("viewer", "viewer password 1")
    assert client.get("/accounting/currencies").status_code == 403
    assert client.post_form("/accounting/currencies/EUR", {"digits": "2", "active": "1"}).status_code == 403
    assert client.get("/accounting/rates").status_code == 403
    assert client.post_form("/accounting/rates", {"currency": "EUR", "date": "2026-04-01", "rate": "7.46"}
                            ).status_code == 403
    assert client.post_form("/accounting/revalue", {"date": "2026-01-31"}).status_code == 403


def test_the_currency_pages_keep_the_tabs_of_the_tax_pages(admin_client):
    for url in ("/accounting/currencies", "/accounting/rates", "/accounting/rates/import"):
        html = admin_client.get(url).get_data(as_text=True)
        for tab in ("/accounting/taxes", "/accounting/currencies", "/accounting/rates", "/accounting/reports/vat"):
            assert f'href="{tab}"' in html, (url, tab)
