"""The ledger's pages: chart of accounts, journals, fiscal years and lock date, journal entries."""
from __future__ import annotations

from datetime import date as Date

from flask import abort, flash, request, url_for
from sqlalchemy import select

from core import (
    Column, InvalidInput, KontorError, Party, export_response, gettext as _, has_permission,
    redirect_to, render, require, session as db, transaction,
)

from plugins.accounting import permissions as p
from plugins.accounting.ledger import chart, journals, roles, services, years
from plugins.accounting.ledger.models import (
    ACCOUNT_KIND_LABELS, ACCOUNT_KINDS, ACCOUNT_TYPE_LABELS, ACCOUNT_TYPES, ENTRY_STATE_LABELS, JOURNAL_TYPE_LABELS,
    JOURNAL_TYPES, Account, Entry, FiscalYear, Journal,
)
from plugins.accounting.web import bp, parse_amount, parse_date

def _refusal_status(exc: KontorError) -> int:
    """A refused act on a page answers 409 for a conflict and 422 for anything else."""
    return exc.status if exc.status in (409, 422) else 422


def _type_options():
    return [(t, str(ACCOUNT_TYPE_LABELS[t])) for t in ACCOUNT_TYPES]


def _kind_options():
    return [(k, str(ACCOUNT_KIND_LABELS[k])) for k in ACCOUNT_KINDS]


def _group_options(exclude: int | None = None):
    groups = db.scalars(select(Account).where(Account.postable.is_(False)).order_by(Account.code)).all()
    return [("", _("— none —"))] + [(str(a.id), f"{a.code} {a.name}") for a in groups if a.id != exclude]


def _account_options(selected=None):
    accounts = db.scalars(select(Account).where(Account.postable.is_(True)).order_by(Account.code)).all()
    return [("", "")] + [(str(a.id), f"{a.code} {a.name}") for a in accounts
                         if a.active or str(a.id) == str(selected or "")]


def _journal_options():
    return [(str(j.id), f"{j.code} {j.name}") for j in
            db.scalars(select(Journal).where(Journal.active.is_(True)).order_by(Journal.code)).all()]


# -- chart of accounts --

@bp.get("/accounts")
@require(p.ACCOUNT_READ)
def accounts():
    args = request.args
    if "format" in args:  # the whole chart in the importable format, whatever the page's filters
        columns = [(f, f) for f in chart.CSV_FIELDS]
        return export_response("chart-of-accounts", columns, chart.export_rows(db), args["format"])
    date_to = parse_date(args.get("date_to"))
    rows = chart.tree(db, date_to=date_to, search=args.get("q", ""), type_=args.get("type", ""),
                      kind=args.get("kind", ""), show_inactive=args.get("inactive") == "1")
    return render("accounting/ledger/accounts.html", "accounting/ledger/_accounts.html", rows=rows,
                  args=args, type_options=[("", _("All types"))] + _type_options(),
                  kind_options=[("", _("All kinds"))] + _kind_options(), type_labels=ACCOUNT_TYPE_LABELS,
                  kind_labels=ACCOUNT_KIND_LABELS, can_write=has_permission(p.ACCOUNT_WRITE), errors={})


@bp.post("/accounts/import")
@require(p.ACCOUNT_WRITE)
def accounts_import():
    upload = request.files.get("file")

    def refused(exc: KontorError):
        return render("accounting/ledger/accounts.html", None, rows=chart.tree(db), args={},
                      type_options=[("", _("All types"))] + _type_options(),
                      kind_options=[("", _("All kinds"))] + _kind_options(), type_labels=ACCOUNT_TYPE_LABELS,
                      kind_labels=ACCOUNT_KIND_LABELS, can_write=True, errors={"file": [exc.message]}), 422

    with transaction(on_refusal=refused):
        if upload is None or not upload.filename:
            raise InvalidInput(_("Choose a CSV file."), field="file")
        result = chart.import_chart(db, upload.read())
    flash(_("%(created)s accounts created, %(updated)s updated.", created=result.created, updated=result.updated))
    return redirect_to(url_for("accounting.accounts"))


def account_form(account=None, form=None, errors=None, status=200):
    if form is None:
        form = ({"code": account.code, "name": account.name, "type": account.type, "kind": account.kind,
                 "parent_id": account.parent_id or "", "postable": account.postable,
                 "reconcilable": account.reconcilable, "active": account.active, "currency": account.currency or "",
                 "intercompany": account.intercompany}
                if account else {"type": "asset", "kind": "other", "postable": True, "active": True})
    used = chart.is_used(db, account) if account is not None else False
    return render("accounting/ledger/account_form.html", None, account=account, form=form, errors=errors or {},
                  type_options=_type_options(), kind_options=_kind_options(),
                  parent_options=_group_options(account.id if account else None), used=used), status


