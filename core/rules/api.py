"""JSON endpoints: checking and evaluating rules (``/api/v1/rules``) and lookup tables with their rows
(``/api/v1/lookup-tables``), over the same services as the pages."""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint
from marshmallow import fields, validate

from core.api.base import API_PREFIX, documented, json_object, json_response, load_body
from core.api.schema import MoneyField, Schema
from core.db import session as db
from core.rules import services
from core.rules.engine import compile_rule
from core.rules.permissions import MANAGE
from core.rules.trying import json_value, kind_to_try, may_write_rules, try_rule
from core.security import require, signed_in
from core.web.transaction import transaction

bp = Blueprint("api_rules", __name__, url_prefix=API_PREFIX)

TEXT = fields.String(required=True, validate=validate.Length(max=20000),
                     metadata={"description": "The rule's text, in the rule language."})


class CheckSchema(Schema):
    """A rule to check: its kind and its text."""

    kind = fields.String(required=True, validate=validate.Length(max=200), metadata={"description": "A rule kind's name."})
    text = TEXT


class CheckedSchema(Schema):
    """A rule that compiled: the variables it reads and the type of its result."""

    names = fields.List(fields.String(), dump_only=True)
    result_type = fields.String(dump_only=True, metadata={"description": "number, text, boolean or date"})


class EvaluateSchema(CheckSchema):
    """A rule to evaluate with values for its variables (numbers best given as strings, dates as YYYY-MM-DD)."""

    values = fields.Dict(keys=fields.String(), load_default=dict)
    on = fields.Date(load_default=None, metadata={"description": "The day lookup() reads rows valid on (default today)."})


class StepSchema(Schema):
    """A sub-term of the rule and its value."""

    text = fields.String(dump_only=True)
    value = fields.Raw(dump_only=True, metadata={"description": "Numbers as exact strings, dates as YYYY-MM-DD."})


class EvaluatedSchema(Schema):
    """A rule's result and the value of each sub-term, innermost first."""

    result = fields.Raw(dump_only=True, metadata={"description": "Numbers as exact strings, dates as YYYY-MM-DD."})
    steps = fields.List(fields.Nested(StepSchema), dump_only=True)


class RowSchema(Schema):
    """A row of a lookup table: a key (text or number, as the table says), a value and its validity."""

    id = fields.Integer(dump_only=True)
    key = fields.String(required=True, metadata={"description": "A number key is given as a string: \"10000\"."})
    value = MoneyField(required=True)
    valid_from = fields.Date(load_default=None, allow_none=True)
    valid_until = fields.Date(load_default=None, allow_none=True)


