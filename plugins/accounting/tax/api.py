"""Taxes, currencies, exchange rates, the revaluation and the VAT report under /api/v1/accounting."""
from flask import request

from core import (documented, json_response, keyset_page, load_body, load_query, paged, require,
                  session as db, transaction)

from plugins.accounting.permissions import CURRENCY_MANAGE, ENTRY_POST, INVOICE_READ, REPORT_READ, TAX_MANAGE
from plugins.accounting.tax import schemas, services, vat_report as vat
from plugins.accounting.tax.models import ExchangeRate
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


@api.get("/currencies")
@require(INVOICE_READ)
@documented("List the currencies", response=schemas.CurrencySchema, many=True)
def currency_list():
    return paged(services.list_currencies(db), next_cursor=None, schema=schemas.CurrencySchema())


@api.patch("/currencies/<code>")
@require(CURRENCY_MANAGE)
@documented("Activate or deactivate a currency, or change its decimals", body=schemas.CurrencyBody,
            response=schemas.CurrencySchema)
def currency_update(code):
    body = load_body(schemas.CurrencyBody(), partial=True)
    currency = services.currency_named(db, code)
    with transaction():
        currency = services.update_currency(db, currency.code, active=body.get("active"), digits=body.get("digits"),
                                            name=body.get("name"))
    return json_response(schemas.CurrencySchema().dump(currency))


@api.get("/rates")
@require(CURRENCY_MANAGE)
@documented("List exchange rates, newest first", query=schemas.RatesQuery, response=schemas.RateSchema, many=True)
def rate_list():
    args = load_query(schemas.RatesQuery())
    page = keyset_page(db, services.rates_query(args["currency"] or None), sort_keys={"date": ExchangeRate.date},
                       id_column=ExchangeRate.id, sort="-date", cursor=args["after"], size=args["size"])
    return paged(page.rows, next_cursor=page.next_cursor, schema=schemas.RateSchema())


@api.post("/rates")
@require(CURRENCY_MANAGE)
@documented("Record an exchange rate (replaces the rate of the same currency and day)", body=schemas.RateBody,
            response=schemas.RateSchema, status=201)
def rate_create():
    body = load_body(schemas.RateBody())
    with transaction():
        rate = services.set_rate(db, body["currency"], body["date"], body["rate"])
    return json_response(schemas.RateSchema().dump(rate), 201)


@api.post("/revaluations")
@require(ENTRY_POST)
@documented("Post the unrealised exchange differences of a day and their reversal", body=schemas.RevaluationBody)
def revaluation_create():
    from plugins.accounting.tax.revaluation import revalue

    body = load_body(schemas.RevaluationBody())
    with transaction():
        result = revalue(db, body["date"])
    if result is None:
        return json_response({"entry": None, "reversal": None})
    entry, reversal = result
    return json_response({"entry": {"id": entry.id, "number": entry.number, "date": entry.date.isoformat()},
                          "reversal": {"id": reversal.id, "number": reversal.number,
                                       "date": reversal.date.isoformat()}}, 201)


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
