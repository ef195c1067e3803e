"""Every report as JSON under /api/v1/accounting/reports; amounts are decimal strings."""
from __future__ import annotations

from datetime import date

from core import NotFound, documented, gettext as _, json_response, load_query, require, session as db

from plugins.accounting.permissions import REPORT_READ
from plugins.accounting.reports import (
    aged, consolidation, figures, general_ledger, schemas, statements, trial_balance,
)
from plugins.accounting.web import api


def _range(values: dict) -> tuple[date, date]:
    date_to = values.get("date_to") or date.today()
    return values.get("date_from") or figures.fiscal_year_start(db, date_to), date_to


def _money(value) -> str | None:
    return None if value is None else str(value)


def _tree_row(row: figures.TreeRow, names: tuple[str, ...]) -> dict:
    body = {"account_id": row.account_id or None, "code": row.code, "name": row.name, "type": row.type,
            "depth": row.depth, "is_group": row.is_group}
    body.update({name: _money(value) for name, value in zip(names, row.values)})
    return body


def _statement(statement: statements.Statement) -> dict:
    names = ("amount", "compare") if statement.compare else ("amount",)
    return {
        "date_from": statement.date_from.isoformat(),
        "date_to": statement.date_to.isoformat(),
        "compare_from": statement.compare[0].isoformat() if statement.compare else None,
        "compare_to": statement.compare[1].isoformat() if statement.compare else None,
        "sections": [{"key": s.key, "title": s.title, "rows": [_tree_row(r, names) for r in s.rows],
                      **{f"total_{n}" if n != "amount" else "total": _money(v) for n, v in zip(names, s.total)}}
                     for s in statement.sections],
        **{("result" if n == "amount" else "result_compare"): _money(v) for n, v in zip(names, statement.result)},
    }


def _aged(report: aged.AgedReport) -> dict:
    keys = [key for key, _low, _high in aged.AGE_BUCKETS]
    return {
        "kind": report.kind,
        "on": report.on.isoformat(),
        "parties": [{"party_id": row.party_id, "party_name": row.party_name,
                     **{key: _money(value) for key, value in zip(keys, row.buckets)}, "total": _money(row.total)}
                    for row in report.rows],
        "totals": {**{key: _money(value) for key, value in zip(keys, report.totals)}, "total": _money(report.total)},
    }


@api.get("/reports/trial-balance")
@require(REPORT_READ)
@documented("The trial balance for a date range: per account opening balance, debit, credit and closing "
            "balance", query=schemas.TrialBalanceQuery)
def api_trial_balance():
    values = load_query(schemas.TrialBalanceQuery())
    date_from, date_to = _range(values)
    report = trial_balance.trial_balance(db, date_from, date_to, roll_up=values["roll_up"])
    names = ("opening", "debit", "credit", "closing")
    return json_response({"date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
                          "rolled_up": report.rolled_up, "accounts": [_tree_row(r, names) for r in report.rows],
                          "totals": {n: _money(v) for n, v in zip(names, report.totals)}})


@api.get("/reports/general-ledger/<account>")
@require(REPORT_READ)
@documented("A page of an account's general ledger (by id or code) with the running balance; follow "
            "`next` with `after`", query=schemas.LedgerQuery)
def api_general_ledger(account):
    values = load_query(schemas.LedgerQuery())
    date_from, date_to = _range(values)
    ledger = general_ledger.general_ledger(db, account, date_from, date_to, after=values.get("after"),
                                           size=values["size"])
    return json_response({
        "account": {"id": ledger.account.id, "code": ledger.account.code, "name": ledger.account.name},
        "date_from": date_from.isoformat(), "date_to": date_to.isoformat(),
        "opening": _money(ledger.opening), "debit": _money(ledger.debit), "credit": _money(ledger.credit),
        "closing": _money(ledger.closing),
        "lines": [{"id": line.id, "date": line.date.isoformat(), "entry_id": line.entry_id,
                   "entry_number": line.entry_number, "reference": line.reference,
                   "description": line.description, "party_id": line.party_id, "party_name": line.party_name,
                   "debit": _money(line.debit), "credit": _money(line.credit), "currency": line.currency,
                   "amount_currency": _money(line.amount_currency), "balance": _money(line.balance)}
                  for line in ledger.lines],
        "next": ledger.next_cursor,
    })


@api.get("/reports/profit-and-loss")
@require(REPORT_READ)
@documented("Profit and loss for a date range, with an optional comparison period",
            query=schemas.StatementQuery)
def api_profit_and_loss():
    values = load_query(schemas.StatementQuery())
    date_from, date_to = _range(values)
    statement = statements.profit_and_loss(db, date_from, date_to, compare=values["compare"],
                                         compare_from=values["compare_from"], compare_to=values["compare_to"])
    return json_response(_statement(statement))


@api.get("/reports/balance-sheet")
@require(REPORT_READ)
@documented("The balance sheet at `date_to`, with an optional comparison period", query=schemas.StatementQuery)
def api_balance_sheet():
    values = load_query(schemas.StatementQuery())
    date_from, date_to = _range(values)
    statement = statements.balance_sheet(db, date_to, date_from=date_from, compare=values["compare"],
                                       compare_from=values["compare_from"], compare_to=values["compare_to"])
    return json_response(_statement(statement))


@api.get("/reports/aged-receivables")
@require(REPORT_READ)
@documented("Open receivables per customer in ageing buckets as of `on` (default today)",
            query=schemas.AgedQuery)
def api_aged_receivables():
    values = load_query(schemas.AgedQuery())
    return json_response(_aged(aged.aged_balances(db, "receivable", values.get("on") or date.today())))


@api.get("/reports/aged-payables")
@require(REPORT_READ)
@documented("Open payables per supplier in ageing buckets as of `on` (default today)", query=schemas.AgedQuery)
def api_aged_payables():
    values = load_query(schemas.AgedQuery())
    return json_response(_aged(aged.aged_balances(db, "payable", values.get("on") or date.today())))


@api.get("/reports/consolidated/<kind>")
@require(REPORT_READ)
@documented("A consolidated report (`trial-balance`, `profit-and-loss` or `balance-sheet`) of the `companies` "
            "named (ids, comma-separated; each one you work in and may read reports in) in a group `currency`, "
            "with the intercompany balances eliminated", query=consolidation.ConsolidatedQuery)
def api_consolidated(kind):
    values = load_query(consolidation.ConsolidatedQuery())
    if kind not in consolidation.KINDS:
        raise NotFound(_("There is no such report."), field="kind")
    report = consolidation.consolidate(db, kind, companies=consolidation.parse_ids(values["companies"]),
                                       currency=values["currency"], date_from=values["date_from"],
                                       date_to=values["date_to"])
    return json_response(consolidation.as_json(report))
