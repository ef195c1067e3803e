"""Exact money and UTC timestamps on both backends."""
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.exc import StatementError

from core.db import Money, UTCDateTime, get_engine


@pytest.fixture
def ledger(db_url):
    """A scratch table with money and timestamp columns on the test database."""
    metadata = MetaData()
    table = Table(
        "scratch_amounts", metadata,
        Column("id", Integer, primary_key=True),
        Column("amount", Money(scale=2)),
        Column("rate", Money(scale=6)),
        Column("at", UTCDateTime()),
    )
    engine = get_engine(db_url)
    metadata.create_all(engine)
    yield engine, table
    metadata.drop_all(engine)


def test_sum_of_cents_is_exact_in_sql(ledger):
    engine, table = ledger
    with engine.begin() as conn:
        conn.execute(insert(table), [{"amount": Decimal("0.10")} for _ in range(3)] + [{"amount": Decimal("-0.30")}])
        total = conn.execute(select(func.sum(table.c.amount))).scalar()
        positive = conn.execute(select(func.sum(table.c.amount)).where(table.c.amount > Decimal("0"))).scalar()
    assert total == Decimal("0.00") and isinstance(total, Decimal)
    assert positive == Decimal("0.30")


def test_large_amounts_keep_every_digit(ledger):
    engine, table = ledger
    big = Decimal("9999999999999.99")
    with engine.begin() as conn:
        conn.execute(insert(table), [{"amount": big}, {"amount": big}])
        total = conn.execute(select(func.sum(table.c.amount))).scalar()
    assert total == Decimal("19999999999999.98")


def test_six_decimal_rates_round_trip(ledger):
    engine, table = ledger
    with engine.begin() as conn:
        conn.execute(insert(table), [{"rate": Decimal("7.460125")}])
        assert conn.execute(select(table.c.rate)).scalar() == Decimal("7.460125")


@pytest.mark.parametrize("bad, error", [(0.1, TypeError), (Decimal("0.001"), ValueError)])
def test_floats_and_extra_decimals_are_refused(ledger, bad, error):
    engine, table = ledger
    with pytest.raises(StatementError) as info, engine.begin() as conn:
        conn.execute(insert(table), [{"amount": bad}])
    assert isinstance(info.value.orig, error)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar() == 0


def test_timestamps_come_back_aware_in_utc(ledger):
    engine, table = ledger
    copenhagen = timezone(timedelta(hours=1))
    moment = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=copenhagen)
    with engine.begin() as conn:
        conn.execute(insert(table), [{"at": moment}])
        stored = conn.execute(select(table.c.at)).scalar()
    assert stored == moment and stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused(ledger):
    engine, table = ledger
    with pytest.raises(StatementError), engine.begin() as conn:
        conn.execute(insert(table), [{"at": datetime(2026, 1, 1)}])
