"""The VAT report of February 2026 over crafted Danish books, matching the ledger to the cent.

1. 02-10  sale 1,000.00 + 25 % VAT 250.00 (DK-S25).
2. 02-11  intra-EU sale of goods 500.00 at 0 % (DK-S0EU): a base without tax.
3. 02-12  purchase 400.00 + 25 % deductible VAT 100.00 (DK-P25).
4. 02-14  goods bought in the EU 1,000.00 with reverse charge: 250.00 due and 250.00 deductible.
5. 02-20  credit note on the sale: 100.00 + 25.00 back.
6. 03-01  a sale in March and a draft in February: neither counts.
Expected: due 250 − 25 + 250 = 475.00, deductible 100 + 250 = 350.00, payable 125.00.
"""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import KontorError
from plugins.accounting.ledger import services as ledger
from plugins.accounting.ledger import years
from plugins.accounting.ledger.models import Account
from plugins.accounting.tax import vat_report
from plugins.accounting.tax.models import Tax

D = Decimal
FEB = (date(2026, 2, 1), date(2026, 2, 28))


@pytest.fixture
def books(db):
    years.ensure_years(db, date(2026, 1, 1))
    tax = {t.code: t.id for t in db.execute(select(Tax)).scalars()}
    post = ledger.create_and_post
    post(db, journal="SAL", date=date(2026, 2, 10), lines=[
        {"account": "1200", "debit": "1250.00"},
        {"account": "4000", "credit": "1000.00", "tax_base_id": tax["DK-S25"]},
        {"account": "2200", "credit": "250.00", "tax_id": tax["DK-S25"]}])
    post(db, journal="SAL", date=date(2026, 2, 11), lines=[
        {"account": "1200", "debit": "500.00"},
        {"account": "4000", "credit": "500.00", "tax_base_id": tax["DK-S0EU"]}])
    post(db, journal="PUR", date=date(2026, 2, 12), lines=[
        {"account": "6100", "debit": "400.00", "tax_base_id": tax["DK-P25"]},
        {"account": "1400", "debit": "100.00", "tax_id": tax["DK-P25"]},
        {"account": "2100", "credit": "500.00"}])
    post(db, journal="PUR", date=date(2026, 2, 14), lines=[
        {"account": "5100", "debit": "1000.00", "tax_base_id": tax["DK-PRC25"]},
        {"account": "1400", "debit": "250.00", "tax_id": tax["DK-PRC25"]},
        {"account": "2200", "credit": "250.00", "tax_id": tax["DK-PRC25"]},
        {"account": "2100", "credit": "1000.00"}])
    post(db, journal="SAL", date=date(2026, 2, 20), lines=[
        {"account": "4000", "debit": "100.00", "tax_base_id": tax["DK-S25"]},
        {"account": "2200", "debit": "25.00", "tax_id": tax["DK-S25"]},
        {"account": "1200", "credit": "125.00"}])
    post(db, journal="SAL", date=date(2026, 3, 1), lines=[
        {"account": "1200", "debit": "250.00"},
        {"account": "4000", "credit": "200.00", "tax_base_id": tax["DK-S25"]},
        {"account": "2200", "credit": "50.00", "tax_id": tax["DK-S25"]}])
    ledger.create_entry(db, journal="SAL", date=date(2026, 2, 25), lines=[
        {"account": "1200", "debit": "125.00"},
        {"account": "4000", "credit": "100.00", "tax_base_id": tax["DK-S25"]},
        {"account": "2200", "credit": "25.00", "tax_id": tax["DK-S25"]}])
    db.commit()
    return tax


