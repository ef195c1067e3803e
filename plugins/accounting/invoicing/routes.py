"""The pages of invoices and bills: lists, the form with live totals, the document, print and PDF."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_currency, force_locale
from sqlalchemy.orm import selectinload

from core import (
    Column, KontorError, Party, acting, export_response, gettext as _, has_permission, keyset_page,
    lazy_gettext as _l, render, require, search_parties, session as db, transaction,
)

from plugins.accounting.invoicing import approvals, mailing, printing, services
from plugins.accounting.invoicing.models import (CUSTOMER_KINDS, KIND_LABELS, STATE_LABELS, STATES, SUPPLIER_KINDS,
                                                 Invoice)
from plugins.accounting.permissions import INVOICE_POST, INVOICE_READ, INVOICE_SEND, INVOICE_WRITE, PAYMENT_WRITE
from plugins.accounting.web import bp, entry_url

PAYMENT_ENDPOINT = "accounting.payment_new"
LINE_FIELD = re.compile(r"^lines-(\d{1,3})-(description|quantity|unit_price|discount_percent|taxes|account)$")
#: The form's title for each kind, new and edited (whole phrases: languages inflect them differently).
NEW_TITLES = {"out_invoice": _l("New invoice"), "out_refund": _l("New credit note"), "in_invoice": _l("New bill"),
              "in_refund": _l("New supplier credit note")}
EDIT_TITLES = {"out_invoice": _l("Edit invoice"), "out_refund": _l("Edit credit note"),
               "in_invoice": _l("Edit bill"), "in_refund": _l("Edit supplier credit note")}
#: The two lists: which kinds each shows, its title, and the kind a new document gets.
BOOKS = {
    "invoices": {"kinds": CUSTOMER_KINDS, "title": _l("Customer invoices"), "new": "out_invoice",
                 "party": _l("Customer"), "endpoint": "accounting.invoices"},
    "bills": {"kinds": SUPPLIER_KINDS, "title": _l("Supplier bills"), "new": "in_invoice",
              "party": _l("Supplier"), "endpoint": "accounting.bills"},
}
COLUMNS = [
    Column("number_label", _l("Number"), sort="number", link=True),
    Column("kind_label", _l("Kind")),
    Column("party_name", _l("Party"), sort="party"),
    Column("invoice_date", _l("Date"), sort="date", format="date"),
    Column("due_date", _l("Due"), sort="due", format="date"),
    Column("total", _l("Total"), sort="total"),
    Column("residual", _l("Open"), sort="residual"),
    Column("state_label", _l("State")),
]


@dataclass
class Row:
    """An invoice as a list shows it (amounts formatted in the invoice's own currency)."""

    id: int
    number_label: str
    kind_label: str
    party_name: str
    invoice_date: date
    due_date: date
    total: str
    residual: str
    state_label: str


def _row(invoice: Invoice) -> Row:
    return Row(invoice.id, invoice.number or _("Draft"), str(KIND_LABELS[invoice.kind]), invoice.party.name,
               invoice.invoice_date, invoice.due_date, format_currency(invoice.amount_total, invoice.currency),
               format_currency(invoice.amount_residual, invoice.currency) if invoice.state != "draft" else "",
               str(STATE_LABELS[invoice.state]))


def _book_of(invoice: Invoice) -> str:
    return "invoices" if invoice.is_customer else "bills"


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, "").strip()) if request.args.get(name) else None
    except ValueError:
        return None


