"""The report pages, their CSV/XLSX downloads and the dashboard widgets: thin views over services."""
from __future__ import annotations

from datetime import date

from flask import abort, current_app, g, redirect, request, url_for
from flask_babel import format_date
from marshmallow import ValidationError
from sqlalchemy import select

from core import KontorError, charts, export_response, gettext as _, render, require, session as db

from plugins.accounting.ledger.models import Account
from plugins.accounting.permissions import REPORT_READ
from plugins.accounting.currencies.models import Currency
from plugins.accounting.reports import (
    aged, consolidation, dashboard, exports, figures, general_ledger, schemas, statements, trial_balance,
)
from plugins.accounting.web import bp, entry_url

AGED_KINDS = {"receivables": "receivable", "payables": "payable"}


def read_query(schema) -> tuple[dict, dict]:
    """The request's query parameters loaded by ``schema``, and the errors by field (the defaults
    stand in for a bad value, so the page still shows)."""
    args = request.args.to_dict()
    try:
        return schema.load(args), {}
    except ValidationError as exc:
        errors = exc.messages
        kept = {key: value for key, value in args.items() if key not in errors}
        try:
            values = schema.load(kept)
        except ValidationError:
            values = schema.load({})
        return values, errors


def resolve_range(values: dict) -> tuple[date, date]:
    """The range asked for, defaulting to the start of the fiscal year up to today."""
    date_to = values.get("date_to") or date.today()
    date_from = values.get("date_from") or figures.fiscal_year_start(db, date_to)
    if date_from > date_to:
        date_from = figures.fiscal_year_start(db, date_to)
    return date_from, date_to



def _download(values: dict, stem: str, columns, rows):
    if values.get("format") in ("csv", "xlsx"):
        return export_response(stem, columns, rows, values["format"])
    return None


def _export_args(values: dict, **extra) -> dict:
    """The query string of the page being shown, for its export links."""
    args = {key: value.isoformat() if isinstance(value, date) else value
            for key, value in values.items() if value not in (None, "", False) and key not in ("format", "after")}
    args.update(extra)
    return args


@bp.get("/reports")
@require(REPORT_READ)
def reports():
    vat = "accounting.vat_report" in current_app.view_functions
    return render("accounting/reports/index.html", vat_report=vat)


@bp.get("/reports/trial-balance")
@require(REPORT_READ)
def report_trial_balance():
    values, errors = read_query(schemas.TrialBalancePage())
    date_from, date_to = resolve_range(values)
    report = trial_balance.trial_balance(db, date_from, date_to, roll_up=values["roll_up"])
    download = _download(values, f"trial-balance-{date_from}-{date_to}", *exports.trial_balance(report))
    if download:
        return download
    html = render("accounting/reports/trial_balance.html", "accounting/reports/_trial_balance.html",
                  report=report, errors=errors, export_args=_export_args(values, date_from=date_from.isoformat(),
                                                                          date_to=date_to.isoformat()))
    return html, 422 if errors else 200


@bp.get("/reports/general-ledger")
@require(REPORT_READ)
def report_general_ledger_pick():
    account = request.args.get("account", "").strip()
    if account:
        args = {k: v for k, v in request.args.items() if k != "account" and v}
        return redirect(url_for("accounting.report_general_ledger", account=account, **args))
    accounts = db.execute(select(Account.code, Account.name).order_by(Account.code)).all()
    options = [(code, f"{code} {name}") for code, name in accounts]
    return render("accounting/reports/general_ledger_pick.html", account_options=options)


@bp.get("/reports/general-ledger/<account>")
@require(REPORT_READ)
def report_general_ledger(account):
    values, errors = read_query(schemas.LedgerPage())
    date_from, date_to = resolve_range(values)
    found = general_ledger.get_account(db, account)  # an unknown account is the 404 page
    if values.get("format") in ("csv", "xlsx"):
        columns, rows = exports.general_ledger(db, found, date_from, date_to)
        return export_response(f"general-ledger-{found.code}-{date_from}-{date_to}", columns, rows,
                               values["format"])
    # the period's totals are an aggregate over the whole range: the page loads them after
    options = {"size": values["size"], "totals": False}
    try:
        ledger = general_ledger.general_ledger(db, found, date_from, date_to, after=values.get("after"), **options)
    except KontorError as exc:  # a stale or foreign cursor: the page shows the first page, the reason beside it
        errors = {**errors, **exc.as_errors()}
        ledger = general_ledger.general_ledger(db, found, date_from, date_to, **options)
    page_args = {"account": found.code, "date_from": date_from.isoformat(), "date_to": date_to.isoformat()}
    if values["size"] != 100:
        page_args["size"] = values["size"]
    html = render("accounting/reports/general_ledger.html", "accounting/reports/_general_ledger.html",
                  ledger=ledger, errors=errors, entry_url=entry_url, page_args=page_args,
                  export_args=_export_args(values, date_from=date_from.isoformat(), date_to=date_to.isoformat()))
    return html, 422 if errors else 200