def test_figures_per_tax(db, books):
    report = vat_report.vat_report(db, *FEB)
    rows = {row.tax.code: (row.base, row.due, row.deductible) for row in report.rows}
    assert rows == {
        "DK-S25": (D("900.00"), D("225.00"), D("0.00")),
        "DK-S0EU": (D("500.00"), D("0.00"), D("0.00")),
        "DK-P25": (D("400.00"), D("0.00"), D("100.00")),
        "DK-PRC25": (D("1000.00"), D("250.00"), D("250.00")),
    }
    assert (report.due, report.deductible, report.payable) == (D("475.00"), D("350.00"), D("125.00"))
    boxes = {box.code: (box.base, box.due, box.deductible) for box in report.boxes}
    assert boxes["salgsmoms"] == (D("900.00"), D("225.00"), D("0.00"))
    assert boxes["rubrik_a_varer"] == (D("1000.00"), D("250.00"), D("250.00"))


def test_the_report_matches_the_movement_of_the_vat_accounts(db, books):
    report = vat_report.vat_report(db, *FEB)
    balances = ledger.account_balances(db, date_from=FEB[0], date_to=FEB[1])
    codes = dict(db.execute(select(Account.code, Account.id)).all())
    assert report.due == -balances[codes["2200"]]
    assert report.deductible == balances[codes["1400"]]


def test_a_range_ending_before_it_starts_is_refused(db):
    with pytest.raises(KontorError) as refused:
        vat_report.vat_report(db, date(2026, 3, 1), date(2026, 2, 1))
    assert refused.value.field == "date_to"


def test_api_report(api, books):
    response = api.get("/api/v1/accounting/reports/vat?date_from=2026-02-01&date_to=2026-02-28")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["due"], body["deductible"], body["payable"]) == ("475.00", "350.00", "125.00")
    assert {row["code"]: row["base"] for row in body["rows"]}["DK-S25"] == "900.00"
    bad = api.get("/api/v1/accounting/reports/vat?date_from=2026-02-31&date_to=2026-02-28")
    assert bad.status_code == 422 and "date_from" in bad.get_json()["errors"]