def _list(book: str):
    config = BOOKS[book]
    args = request.args
    kind = args.get("kind", "") if args.get("kind") in config["kinds"] else ""
    state = args.get("state", "") if args.get("state") in (*STATES, "open") else ""
    party_id = int(args["party_id"]) if args.get("party_id", "").isdigit() and len(args["party_id"]) < 10 else None
    q = args.get("q", "")[:200]
    filters = {"kind": kind, "state": state, "overdue": "1" if args.get("overdue") == "1" else "",
               "date_from": args.get("date_from", "") if _date_arg("date_from") else "",
               "date_to": args.get("date_to", "") if _date_arg("date_to") else "",
               "party_id": str(party_id or "")}
    stmt = services.invoices_query(kinds=[kind] if kind else config["kinds"], q=q, state=state, party_id=party_id,
                                   date_from=_date_arg("date_from"), date_to=_date_arg("date_to"),
                                   overdue=filters["overdue"] == "1").options(selectinload(Invoice.party))
    if "format" in args:
        return _export(book, stmt, args["format"])
    page = keyset_page(db, stmt, sort_keys=services.SORT_KEYS, id_column=Invoice.id, sort=args.get("sort", "-date"),
                       cursor=args.get("after"), size=current_app.config.get("PAGE_SIZE", 25), query=q,
                       filters={k: v for k, v in filters.items() if v})
    page.rows = [_row(invoice) for invoice in page.rows]
    party = db.get(Party, party_id) if party_id else None
    return render("accounting/invoicing/list.html", "accounting/invoicing/_list.html", page=page, columns=COLUMNS,
                  book=book, config=config, states=[(s, STATE_LABELS[s]) for s in STATES],
                  kinds=[(k, KIND_LABELS[k]) for k in config["kinds"]], party=party,
                  row_url=lambda row: url_for("accounting.invoice", invoice_id=row.id),
                  title=config["title"])


def _export(book: str, stmt, fmt: str):
    columns = [("number", _("Number")), ("kind", _("Kind")), ("party", _("Party")), ("vat_id", _("VAT id")),
               ("invoice_date", _("Date")), ("due_date", _("Due")), ("currency", _("Currency")),
               ("untaxed", _("Net amount")), ("tax", _("Tax")), ("total", _("Total")), ("residual", _("Open")),
               ("state", _("State")), ("reference", _("Reference"))]
    rows = ({"number": i.number or "", "kind": str(KIND_LABELS[i.kind]), "party": i.party.name,
             "vat_id": i.party.vat_id, "invoice_date": i.invoice_date, "due_date": i.due_date, "currency": i.currency,
             "untaxed": i.amount_untaxed, "tax": i.amount_tax, "total": i.amount_total, "residual": i.amount_residual,
             "state": str(STATE_LABELS[i.state]), "reference": i.reference}
            for i in db.execute(stmt.order_by(Invoice.invoice_date, Invoice.id)).scalars())
    return export_response(book, columns, rows, fmt)


# -- The form --


def _lines_from_form(form) -> list[dict[str, Any]]:
    """The lines of a submitted form, in the order of their index."""
    by_index: dict[int, dict[str, Any]] = {}
    for key in form:
        match = LINE_FIELD.match(key)
        if not match:
            continue
        index, name = int(match.group(1)), match.group(2)
        line = by_index.setdefault(index, {})
        line[name] = [v for v in form.getlist(key) if v] if name == "taxes" else form.get(key, "")
    return [by_index[i] for i in sorted(by_index)]


def _values_from_form(form) -> dict[str, Any]:
    values = {key: form.get(key, "") for key in ("party_id", "invoice_date", "payment_terms_days", "due_date",
                                                  "currency", "reference", "notes")}
    values["lines"] = _lines_from_form(form)
    return values


def _values_of(invoice: Invoice) -> dict[str, Any]:
    values = {key: getattr(invoice, key) for key in ("party_id", "invoice_date", "payment_terms_days", "due_date",
                                                      "currency", "reference", "notes")}
    values["lines"] = [{"description": line.description, "quantity": _plain(line.quantity),
                        "unit_price": _plain(line.unit_price), "discount_percent": _plain(line.discount_percent),
                        "taxes": [str(tax.id) for tax in line.taxes], "account": line.account.code}
                       for line in invoice.lines]
    return values


def _plain(number: Decimal) -> str:
    """A stored figure as the form shows it: no trailing zeros beyond the cents."""
    text = format(number.normalize(), "f")
    if "." in text and len(text.split(".")[1]) < 2 and number != number.to_integral_value():
        text = format(number.quantize(Decimal("0.01")), "f")
    return text