def account_data():
    f = request.form
    return {"code": f.get("code", ""), "name": f.get("name", ""), "type": f.get("type", ""),
            "kind": f.get("kind", "other"), "parent_id": f.get("parent_id", ""),
            "postable": f.get("postable") == "1", "reconcilable": f.get("reconcilable") == "1",
            "active": f.get("active") == "1", "currency": f.get("currency", ""),
            "intercompany": f.get("intercompany") == "1"}


@bp.get("/accounts/new")
@require(p.ACCOUNT_WRITE)
def account_new():
    return account_form()


@bp.post("/accounts/new")
@require(p.ACCOUNT_WRITE)
def account_create():
    data = account_data()
    with transaction(on_refusal=lambda exc: account_form(None, data, exc.as_errors(), 422)):
        chart.create_account(db, data)
    return redirect_to(url_for("accounting.accounts"))


def load_account(account_id):
    """The account, or the 404 page (the core answers the service's NotFound)."""
    return chart.get_account(db, account_id)


@bp.get("/accounts/<int:account_id>/edit")
@require(p.ACCOUNT_WRITE)
def account_edit(account_id: int):
    return account_form(load_account(account_id))


@bp.post("/accounts/<int:account_id>/edit")
@require(p.ACCOUNT_WRITE)
def account_update(account_id: int):
    account = load_account(account_id)
    data = account_data()
    with transaction(on_refusal=lambda exc: account_form(load_account(account_id), data, exc.as_errors(), 422)):
        chart.update_account(db, account, data)
    return redirect_to(url_for("accounting.accounts"))


@bp.post("/accounts/<int:account_id>/delete")
@require(p.ACCOUNT_WRITE)
def account_delete(account_id: int):
    account = load_account(account_id)
    with transaction(on_refusal=lambda exc: account_form(load_account(account_id), None, exc.as_errors(), 409)):
        chart.delete_account(db, account)
    return redirect_to(url_for("accounting.accounts"))


# -- journals --

@bp.get("/journals")
@require(p.ACCOUNT_READ)
def journals_page():
    rows = db.scalars(select(Journal).order_by(Journal.code)).all()
    accounts = {a.id: a for a in db.scalars(select(Account)).all()}
    return render("accounting/ledger/journals.html", None, journals=rows, counts=journals.entry_counts(db),
                  accounts=accounts, labels=JOURNAL_TYPE_LABELS, can_write=has_permission(p.ACCOUNT_WRITE))


def journal_form(journal=None, form=None, errors=None, status=200):
    if form is None:
        form = ({"code": journal.code, "name": journal.name, "type": journal.type,
                 "default_account_id": journal.default_account_id or "", "active": journal.active}
                if journal else {"type": "general", "active": True})
    return render("accounting/ledger/journal_form.html", None, journal=journal, form=form, errors=errors or {},
                  type_options=[(t, str(JOURNAL_TYPE_LABELS[t])) for t in JOURNAL_TYPES],
                  account_options=_account_options(form.get("default_account_id"))), status


def journal_data():
    f = request.form
    return {"code": f.get("code", ""), "name": f.get("name", ""), "type": f.get("type", ""),
            "default_account_id": f.get("default_account_id", ""), "active": f.get("active") == "1"}


@bp.get("/journals/new")
@require(p.ACCOUNT_WRITE)
def journal_new():
    return journal_form()


@bp.post("/journals/new")
@require(p.ACCOUNT_WRITE)
def journal_create():
    data = journal_data()
    with transaction(on_refusal=lambda exc: journal_form(None, data, exc.as_errors(), 422)):
        journals.create_journal(db, data)
    return redirect_to(url_for("accounting.journals_page"))


@bp.get("/journals/<int:journal_id>/edit")
@require(p.ACCOUNT_WRITE)
def journal_edit(journal_id: int):
    journal = db.get(Journal, journal_id) or abort(404)
    return journal_form(journal)


@bp.post("/journals/<int:journal_id>/edit")
@require(p.ACCOUNT_WRITE)
def journal_update(journal_id: int):
    journal = db.get(Journal, journal_id) or abort(404)
    data = journal_data()
    with transaction(on_refusal=lambda exc: journal_form(db.get(Journal, journal_id), data, exc.as_errors(), 422)):
        journals.update_journal(db, journal, data)
    return redirect_to(url_for("accounting.journals_page"))


