"""Payments and bank statements in the JSON API (/api/v1/accounting/payments, …/statements).

Each endpoint states its transaction once; a refusal escapes to the core's problem+json answer.
"""
from __future__ import annotations

from flask import request

from core import (ApiError, acting, documented, json_response, keyset_page, load_body, load_query, paged, require,
                  session as db, transaction)

from plugins.accounting import permissions as p
from plugins.accounting.banking import services, statements
from plugins.accounting.banking.models import Payment, Statement
from plugins.accounting.banking.schemas import (ConfirmSchema, OpenItemQuerySchema, OpenItemSchema, PaymentCreateSchema,
                                                PaymentQuerySchema, PaymentSchema, StatementLineSchema,
                                                StatementDetailSchema, StatementQuerySchema, StatementSchema,
                                                SuggestionSchema)
from plugins.accounting.ledger.schemas import DatedActBody
from plugins.accounting.web import api

PAYMENT_SORTS = {"date": Payment.date, "number": Payment.number, "amount": Payment.amount}


def statement_body(statement: Statement) -> dict:
    """A statement with its lines, each with its suggested matches while unmatched."""
    body = StatementSchema().dump(statement)
    lines = []
    for line in statement.lines:
        item = StatementLineSchema().dump(line)
        item["suggestions"] = (SuggestionSchema().dump(statements.suggestions(db, line), many=True)
                               if line.state == "unmatched" else [])
        lines.append(item)
    body["lines"] = lines
    difference = statement.balance_difference
    body["balance_difference"] = str(difference) if difference is not None else None
    return body


@api.get("/payments")
@require(p.PAYMENT_READ)
@documented("List payments", query=PaymentQuerySchema, response=PaymentSchema, many=True)
def api_payments():
    args = load_query(PaymentQuerySchema())
    query = services.payments_query(q=args["q"], kind=args["kind"], party_id=args["party_id"],
                                    journal=args["journal"], date_from=args["date_from"], date_to=args["date_to"])
    page = keyset_page(db, query, sort_keys=PAYMENT_SORTS, id_column=Payment.id, sort=args["sort"],
                       cursor=args["after"], size=args["limit"])
    return paged(page.rows, next_cursor=page.next_cursor, schema=PaymentSchema())


@api.post("/payments")
@require(p.PAYMENT_WRITE)
@documented("Register and post a payment, allocated to invoices", body=PaymentCreateSchema,
            response=PaymentSchema, status=201)
def api_payment_create():
    data = load_body(PaymentCreateSchema())
    with transaction():
        payment = services.register_payment(
            db, party_id=data["party_id"], amount=data["amount"], currency=data["currency"], date=data["date"],
            journal=data["journal"], allocations=[(a["invoice"], a["amount"]) for a in data["allocations"]],
            reference=data["reference"], user_id=acting().user_id, writeoff_account=data["writeoff_account"],
            kind=data["kind"])
    return json_response(PaymentSchema().dump(payment), 201)


@api.get("/payments/<int:payment_id>")
@require(p.PAYMENT_READ)
@documented("One payment", response=PaymentSchema)
def api_payment(payment_id: int):
    return json_response(PaymentSchema().dump(services.get_payment(db, payment_id)))


@api.post("/payments/<int:payment_id>/cancel")
@require(p.PAYMENT_WRITE)
@documented("Cancel a payment: its entry is reversed and the invoices it paid are open again",
            body=DatedActBody, response=PaymentSchema)
def api_payment_cancel(payment_id: int):
    payment = services.get_payment(db, payment_id)
    data = load_body(DatedActBody()) if request.get_data() else {}
    with transaction():
        services.cancel_payment(db, payment, date=data.get("date"), user_id=acting().user_id)
    return json_response(PaymentSchema().dump(payment))


@api.get("/open-items")
@require(p.PAYMENT_READ)
@documented("Open receivable or payable lines (oldest due first), of one party when asked",
            query=OpenItemQuerySchema, response=OpenItemSchema, many=True)
def api_open_items():
    args = load_query(OpenItemQuerySchema())
    items = services.open_items(db, args["party_id"], args["kind"], args["on"])
    return json_response({"items": OpenItemSchema().dump(items, many=True)})


@api.get("/statements")
@require(p.BANK_READ)
@documented("List bank statements", query=StatementQuerySchema, response=StatementSchema, many=True)
def api_statements():
    args = load_query(StatementQuerySchema())
    page = keyset_page(db, statements.statements_query(q=args["q"], state=args["state"]),
                       sort_keys={"date": Statement.date}, id_column=Statement.id, sort="-date",
                       cursor=args["after"], size=args["limit"])
    return paged(page.rows, next_cursor=page.next_cursor, schema=StatementSchema())


@api.get("/statements/<int:statement_id>")
@require(p.BANK_READ)
@documented("One bank statement with its lines and their suggested matches", response=StatementDetailSchema)
def api_statement(statement_id: int):
    return json_response(statement_body(statements.get_statement(db, statement_id)))


@api.post("/statements")
@require(p.BANK_WRITE)
@documented("Import a bank statement (multipart: file, format csv|camt053, journal, map_<field>, "
            "number_format, date_format)", response=StatementDetailSchema, status=201)
def api_statement_import():
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(422, "Validation failed", "Attach the statement file.", {"file": ["Attach a file."]})
    form = request.form
    mapping = {field: form.get(f"map_{field}", "") for field in statements.CSV_FIELDS}
    try:
        with transaction():
            statement = statements.import_statement(
                db, upload.read(), file_format=form.get("format", "camt053"), journal=form.get("journal", "BNK"),
                mapping=mapping, number_format=form.get("number_format", "1,234.56"),
                date_format=form.get("date_format", "%Y-%m-%d"), name=form.get("name", ""),
                filename=upload.filename or "", opening_balance=form.get("opening_balance"),
                closing_balance=form.get("closing_balance"), user_id=acting().user_id)
    except statements.StatementFileError as exc:
        # recovers: the refusal also lists each bad row of the file
        error = ApiError(422, "Validation failed", exc.message, exc.as_errors())
        error.errors["rows"] = [{"line": line, "reason": reason} for line, reason in exc.problems]
        raise error from None
    return json_response(statement_body(statement), 201)


@api.post("/statements/lines/<int:line_id>/confirm")
@require(p.BANK_WRITE)
@documented("Match a statement line: pay invoices, pay a party on account, or book it to an account",
            body=ConfirmSchema, response=StatementLineSchema)
def api_statement_line_confirm(line_id: int):
    data = load_body(ConfirmSchema())
    line = statements.get_line(db, line_id)
    with transaction():
        statements.confirm_line(db, line, invoices=data["invoices"], account=data["account"],
                                party_id=data["party_id"], user_id=acting().user_id)
    return json_response(StatementLineSchema().dump(line))
