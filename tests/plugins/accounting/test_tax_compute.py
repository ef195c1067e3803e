"""compute_line: per-line rounding, price-included taxes, several taxes and reverse charge.

Pure computation (no database): properties checked with Hypothesis over random lines.
"""
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from core import KontorError

from plugins.accounting.tax.services import compute_line, round_money


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
