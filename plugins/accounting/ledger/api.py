"""The ledger's JSON endpoints under /api/v1/accounting: accounts, journals, entries, fiscal years, account roles."""
from __future__ import annotations

from flask import request
from sqlalchemy import select

from core import ApiError, documented, json_object, json_response, load_body, paged, require, session as db, transaction

from plugins.accounting import permissions as p
from plugins.accounting.ledger import chart, journals, roles, services, years
from plugins.accounting.ledger.models import Account, Entry, FiscalYear, Journal
from plugins.accounting.ledger.schemas import (
    AccountRoleSchema, AccountRolesBody, AccountSchema, DatedActBody, EntrySchema, FiscalYearSchema, JournalSchema,
)
from plugins.accounting.web import api, parse_date


def _entry_json(entry: Entry) -> dict:
    body = EntrySchema().dump(entry)
    reversal = services.reversal_of(db, entry) if entry.state == "posted" else None
    body["reversed_by_id"] = reversal.id if reversal is not None else None
    return body


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(422, "Invalid query", "Some query parameters are invalid.", {name: ["Not an id."]}) from None


def _date_arg(name: str):
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    day = parse_date(raw)
    if day is None:
        raise ApiError(422, "Invalid query", "Some query parameters are invalid.", {name: ["Give YYYY-MM-DD."]})
    return day


account_schema = AccountSchema()


# -- accounts --

@api.get("/accounts")
@require(p.ACCOUNT_READ)
@documented("The chart of accounts with posted balances (filters: q, type, kind, inactive=1)",
            response=AccountSchema, many=True)
def api_accounts():
    rows = chart.tree(db, search=request.args.get("q", ""), type_=request.args.get("type", ""),
                      kind=request.args.get("kind", ""), show_inactive=request.args.get("inactive") == "1")
    items = []
    for row in rows:
        item = account_schema.dump(row.account)
        item["balance"] = str(row.total)
        items.append(item)
    return json_response({"items": items, "next": None})


@api.post("/accounts")
@require(p.ACCOUNT_WRITE)
@documented("Create an account", body=AccountSchema, response=AccountSchema, status=201)
def api_account_create():
    with transaction():
        account = chart.create_account(db, json_object())
    return json_response(account_schema.dump(account), 201)


@api.get("/accounts/<int:account_id>")
@require(p.ACCOUNT_READ)
@documented("Get an account", response=AccountSchema)
def api_account(account_id: int):
    account = chart.get_account(db, account_id)
    item = account_schema.dump(account)
    item["balance"] = str(chart.balances(db).get(account.id, services.ZERO))
    return json_response(item)


@api.patch("/accounts/<int:account_id>")
@require(p.ACCOUNT_WRITE)
@documented("Change an account", body=AccountSchema, response=AccountSchema)
def api_account_update(account_id: int):
    account = chart.get_account(db, account_id)
    with transaction():
        chart.update_account(db, account, json_object())
    return json_response(account_schema.dump(account))


@api.delete("/accounts/<int:account_id>")
@require(p.ACCOUNT_WRITE)
@documented("Delete an unused account (a used one is deactivated instead)", status=204)
def api_account_delete(account_id: int):
    account = chart.get_account(db, account_id)
    with transaction():
        chart.delete_account(db, account)
    return "", 204


# -- journals --

journal_schema = JournalSchema()


@api.get("/journals")
@require(p.ACCOUNT_READ)
@documented("The journals", response=JournalSchema, many=True)
def api_journals():
    rows = db.scalars(select(Journal).order_by(Journal.code)).all()
    return paged(rows, next_cursor=None, schema=journal_schema)


@api.post("/journals")
@require(p.ACCOUNT_WRITE)
@documented("Create a journal", body=JournalSchema, response=JournalSchema, status=201)
def api_journal_create():
    with transaction():
        journal = journals.create_journal(db, json_object())
    return json_response(journal_schema.dump(journal), 201)


@api.get("/journals/<int:journal_id>")
@require(p.ACCOUNT_READ)
@documented("Get a journal", response=JournalSchema)
def api_journal(journal_id: int):
    return json_response(journal_schema.dump(journals.get_journal(db, journal_id)))


@api.patch("/journals/<int:journal_id>")
@require(p.ACCOUNT_WRITE)
@documented("Change a journal", body=JournalSchema, response=JournalSchema)
def api_journal_update(journal_id: int):
    journal = journals.get_journal(db, journal_id)
    with transaction():
        journals.update_journal(db, journal, json_object())
    return json_response(journal_schema.dump(journal))


# -- entries --

