"""Taxes and the VAT report under /api/v1/accounting."""
from flask import request

from core import documented, json_response, load_body, load_query, paged, require, session as db, transaction

from plugins.accounting.permissions import ENTRY_POST, INVOICE_READ, REPORT_READ, TAX_MANAGE
from plugins.accounting.tax import schemas, services, vat_report as vat
from plugins.accounting.web import api


@api.get("/taxes")
@require(INVOICE_READ)
@documented("List the taxes", response=schemas.TaxSchema, many=True)
def tax_list():
    return paged(services.list_taxes(db), next_cursor=None, schema=schemas.TaxSchema())


@api.post("/taxes")
@require(TAX_MANAGE)
@documented("Create a tax", body=schemas.TaxBody, response=schemas.TaxSchema, status=201)
def tax_create():
    body = load_body(schemas.TaxBody())
    with transaction():
        tax = services.save_tax(db, body)
    return json_response(schemas.TaxSchema().dump(tax), 201)


@api.get("/taxes/<int:tax_id>")
@require(INVOICE_READ)
@documented("A tax", response=schemas.TaxSchema)
def tax_detail(tax_id):
    return json_response(schemas.TaxSchema().dump(services.get_tax(db, tax_id)))


@api.patch("/taxes/<int:tax_id>")
@require(TAX_MANAGE)
@documented("Change a tax", body=schemas.TaxBody, response=schemas.TaxSchema)
def tax_update(tax_id):
    tax = services.get_tax(db, tax_id)
    body = load_body(schemas.TaxBody(), partial=True)
    sent = request.get_json(silent=True) or {}
    with transaction():
        # load_default fills what was not sent; a change touches only the fields sent
        tax = services.save_tax(db, {key: value for key, value in body.items() if key in sent}, tax)
    return json_response(schemas.TaxSchema().dump(tax))


@api.post("/vat-settlements")
@require(ENTRY_POST)
@documented("Post the VAT settlement of a period (its tax moved to 2210 VAT settlement)",
            body=schemas.DateRangeQuery, status=201)
def vat_settlement_create():
    body = load_body(schemas.DateRangeQuery())
    with transaction():
        entry = vat.settle(db, body["date_from"], body["date_to"])
    return json_response({"id": entry.id, "number": entry.number, "date": entry.date.isoformat()}, 201)


@api.get("/reports/vat")
@require(REPORT_READ)
@documented("The VAT report of a period: base, tax due and deductible per tax and per box",
            query=schemas.DateRangeQuery, response=schemas.VatReportSchema)
def vat_report():
    args = load_query(schemas.DateRangeQuery())
    report = vat.vat_report(db, args["date_from"], args["date_to"])
    return json_response(schemas.VatReportSchema().dump(report))
