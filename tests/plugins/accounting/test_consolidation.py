"""Consolidated reports: several companies' books in one group currency, each converted at its own rate of
the report's date, exactly, with the intercompany balances eliminated; a user includes only the companies
they work in and may read reports in."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import KontorError, create_party, in_company
from core.testing import factories

from plugins.accounting.currencies import services as fx
from plugins.accounting.invoicing import services as invoicing
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.permissions import REPORT_READ
from plugins.accounting.reports import consolidation
from plugins.accounting.testing import ensure_year, session_of

DAY = date(2026, 3, 2)
END = date(2026, 3, 31)
FROM = date(2026, 1, 1)


def rows(report, section):
    """{code or name: (per-company values, elimination, total)} of a section."""
    found = next(s for s in report.sections if s.key == section)
    return {row.code or row.name: (row.values, row.elimination, row.total) for row in found.rows}


def build_group(db, *, post_bill=True, members=()):
    """The default company A (Danish, DKK) and Nordlys B (German, EUR) of the group, each with its party.

    A sells goods to B for 1,000.00 DKK (0 % EU delivery, on intercompany sales 4500) and 500.00 DKK to an
    outside customer; B posts the mirrored bill (unless ``post_bill`` is False: then it stays a draft) and
    buys 40.00 EUR of supplies outside the group. Rates: B keeps 1 DKK = 0.125 EUR, A keeps 1 EUR = 8 DKK.
    """
    a = factories.company(db)
    a.party_id = a.party_id or create_party(db, {"kind": "company", "name": a.legal_name, "country": "DK"}).id
    b = factories.group_company(db, "Nordlys Vertrieb GmbH", country="DE", base_currency="EUR", members=members)
    b.party_id = create_party(db, {"kind": "company", "name": b.legal_name, "country": "DE"}).id
    db.flush()
    ensure_year(db, DAY)
    fx.set_rate(db, "EUR", DAY, "8.00")
    with in_company(b.id):
        ensure_year(db, DAY)
        fx.set_rate(db, "DKK", DAY, "0.125")
    outsider = create_party(db, {"kind": "company", "name": "Fjord Logistik ApS", "country": "DK"})
    supplier = create_party(db, {"kind": "company", "name": "Hanse Stahl GmbH", "country": "DE"})
    sale = invoicing.create_invoice(db, "out_invoice", {
        "party_id": b.party_id, "invoice_date": DAY, "currency": "DKK",
        "lines": [{"description": "Steel frames", "quantity": "4", "unit_price": "250.00", "taxes": ["DK-S0EU"],
                   "account": "4500"}]})
    invoicing.post_invoice(db, sale)
    other = invoicing.create_invoice(db, "out_invoice", {
        "party_id": outsider.id, "invoice_date": DAY,
        "lines": [{"description": "Advice", "unit_price": "400.00", "taxes": ["DK-S25"], "account": "4000"}]})
    invoicing.post_invoice(db, other)
    with in_company(b.id):
        bill = db.scalar(select(Invoice).where(Invoice.intercompany_source_id == sale.id))
        if post_bill:
            invoicing.post_invoice(db, bill)
        supplies = invoicing.create_invoice(db, "in_invoice", {
            "party_id": supplier.id, "invoice_date": DAY, "currency": "EUR",
            "lines": [{"description": "Supplies", "unit_price": "40.00", "taxes": ["DE-P19"], "account": "6300"}]})
        invoicing.post_invoice(db, supplies)
    db.flush()
    return a, b


def test_the_profit_and_loss_of_two_companies_eliminates_their_sale_and_purchase(db):
    a, b = build_group(db)
    report = consolidation.consolidate(db, "profit-and-loss", companies=[a.id, b.id], currency="DKK",
                                       date_from=FROM, date_to=END)
    assert [(m.id, m.currency, m.rate) for m in report.companies] == \
        [(a.id, "DKK", Decimal(1)), (b.id, "EUR", Decimal("0.125"))]
    income, expenses = rows(report, "income"), rows(report, "expense")
    # B's 125.00 EUR of intercompany purchases is 1,000.00 DKK at its rate: eliminated against A's sale
    assert income["4500"] == ([Decimal("1000.00"), Decimal("0.00")], Decimal("-1000.00"), Decimal("0.00"))
    assert income["4000"] == ([Decimal("400.00"), Decimal("0.00")], Decimal("0.00"), Decimal("400.00"))
    assert expenses["5500"] == ([Decimal("0.00"), Decimal("1000.00")], Decimal("-1000.00"), Decimal("0.00"))
    assert expenses["6300"] == ([Decimal("0.00"), Decimal("320.00")], Decimal("0.00"), Decimal("320.00"))
    assert (report.result.values, report.result.elimination, report.result.total) == \
        ([Decimal("1400.00"), Decimal("-1320.00")], Decimal("0.00"), Decimal("80.00"))
    assert report.eliminations_net == 0 and not report.unmatched
    assert all(isinstance(v, Decimal) for r in report.sections for row in r.rows for v in row.values)


def test_conversion_uses_each_companys_own_rate_and_is_exact(db):
    a, b = build_group(db)
    report = consolidation.consolidate(db, "profit-and-loss", companies=[a.id, b.id], currency="EUR",
                                       date_from=FROM, date_to=END)
    assert [m.rate for m in report.companies] == [Decimal("8.00000000"), Decimal(1)]
    income = rows(report, "income")
    assert income["4500"] == ([Decimal("125.00"), Decimal("0.00")], Decimal("-125.00"), Decimal("0.00"))
    assert income["4000"][0] == [Decimal("50.00"), Decimal("0.00")]
    assert report.result.total == Decimal("10.00")
    # a third: 100 / 3 rounds half up to the group currency's cents
    assert consolidation.convert(Decimal("100.00"), Decimal(3), 2) == Decimal("33.33")
    assert consolidation.convert(Decimal("0.05"), Decimal(2), 2) == Decimal("0.03")


def test_the_balance_sheet_eliminates_the_receivable_against_the_payable_and_balances(db):
    a, b = build_group(db)
    report = consolidation.consolidate(db, "balance-sheet", companies=[a.id, b.id], currency="DKK",
                                       date_from=FROM, date_to=END)
    assets, liabilities = rows(report, "assets"), rows(report, "liabilities")
    assert assets["1250"] == ([Decimal("1000.00"), Decimal("0.00")], Decimal("-1000.00"), Decimal("0.00"))
    assert liabilities["2150"] == ([Decimal("0.00"), Decimal("1000.00")], Decimal("-1000.00"), Decimal("0.00"))
    assert not report.unmatched
    totals = {s.key: t for s, t in zip(report.sections, report.section_totals())}
    for column in range(2):
        assert totals["assets"].values[column] == \
            totals["liabilities"].values[column] + totals["equity"].values[column]
    assert totals["assets"].total == totals["liabilities"].total + totals["equity"].total


def test_an_intercompany_sale_without_its_posted_bill_is_unmatched(db):
    a, b = build_group(db, post_bill=False)
    report = consolidation.consolidate(db, "profit-and-loss", companies=[a.id, b.id], currency="DKK",
                                       date_from=FROM, date_to=END)
    assert report.unmatched and report.eliminations_net == Decimal("-1000.00")
    trial = consolidation.consolidate(db, "trial-balance", companies=[a.id, b.id], currency="DKK",
                                      date_from=FROM, date_to=END)
    assert trial.unmatched and trial.nets == {"balance": Decimal("1000.00"), "result": Decimal("-1000.00")}


def test_a_missing_rate_is_an_error_naming_the_currency_and_the_date(db):
    a, b = build_group(db)
    with pytest.raises(KontorError) as refused:
        consolidation.consolidate(db, "profit-and-loss", companies=[a.id, b.id], currency="DKK",
                                  date_from=FROM, date_to=date(2026, 2, 28))
    assert refused.value.field == "currency"
    assert "DKK" in refused.value.message and "2026-02-28" in refused.value.message
    assert "Nordlys Vertrieb GmbH" in refused.value.message


@pytest.fixture
def group(app):
    """The two companies' books, committed; a user working in A only and one working in both, each with
    the report permission."""
    with session_of(app) as db:
        only_a = factories.user(db, permissions=[REPORT_READ])
        both = factories.user(db, permissions=[REPORT_READ])
        a, b = build_group(db, members=[both])
        db.commit()
        return {"a": a.id, "b": b.id, "only_a": only_a.username, "both": both.username}


def test_a_user_without_the_other_company_cannot_include_it(api_with, group, app):
    api = api_with(permissions=[REPORT_READ])  # works in the default company only
    refused = api.get(f"/api/v1/accounting/reports/consolidated/profit-and-loss"
                      f"?companies={group['a']},{group['b']}&currency=DKK&date_from=2026-01-01&date_to=2026-03-31")
    assert refused.status_code == 403
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    assert "companies" in refused.get_json()["errors"]
    alone = api.get(f"/api/v1/accounting/reports/consolidated/profit-and-loss?companies={group['a']}"
                    f"&currency=DKK&date_from=2026-01-01&date_to=2026-03-31")
    assert alone.status_code == 200
    assert [c["id"] for c in alone.get_json()["companies"]] == [group["a"]]
    bad = api.get("/api/v1/accounting/reports/consolidated/profit-and-loss?companies=x")
    assert bad.status_code == 422 and "companies" in bad.get_json()["errors"]


def test_the_page_shows_a_column_per_company_and_exports(client, group):
    assert client.login(group["both"], factories.PASSWORD).status_code == 302
    query = f"companies={group['a']}&companies={group['b']}&currency=DKK&date_from=2026-01-01&date_to=2026-03-31"
    page = client.get(f"/accounting/reports/consolidated/profit-and-loss?{query}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Nordlys Vertrieb GmbH" in text and "Eliminations" in text and "Consolidated" in text
    assert "rate of the end date" in text
    csv = client.get(f"/accounting/reports/consolidated/profit-and-loss?{query}&format=csv")
    assert csv.status_code == 200 and "Eliminations" in csv.get_data(as_text=True)
    xlsx = client.get(f"/accounting/reports/consolidated/balance-sheet?{query}&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_the_page_refuses_a_company_the_user_does_not_work_in_beside_the_field(client, group):
    assert client.login(group["only_a"], factories.PASSWORD).status_code == 302
    page = client.get(f"/accounting/reports/consolidated/trial-balance?companies={group['a']}"
                      f"&companies={group['b']}&currency=DKK")
    assert page.status_code == 403
    assert 'id="e-companies"' in page.get_data(as_text=True)


def test_the_command_prints_the_consolidated_report(kontor, group):
    result = kontor("accounting", "consolidated", "profit-and-loss", "--companies", f"{group['a']},{group['b']}",
                    "--currency", "DKK", "--from", "2026-01-01", "--to", "2026-03-31")
    assert result.exit_code == 0, result.output
    assert "Eliminations" in result.output and "1000.00" in result.output