entry_schema = EntrySchema()


@api.get("/entries")
@require(p.ENTRY_READ)
@documented("List entries (filters: journal, state, date_from, date_to, account, q; keyset pages with after)",
            response=EntrySchema, many=True)
def api_entries():
    journal = request.args.get("journal", "").strip()
    journal_id = None
    if journal:
        journal_id = int(journal) if journal.isdigit() else services.journal_by_code(db, journal).id
    account = request.args.get("account", "").strip()
    account_id = None
    if account:
        # a code first (codes are digits too), else an id
        found = db.scalar(select(Account.id).where(Account.code == account))
        account_id = found if found is not None else (int(account) if account.isdigit() else None)
        if account_id is None:
            raise ApiError(422, "Invalid query", "Some query parameters are invalid.",
                           {"account": ["There is no such account."]})
    size = min(max(_int_arg("limit") or 50, 1), 500)
    page = services.list_entries(db, journal_id=journal_id, state=request.args.get("state", ""),
                                 date_from=_date_arg("date_from"), date_to=_date_arg("date_to"),
                                 account_id=account_id, q=request.args.get("q", ""),
                                 sort=request.args.get("sort", "-date"), cursor=request.args.get("after"),
                                 size=size)
    return paged(page.rows, next_cursor=page.next_cursor, schema=entry_schema)


@api.post("/entries")
@require(p.ENTRY_WRITE)
@documented("Create a draft entry: journal (code or id), date, reference, narration, lines "
            "[{account (code or id), debit, credit (decimal strings), …}]", body=EntrySchema,
            response=EntrySchema, status=201)
def api_entry_create():
    data = json_object()
    unknown = set(data) - {"journal", "date", "reference", "narration", "lines"}
    if unknown:
        name = sorted(unknown)[0]
        raise ApiError(422, "Validation failed", "Unknown field.", {name: ["Unknown field."]})
    with transaction():
        entry = services.create_entry(db, journal=data.get("journal"), date=data.get("date"),
                                      lines=data.get("lines", []), reference=data.get("reference") or "",
                                      narration=data.get("narration") or "")
    return json_response(_entry_json(entry), 201)


@api.get("/entries/<int:entry_id>")
@require(p.ENTRY_READ)
@documented("Get an entry with its lines", response=EntrySchema)
def api_entry(entry_id: int):
    return json_response(_entry_json(services.get_entry(db, entry_id)))


@api.patch("/entries/<int:entry_id>")
@require(p.ENTRY_WRITE)
@documented("Change a draft entry (lines, when given, replace all its lines); a posted one is refused (409)",
            body=EntrySchema, response=EntrySchema)
def api_entry_update(entry_id: int):
    entry = services.get_entry(db, entry_id)
    data = json_object()
    unknown = set(data) - {"journal", "date", "reference", "narration", "lines"}
    if unknown:
        name = sorted(unknown)[0]
        raise ApiError(422, "Validation failed", "Unknown field.", {name: ["Unknown field."]})
    with transaction():
        services.update_entry(db, entry, **{k: data[k] for k in data})
    return json_response(_entry_json(entry))


@api.delete("/entries/<int:entry_id>")
@require(p.ENTRY_WRITE)
@documented("Delete a draft entry; a posted one is refused (409)", status=204)
def api_entry_delete(entry_id: int):
    entry = services.get_entry(db, entry_id)
    with transaction():
        services.delete_entry(db, entry)
    return "", 204


@api.post("/entries/<int:entry_id>/post")
@require(p.ENTRY_POST)
@documented("Post a draft entry (numbered, hashed, immutable)", response=EntrySchema)
def api_entry_post(entry_id: int):
    entry = services.get_entry(db, entry_id)
    with transaction():
        services.post_entry(db, entry)
    return json_response(_entry_json(entry))


@api.post("/entries/<int:entry_id>/reverse")
@require(p.ENTRY_POST)
@documented("Reverse a posted entry (optional body {date}); returns the reversal", body=DatedActBody,
            response=EntrySchema, status=201)
def api_entry_reverse(entry_id: int):
    entry = services.get_entry(db, entry_id)
    data = request.get_json(silent=True) or {}
    if not isinstance(data, dict):
        raise ApiError(400, "Invalid body", "The request body must be a JSON object.")
    with transaction():
        reversal = services.reverse_entry(db, entry, date=data.get("date"))
    return json_response(_entry_json(reversal), 201)


