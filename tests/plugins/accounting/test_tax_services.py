"""Tax services: a line's amounts, the countries' default taxes, and the VAT report and its
settlement.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import select, text

from core import KontorError

from plugins.accounting.currencies.services import company_currency, round_money
from plugins.accounting.ledger import services as ledger, years
from plugins.accounting.ledger.models import Account
from plugins.accounting.tax import services, vat_report
from plugins.accounting.tax.models import Tax
from plugins.accounting.tax.services import compute_line


# -- a line's amounts --


@dataclass(frozen=True)
class T:
    """A tax as compute_line sees it."""

    rate: Decimal
    price_included: bool = False
    reverse_charge: bool = False


def D(value):
    return Decimal(value)


def test_simple_line_with_excluded_tax():
    result = compute_line(D("3"), D("19.99"), D("0"), [T(D("25"))], 2)
    assert (result.net, result.tax, result.total) == (D("59.97"), D("14.99"), D("74.96"))
    assert [(t.base, t.amount) for t in result.tax_lines] == [(D("59.97"), D("14.99"))]


def test_half_cent_rounds_up_on_each_line():
    result = compute_line(D("1"), D("0.125"), D("0"), [], 2)
    assert result.net == D("0.13")
    negative = compute_line(D("-1"), D("0.125"), D("0"), [], 2)
    assert negative.net == D("-0.13")  # half away from zero: a credit note mirrors the invoice


def test_price_included_tax_is_backed_out_exactly():
    result = compute_line(D("1"), D("100.00"), D("0"), [T(D("25"), price_included=True)], 2)
    assert (result.net, result.tax, result.total) == (D("80.00"), D("20.00"), D("100.00"))
    odd = compute_line(D("1"), D("99.99"), D("0"), [T(D("25"), price_included=True)], 2)
    assert (odd.net, odd.tax, odd.total) == (D("79.99"), D("20.00"), D("99.99"))


def test_two_included_taxes_add_up_to_the_price():
    result = compute_line(D("1"), D("10.00"), D("0"), [T(D("19"), True), T(D("7"), True)], 2)
    assert result.net == D("7.94")  # 10 / 1.26 = 7.936…
    assert [t.amount for t in result.tax_lines] == [D("1.51"), D("0.55")]
    assert result.net + result.tax == result.total == D("10.00")


def test_included_and_excluded_taxes_on_one_line():
    result = compute_line(D("1"), D("125.00"), D("0"), [T(D("25"), True), T(D("10"))], 2)
    assert result.net == D("100.00")
    assert [t.amount for t in result.tax_lines] == [D("25.00"), D("10.00")]
    assert result.total == D("135.00")


def test_discount_then_rounding():
    result = compute_line(D("7"), D("3.33"), D("12.5"), [T(D("19"))], 2)
    # 7 × 3.33 = 23.31, less 12.5 % = 20.39625 → 20.40; 19 % of it = 3.876 → 3.88
    assert (result.net, result.tax, result.total) == (D("20.40"), D("3.88"), D("24.28"))


def test_zero_digit_currency():
    result = compute_line(D("3"), D("333.5"), D("0"), [T(D("10"))], 0)
    assert (result.net, result.tax, result.total) == (D("1001"), D("100"), D("1101"))
    assert result.net.as_tuple().exponent == 0


def test_reverse_charge_is_due_and_deductible_but_not_payable():
    result = compute_line(D("2"), D("500.00"), D("0"), [T(D("25"), reverse_charge=True)], 2)
    assert result.net == D("1000.00")
    assert result.tax == D("0.00")
    assert result.reverse_charge_tax == D("250.00")
    assert result.total == D("1000.00")
    assert result.tax_lines[0].reverse_charge and result.tax_lines[0].amount == D("250.00")


@pytest.mark.parametrize("field, args", [
    ("discount_percent", (D("1"), D("1"), D("101"), [])),
    ("discount_percent", (D("1"), D("1"), D("-1"), [])),
    ("quantity", ("abc", D("1"), D("0"), [])),
    ("unit_price", (D("1"), "NaN", D("0"), [])),
    ("taxes", (D("1"), D("1"), D("0"), [T(D("-5"))])),
    ("taxes", (D("1"), D("1"), D("0"), [T(D("25"), True, True)])),
])
def test_bad_input_names_the_field(field, args):
    with pytest.raises(KontorError) as refused:
        compute_line(*args, 2)
    assert refused.value.field == field


def test_floats_are_refused():
    with pytest.raises(TypeError):
        compute_line(1.5, D("1"), D("0"), [], 2)


quantities = st.decimals(min_value=D("-1000"), max_value=D("100000"), places=3, allow_nan=False, allow_infinity=False)


prices = st.decimals(min_value=D("0"), max_value=D("1000000"), places=4, allow_nan=False, allow_infinity=False)


discounts = st.decimals(min_value=D("0"), max_value=D("100"), places=2, allow_nan=False, allow_infinity=False)


rates = st.sampled_from([D(r) for r in ("0", "5", "6", "7", "8", "10", "12", "13.5", "19", "23", "25", "25.5")])


taxes = st.lists(st.builds(T, rates, st.booleans(), st.just(False)), max_size=3) | st.lists(
    st.builds(T, rates, st.just(False), st.booleans()), max_size=3)


@settings(max_examples=400, deadline=None)
@given(quantities, prices, discounts, taxes, st.sampled_from([0, 2, 3]))
def test_amounts_are_exact_decimals_to_the_minor_unit(quantity, price, discount, line_taxes, digits):
    result = compute_line(quantity, price, discount, line_taxes, digits)
    amounts = [result.net, result.total, result.tax, *(t.amount for t in result.tax_lines),
               *(t.base for t in result.tax_lines)]
    for amount in amounts:
        assert isinstance(amount, Decimal)
        assert amount.as_tuple().exponent == -digits
    assert result.net + result.tax == result.total
    payable = sum((t.amount for t in result.tax_lines if not t.reverse_charge), D(0))
    assert result.total == result.net + payable
    line_amount = round_money(quantity * price * (100 - discount) / 100, digits)
    if any(t.price_included for t in line_taxes):
        assert result.total - sum((t.amount for t in result.tax_lines if not t.tax.price_included
                                   and not t.reverse_charge), D(0)) == line_amount
    else:
        assert result.net == line_amount
    for tax_line, tax in zip(result.tax_lines, line_taxes):
        exact = tax_line.base * tax.rate / 100
        assert abs(tax_line.amount - exact) <= D(1).scaleb(-digits) * len(line_taxes)
    mirrored = compute_line(-quantity, price, discount, line_taxes, digits)  # a credit note mirrors its invoice
    assert (mirrored.net, mirrored.tax, mirrored.total) == (-result.net, -result.tax, -result.total)


# -- default taxes --


def test_the_danish_company_gets_the_danish_taxes_on_its_vat_accounts(db):
    taxes = {t.code: t for t in services.taxes_for_country(db, "DK")}
    assert {"DK-S25", "DK-P25", "DK-PRC25", "DK-S0EU"} <= set(taxes)
    output_vat = db.execute(select(Account.id).where(Account.code == "2200")).scalar_one()
    input_vat = db.execute(select(Account.id).where(Account.code == "1400")).scalar_one()
    sale, purchase, reverse = taxes["DK-S25"], taxes["DK-P25"], taxes["DK-PRC25"]
    assert (sale.rate, sale.scope, sale.collected_account_id, sale.paid_account_id) == (Decimal("25.0000"), "sale",
                                                                                        output_vat, None)
    assert (purchase.scope, purchase.paid_account_id) == ("purchase", input_vat)
    assert reverse.reverse_charge and (reverse.collected_account_id, reverse.paid_account_id) == (output_vat, input_vat)
    assert taxes["DK-S0EU"].rate == 0 and taxes["DK-S0EU"].report_code
    assert services.taxes_for_country(db, "DE") == []  # only the company's country is loaded on install


@pytest.mark.parametrize("country, standard, reduced", [
    ("DE", "19", ["7"]), ("PL", "23", ["8", "5"]), ("FI", "25.5", ["13.5", "10"]), ("SE", "25", ["12", "6"]),
    ("DK", "25", []),
])
def test_every_default_table_has_its_2026_rates(db, country, standard, reduced):
    services.load_country_taxes(db, country)
    taxes = services.taxes_for_country(db, country)
    sale_rates = {t.rate for t in taxes if t.scope == "sale" and not t.price_included}
    purchase_rates = {t.rate for t in taxes if t.scope == "purchase" and not t.reverse_charge}
    expected = {Decimal(r) for r in [standard, *reduced]}
    assert expected | {Decimal(0)} == sale_rates
    assert expected == purchase_rates
    assert any(t.reverse_charge and t.scope == "purchase" and t.rate == Decimal(standard) for t in taxes)
    assert all(t.report_code for t in taxes)
    assert all(t.collected_account_id for t in taxes if t.scope == "sale")
    assert all(t.paid_account_id for t in taxes if t.scope == "purchase")


def test_loading_twice_adds_nothing_and_unknown_countries_are_refused(db):
    assert services.load_country_taxes(db, "DK") == []
    with pytest.raises(KontorError) as refused:
        services.load_country_taxes(db, "XX")
    assert refused.value.field == "country"


def test_a_country_without_a_table_gets_no_taxes(db):
    db.execute(text("DELETE FROM accounting_tax"))
    db.execute(text("UPDATE core_company SET country = 'US' WHERE id = 1"))
    services.load_default_data(db)
    assert db.execute(select(Tax)).first() is None
    assert company_currency(db) == "DKK"


def test_taxes_load_command(kontor, app, db):
    result = kontor("accounting", "taxes", "load", "se")
    assert result.exit_code == 0 and "taxes added" in result.output
    unknown = kontor("accounting", "taxes", "load", "ZZ")
    assert unknown.exit_code == 1 and "no default taxes" in unknown.output
    assert {t.code for t in services.taxes_for_country(db, "SE")} >= {"SE-S25", "SE-S12", "SE-S6", "SE-PRC25"}


# -- the VAT report --


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