@bp.get("/reports/general-ledger/<account>/totals")
@require(REPORT_READ)
def report_general_ledger_totals(account):
    values, _errors = read_query(schemas.LedgerPage())
    date_from, date_to = resolve_range(values)
    found = general_ledger.get_account(db, account)
    totals = general_ledger.general_ledger_totals(db, found, date_from, date_to)
    return render("accounting/reports/general_ledger_totals.html", "accounting/reports/_general_ledger_totals.html",
                  account=found, totals=totals, date_from=date_from, date_to=date_to)


def statement_page(kind: str, endpoint: str):
    values, errors = read_query(schemas.StatementPage())
    date_from, date_to = resolve_range(values)
    options = {"compare": values["compare"], "compare_from": values["compare_from"],
               "compare_to": values["compare_to"]}
    if kind == "profit_and_loss":
        statement = statements.profit_and_loss(db, date_from, date_to, **options)
    else:
        statement = statements.balance_sheet(db, date_to, date_from=date_from, **options)
    stem = f"{kind.replace('_', '-')}-{date_from}-{date_to}"
    download = _download(values, stem, *exports.statement(statement))
    if download:
        return download
    html = render("accounting/reports/statement.html", "accounting/reports/_statement.html",
                  statement=statement, errors=errors, endpoint=endpoint, values=values,
                  export_args=_export_args(values, date_from=date_from.isoformat(), date_to=date_to.isoformat()))
    return html, 422 if errors else 200


@bp.get("/reports/profit-and-loss")
@require(REPORT_READ)
def report_profit_and_loss():
    return statement_page("profit_and_loss", "accounting.report_profit_and_loss")


@bp.get("/reports/balance-sheet")
@require(REPORT_READ)
def report_balance_sheet():
    return statement_page("balance_sheet", "accounting.report_balance_sheet")


@bp.get("/reports/aged/<kind>")
@require(REPORT_READ)
def report_aged(kind):
    if kind not in AGED_KINDS:
        abort(404)
    values, errors = read_query(schemas.AgedPage())
    on = values.get("on") or date.today()
    report = aged.aged_balances(db, AGED_KINDS[kind], on)
    download = _download(values, f"aged-{kind}-{on}", *exports.aged(report))
    if download:
        return download
    html = render("accounting/reports/aged.html", "accounting/reports/_aged.html", report=report, kind=kind,
                  errors=errors, buckets=aged.bucket_labels(),
                  export_args=_export_args(values, on=on.isoformat()))
    return html, 422 if errors else 200


@bp.get("/reports/aged/<kind>/<int:party_id>")
@require(REPORT_READ)
def report_aged_items(kind, party_id):
    if kind not in AGED_KINDS:
        abort(404)
    values, errors = read_query(schemas.AgedPage())
    on = values.get("on") or date.today()
    items = aged.party_open_items(db, AGED_KINDS[kind], on, party_id)
    party_name = aged.party_name(db, party_id)
    if party_name is None:
        abort(404)
    download = _download(values, f"open-{kind}-{party_id}-{on}", *exports.open_items(items))
    if download:
        return download
    html = render("accounting/reports/aged_items.html", kind=kind, on=on, items=items, party_id=party_id,
                  party_name=party_name, errors=errors, entry_url=entry_url,
                  export_args=_export_args(values, on=on.isoformat()))
    return html, 422 if errors else 200