# -- fiscal years, periods, lock date, year-end close --

def years_page(errors=None, form=None, status=200):
    rows = db.scalars(select(FiscalYear).order_by(FiscalYear.start_date.desc())).all()
    closing = {e.id: e for e in db.scalars(select(Entry).where(
        Entry.id.in_([y.closing_entry_id for y in rows if y.closing_entry_id]))).all()}
    last = rows[0] if rows else None
    next_start = years.year_bounds(last.start_date)[1].toordinal() + 1 if last else None
    suggested = Date.fromordinal(next_start).isoformat() if next_start else \
        years.company_year_start(db, Date.today()).isoformat()
    close_reasons, reopen_reasons = {}, {}
    for year in rows:
        refusal = years.close_refusal(db, year) if year.state == "open" else years.reopen_refusal(db, year)
        if refusal is not None:
            (close_reasons if year.state == "open" else reopen_reasons)[year.id] = refusal.message
    return render("accounting/ledger/years.html", None, years=rows, closing=closing,
                  close_reasons=close_reasons, reopen_reasons=reopen_reasons,
                  lock_date=services.lock_date(db), errors=errors or {}, form=form or {},
                  suggested_start=suggested, can_write=has_permission(p.ACCOUNT_WRITE),
                  can_lock=has_permission(p.LOCK_MANAGE), can_close=has_permission(p.YEAR_CLOSE)), status


@bp.get("/years")
@require(p.ACCOUNT_READ)
def fiscal_years():
    return years_page()


@bp.post("/years")
@require(p.ACCOUNT_WRITE)
def fiscal_year_create():
    form = {"start_date": request.form.get("start_date", ""), "name": request.form.get("name", "")}
    with transaction(on_refusal=lambda exc: years_page(exc.as_errors(), form, 422)):
        start = parse_date(form["start_date"])
        if start is None:
            raise InvalidInput(_("Give a date as YYYY-MM-DD."), field="start_date")
        years.create_fiscal_year(db, start, form["name"])
    return redirect_to(url_for("accounting.fiscal_years"))


def year_act(fn, obj, **kwargs):
    with transaction(on_refusal=lambda exc: years_page(exc.as_errors(), None, _refusal_status(exc))):
        fn(db, obj, **kwargs)
    return redirect_to(url_for("accounting.fiscal_years"))


@bp.post("/periods/<int:period_id>/close")
@require(p.ACCOUNT_WRITE)
def period_close(period_id: int):
    return year_act(years.close_period, years.get_period(db, period_id))


@bp.post("/periods/<int:period_id>/reopen")
@require(p.ACCOUNT_WRITE)
def period_reopen(period_id: int):
    return year_act(years.reopen_period, years.get_period(db, period_id))


@bp.post("/years/<int:year_id>/close")
@require(p.YEAR_CLOSE)
def fiscal_year_close(year_id: int):
    return year_act(years.close_year, years.get_year(db, year_id))


@bp.post("/years/<int:year_id>/reopen")
@require(p.YEAR_CLOSE)
def fiscal_year_reopen(year_id: int):
    return year_act(years.reopen_year, years.get_year(db, year_id))


@bp.post("/lock-date")
@require(p.LOCK_MANAGE)
def lock_date_set():
    raw = request.form.get("lock_date", "").strip()
    with transaction(on_refusal=lambda exc: years_page(exc.as_errors(), {"lock_date": raw}, 422)):
        day = parse_date(raw)
        if raw and day is None:
            raise InvalidInput(_("Give a date as YYYY-MM-DD."), field="lock_date")
        years.set_lock_date(db, day)
    return redirect_to(url_for("accounting.fiscal_years"))


# -- entries --

entry_columns = [
    Column("date", _("Date"), sort="date", format="date"),
    Column("label", _("Number"), link=True),
    Column("journal_code", _("Journal")),
    Column("reference", _("Reference")),
    Column("state_label", _("State")),
    Column("total", _("Amount"), format="money"),
]


