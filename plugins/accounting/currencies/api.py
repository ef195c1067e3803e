"""Currencies, exchange rates and the revaluation under /api/v1/accounting."""
from core import (documented, json_response, keyset_page, load_body, load_query, paged, require,
                  session as db, transaction)

from plugins.accounting.currencies import revaluation, schemas, services
from plugins.accounting.currencies.models import ExchangeRate
from plugins.accounting.permissions import CURRENCY_MANAGE, ENTRY_POST, INVOICE_READ
from plugins.accounting.web import api


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
    body = load_body(schemas.RevaluationBody())
    with transaction():
        result = revaluation.revalue(db, body["date"])
    if result is None:
        return json_response({"entry": None, "reversal": None})
    entry, reversal = result
    return json_response({"entry": {"id": entry.id, "number": entry.number, "date": entry.date.isoformat()},
                          "reversal": {"id": reversal.id, "number": reversal.number,
                                       "date": reversal.date.isoformat()}}, 201)