def _blank_line(kind: str) -> dict[str, Any]:
    tax = services.default_tax(db, "sale" if kind in CUSTOMER_KINDS else "purchase")
    return {"description": "", "quantity": "1", "unit_price": "", "discount_percent": "0",
            "taxes": [str(tax.id)] if tax else [], "account": services.default_account(db, kind).code}


def _party_options(kind: str, selected: Any, q: str = "") -> list[tuple[str, str]]:
    parties = search_parties(db, q, limit=50)
    if str(selected or "").isdigit():
        chosen = db.get(Party, int(selected)) if len(str(selected)) < 10 else None
        if chosen is not None and chosen not in parties:
            parties.insert(0, chosen)
    return [("", "—")] + [(str(p.id), p.name) for p in parties]


def _form_context(kind: str, invoice: Invoice | None, values: dict, errors: dict) -> dict[str, Any]:
    currency = values.get("currency") or services.company_currency(db)
    totals, _problems = services.preview(db, kind, currency, values.get("lines") or [])
    config = BOOKS["invoices" if kind in CUSTOMER_KINDS else "bills"]
    return dict(kind=kind, kind_label=KIND_LABELS[kind], invoice=invoice, values=values, errors=errors,
                totals=totals, currency=currency, config=config,
                parties=_party_options(kind, values.get("party_id")),
                taxes=services.taxes_for_scope(db, "sale" if kind in CUSTOMER_KINDS else "purchase"),
                accounts=services.postable_accounts(db), currencies=services.currencies(db),
                title=EDIT_TITLES[kind] if invoice else NEW_TITLES[kind])


def _form(kind: str, invoice: Invoice | None, values: dict, errors: dict, status: int = 200):
    return render("accounting/invoicing/form.html", "accounting/invoicing/_form.html",
                  **_form_context(kind, invoice, values, errors)), status


def _detail(invoice: Invoice):
    totals = services.invoice_totals(db, invoice)
    credit_notes = list(db.execute(
        services.invoices_query(kinds=services.REFUND_OF.values()).where(Invoice.refund_of_id == invoice.id)
        .order_by(Invoice.id)).scalars())
    can_pay = (PAYMENT_ENDPOINT in current_app.view_functions and invoice.state in ("posted", "partial")
               and has_permission(PAYMENT_WRITE))
    return render("accounting/invoicing/detail.html", invoice=invoice, party=db.get(Party, invoice.party_id),
                  totals=totals, credit_notes=credit_notes, can_pay=can_pay, payment_endpoint=PAYMENT_ENDPOINT,
                  kind_label=KIND_LABELS[invoice.kind], state_label=STATE_LABELS[invoice.state],
                  book=BOOKS[_book_of(invoice)], can_write=has_permission(INVOICE_WRITE),
                  can_post=has_permission(INVOICE_POST), entry_url=entry_url(invoice.entry_id),
                  can_send=has_permission(INVOICE_SEND) and invoice.is_customer and not invoice.is_draft,
                  title=f"{KIND_LABELS[invoice.kind]} {invoice.number or _('(draft)')}")



def _refused_on_detail(invoice_id: int):
    """The answer to a refused act on an invoice's page: the page again, with the message."""
    def answer(exc: KontorError):
        flash(exc.message, "error")
        return _detail(services.get_invoice(db, invoice_id)), exc.status
    return answer


@bp.get("/invoices")
@require(INVOICE_READ)
def invoices():
    return _list("invoices")


@bp.get("/bills")
@require(INVOICE_READ)
def bills():
    return _list("bills")