@bp.get("/entries")
@require(p.ENTRY_READ)
def entries():
    args = request.args
    journal_id = args.get("journal", "")
    account_id = args.get("account", "")
    page = services.list_entries(
        db, journal_id=int(journal_id) if journal_id.isdigit() else None, state=args.get("state", ""),
        date_from=parse_date(args.get("date_from")), date_to=parse_date(args.get("date_to")),
        account_id=int(account_id) if account_id.isdigit() else None, q=args.get("q", ""),
        sort=args.get("sort", "-date"), cursor=args.get("after"), size=50)
    codes = dict(db.execute(select(Journal.id, Journal.code)).all())
    page.rows = [{"id": e.id, "date": e.date, "label": e.number or _("Draft %(id)s", id=e.id),
                  "journal_code": codes.get(e.journal_id, ""), "reference": e.reference,
                  "state_label": str(ENTRY_STATE_LABELS.get(e.state, e.state)),
                  "total": services.entry_totals(e)[0]} for e in page.rows]
    return render("accounting/ledger/entries.html", "accounting/ledger/_entries.html", page=page,
                  columns=entry_columns, args=args,
                  entry_url=lambda row: url_for("accounting.entry", entry_id=row["id"]), journal_options=[("", _("All journals"))] + _journal_options(),
                  account_options=[("", _("All accounts"))] + _account_options()[1:],
                  can_write=has_permission(p.ENTRY_WRITE), can_verify=has_permission(p.ENTRY_POST))


def load_entry(entry_id):
    """The entry, or the 404 page (the core answers the service's NotFound)."""
    return services.get_entry(db, entry_id)


def entry_page(entry, errors=None, status=200):
    reversal = services.reversal_of(db, entry) if entry.state == "posted" else None
    original = db.get(Entry, entry.reversal_of_id) if entry.reversal_of_id else None
    debit, credit = services.entry_totals(entry)
    ids = sorted({line.party_id for line in entry.lines if line.party_id})
    parties = dict(db.execute(select(Party.id, Party.name).where(Party.id.in_(ids))).all()) if ids else {}
    return render("accounting/ledger/entry.html", None, entry=entry, reversal=reversal, original=original,
                  parties=parties, document=services.made_by_document(entry),
                  debit=debit, credit=credit, errors=errors or {}, today=Date.today().isoformat(),
                  can_write=has_permission(p.ENTRY_WRITE), can_post=has_permission(p.ENTRY_POST)), status


@bp.get("/entries/<int:entry_id>")
@require(p.ENTRY_READ)
def entry(entry_id: int):
    return entry_page(load_entry(entry_id))


def form_lines():
    f = request.form
    accounts_, debits, credits = f.getlist("line_account"), f.getlist("line_debit"), f.getlist("line_credit")
    descriptions = f.getlist("line_description")
    lines = []
    for i, account in enumerate(accounts_):
        debit, credit = parse_amount(debits[i] if i < len(debits) else ""), \
            parse_amount(credits[i] if i < len(credits) else "")
        description = descriptions[i] if i < len(descriptions) else ""
        if not account and not debit and not credit and not description:
            continue
        lines.append({"account": int(account) if account.isdigit() else account, "debit": debit,
                      "credit": credit, "description": description})
    return lines


def entry_form(entry=None, form=None, errors=None, status=200):
    if form is None:
        if entry is not None:
            form = {"journal": entry.journal_id, "date": entry.date.isoformat(), "reference": entry.reference,
                    "narration": entry.narration,
                    "lines": [{"account": l.account_id, "debit": l.debit if l.debit else "",
                               "credit": l.credit if l.credit else "", "description": l.description}
                              for l in entry.lines]}
        else:
            gen = db.scalar(select(Journal.id).where(Journal.code == "GEN"))
            form = {"journal": gen or "", "date": Date.today().isoformat(), "reference": "", "narration": "",
                    "lines": []}
    while len(form["lines"]) < 2:
        form["lines"].append({"account": "", "debit": "", "credit": "", "description": ""})
    return render("accounting/ledger/entry_form.html", None, entry=entry, form=form, errors=errors or {},
                  journal_options=_journal_options(), account_options=_account_options(),
                  can_post=has_permission(p.ENTRY_POST)), status


def header_form():
    f = request.form
    return {"journal": f.get("journal", ""), "date": f.get("date", ""), "reference": f.get("reference", ""),
            "narration": f.get("narration", "")}


@bp.get("/entries/new")
@require(p.ENTRY_WRITE)
def entry_new():
    return entry_form()


@bp.get("/entries/line")
@require(p.ENTRY_WRITE)
def entry_line():
    """One more empty line for the entry form (htmx "add line")."""
    return render("accounting/ledger/_entry_line.html", None, line={}, index=str(len(request.args.getlist("line_account"))),
                  account_options=_account_options(), errors={})