@api.get("/verify")
@require(p.ENTRY_READ)
@documented("Recompute every journal's hash chain; lists the first break of each journal")
def api_verify():
    checked, breaks = services.verify_chains(db)
    return json_response({"checked": checked, "ok": not breaks,
                          "breaks": [{"journal": b.journal, "number": b.number, "entry_id": b.entry_id,
                                      "reason": b.reason} for b in breaks]})


# -- fiscal years, periods, lock date --

year_schema = FiscalYearSchema()


@api.get("/fiscal-years")
@require(p.ACCOUNT_READ)
@documented("Fiscal years with their periods", response=FiscalYearSchema, many=True)
def api_years():
    rows = db.scalars(select(FiscalYear).order_by(FiscalYear.start_date)).all()
    return paged(rows, next_cursor=None, schema=year_schema)


@api.post("/fiscal-years")
@require(p.ACCOUNT_WRITE)
@documented("Create a fiscal year from its start_date (twelve monthly periods)", body=FiscalYearSchema,
            response=FiscalYearSchema, status=201)
def api_year_create():
    data = json_object()
    start = parse_date(str(data.get("start_date") or ""))
    if start is None:
        raise ApiError(422, "Validation failed", "Some fields are invalid.", {"start_date": ["Give YYYY-MM-DD."]})
    with transaction():
        year = years.create_fiscal_year(db, start, data.get("name"))
    return json_response(year_schema.dump(year), 201)


@api.post("/fiscal-years/<int:year_id>/close")
@require(p.YEAR_CLOSE)
@documented("The year-end close: income and expense to retained earnings; the year is closed",
            response=FiscalYearSchema)
def api_year_close(year_id: int):
    year = years.get_year(db, year_id)
    with transaction():
        years.close_year(db, year)
    return json_response(year_schema.dump(year))


@api.post("/fiscal-years/<int:year_id>/reopen")
@require(p.YEAR_CLOSE)
@documented("Reopen a closed fiscal year: its closing entry is reversed (refused while a later year is closed)",
            response=FiscalYearSchema)
def api_year_reopen(year_id: int):
    year = years.get_year(db, year_id)
    with transaction():
        years.reopen_year(db, year)
    return json_response(year_schema.dump(year))


@api.post("/periods/<int:period_id>/close")
@require(p.ACCOUNT_WRITE)
@documented("Close a period")
def api_period_close(period_id: int):
    period = years.get_period(db, period_id)
    with transaction():
        years.close_period(db, period)
    return json_response({"id": period.id, "state": period.state})


@api.post("/periods/<int:period_id>/reopen")
@require(p.ACCOUNT_WRITE)
@documented("Reopen a period")
def api_period_reopen(period_id: int):
    period = years.get_period(db, period_id)
    with transaction():
        years.reopen_period(db, period)
    return json_response({"id": period.id, "state": period.state})


@api.get("/lock-date")
@require(p.ACCOUNT_READ)
@documented("The lock date")
def api_lock_date():
    day = services.lock_date(db)
    return json_response({"lock_date": day.isoformat() if day else None})


@api.put("/lock-date")
@require(p.LOCK_MANAGE)
@documented("Move the lock date (body {lock_date: YYYY-MM-DD or null})")
def api_lock_date_set():
    data = json_object()
    raw = data.get("lock_date")
    day = None
    if raw not in (None, ""):
        day = parse_date(str(raw))
        if day is None:
            raise ApiError(422, "Validation failed", "Some fields are invalid.", {"lock_date": ["Give YYYY-MM-DD."]})
    with transaction():
        years.set_lock_date(db, day)
    return json_response({"lock_date": day.isoformat() if day else None})


# -- account roles --

def _role_rows() -> dict:
    return {"items": [{"key": row.role.key, "label": str(row.role.label), "account_types": list(row.role.account_types),
                       "default_code": row.role.default_code, "account_id": row.account.id if row.account else None,
                       "account_code": row.account.code if row.account else None, "mapped": row.mapped}
                      for row in roles.role_accounts(db)], "next": None}


@api.get("/account-roles")
@require(p.ACCOUNT_READ)
@documented("The account roles the modules declare, each with the account it posts to now",
            response=AccountRoleSchema, many=True)
def api_account_roles():
    return json_response(_role_rows())


@api.put("/account-roles")
@require(p.ACCOUNT_WRITE)
@documented("Map account roles to accounts (body {accounts: {role: code or id, or null for the default}}); "
            "a wrong account type is a 422 naming the role", body=AccountRolesBody, response=AccountRoleSchema,
            many=True)
def api_account_roles_set():
    body = load_body(AccountRolesBody())
    with transaction():
        roles.set_role_accounts(db, body["accounts"])
    return json_response(_role_rows())
