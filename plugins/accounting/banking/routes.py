"""The banking pages: payments (list, register, show), reconciliation per party, bank statements.

Each page that writes states its transaction once; what a refused act shows is its ``on_refusal``.
"""
from __future__ import annotations

import base64
import binascii
from datetime import date
from decimal import Decimal, InvalidOperation

from flask import abort, current_app, flash, redirect, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from werkzeug.routing import BuildError

from core import (
    Column, KontorError, Party, acting, export_response, gettext as _, has_permission, keyset_page, latest_job,
    lazy_gettext as _l, read_csv, record_id_field, render, require, session as db, transaction,
)

from plugins.accounting import permissions as p
from plugins.accounting.banking import jobs, services, statements
from plugins.accounting.banking.models import PAYMENT_KIND_LABELS, Payment, Statement
from plugins.accounting.currencies import services as fx
from plugins.accounting.invoicing.models import OPEN_STATES, Invoice
from plugins.accounting.ledger.models import Account, Journal
from plugins.accounting.web import bp

PAYMENT_COLUMNS = [
    Column("number", _l("Number"), sort="number", link=True),
    Column("date", _l("Date"), sort="date", format="date"),
    Column("party_name", _l("Party")),
    Column("kind_label", _l("Direction")),
    Column("journal_code", _l("Journal")),
    Column("reference", _l("Reference")),
    Column("amount_text", _l("Amount"), sort="amount"),
]
PAYMENT_SORTS = {"date": Payment.date, "number": Payment.number, "amount": Payment.amount}
STATEMENT_COLUMNS = [
    Column("name", _l("Statement"), link=True),
    Column("date", _l("Date"), sort="date", format="date"),
    Column("journal_code", _l("Journal")),
    Column("format_label", _l("Format")),
    Column("line_count", _l("Lines")),
    Column("unmatched_count", _l("To match")),
]
FORMAT_LABELS = {"csv": "CSV", "camt053": "camt.053"}
MAX_UPLOAD = 5 * 1024 * 1024
_RECORD_ID = record_id_field()


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def link(endpoint: str, **values) -> str | None:
    """The URL of another area's page, or None when that page is not there (or not allowed)."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def _reversal_url(payment: Payment) -> str | None:
    from plugins.accounting.ledger.models import Entry

    reversal = db.execute(select(Entry.id).where(Entry.reversal_of_id == payment.entry_id)).scalar()
    return link("accounting.entry", entry_id=reversal) if reversal else None


def _payment_row(payment: Payment) -> dict:
    money = current_app.jinja_env.filters["money"]
    return {"id": payment.id, "number": payment.number, "date": payment.date, "party_name": payment.party.name,
            "kind": payment.kind, "kind_label": str(PAYMENT_KIND_LABELS.get(payment.kind, payment.kind)),
            "journal_code": payment.journal.code,
            "reference": payment.reference, "amount": payment.amount, "currency": payment.currency,
            "amount_text": money(payment.amount, payment.currency)}


def _journals() -> list[Journal]:
    return list(db.execute(select(Journal).where(Journal.type.in_(("bank", "cash")), Journal.active)
                           .order_by(Journal.code)).scalars())


def _writeoff_accounts() -> list[tuple[str, str]]:
    accounts = db.execute(select(Account).where(Account.postable, Account.active,
                                                Account.kind.notin_(("receivable", "payable", "bank", "cash")))
                          .order_by(Account.code)).scalars()
    return [(a.code, f"{a.code} {a.name}") for a in accounts]


# -- The payment form --


def _open_invoices(party_id: int | None, kind: str, currency: str | None) -> list[Invoice]:
    if not party_id:
        return []
    kinds = services.INBOUND_KINDS if kind == "inbound" else services.OUTBOUND_KINDS
    query = select(Invoice).where(Invoice.party_id.in_(services.party_family(db, party_id)),
                                  Invoice.state.in_(OPEN_STATES), Invoice.kind.in_(kinds))
    if currency is not None:
        query = query.where(Invoice.currency == currency)
    return list(db.execute(query.order_by(Invoice.due_date, Invoice.id)).scalars())


def _filter_id(text) -> int | None:
    """A record id given as a filter or to prefill a form (the core's id field), or None: a bad
    filter lists without it rather than refusing the page."""
    try:
        return _RECORD_ID.deserialize(str(text or "").strip() or None)
    except ValidationError:
        return None


def _flash_and_go(url: str):
    """The answer to a refused act whose page shows the outcome either way: the message, and back to ``url``."""
    def answer(exc: KontorError):
        flash(exc.message, "error")
        return redirect(url, 303)
    return answer


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal((text or "").strip().replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _payment_form(values: dict, errors: dict, status: int = 200):
    """The payment form (or, for htmx, its allocation block) recomputed from ``values``."""
    party_id = _filter_id(values.get("party_id"))
    invoices = _open_invoices(party_id, values["kind"], values["currency"])
    amount = _decimal(values.get("amount")) or Decimal(0)
    allocations = values.setdefault("allocations", {})
    # fill the allocation in when asked, or when none of the listed documents was in the form yet
    if values.get("auto") or not any(str(invoice.id) in allocations for invoice in invoices):
        left = amount
        allocations.clear()
        for invoice in invoices:
            part = min(left, invoice.amount_residual)
            if part > 0:
                allocations[str(invoice.id)] = str(part)
                left -= part
    allocated = sum((_decimal(allocations.get(str(i.id))) or Decimal(0) for i in invoices), Decimal(0))
    shortfall = sum(((i.amount_residual - (_decimal(allocations.get(str(i.id))) or Decimal(0)))
                     for i in invoices if _decimal(allocations.get(str(i.id)))), Decimal(0))
    parties = _party_options(party_id, values["kind"])
    other_currencies = sorted({i.currency for i in _open_invoices(party_id, values["kind"], None)} - {values["currency"]})
    context = dict(values=values, errors=errors, invoices=invoices, allocated=allocated,
                   difference=amount - allocated, shortfall=shortfall, parties=parties,
                   other_currencies=other_currencies,
                   journals=[(j.code, f"{j.code} {j.name}") for j in _journals()],
                   currencies=[(c, c) for c in _currencies()], writeoff_accounts=_writeoff_accounts(),
                   kinds=[("inbound", _("Money received")), ("outbound", _("Money paid"))],
                   invoice_url=lambda i: link("accounting.invoice", invoice_id=i.id), title=_("Register payment"))
    return render("accounting/banking/payment_form.html", "accounting/banking/_allocation.html", **context), status


def _currencies() -> list[str]:
    from plugins.accounting.currencies.models import Currency

    return list(db.execute(select(Currency.code).where(Currency.active).order_by(Currency.code)).scalars())


def _party_options(selected: int | None, kind: str) -> list[tuple[str, str]]:
    kinds = services.INBOUND_KINDS if kind == "inbound" else services.OUTBOUND_KINDS
    ids = select(Invoice.party_id).where(Invoice.state.in_(OPEN_STATES), Invoice.kind.in_(kinds)).distinct()
    parties = list(db.execute(select(Party).where(Party.id.in_(ids)).order_by(Party.name_key).limit(500)).scalars())
    if selected and selected not in {party.id for party in parties}:
        chosen = db.get(Party, selected)
        if chosen is not None:
            parties.insert(0, chosen)
    return [("", "—")] + [(str(party.id), party.name) for party in parties]


def _form_values(source) -> dict:
    values = {key: (source.get(key) or "").strip() for key in ("party_id", "amount", "currency", "date", "journal",
                                                                   "reference", "kind", "writeoff_account")}
    values["kind"] = values["kind"] if values["kind"] in ("inbound", "outbound") else "inbound"
    values["currency"] = values["currency"] or fx.company_currency(db)
    values["journal"] = values["journal"] or "BNK"
    values["date"] = values["date"] or date.today().isoformat()
    values["writeoff"] = source.get("writeoff") in ("1", "on", "true")
    values["auto"] = source.get("auto") == "1"
    values["allocations"] = {key[6:]: source.get(key, "").strip() for key in source if key.startswith("alloc_")}
    return values


def _prefill(args) -> dict:
    values = _form_values(args)
    invoice_id = _filter_id(args.get("invoice_id"))
    invoice = db.get(Invoice, invoice_id) if invoice_id else None
    if invoice is not None and invoice.state in OPEN_STATES:
        values.update(party_id=str(invoice.party_id), amount=str(invoice.amount_residual), currency=invoice.currency,
                      kind="inbound" if invoice.kind in services.INBOUND_KINDS else "outbound",
                      reference=invoice.number or "", allocations={str(invoice.id): str(invoice.amount_residual)})
    return values


@bp.get("/payments")
@require(p.PAYMENT_READ)
def payments():
    args = request.args
    filters = {key: args.get(key, "") for key in ("kind", "journal", "date_from", "date_to", "party_id")}
    query = services.payments_query(q=args.get("q", "")[:200], kind=filters["kind"],
                                    party_id=_filter_id(filters["party_id"]),
                                    journal=filters["journal"][:10], date_from=_day(filters["date_from"]),
                                    date_to=_day(filters["date_to"]))
    if "format" in args:
        rows = [_payment_row(payment) for payment in db.execute(query.order_by(Payment.date, Payment.id)).scalars()]
        columns = [("number", _("Number")), ("date", _("Date")), ("party_name", _("Party")),
                   ("kind_label", _("Direction")), ("journal_code", _("Journal")), ("reference", _("Reference")),
                   ("amount", _("Amount")), ("currency", _("Currency"))]
        return export_response("payments", columns, rows, args["format"])
    page = keyset_page(db, query, sort_keys=PAYMENT_SORTS, id_column=Payment.id, sort=args.get("sort", "-date"),
                       cursor=args.get("after"), size=current_app.config.get("PAGE_SIZE", 25),
                       query=args.get("q", ""), filters={k: v for k, v in filters.items() if v})
    page.rows = [_payment_row(payment) for payment in page.rows]
    return render("accounting/banking/payments.html", "accounting/banking/_payments.html", page=page,
                  columns=PAYMENT_COLUMNS, filters=filters, journals=_journals(),
                  row_url=lambda row: url_for("accounting.payment", payment_id=row["id"]),
                  can_write=has_permission(p.PAYMENT_WRITE), title=_("Payments"))


@bp.get("/payments/new")
@require(p.PAYMENT_WRITE)
def payment_new():
    return _payment_form(_prefill(request.args), {})


@bp.post("/payments/new")
@require(p.PAYMENT_WRITE)
def payment_create():
    values = _form_values(request.form)
    allocations = [(invoice_id, amount) for invoice_id, amount in values["allocations"].items()
                   if amount and _decimal(amount) != 0]
    amount = _decimal(values["amount"])
    with transaction(on_refusal=lambda exc: _payment_form(values, exc.as_errors(), 422)):
        payment = services.register_payment(
            db, party_id=values["party_id"], amount=str(amount) if amount is not None else values["amount"],
            currency=values["currency"], date=values["date"], journal=values["journal"],
            allocations=[(i, str(_decimal(a)) if _decimal(a) is not None else a) for i, a in allocations],
            reference=values["reference"], user_id=acting().user_id, kind=values["kind"],
            writeoff_account=values["writeoff_account"] if values["writeoff"] else None)
    flash(_("Payment %(number)s is registered.", number=payment.number), "success")
    return redirect(url_for("accounting.payment", payment_id=payment.id), 303)


@bp.get("/payments/<int:payment_id>")
@require(p.PAYMENT_READ)
def payment(payment_id: int):
    found = services.get_payment(db, payment_id)
    return render("accounting/banking/payment.html", payment=found, entry=found.entry,
                  entry_url=link("accounting.entry", entry_id=found.entry_id) if found.entry_id else None,
                  invoice_url=lambda i: link("accounting.invoice", invoice_id=i.id),
                  reconcile_url=url_for("accounting.reconciliation", party_id=found.party_id),
                  party_url=link("parties.party_detail", party_id=found.party_id),
                  can_write=has_permission(p.PAYMENT_WRITE),
                  reversal_url=_reversal_url(found),
                  title=found.number or _("Payment"))


@bp.post("/payments/<int:payment_id>/cancel")
@require(p.PAYMENT_WRITE)
def payment_cancel(payment_id: int):
    found = services.get_payment(db, payment_id)
    back = url_for("accounting.payment", payment_id=payment_id)
    with transaction(on_refusal=_flash_and_go(back)):
        services.cancel_payment(db, found, date=request.form.get("date") or None, user_id=acting().user_id)
    flash(_("Payment %(number)s is cancelled; its entry is reversed.", number=found.number), "success")
    return redirect(back, 303)


@bp.get("/payments/party/<int:party_id>/panel")
@require(p.PAYMENT_READ)
def party_payments_panel(party_id: int):
    party = db.get(Party, party_id)
    if party is None:
        abort(404)
    ctx = {"party": party, "balance": services.party_balance(db, party_id),
           "payments": services.recent_payments(db, party_id), "can_write": has_permission(p.PAYMENT_WRITE)}
    return render("accounting/banking/_party_panel.html", ctx=ctx)


@bp.get("/reconcile/<int:party_id>")
@require(p.PAYMENT_READ)
def reconciliation(party_id: int):
    return _reconciliation_page(party_id, {})


@bp.post("/reconcile/<int:party_id>")
@require(p.PAYMENT_WRITE)
def reconcile(party_id: int):
    ids = [value for value in request.form.getlist("line") if value.strip()]
    with transaction(on_refusal=lambda exc: _reconciliation_page(party_id, exc.as_errors(), 422)):
        services.reconcile_lines(db, ids, day=_day(request.form.get("day")) or date.today(),
                                 user_id=acting().user_id)
    flash(_("The lines are reconciled."), "success")
    return redirect(url_for("accounting.reconciliation", party_id=party_id), 303)


@bp.post("/reconciliations/<int:reconciliation_id>/undo")
@require(p.PAYMENT_WRITE)
def reconciliation_undo(reconciliation_id: int):
    from plugins.accounting.banking.models import Reconciliation

    found = db.get(Reconciliation, reconciliation_id)
    if found is None:
        abort(404)
    party_id = found.party_id
    back = (url_for("accounting.payments") if party_id is None
            else url_for("accounting.reconciliation", party_id=party_id))
    with transaction(on_refusal=_flash_and_go(back)):
        services.undo_reconciliation(db, found, user_id=acting().user_id)
    flash(_("The matching is undone; its lines are open again."), "success")
    return redirect(back, 303)


def _reconciliation_page(party_id: int, errors: dict, status: int = 200):
    party = db.get(Party, party_id)
    if party is None:
        abort(404)
    reconciliations = services.party_reconciliations(db, party_id)
    groups = [(_("Receivable"), services.open_items(db, party_id, "receivable")),
              (_("Payable"), services.open_items(db, party_id, "payable"))]
    return render("accounting/banking/reconciliation.html", party=party, groups=groups, errors=errors,
                  reconciliations=reconciliations,
                  undoable={r.id for r in reconciliations if services.can_undo(db, r)},
                  balance=services.party_balance(db, party_id), can_write=has_permission(p.PAYMENT_WRITE),
                  entry_url=lambda entry_id: link("accounting.entry", entry_id=entry_id),
                  party_url=link("parties.party_detail", party_id=party.id), today=date.today(),
                  company_currency=fx.company_currency(db),
                  invoice_url=lambda invoice_id: link("accounting.invoice", invoice_id=invoice_id),
                  title=_("Reconcile %(party)s", party=party.name)), status


# -- Statements --

@bp.get("/statements", endpoint="statements")
@require(p.BANK_READ)
def statements_page():
    args = request.args
    state = args.get("state", "") if args.get("state", "") in ("open", "done") else ""
    page = keyset_page(db, statements.statements_query(q=args.get("q", "")[:200], state=state),
                       sort_keys={"date": Statement.date}, id_column=Statement.id, sort=args.get("sort", "-date"),
                       cursor=args.get("after"), size=current_app.config.get("PAGE_SIZE", 25),
                       query=args.get("q", ""), filters={"state": state} if state else {})
    page.rows = [{"id": s.id, "name": s.name, "date": s.date, "journal_code": s.journal.code,
                  "format_label": FORMAT_LABELS.get(s.format, s.format), "line_count": len(s.lines),
                  "unmatched_count": s.unmatched_count} for s in page.rows]
    return render("accounting/banking/statements.html", "accounting/banking/_statements.html", page=page,
                  columns=STATEMENT_COLUMNS, state=state, can_write=has_permission(p.BANK_WRITE),
                  row_url=lambda row: url_for("accounting.statement", statement_id=row["id"]),
                  title=_("Bank statements"))


@bp.get("/statements/widget")
@require(p.BANK_READ)
def statements_widget():
    return render("accounting/banking/_widget.html", **statements.waiting_lines(db))


@bp.route("/statements/import", methods=["GET", "POST"])
@require(p.BANK_WRITE)
def statement_import():
    if request.method == "GET":
        return _import_page({"format": "camt053", "journal": "BNK"}, {})
    form = request.form
    values = {key: form.get(key, "") for key in ("format", "journal", "name", "number_format", "date_format",
                                                  "opening_balance", "closing_balance", "data", "filename")}
    upload = request.files.get("file")
    data = b""
    if upload is not None and upload.filename:
        data = upload.read(MAX_UPLOAD + 1)
        values["filename"] = upload.filename
    elif values["data"]:
        try:
            data = base64.b64decode(values["data"], validate=True)
        except (binascii.Error, ValueError):
            data = b""
    if not data:
        return _import_page(values, {"file": [_("Choose a statement file.")]}, 422)
    if len(data) > MAX_UPLOAD:
        return _import_page(values, {"file": [_("The file is larger than 5 MB.")]}, 422)
    mapping = {field: form.get(f"map_{field}", "") for field in statements.CSV_FIELDS}
    if values["format"] == "csv" and not form.get("mapped"):
        return _mapping_page(values, data, {})

    def refused(exc: KontorError):
        # bad rows, or a setting of the mapping step, are shown on the mapping page of a CSV
        if isinstance(exc, statements.StatementFileError):
            errors = {"file": [_("The file has bad rows; nothing was imported.")]}
            if values["format"] == "csv":
                return _mapping_page(values, data, errors, problems=exc.problems, mapping=mapping)
            return _import_page(values, errors, 422, problems=exc.problems)
        if values["format"] == "csv" and (exc.field or "").startswith(("map_", "number_format", "date_format",
                                                                         "closing_balance", "opening_balance")):
            return _mapping_page(values, data, exc.as_errors(), mapping=mapping)
        return _import_page(values, exc.as_errors(), 422)

    with transaction(on_refusal=refused):
        statement, job = jobs.start_import(
            db, data, file_format=values["format"], journal=values["journal"] or "BNK", mapping=mapping,
            number_format=values["number_format"] or "1,234.56", date_format=values["date_format"] or "%Y-%m-%d",
            name=values["name"], filename=values["filename"], opening_balance=values["opening_balance"],
            closing_balance=values["closing_balance"], user_id=acting().user_id,
            job_lines=current_app.config.get("STATEMENT_JOB_LINES", jobs.JOB_LINES))
    if job is None:
        flash(_("Statement %(name)s is imported with %(count)s lines.", name=statement.name,
                count=len(statement.lines)), "success")
    return redirect(url_for("accounting.statement", statement_id=statement.id), 303)


def _import_page(values: dict, errors: dict, status: int = 200, problems=None):
    return render("accounting/banking/statement_import.html", values=values, errors=errors,
                  problems=problems or [], journals=[(j.code, f"{j.code} {j.name}") for j in _journals()],
                  formats=[("camt053", _("ISO 20022 camt.053 (XML)")), ("csv", _("CSV with a column mapping"))],
                  title=_("Import a bank statement")), status


def _mapping_page(values: dict, data: bytes, errors: dict, problems=None, mapping=None):
    try:
        csv_file = read_csv(data)
    except KontorError as exc:
        return _import_page(values, exc.as_errors(), 422)
    mapping = mapping or csv_file.guess_mapping(statements.CSV_FIELDS)
    if not values.get("number_format") or not values.get("date_format"):
        values["number_format"], values["date_format"] = statements.guess_formats(csv_file, mapping)
    values["data"] = base64.b64encode(data).decode()
    labels = {"date": _("Date"), "amount": _("Amount (signed)"), "debit": _("Money out"),
              "credit": _("Money in"), "description": _("Description"), "reference": _("Reference"),
              "counterparty": _("Counterparty"), "balance": _("Balance after the line")}
    status = 422 if errors else 200
    return render("accounting/banking/statement_mapping.html", values=values, errors=errors,
                  problems=problems or [], headers=csv_file.headers, preview=csv_file.rows[:5], mapping=mapping,
                  fields=[(key, labels[key]) for key in statements.CSV_FIELDS],
                  number_formats=[(key, key) for key in statements.NUMBER_FORMATS],
                  date_formats=[(fmt, fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
                                 .replace("%y", "YY")) for fmt in statements.DATE_FORMATS],
                  title=_("Map the columns")), status


@bp.get("/statements/<int:statement_id>")
@require(p.BANK_READ)
def statement(statement_id: int):
    found = statements.get_statement(db, statement_id)
    return render("accounting/banking/statement.html", **_statement_context(found))


@bp.get("/statements/<int:statement_id>/import")
@require(p.BANK_READ)
def statement_import_progress(statement_id: int):
    """The import job's state, which the statement's page asks again until the job has ended."""
    found = statements.get_statement(db, statement_id)
    import_job = latest_job(db, jobs.statement_record(found.id))
    if import_job is None:  # a statement stored at once: nothing was imported by a job
        abort(404)
    return render("accounting/banking/_statement_import.html", statement=found, import_job=import_job)


def _statement_context(found: Statement, errors: dict | None = None, error_line: int | None = None) -> dict:
    import_job = latest_job(db, jobs.statement_record(found.id))
    importing = import_job is not None and import_job.status != "done"
    waiting = [] if importing else [line for line in found.lines if line.state == "unmatched"]
    suggestions = {line.id: statements.suggestions(db, line) for line in waiting}
    candidates = {line.id: [(party.id, party.name) for party in statements.parties_named(db, line.counterparty)]
                  for line in waiting}
    accounts = db.execute(select(Account.code, Account.name).where(Account.postable, Account.active)
                          .order_by(Account.code)).all()
    return dict(statement=found, suggestions=suggestions, candidates=candidates, errors=errors or {},
                import_job=import_job,
                error_line=error_line,
                accounts=[(code, f"{code} {name}") for code, name in accounts],
                can_write=has_permission(p.BANK_WRITE),
                payment_url=lambda payment_id: url_for("accounting.payment", payment_id=payment_id),
                entry_url=lambda entry_id: link("accounting.entry", entry_id=entry_id),
                invoice_url=lambda invoice: link("accounting.invoice", invoice_id=invoice.id),
                title=found.name)


@bp.post("/statements/lines/<int:line_id>/confirm")
@require(p.BANK_WRITE)
def statement_line_confirm(line_id: int):
    line = statements.get_line(db, line_id)
    statement_id = line.statement_id
    form = request.form
    invoices = [value for value in form.getlist("invoice") if value.strip()]
    other = form.get("invoice_number", "").strip()
    account = form.get("account", "").strip() or None
    party_id = form.get("party_id", "").strip() or None
    if other:
        invoices = [other]
    elif account or party_id:
        invoices = []

    def refused(exc: KontorError):
        found = statements.get_statement(db, statement_id)
        return render("accounting/banking/statement.html", **_statement_context(found, exc.as_errors(), line_id)), 422

    with transaction(on_refusal=refused):
        statements.confirm_line(db, line, invoices=invoices, account=account, party_id=party_id,
                                user_id=acting().user_id)
    flash(_("Line %(sequence)s is matched.", sequence=line.sequence), "success")
    return redirect(url_for("accounting.statement", statement_id=statement_id) + f"#line-{line.id}", 303)