def save_entry(entry=None):
    existing_id = entry.id if entry is not None else None
    header, lines = header_form(), form_lines()
    form = dict(header, lines=[dict(l) for l in lines])
    then_post = request.form.get("action") == "post"
    if then_post and not has_permission(p.ENTRY_POST):
        abort(403)
    refused = lambda exc: entry_form(None if existing_id is None else load_entry(existing_id), form,  # noqa: E731
                                     exc.as_errors(), 422)
    with transaction(on_refusal=refused):
        journal = int(header["journal"]) if header["journal"].isdigit() else header["journal"]
        if entry is None:
            entry = services.create_entry(db, journal=journal, date=header["date"], lines=lines,
                                          reference=header["reference"], narration=header["narration"])
        else:
            services.update_entry(db, entry, journal=journal, date=header["date"], lines=lines,
                                  reference=header["reference"], narration=header["narration"])
        if then_post:
            services.post_entry(db, entry)
    return redirect_to(url_for("accounting.entry", entry_id=entry.id))


@bp.post("/entries/new")
@require(p.ENTRY_WRITE)
def entry_create():
    return save_entry()


@bp.get("/entries/<int:entry_id>/edit")
@require(p.ENTRY_WRITE)
def entry_edit(entry_id: int):
    entry = load_entry(entry_id)
    if entry.state != "draft":
        return entry_page(entry, {"state": [_("A posted entry cannot be changed, only reversed.")]}, 409)
    return entry_form(entry)


@bp.post("/entries/<int:entry_id>/edit")
@require(p.ENTRY_WRITE)
def entry_update(entry_id: int):
    entry = load_entry(entry_id)
    if entry.state != "draft":
        return entry_page(entry, {"state": [_("A posted entry cannot be changed, only reversed.")]}, 409)
    return save_entry(entry)


def entry_act(entry_id, fn, **kwargs):
    """Run ``fn`` on the entry in one transaction; a refusal shows the entry with the reason."""
    entry = load_entry(entry_id)
    with transaction(on_refusal=lambda exc: entry_page(load_entry(entry_id), exc.as_errors(), _refusal_status(exc))):
        return fn(db, entry, **kwargs)


@bp.post("/entries/<int:entry_id>/post")
@require(p.ENTRY_POST)
def entry_post(entry_id: int):
    entry_act(entry_id, services.post_entry)
    return redirect_to(url_for("accounting.entry", entry_id=entry_id))


@bp.post("/entries/<int:entry_id>/reverse")
@require(p.ENTRY_POST)
def entry_reverse(entry_id: int):
    raw = request.form.get("date", "").strip()
    reversal = entry_act(entry_id, services.reverse_entry, date=raw or None)
    return redirect_to(url_for("accounting.entry", entry_id=reversal.id))


@bp.post("/entries/<int:entry_id>/delete")
@require(p.ENTRY_WRITE)
def entry_delete(entry_id: int):
    entry_act(entry_id, services.delete_entry)
    return redirect_to(url_for("accounting.entries"))


@bp.post("/verify")
@require(p.ENTRY_POST)
def verify():
    checked, breaks = services.verify_chains(db)
    return render("accounting/ledger/verify.html", None, checked=checked, breaks=breaks)


# -- settings: account roles --

def _role_account_options(role):
    accounts = db.scalars(select(Account).where(Account.postable.is_(True), Account.active.is_(True),
                                                Account.type.in_(role.account_types)).order_by(Account.code)).all()
    default = _("Default (%(code)s)", code=role.default_code) if role.default_code else _("— none —")
    return [("", default)] + [(str(a.id), f"{a.code} {a.name}") for a in accounts]


def account_roles_page(form=None, errors=None, status=200):
    rows = roles.role_accounts(db)
    if form is None:
        form = {row.role.key: str(row.account.id) if row.mapped and row.account else "" for row in rows}
    return render("accounting/settings/account_roles.html", None, rows=rows, form=form, errors=errors or {},
                  options={row.role.key: _role_account_options(row.role) for row in rows},
                  type_labels=ACCOUNT_TYPE_LABELS, can_write=has_permission(p.ACCOUNT_WRITE)), status


@bp.get("/settings/account-roles")
@require(p.ACCOUNT_READ)
def account_roles():
    """Accounting → Settings → Account roles: the account each declared role posts to."""
    return account_roles_page()


@bp.post("/settings/account-roles")
@require(p.ACCOUNT_WRITE)
def account_roles_save():
    form = {role.key: request.form.get(role.key, "") for role in roles.declared_roles()}
    with transaction(on_refusal=lambda exc: account_roles_page(form, exc.as_errors(), 422)):
        roles.set_role_accounts(db, form)
    flash(_("Account roles saved."), "success")
    return redirect_to(url_for("accounting.account_roles"))