@bp.get("/reports/widgets/monthly-result")
@require(REPORT_READ)
def widget_monthly_result():
    months = dashboard.monthly_result(db, date.today())
    labels = [_month_label(start) for start, _income, _expense in months]
    series = [(_("Income"), [m[1] for m in months]), (_("Expenses"), [m[2] for m in months])]
    chart = charts.bar_chart(labels, series, title=_("Income and expenses, last 12 months"),
                             money_currency=_currency())
    return render("accounting/reports/_widget_chart.html", chart=chart,
                  link=url_for("accounting.report_profit_and_loss", date_from=months[0][0].isoformat(),
                               date_to=date.today().isoformat()), link_label=_("Profit and loss"))


@bp.get("/reports/widgets/cash-position")
@require(REPORT_READ)
def widget_cash_position():
    balances = dashboard.cash_position(db, date.today())
    labels = [_month_label(end) for end, _balance in balances]
    chart = charts.line_chart(labels, [(_("Bank and cash"), [b for _end, b in balances])],
                              title=_("Cash position at each month end"), money_currency=_currency())
    return render("accounting/reports/_widget_chart.html", chart=chart,
                  link=url_for("accounting.report_balance_sheet"), link_label=_("Balance sheet"))


@bp.get("/reports/widgets/receivables")
@require(REPORT_READ)
def widget_receivables():
    return _aged_widget("receivables")


@bp.get("/reports/widgets/payables")
@require(REPORT_READ)
def widget_payables():
    return _aged_widget("payables")


@bp.get("/reports/widgets/cash")
@require(REPORT_READ)
def widget_cash():
    today = date.today()
    accounts = dashboard.cash_balances(db, today)
    total = sum((a.balance for a in accounts), figures.ZERO)
    return render("accounting/reports/_widget_cash.html", accounts=accounts, total=total, today=today,
                  date_from=figures.fiscal_year_start(db, today))


def _aged_widget(kind: str):
    report = aged.aged_balances(db, AGED_KINDS[kind], date.today())
    overdue = sum(report.totals[1:], figures.ZERO)
    return render("accounting/reports/_widget_aged.html", report=report, kind=kind, overdue=overdue,
                  not_due=report.totals[0])


def _currency() -> str:
    return g.get("company_currency") or "EUR"


def _month_label(day: date) -> str:
    """A month as the user's locale abbreviates it ("Mar 26")."""
    return format_date(day, "MMM yy")


@bp.get("/reports/consolidated/<kind>")
@require(REPORT_READ)
def report_consolidated(kind):
    """A consolidated report over the companies chosen (each checked in the service)."""
    if kind not in consolidation.KINDS:
        abort(404)
    args = {**request.args.to_dict(), "companies": ",".join(request.args.getlist("companies"))}
    try:
        values, errors = consolidation.ConsolidatedPage().load(args), {}
    except ValidationError as exc:
        values, errors = consolidation.ConsolidatedPage().load({}), exc.messages
    report, status = None, 422 if errors else 200
    if not errors:
        try:
            report = consolidation.consolidate(db, kind, companies=consolidation.parse_ids(values["companies"]),
                                               currency=values["currency"], date_from=values["date_from"],
                                               date_to=values["date_to"])
        except KontorError as exc:
            errors, status = exc.as_errors(), exc.status
    if report is not None and values["format"] in ("csv", "xlsx"):
        return export_response(f"consolidated-{kind}-{report.date_from}-{report.date_to}",
                               *consolidation.export_table(report), values["format"])
    shown = [m.id for m in report.companies] if report else []
    form = {"companies": shown, "currency": report.currency if report else (values["currency"] or ""),
            "date_from": report.date_from.isoformat() if report else request.args.get("date_from", ""),
            "date_to": report.date_to.isoformat() if report else request.args.get("date_to", "")}
    export_args = {"companies": ",".join(map(str, shown)), **{k: form[k] for k in ("currency", "date_from", "date_to")}}
    currencies = [(code, code) for code in db.scalars(select(Currency.code).where(Currency.active.is_(True))
                                                      .order_by(Currency.code))]
    html = render("accounting/reports/consolidated.html", "accounting/reports/_consolidated.html",
                  kind=kind, kinds=[(k, consolidation.TITLES[k]) for k in consolidation.KINDS], report=report,
                  form=form, errors=errors, companies=consolidation.includable(db), currencies=currencies,
                  export_args={k: v for k, v in export_args.items() if v},
                  title=consolidation.TITLES[kind])
    return html, status