class TableSchema(Schema):
    """A lookup table, read by rules as lookup('name', key)."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(max=64))
    title = fields.String(required=True, validate=validate.Length(max=200))
    key_type = fields.String(load_default="text", validate=validate.OneOf(services.KEY_TYPES))
    match = fields.String(load_default="exact", validate=validate.OneOf(services.MATCHES))
    rows = fields.List(fields.Nested(RowSchema), dump_only=True)


class TableChangeSchema(Schema):
    """What may change on a lookup table (its name is how rules read it, and stays)."""

    title = fields.String(validate=validate.Length(max=200))
    key_type = fields.String(validate=validate.OneOf(services.KEY_TYPES))
    match = fields.String(validate=validate.OneOf(services.MATCHES))


def _table(table) -> dict:
    return TableSchema().dump({"id": table.id, "name": table.name, "title": table.title, "key_type": table.key_type,
                               "match": table.match, "rows": [_row(row) for row in table.rows]})


def _row(row) -> dict:
    return {"id": row.id, "key": services.plain(row.key), "value": Decimal(services.plain(row.value)),
            "valid_from": row.valid_from,
            "valid_until": row.valid_until}


# -- rules --


def _kind_from_body():
    """The kind named by the body, if the token's user may write its rules (checked before the body's other
    fields, so that who may write no rules learns nothing from the answers)."""
    may_write_rules()
    body = json_object()
    return kind_to_try(body.get("kind") if isinstance(body.get("kind"), str) else None)


@bp.post("/rules/check")
@signed_in  # the permission is the rule kind's own
@documented("Compile a rule of a kind: 200 with the variables it reads, or 422 saying what is wrong and where",
            body=CheckSchema, response=CheckedSchema)
def check_rule():
    kind = _kind_from_body()
    data = load_body(CheckSchema())
    rule = compile_rule(kind, data["text"], field="text")
    return json_response(CheckedSchema().dump({"names": sorted(rule.names), "result_type": rule.result_type}))


@bp.post("/rules/evaluate")
@signed_in  # the permission is the rule kind's own
@documented("Evaluate a rule of a kind with values: its result and the value of each sub-term",
            body=EvaluateSchema, response=EvaluatedSchema)
def evaluate_rule():
    kind = _kind_from_body()
    data = load_body(EvaluateSchema())
    explanation = try_rule(db, kind, data["text"], data["values"], field="text", on=data["on"])
    db.rollback()
    return json_response(EvaluatedSchema().dump({
        "result": json_value(explanation.result),
        "steps": [{"text": text, "value": json_value(value)} for text, value in explanation.steps]}))


# -- lookup tables --


@bp.get("/lookup-tables")
@require(MANAGE)
@documented("The company's lookup tables with their rows", response=TableSchema, many=True)
def list_tables():
    return json_response({"items": [_table(t) for t in services.list_tables(db)], "next": None})


@bp.post("/lookup-tables")
@require(MANAGE)
@documented("Create a lookup table", body=TableSchema, response=TableSchema, status=201)
def create_table():
    data = load_body(TableSchema())
    with transaction():
        table = services.create_table(db, **data)
        body = _table(table)
    return json_response(body, 201)


@bp.get("/lookup-tables/<int:table_id>")
@require(MANAGE)
@documented("A lookup table with its rows", response=TableSchema)
def get_table(table_id: int):
    return json_response(_table(services.get_table(db, table_id)))


@bp.patch("/lookup-tables/<int:table_id>")
@require(MANAGE)
@documented("Change a lookup table's title, key type (while it has no rows) or match", body=TableChangeSchema,
            response=TableSchema)
def update_table(table_id: int):
    data = load_body(TableChangeSchema(), partial=True)
    with transaction():
        table = services.get_table(db, table_id)
        fields_now = {"title": table.title, "key_type": table.key_type, "match": table.match}
        services.update_table(db, table, **{**fields_now, **data})
        body = _table(table)
    return json_response(body)


@bp.delete("/lookup-tables/<int:table_id>")
@require(MANAGE)
@documented("Delete a lookup table and its rows", status=204)
def delete_table(table_id: int):
    with transaction():
        services.delete_table(db, services.get_table(db, table_id))
    return "", 204


@bp.post("/lookup-tables/<int:table_id>/rows")
@require(MANAGE)
@documented("Add a row to a lookup table", body=RowSchema, response=RowSchema, status=201)
def add_row(table_id: int):
    data = load_body(RowSchema())
    with transaction():
        table = services.get_table(db, table_id)
        row = services.add_row(db, table, **data)
        body = RowSchema().dump(_row(row))
    return json_response(body, 201)


@bp.put("/lookup-tables/<int:table_id>/rows/<int:row_id>")
@require(MANAGE)
@documented("Replace a row of a lookup table", body=RowSchema, response=RowSchema)
def update_row(table_id: int, row_id: int):
    data = load_body(RowSchema())
    with transaction():
        table = services.get_table(db, table_id)
        row = services.update_row(db, table, services.get_row(db, table, row_id), **data)
        body = RowSchema().dump(_row(row))
    return json_response(body)


@bp.delete("/lookup-tables/<int:table_id>/rows/<int:row_id>")
@require(MANAGE)
@documented("Delete a row of a lookup table", status=204)
def delete_row(table_id: int, row_id: int):
    with transaction():
        table = services.get_table(db, table_id)
        services.delete_row(db, services.get_row(db, table, row_id))
    return "", 204

