"""Golden invoices: rounding edge cases with the exact amounts a bookkeeper would check by hand.

Each case is a document (lines of quantity, unit price, discount %, taxes) in a currency, with the
expected net of every line, the tax per tax code and the document totals. Totals are rounded per
line to the currency's minor unit (half up), then summed.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.parties.services import create_party
from plugins.accounting.currencies import services as currencies
from plugins.accounting.invoicing import services as invoicing
from plugins.accounting.ledger import years
from plugins.accounting.tax import services
from plugins.accounting.tax.models import Tax
from plugins.accounting.tax.services import compute_line

D = Decimal


@dataclass(frozen=True)
class GoldenTax:
    """A tax as in the default tables (code, rate, price included, reverse charge)."""

    code: str
    rate: Decimal
    price_included: bool = False
    reverse_charge: bool = False
    country: str = ""


TAXES = {t.code: t for t in (
    GoldenTax("DK-S25", D("25"), country="DK"),
    GoldenTax("DK-S25I", D("25"), price_included=True, country="DK"),
    GoldenTax("DK-PRC25", D("25"), reverse_charge=True, country="DK"),
    GoldenTax("DE-S19", D("19"), country="DE"),
    GoldenTax("DE-S7", D("7"), country="DE"),
    GoldenTax("PL-S23", D("23"), country="PL"),
    GoldenTax("PL-S8", D("8"), country="PL"),
    GoldenTax("FI-S255", D("25.5"), country="FI"),
    GoldenTax("FI-S255I", D("25.5"), price_included=True, country="FI"),
    GoldenTax("JP10", D("10")),
)}


@dataclass(frozen=True)
class Case:
    """A golden document: lines (quantity, unit price, discount %, tax codes) and what they make."""

    name: str
    currency: str
    digits: int
    lines: list
    nets: list  # the net of each line
    taxes: dict  # tax code → total tax amount of the document
    untaxed: Decimal
    tax: Decimal  # tax charged (reverse charge excluded)
    total: Decimal
    kind: str = "out_invoice"


CASES = [
    Case("half cents round up on each line", "DKK", 2,
         [("1", "0.005", "0", []), ("1", "0.005", "0", []), ("1", "0.005", "0", [])],
         ["0.01", "0.01", "0.01"], {}, D("0.03"), D("0.00"), D("0.03")),
    Case("half-cent tax on each line", "DKK", 2,
         [("1", "0.10", "0", ["DK-S25"])] * 3,
         ["0.10"] * 3, {"DK-S25": D("0.09")}, D("0.30"), D("0.09"), D("0.39")),
    Case("price-included 25 % of 100.00", "DKK", 2,
         [("1", "100.00", "0", ["DK-S25I"])],
         ["80.00"], {"DK-S25I": D("20.00")}, D("80.00"), D("20.00"), D("100.00")),
    Case("price-included 25 % of 99.99", "DKK", 2,
         [("1", "99.99", "0", ["DK-S25I"])],
         ["79.99"], {"DK-S25I": D("20.00")}, D("79.99"), D("20.00"), D("99.99")),
    Case("three price-included thirds", "DKK", 2,
         [("1", "33.33", "0", ["DK-S25I"])] * 3,
         ["26.66"] * 3, {"DK-S25I": D("20.01")}, D("79.98"), D("20.01"), D("99.99")),
    Case("German 19 % and 7 % lines", "EUR", 2,
         [("2", "49.95", "0", ["DE-S19"]), ("3", "2.49", "0", ["DE-S7"])],
         ["99.90", "7.47"], {"DE-S19": D("18.98"), "DE-S7": D("0.52")}, D("107.37"), D("19.50"), D("126.87")),
    Case("Polish 23 % and 8 % lines", "PLN", 2,
         [("1", "1234.56", "0", ["PL-S23"]), ("5", "12.99", "0", ["PL-S8"])],
         ["1234.56", "64.95"], {"PL-S23": D("283.95"), "PL-S8": D("5.20")}, D("1299.51"), D("289.15"),
         D("1588.66")),
    Case("Finnish 25.5 %", "EUR", 2,
         [("1", "10.00", "0", ["FI-S255"]), ("3", "19.90", "0", ["FI-S255"])],
         ["10.00", "59.70"], {"FI-S255": D("17.77")}, D("69.70"), D("17.77"), D("87.47")),
    Case("Finnish 25.5 % included in 12.55", "EUR", 2,
         [("1", "12.55", "0", ["FI-S255I"])],
         ["10.00"], {"FI-S255I": D("2.55")}, D("10.00"), D("2.55"), D("12.55")),
    Case("37 lines of 0.333 × 3", "DKK", 2,
         [("3", "0.333", "0", ["DK-S25"])] * 37,
         ["1.00"] * 37, {"DK-S25": D("9.25")}, D("37.00"), D("9.25"), D("46.25")),
    Case("discounts", "DKK", 2,
         [("10", "9.99", "15", ["DK-S25"]), ("1", "199.00", "33.33", ["DK-S25"])],
         ["84.92", "132.67"], {"DK-S25": D("54.40")}, D("217.59"), D("54.40"), D("271.99")),
    Case("yen has no minor unit", "JPY", 0,
         [("3", "333.5", "0", ["JP10"]), ("1", "99", "0", ["JP10"])],
         ["1001", "99"], {"JP10": D("110")}, D("1100"), D("110"), D("1210")),
    Case("reverse charge on an EU purchase", "DKK", 2,
         [("2", "500.00", "0", ["DK-PRC25"])],
         ["1000.00"], {"DK-PRC25": D("250.00")}, D("1000.00"), D("0.00"), D("1000.00"), kind="in_invoice"),
]


def compute_document(case: Case, taxes: dict):
    """The nets, the tax per code and the totals of a case through compute_line."""
    nets, per_tax = [], defaultdict(lambda: D(0))
    untaxed = charged = total = D(0)
    for quantity, price, discount, codes in case.lines:
        amounts = compute_line(D(quantity), D(price), D(discount), [taxes[c] for c in codes], case.digits)
        nets.append(amounts.net)
        for tax_line in amounts.tax_lines:
            per_tax[tax_line.tax.code] += tax_line.amount
        untaxed, charged, total = untaxed + amounts.net, charged + amounts.tax, total + amounts.total
    return nets, dict(per_tax), untaxed, charged, total


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case_through_compute_line(case):
    nets, per_tax, untaxed, charged, total = compute_document(case, TAXES)
    assert nets == [D(n) for n in case.nets]
    assert per_tax == case.taxes
    assert (untaxed, charged, total) == (case.untaxed, case.tax, case.total)
    assert untaxed + charged == total


# --- the same documents as invoices and bills, posted -------------------------------------------

RATES = {"EUR": "7.4563", "PLN": "1.7512", "JPY": "0.04515"}


@pytest.fixture
def ledger_ready(db):
    years.ensure_years(db, date(2026, 1, 1))
    for country in ("DE", "PL", "FI"):
        services.load_country_taxes(db, country)
    services.save_tax(db, {"code": "JP10", "name": "Consumption tax 10 %", "scope": "sale", "rate": "10",
                           "collected_account": "2200"})
    for code, rate in RATES.items():
        currencies.set_rate(db, code, "2026-01-01", rate)
    party = create_party(db, {"name": "Golden Customer", "kind": "company"})
    db.flush()
    return party


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_case_posted_as_an_invoice(db, ledger_ready, case):
    lines = [{"description": f"line {i + 1}", "quantity": quantity, "unit_price": price, "discount_percent": discount,
              "taxes": codes} for i, (quantity, price, discount, codes) in enumerate(case.lines)]
    invoice = invoicing.create_invoice(db, case.kind, {
        "party_id": ledger_ready.id, "invoice_date": date(2026, 6, 15), "currency": case.currency, "lines": lines})
    assert [line.amount_untaxed for line in invoice.lines] == [D(n) for n in case.nets]
    assert (invoice.amount_untaxed, invoice.amount_tax, invoice.amount_total) == (case.untaxed, case.tax, case.total)
    invoicing.post_invoice(db, invoice)
    entry = invoice.entry
    assert entry.state == "posted"
    assert sum(line.debit for line in entry.lines) == sum(line.credit for line in entry.lines)
    foreign = case.currency != "DKK"
    per_tax = defaultdict(lambda: [D(0), D(0)])  # tax code → [debit side, credit side], in the invoice currency
    codes = {tax.id: tax.code for tax in db.execute(select(Tax)).scalars()}
    for line in entry.lines:
        if line.tax_id is None:
            continue
        amount = line.amount_currency if foreign else line.debit - line.credit
        side = per_tax[codes[line.tax_id]]
        if amount > 0:
            side[0] += amount
        else:
            side[1] -= amount
    for code, expected in case.taxes.items():
        debit, credit = per_tax[code]
        if TAXES[code].reverse_charge:
            assert debit == credit == expected  # due and deductible, nothing to the supplier
        elif case.kind == "out_invoice":
            assert (debit, credit) == (D(0), expected)
        else:
            assert (debit, credit) == (expected, D(0))
