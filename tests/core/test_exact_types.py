"""Exact quantities and percentages beside money: one base type, exact on both backends."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, delete, func, insert, select
from sqlalchemy.exc import StatementError

import core
from core.db import ExactDecimal, Money, Percent, Quantity, get_engine


@pytest.fixture
def stock(db_url):
    """A scratch table with a quantity in the default 6 decimals, one in grams and a percentage."""
    metadata = MetaData()
    table = Table(
        "scratch_stock", metadata,
        Column("id", Integer, primary_key=True),
        Column("qty", Quantity()),
        Column("kg", Quantity(scale=3)),
        Column("pct", Percent(scale=4)),
    )
    engine = get_engine(db_url)
    metadata.create_all(engine)
    yield engine, table
    metadata.drop_all(engine)


def test_one_base_type_serves_money_quantity_and_percent():
    assert all(issubclass(kind, ExactDecimal) for kind in (Money, Quantity, Percent))
    assert (Money().scale, Quantity().scale, Percent().scale) == (2, 6, 4)
    assert Quantity(scale=3).scale == 3
    assert core.Quantity is Quantity and core.Percent is Percent and core.Money is Money


def test_quantities_and_percentages_round_trip_exactly(stock):
    engine, table = stock
    with engine.begin() as conn:
        conn.execute(insert(table), [{"qty": Decimal("0.000001"), "kg": Decimal("12.345"), "pct": Decimal("12.5")},
                                     {"qty": Decimal("-123456789012.999999"), "kg": Decimal("0"), "pct": Decimal("-0.0001")}])
        rows = conn.execute(select(table.c.qty, table.c.kg, table.c.pct).order_by(table.c.id)).all()
    assert rows[0] == (Decimal("0.000001"), Decimal("12.345"), Decimal("12.5000"))
    assert rows[1] == (Decimal("-123456789012.999999"), Decimal("0.000"), Decimal("-0.0001"))
    assert all(isinstance(value, Decimal) for row in rows for value in row)
    assert str(rows[0].pct) == "12.5000" and str(rows[0].kg) == "12.345"  # the column's scale, always


@pytest.mark.parametrize("column, bad, error, message", [
    ("qty", 0.5, TypeError, "a quantity must not be a float"),
    ("pct", 12.5, TypeError, "a percentage must not be a float"),
    ("pct", True, TypeError, "a percentage must not be a bool"),
    ("qty", Decimal("0.0000001"), ValueError, "more than 6 decimals"),
    ("kg", Decimal("1.0005"), ValueError, "more than 3 decimals"),
    ("pct", Decimal("33.33333"), ValueError, "more than 4 decimals"),
    ("qty", Decimal("NaN"), ValueError, "finite"),
    ("pct", Decimal("Infinity"), ValueError, "finite"),
    ("qty", Decimal("1000000000000"), ValueError, "too large"),
])
def test_floats_extra_decimals_and_impossible_values_are_refused(stock, column, bad, error, message):
    engine, table = stock
    with pytest.raises(StatementError) as info, engine.begin() as conn:
        conn.execute(insert(table), [{column: bad}])
    assert isinstance(info.value.orig, error) and message in str(info.value.orig)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar() == 0


def test_comparisons_with_a_decimal_are_exact_in_sql(stock):
    engine, table = stock
    with engine.begin() as conn:
        conn.execute(insert(table), [{"qty": Decimal("0.000001")}, {"qty": Decimal("0.000002")}])
        found = conn.execute(select(table.c.qty).where(table.c.qty > Decimal("0.000001"))).scalars().all()
    assert found == [Decimal("0.000002")]


def test_sums_in_sql_are_exact(stock):
    engine, table = stock
    with engine.begin() as conn:
        conn.execute(insert(table), [{"qty": Decimal("0.1"), "pct": Decimal("33.3333")} for _ in range(3)]
                     + [{"qty": Decimal("-0.3"), "pct": Decimal("0.0001")}])
        qty, pct = conn.execute(select(func.sum(table.c.qty), func.sum(table.c.pct))).one()
    assert qty == Decimal("0") and isinstance(qty, Decimal)
    assert pct == Decimal("100.0000") and isinstance(pct, Decimal)


_quantities = st.decimals(min_value=Decimal("-999999999"), max_value=Decimal("999999999"), places=6,
                          allow_nan=False, allow_infinity=False)
_percentages = st.decimals(min_value=Decimal("-1000"), max_value=Decimal("1000"), places=4,
                           allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_quantities, _percentages), min_size=1, max_size=30))
def test_the_sum_in_sql_equals_the_sum_in_python(stock, rows):
    engine, table = stock
    with engine.begin() as conn:
        conn.execute(delete(table))
        conn.execute(insert(table), [{"qty": qty, "pct": pct} for qty, pct in rows])
        qty, pct = conn.execute(select(func.sum(table.c.qty), func.sum(table.c.pct))).one()
    assert qty == sum(q for q, _ in rows) and isinstance(qty, Decimal)
    assert pct == sum(p for _, p in rows) and isinstance(pct, Decimal)