@bp.route("/invoices/new", methods=["GET", "POST"])
@require(INVOICE_WRITE)
def invoice_new():
    kind = request.values.get("kind", "out_invoice")
    if kind not in KIND_LABELS:
        abort(404)
    if request.method == "GET":
        values = {"party_id": request.args.get("party_id", ""), "invoice_date": date.today(),
                  "payment_terms_days": services.default_terms(db),
                  "due_date": "", "currency": services.company_currency(db), "reference": "", "notes": "",
                  "lines": [_blank_line(kind)]}
        return _form(kind, None, values, {})
    values = _values_from_form(request.form)
    with transaction(on_refusal=lambda exc: _form(kind, None, values, exc.as_errors(), 422)):
        invoice = services.create_invoice(db, kind, values)
    flash(_("The draft is saved."), "success")
    return redirect(url_for("accounting.invoice", invoice_id=invoice.id), 303)


@bp.route("/invoices/<int:invoice_id>/edit", methods=["GET", "POST"])
@require(INVOICE_WRITE)
def invoice_edit(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    if not invoice.is_draft:
        flash(_("%(number)s is posted and cannot be changed; issue a credit note to correct it.",
                number=invoice.number), "error")
        return redirect(url_for("accounting.invoice", invoice_id=invoice.id), 303)
    if request.method == "GET":
        return _form(invoice.kind, invoice, _values_of(invoice), {})
    values = _values_from_form(request.form)
    with transaction(on_refusal=lambda exc: _form(invoice.kind, services.get_invoice(db, invoice_id), values,
                                                  exc.as_errors(), 422)):
        services.update_invoice(db, invoice, values)
    flash(_("The draft is saved."), "success")
    return redirect(url_for("accounting.invoice", invoice_id=invoice.id), 303)


@bp.post("/invoices/form-lines")
@require(INVOICE_WRITE)
def invoice_form_lines():
    """The lines and totals of the form after adding or removing a line (htmx)."""
    kind = request.form.get("kind", "out_invoice")
    if kind not in KIND_LABELS:
        abort(400)
    values = _values_from_form(request.form)
    if request.form.get("add_line"):
        values["lines"].append(_blank_line(kind))
    remove = request.form.get("remove_line", "")
    if remove.isdigit() and int(remove) < len(values["lines"]) and len(values["lines"]) > 1:
        del values["lines"][int(remove)]
    return render_template("accounting/invoicing/_lines.html", **_form_context(kind, None, values, {}))


@bp.post("/invoices/form-totals")
@require(INVOICE_WRITE)
def invoice_form_totals():
    """The totals of the form as entered so far, computed by the same service as posting (htmx)."""
    kind = request.form.get("kind", "out_invoice")
    if kind not in KIND_LABELS:
        abort(400)
    context = _form_context(kind, None, _values_from_form(request.form), {})
    return render_template("accounting/invoicing/_totals.html", oob=True, **context)


@bp.get("/invoices/party-options")
@require(INVOICE_WRITE)
def invoice_party_options():
    options = _party_options(request.args.get("kind", ""), request.args.get("party_id", ""),
                             request.args.get("party_q", "")[:100])
    return render_template("accounting/invoicing/_party_options.html", parties=options,
                           selected=request.args.get("party_id", ""))


@bp.get("/invoices/<int:invoice_id>")
@require(INVOICE_READ)
def invoice(invoice_id: int):
    return _detail(services.get_invoice(db, invoice_id))


@bp.post("/invoices/<int:invoice_id>/post")
@require(INVOICE_POST)
def invoice_post(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)

    def refused(exc: KontorError):
        draft = services.get_invoice(db, invoice_id)
        if exc.field == "invoice_date" and has_permission(INVOICE_WRITE):
            # a date that cannot be posted is corrected in the draft's form, beside the field
            return _form(draft.kind, draft, _values_of(draft), exc.as_errors(), 422)
        flash(exc.message, "error")
        return _detail(draft), 422

    with transaction(on_refusal=refused):
        services.post_invoice(db, invoice, user_id=acting().user_id)
    flash(_("%(number)s is posted.", number=invoice.number), "success")
    return redirect(url_for("accounting.invoice", invoice_id=invoice.id), 303)


@bp.post("/invoices/<int:invoice_id>/request-approval")
@require(INVOICE_WRITE)
def bill_request_approval(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    with transaction(on_refusal=_refused_on_detail(invoice_id)):
        approvals.ask(db, invoice, request.form.get("note", ""))
    flash(_("Approval of this bill is requested."), "success")
    return redirect(url_for("accounting.invoice", invoice_id=invoice.id), 303)


@bp.post("/invoices/<int:invoice_id>/delete")
@require(INVOICE_WRITE)
def invoice_delete(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    book = _book_of(invoice)
    with transaction(on_refusal=_refused_on_detail(invoice_id)):
        services.delete_invoice(db, invoice)
    flash(_("The draft is deleted."), "success")
    return redirect(url_for(BOOKS[book]["endpoint"]), 303)


@bp.post("/invoices/<int:invoice_id>/credit-note")
@require(INVOICE_POST)
def invoice_credit_note(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    with transaction(on_refusal=_refused_on_detail(invoice_id)):
        note = services.create_credit_note(db, invoice)
    flash(_("A draft credit note is ready: remove or change lines to credit part of the invoice, then post it."),
          "success")
    return redirect(url_for("accounting.invoice_edit", invoice_id=note.id), 303)


@bp.post("/invoices/<int:invoice_id>/cancel")
@require(INVOICE_POST)
def invoice_cancel(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    with transaction(on_refusal=_refused_on_detail(invoice_id)):
        note = services.cancel_invoice(db, invoice, user_id=acting().user_id)
    flash(_("%(number)s is cancelled by credit note %(note)s.", number=invoice.number, note=note.number),
          "success")
    return redirect(url_for("accounting.invoice", invoice_id=note.id), 303)


@bp.get("/invoices/<int:invoice_id>/print")
@require(INVOICE_READ)
def invoice_print(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    ctx = printing.print_context(db, invoice)
    with force_locale(ctx["locale"]):
        return render_template("accounting/invoicing/print.html", **ctx)


@bp.get("/invoices/<int:invoice_id>/pdf")
@require(INVOICE_READ)
def invoice_pdf(invoice_id: int):
    return printing.pdf_response(db, services.get_invoice(db, invoice_id))


@bp.get("/parties/<int:party_id>/invoices-panel")
@require(INVOICE_READ)
def party_invoices_panel(party_id: int):
    party = db.get(Party, party_id)
    if party is None:
        abort(404)
    summary = services.party_summary(db, party_id)
    return render_template("accounting/invoicing/_party_panel.html", party=party, summary=summary,
                           state_labels=STATE_LABELS, kind_labels=KIND_LABELS)


MAIL_FIELDS = ("to", "to_name", "subject", "body")


def _send_form(invoice: Invoice, values: dict, errors: dict, status: int = 200):
    # a refusal about no field of the form (mail not set up) is shown above it
    errors = {(key if key in MAIL_FIELDS else "_schema"): value for key, value in errors.items()}
    return render("accounting/invoicing/send.html", invoice=invoice, values=values, errors=errors,
                  file_name=printing.file_name(invoice),
                  title=_("Send %(number)s by e-mail", number=invoice.number or "")), status


@bp.route("/invoices/<int:invoice_id>/send", methods=["GET", "POST"])
@require(INVOICE_SEND)
def invoice_send(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    if request.method == "GET":
        with transaction(on_refusal=_refused_on_detail(invoice_id)):
            mailing.check_sendable(invoice)
        return _send_form(invoice, mailing.mail_defaults(db, invoice), {})
    values = {key: request.form.get(key, "") for key in MAIL_FIELDS}
    with transaction(on_refusal=lambda exc: _send_form(services.get_invoice(db, invoice_id), values,
                                                       exc.as_errors(), exc.status)):
        message = mailing.send_invoice(db, invoice, values)
    flash(_("%(number)s is on its way to %(to)s.", number=invoice.number, to=message.to_address), "success")
    return redirect(url_for("accounting.invoice", invoice_id=invoice.id), 303)


@bp.get("/invoices/<int:invoice_id>/mail-panel")
@require(INVOICE_READ)
def invoice_mail_panel(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    return render_template("mail/_log.html", messages=mailing.messages_of(db, invoice))