def test_page_drill_down_and_exports(admin_client, books):
    page = admin_client.get("/accounting/reports/vat?date_from=2026-02-01&date_to=2026-02-28")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "DK-PRC25" in html and "rubrik_a_varer" in html
    assert 'class="period-links"' in html  # one click to each recent period
    lines = admin_client.get(f"/accounting/reports/vat/lines?tax={books['DK-S25']}&kind=tax&date_from=2026-02-01"
                             "&date_to=2026-02-28")
    text = lines.get_data(as_text=True)
    assert lines.status_code == 200
    assert text.count("SAL/2026/") == 2  # the sale and the credit note; not March, not the draft
    csv = admin_client.get("/accounting/reports/vat?date_from=2026-02-01&date_to=2026-02-28&format=csv")
    assert csv.status_code == 200
    body = csv.get_data(as_text=True)
    assert "DK-S25" in body and "475.00" in body
    xlsx = admin_client.get("/accounting/reports/vat?date_from=2026-02-01&date_to=2026-02-28&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    wrong = admin_client.get("/accounting/reports/vat?date_from=2026-03-01&date_to=2026-02-01")
    assert wrong.status_code == 422
    missing = admin_client.get("/accounting/reports/vat/lines?tax=999999&kind=tax")
    assert missing.status_code == 404
    partial = admin_client.htmx("GET", "/accounting/reports/vat?date_from=2026-02-01&date_to=2026-02-28")
    fragment = partial.get_data(as_text=True)
    assert partial.status_code == 200
    assert 'id="report"' in fragment and "<html" not in fragment and "DK-PRC25" in fragment


def test_invoices_bills_and_credit_notes_report_what_they_posted(db):
    from core.parties.services import create_party
    from plugins.accounting.invoicing import services as invoicing

    years.ensure_years(db, date(2026, 1, 1))
    party = create_party(db, {"name": "Gamma ApS", "kind": "company"})
    day = date(2026, 4, 10)

    def document(kind, lines):
        invoice = invoicing.create_invoice(db, kind, {"party_id": party.id, "invoice_date": day, "lines": lines})
        return invoicing.post_invoice(db, invoice)

    sale = document("out_invoice", [{"description": "Consulting", "quantity": "7", "unit_price": "3.33",
                                     "discount_percent": "12.5", "taxes": ["DK-S25"]},
                                    {"description": "Shop sale", "quantity": "1", "unit_price": "99.99",
                                     "taxes": ["DK-S25I"]}])
    document("in_invoice", [{"description": "Paper", "quantity": "3", "unit_price": "19.99", "taxes": ["DK-P25"]}])
    document("in_invoice", [{"description": "Parts from Germany", "quantity": "2", "unit_price": "500.00",
                             "taxes": ["DK-PRC25"]}])
    note = invoicing.create_credit_note(db, sale, lines=[{"description": "Consulting", "quantity": "1",
                                                          "unit_price": "3.33", "taxes": ["DK-S25"]}], date=day)
    invoicing.post_invoice(db, note)
    db.commit()
    report = vat_report.vat_report(db, date(2026, 4, 1), date(2026, 4, 30))
    rows = {row.tax.code: (row.base, row.due, row.deductible) for row in report.rows}
    # 20.40 + 5.10 VAT; 79.99 + 20.00 VAT included; credit note 3.33 + 0.83 back
    assert rows["DK-S25"] == (D("17.07"), D("4.27"), D("0.00"))
    assert rows["DK-S25I"] == (D("79.99"), D("20.00"), D("0.00"))
    assert rows["DK-P25"] == (D("59.97"), D("0.00"), D("14.99"))
    assert rows["DK-PRC25"] == (D("1000.00"), D("250.00"), D("250.00"))
    balances = ledger.account_balances(db, date_from=date(2026, 4, 1), date_to=date(2026, 4, 30))
    codes = dict(db.execute(select(Account.code, Account.id)).all())
    assert report.due == -balances[codes["2200"]] == D("274.27")
    assert report.deductible == balances[codes["1400"]] == D("264.99")


def test_settlement_moves_the_period_tax_to_the_settlement_account(db, books):
    entry = vat_report.settle(db, *FEB)
    db.commit()
    assert entry.state == "posted" and entry.date == FEB[1] and entry.journal.code == "GEN"
    assert sorted((line.account.code, line.debit, line.credit) for line in entry.lines) == [
        ("1400", D("0.00"), D("350.00")), ("2200", D("475.00"), D("0.00")), ("2210", D("0.00"), D("125.00"))]
    assert all(line.tax_id is None and line.tax_base_id is None for line in entry.lines)
    balances = ledger.account_balances(db, date_to=FEB[1])
    codes = dict(db.execute(select(Account.code, Account.id)).all())
    assert balances.get(codes["2200"], D(0)) == 0 and balances.get(codes["1400"], D(0)) == 0
    assert balances[codes["2210"]] == D("-125.00")
    report = vat_report.vat_report(db, *FEB)  # the report of the period is what it was
    assert (report.due, report.deductible) == (D("475.00"), D("350.00"))
    assert vat_report.settlement_of(db, *FEB).id == entry.id
    with pytest.raises(KontorError) as twice:
        vat_report.settle(db, *FEB)
    assert twice.value.status == 409
    ledger.reverse_entry(db, entry, date=FEB[1])
    assert vat_report.settlement_of(db, *FEB) is None
    assert vat_report.settle(db, *FEB).number.startswith("GEN/2026/")


def test_nothing_to_settle(db):
    with pytest.raises(KontorError) as refused:
        vat_report.settle(db, date(2026, 7, 1), date(2026, 7, 31))
    assert refused.value.field == "date_to"


def test_settle_from_the_page_the_api_and_the_command_line(admin_client, api, kontor, books, db):
    form = {"date_from": "2026-02-01", "date_to": "2026-02-28"}
    page = admin_client.get("/accounting/reports/vat?date_from=2026-02-01&date_to=2026-02-28")
    assert "Settle VAT" in page.get_data(as_text=True)
    assert admin_client.post_form("/accounting/reports/vat/settle", form).status_code == 303
    settled = admin_client.get("/accounting/reports/vat?date_from=2026-02-01&date_to=2026-02-28")
    assert "Settled by" in settled.get_data(as_text=True) and "Settle VAT" not in settled.get_data(as_text=True)
    again = admin_client.post_form("/accounting/reports/vat/settle", form)
    assert again.status_code == 409 and "settled already" in again.get_data(as_text=True)
    assert admin_client.post_form("/accounting/reports/vat/settle", {"date_from": "x", "date_to": "y"}
                                  ).status_code == 422
    refused = api.post("/api/v1/accounting/vat-settlements", json=form)
    assert refused.status_code == 409
    empty = api.post("/api/v1/accounting/vat-settlements", json={"date_from": "2026-07-01", "date_to": "2026-07-31"})
    assert empty.status_code == 422 and "date_to" in empty.get_json()["errors"]
    result = kontor("accounting", "vat", "settle", "--from", "2026-02-01", "--to", "2026-02-28")
    assert result.exit_code == 1 and "settled already" in result.output


def test_a_line_with_two_taxes_is_in_the_base_of_both(db):
    from sqlalchemy import delete

    from core.parties.services import create_party
    from plugins.accounting.invoicing import services as invoicing
    from plugins.accounting.ledger.models import Line, LineTaxBase

    years.ensure_years(db, date(2026, 1, 1))
    codes = dict(db.execute(select(Account.code, Account.id)).all())
    excise = Tax(code="DK-EXC10", name="Excise 10%", country="DK", scope="sale", rate=D("10"),
                 collected_account_id=codes["2200"])
    db.add(excise)
    party = create_party(db, {"name": "Gamma ApS", "kind": "company"})
    day = date(2026, 5, 10)
    invoice = invoicing.create_invoice(db, "out_invoice", {"party_id": party.id, "invoice_date": day, "lines": [
        {"description": "Wine", "quantity": "2", "unit_price": "50.00", "taxes": ["DK-S25", "DK-EXC10"]}]})
    invoicing.post_invoice(db, invoice)
    # the batch path and the API's line field take several bases too
    tax = {t.code: t.id for t in db.execute(select(Tax)).scalars()}
    ledger.post_batch(db, [{"journal": "SAL", "date": day, "lines": [
        {"account": "1200", "debit": "135.00"},
        {"account": "4000", "credit": "100.00", "tax_base_ids": [tax["DK-S25"], tax["DK-EXC10"]]},
        {"account": "2200", "credit": "25.00", "tax_id": tax["DK-S25"]},
        {"account": "2200", "credit": "10.00", "tax_id": tax["DK-EXC10"]}]}])
    db.commit()
    report = vat_report.vat_report(db, date(2026, 5, 1), date(2026, 5, 31))
    rows = {row.tax.code: (row.base, row.due) for row in report.rows}
    assert rows["DK-S25"] == (D("200.00"), D("50.00"))
    assert rows["DK-EXC10"] == (D("200.00"), D("20.00"))
    lines = db.execute(vat_report.vat_lines_query(tax["DK-EXC10"], "base", date(2026, 5, 1), date(2026, 5, 31))
                       ).scalars().all()
    assert len(lines) == 2 and all(line.tax_base_ids == sorted([tax["DK-S25"], tax["DK-EXC10"]]) for line in lines)
    # a posted line's bases are as immutable as the line
    with pytest.raises(Exception):
        with db.begin_nested():
            db.execute(delete(LineTaxBase).where(LineTaxBase.line_id == lines[0].id))
    with pytest.raises(Exception):
        with db.begin_nested():
            db.execute(LineTaxBase.__table__.insert().values(line_id=lines[0].id, tax_id=tax["DK-S0EU"]))
    db.rollback()
    assert db.scalar(select(Line.tax_base_id).where(Line.id == lines[0].id)) in (tax["DK-S25"], tax["DK-EXC10"])
