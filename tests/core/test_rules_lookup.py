"""Lookup tables: what rules read with lookup('name', key), exact and by bracket, on a day, per company;
their rows checked as they are written, imported and exported as CSV. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core import InvalidInput, RuleEvaluationError, RuleKind, RuleVariable, compile_rule, in_company
from core.rules import services
from core.testing import factories

KIND = RuleKind("test.discount", "Discount", (RuleVariable("quantity", "number"), RuleVariable("grade", "text")),
                result="number")


@pytest.fixture
def tiers(db):
    """Discount tiers by quantity (bracket), with a new rate for 100+ from 2027."""
    table = services.create_table(db, name="discount_tiers", title="Discount tiers", key_type="number",
                                  match="bracket")
    for key, value, start, end in [("0", "0", None, None), ("10", "0.05", None, None),
                                   ("100", "0.10", None, date(2026, 12, 31)), ("100", "0.12", date(2027, 1, 1), None)]:
        services.add_row(db, table, key=key, value=value, valid_from=start, valid_until=end)
    return table


def test_bracket_lookup_reads_the_greatest_key_not_above_the_value_valid_on_the_day(db, tiers):
    rule = compile_rule(KIND, "lookup('discount_tiers', quantity)")
    on_2026, on_2027 = date(2026, 6, 1), date(2027, 6, 1)
    assert rule.evaluate({"quantity": 9}, db=db, on=on_2026) == Decimal("0")
    assert rule.evaluate({"quantity": 10}, db=db, on=on_2026) == Decimal("0.05")
    assert rule.evaluate({"quantity": Decimal("99.9999999")}, db=db, on=on_2026) == Decimal("0.05")
    assert rule.evaluate({"quantity": 250}, db=db, on=on_2026) == Decimal("0.10")
    assert rule.evaluate({"quantity": 250}, db=db, on=on_2027) == Decimal("0.12")
    assert rule.evaluate({"quantity": Decimal("1E+20")}, db=db, on=on_2027) == Decimal("0.12")
    with pytest.raises(RuleEvaluationError) as caught:
        rule.evaluate({"quantity": -1}, db=db, on=on_2026)
    assert caught.value.message == "The table 'discount_tiers' has no row for -1 on 2026-06-01."


def test_a_price_with_a_looked_up_discount_and_its_trace(db, tiers):
    kind = RuleKind("test.price", "Price", (RuleVariable("quantity", "number"), RuleVariable("grade", "text")),
                    result="number")
    rule = compile_rule(kind, "round_money(quantity * 9.99 * (1 - lookup('discount_tiers', quantity)))")
    explanation = rule.explain({"quantity": 12}, db=db, on=date(2026, 1, 5))
    assert explanation.result == Decimal("113.89")
    assert ("lookup('discount_tiers', quantity)", Decimal("0.05")) in explanation.steps


def test_exact_lookup_with_text_keys(db):
    table = services.create_table(db, name="commission", title="Commission by grade")
    services.add_row(db, table, key="A", value="0.07")
    services.add_row(db, table, key="B", value="0.04")
    rule = compile_rule(KIND, "lookup('commission', grade) * 1000")
    assert rule.evaluate({"grade": "A"}, db=db) == Decimal("70.00")
    with pytest.raises(RuleEvaluationError, match="The table 'commission' has no row for C on"):
        rule.evaluate({"grade": "C"}, db=db)
    with pytest.raises(RuleEvaluationError, match="has text keys|no row for 5"):
        compile_rule(KIND, "lookup('commission', quantity) > 0 ? 1 : 0").evaluate({"quantity": 5}, db=db)


def test_another_companys_table_is_not_visible(db):
    second = factories.group_company(db, "Nordlys Vertrieb GmbH").id
    with in_company(second):
        theirs = services.create_table(db, name="secret_rates", title="Their rates")
        services.add_row(db, theirs, key="A", value="1")
        assert compile_rule(KIND, "lookup('secret_rates', grade)").evaluate({"grade": "A"}, db=db) == Decimal(1)
    db.flush()
    assert services.table_named(db, "secret_rates") is None
    db.expunge(theirs)
    assert db.get(type(theirs), theirs.id) is None
    with pytest.raises(RuleEvaluationError) as caught:
        compile_rule(KIND, "lookup('secret_rates', grade)").evaluate({"grade": "A"}, db=db)
    assert caught.value.message == "There is no lookup table 'secret_rates'."
    # the same name is free in this company
    assert services.create_table(db, name="secret_rates", title="Ours").name == "secret_rates"


@pytest.mark.parametrize("fields, field, message", [
    ({"name": "Discount Tiers"}, "name", "lower-case letters"),
    ({"name": "commission"}, "name", "already a lookup table called 'commission'"),
    ({"title": " "}, "title", "Give the table a title."),
    ({"key_type": "date"}, "key_type", "text or number"),
    ({"match": "bracket"}, "match", "Bracket match needs number keys."),
])
def test_a_bad_table_is_refused_naming_the_field(db, fields, field, message):
    services.create_table(db, name="commission", title="Commission")
    before = len(services.list_tables(db))
    with pytest.raises(InvalidInput) as caught:
        services.create_table(db, **{"name": "tiers", "title": "Tiers", **fields})
    assert caught.value.field == field and message in caught.value.message
    assert len(services.list_tables(db)) == before


@pytest.mark.parametrize("row, field, message", [
    ({"key": "ten"}, "key", "Enter a number"),
    ({"value": "1,5x"}, "value", "Enter a number"),
    ({"value": "0.1234567"}, "value", "6 decimals"),
    ({"valid_from": "2026-13-01"}, "valid_from", "YYYY-MM-DD"),
    ({"valid_from": "2026-05-01", "valid_until": "2026-04-01"}, "valid_until", "cannot end before it starts"),
    ({"key": "10", "valid_from": "2026-01-01"}, "valid_from", "Another row with the key 10"),
])
def test_a_bad_row_is_refused_naming_the_field(db, tiers, row, field, message):
    count = len(tiers.rows)
    with pytest.raises(InvalidInput) as caught:
        services.add_row(db, tiers, **{"key": "500", "value": "0.2", **row})
    assert caught.value.field == field and message in caught.value.message
    assert len(tiers.rows) == count


def test_rows_that_do_not_overlap_in_time_may_share_a_key(db, tiers):
    services.add_row(db, tiers, key="500", value="0.2", valid_until="2026-12-31")
    services.add_row(db, tiers, key="500", value="0.25", valid_from="2027-01-01")
    with pytest.raises(InvalidInput):
        services.add_row(db, tiers, key="500", value="0.3", valid_from="2026-12-31", valid_until="2026-12-31")


def test_the_key_type_changes_only_while_the_table_has_no_rows(db, tiers):
    with pytest.raises(InvalidInput) as caught:
        services.update_table(db, tiers, title="Tiers", key_type="text", match="exact")
    assert caught.value.field == "key_type"
    empty = services.create_table(db, name="empty", title="Empty")
    services.update_table(db, empty, title="Empty now numbers", key_type="number", match="bracket")
    assert (empty.key_type, empty.match) == ("number", "bracket")


def test_csv_export_and_import_round_trip(db, tiers):
    text = services.export_rows(tiers)
    assert text.splitlines()[0] == "key,value,valid_from,valid_until"
    assert text.splitlines()[1:] == ["0,0,,", "10,0.05,,", "100,0.1,,2026-12-31", "100,0.12,2027-01-01,"]
    copy = services.create_table(db, name="copy", title="Copy", key_type="number", match="bracket")
    assert services.import_rows(db, copy, text.encode()) == 4
    rule = compile_rule(KIND, "lookup('copy', quantity)")
    assert rule.evaluate({"quantity": 150}, db=db, on=date(2027, 2, 1)) == Decimal("0.12")


def test_a_bad_csv_line_is_refused_naming_it_and_nothing_changes(db, tiers):
    data = b"key,value,valid_from,valid_until\n5,0.01,,\nfive,0.02,,\n"
    with pytest.raises(InvalidInput) as caught:
        with db.begin_nested():
            services.import_rows(db, tiers, data)
    assert caught.value.field == "file"
    assert caught.value.message.startswith("Line 3, key: Enter a number")
    db.expire_all()
    assert [services.plain(row.key) for row in tiers.rows] == ["0", "10", "100", "100"]


def test_the_migration_makes_the_tables_the_models_describe(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.db import Base

    def ours(obj, name, type_, *_):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return (table is not None and table.name.startswith("core_lookup_")) or (type_ == "table" and
                                                                                 name.startswith("core_lookup_"))

    context = MigrationContext.configure(db.connection(), opts={"include_object": ours, "compare_type": True})
    assert compare_metadata(context, Base.metadata) == []
