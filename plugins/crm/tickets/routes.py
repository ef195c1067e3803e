"""The service pages: tickets (list, detail, form, conversation), the SLA overview and policies."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from markupsafe import Markup
from marshmallow import ValidationError

from core import (Column, export_response, gettext as _, has_permission, is_partial_request, mail_configured,
                  mail_messages, lazy_gettext as _l, NotFound, Party, record_id_field, render, require, search_parties, session as db,
                  transaction, utcnow)

from plugins.crm.permissions import SLA_MANAGE, TICKET_READ, TICKET_WRITE
from plugins.crm.tickets import services
from plugins.crm.tickets.models import PRIORITIES, PRIORITY_LABELS, SLA_STATE_LABELS, STATUS_LABELS, STATUSES, Ticket
from plugins.crm.tickets.config import warn_percent
from plugins.crm.web import bp, flashed_back

_RECORD_ID = record_id_field(allow_none=True)

COLUMNS = [
    Column("number", _l("Number"), sort="number", link=True),
    Column("subject", _l("Subject"), sort="subject"),
    Column("party", _l("Customer")),
    Column("priority", _l("Priority"), sort="priority"),
    Column("status", _l("Status"), sort="status"),
    Column("sla", _l("SLA")),
    Column("resolution_due", _l("Resolution due"), sort="due", format="datetime"),
    Column("assignee", _l("Assignee")),
    Column("created_at", _l("Created"), sort="created", format="datetime"),
]
EXPORT_COLUMNS = [
    ("number", _l("Number")), ("subject", _l("Subject")), ("party", _l("Customer")), ("contact", _l("Contact")),
    ("priority", _l("Priority")), ("status", _l("Status")), ("assignee", _l("Assignee")),
    ("created_at", _l("Created")), ("response_due", _l("Response due")), ("first_response_at", _l("First response")),
    ("resolution_due", _l("Resolution due")), ("resolved_at", _l("Resolved")), ("sla", _l("SLA")),
]
FORM_FIELDS = ("subject", "description", "priority", "party_id", "contact_id", "contact_email", "assignee_id")


def sla_badge(ticket: Ticket, now) -> Markup:
    """The SLA state of a ticket as a coloured badge (nothing for a closed ticket on time)."""
    state = services.sla_of(ticket, now).state
    if state == "ok":
        return Markup("")
    css = "badge-error" if state == "breached" else "badge-warn"
    return Markup('<span class="badge {} sla-{}">{}</span>').format(css, state, SLA_STATE_LABELS.get(state, state))


def status_badge(status: str) -> Markup:
    css = {"new": "", "open": "badge-warn", "waiting": "", "resolved": "badge-ok", "closed": "badge-ok"}[status]
    return Markup('<span class="badge {}">{}</span>').format(css, str(STATUS_LABELS.get(status, status)))


def _filters() -> services.TicketFilters:
    args = request.args
    party_id = args.get("party_id", "")
    return services.TicketFilters(q=args.get("q", "")[:200], status=args.get("status", "")[:20],
                                  priority=args.get("priority", "")[:20], assignee=args.get("assignee", "")[:20],
                                  sla=args.get("sla", "")[:20],
                                  party_id=_record_id(party_id))


def _row(ticket: Ticket, now) -> dict:
    return {"id": ticket.id, "number": ticket.number, "subject": ticket.subject, "party": ticket.party_name or
            ticket.contact_email, "priority": str(PRIORITY_LABELS.get(ticket.priority, ticket.priority)),
            "status": status_badge(ticket.status), "assignee": ticket.assignee_name, "created_at": ticket.created_at,
            "resolution_due": ticket.resolution_due, "sla": sla_badge(ticket, now)}


def _export_row(ticket: Ticket, now) -> dict:
    contact = ticket.contact_label
    sla_state = services.sla_of(ticket, now).state
    return {"number": ticket.number, "subject": ticket.subject, "party": ticket.party_name, "contact": contact,
            "priority": str(PRIORITY_LABELS.get(ticket.priority, ticket.priority)),
            "status": str(STATUS_LABELS.get(ticket.status, ticket.status)),
            "assignee": ticket.assignee_name, "created_at": ticket.created_at, "response_due": ticket.response_due,
            "first_response_at": ticket.first_response_at, "resolution_due": ticket.resolution_due,
            "resolved_at": ticket.resolved_at, "sla": str(SLA_STATE_LABELS.get(sla_state, sla_state))}


def _ticket(ticket_id: int) -> Ticket:
    try:
        return services.get_ticket(db, ticket_id)
    except NotFound:
        abort(404)


def _choices() -> dict:
    return {
        "priorities": [(p, str(PRIORITY_LABELS[p])) for p in PRIORITIES],
        "statuses": [(s, str(STATUS_LABELS[s])) for s in STATUSES],
        "users": [(str(u.id), u.full_name or u.username) for u in services.users(db)],
    }


def _record_id(value) -> int | None:
    """The record id a query or form value gives, or None (text, or a number beyond any id): a picker
    or filter goes without a value it cannot use rather than refusing the page."""
    try:
        return _RECORD_ID.deserialize(str(value or "").strip() or None)
    except ValidationError:
        return None


def _party_of(value) -> Party | None:
    """The party a form value names, or None."""
    party_id = _record_id(value)
    return db.get(Party, party_id) if party_id else None


def _party_options(selected, q: str = "") -> list[tuple[str, str]]:
    found = search_parties(db, q, limit=50)
    chosen = _party_of(selected)
    if chosen is not None and chosen not in found:
        found.insert(0, chosen)
    return [("", "—")] + [(str(p.id), p.name) for p in found]


def _contact_options(party_id) -> list[tuple[str, str]]:
    party = _party_of(party_id)
    if party is None:
        return [("", "—")]
    people = [party] if party.kind == "person" else services.people_of(db, party)
    return [("", "—")] + [(str(p.id), f"{p.name} <{p.email}>" if p.email else p.name) for p in people]


def _form(ticket: Ticket | None, values: dict, errors: dict, status: int = 200):
    return render("crm/tickets/ticket_form.html", "crm/tickets/_ticket_form.html", ticket=ticket, values=values,
                  errors=errors, parties=_party_options(values.get("party_id")),
                  contacts=_contact_options(values.get("party_id")),
                  title=ticket.number if ticket else _("New ticket"), **_choices()), status


def _detail(ticket: Ticket, errors: dict | None = None, reply: dict | None = None, status: int = 200):
    now = utcnow()
    can_write = has_permission(TICKET_WRITE)
    return render("crm/tickets/ticket.html", "crm/tickets/_ticket.html", ticket=ticket,
                  sla=services.sla_of(ticket, now), sla_badge=sla_badge(ticket, now),
                  status_badge=status_badge(ticket.status), priority_labels=PRIORITY_LABELS,
                  transitions=[(s, _transition_label(ticket.status, s)) for s in services.TRANSITIONS[ticket.status]],
                  conversation=services.messages(ticket), mail=mail_messages(db, services.mail_record(ticket)),
                  errors=errors or {}, reply=reply or {"kind": "reply"},
                  can_write=can_write, title=f"{ticket.number} {ticket.subject}"), status


def _email(message) -> None:
    """Email a reply to the customer when mail is set up (the reply is saved either way)."""
    if message.is_reply and mail_configured(db):
        with transaction():  # the reply is saved already; this hands it to the mail service (or notes why not)
            services.email_reply(db, message)


def _transition_label(current: str, target: str) -> str:
    if target == "open":
        return _("Reopen") if current in ("resolved", "closed") else _("Mark open")
    return {"waiting": _("Wait for customer"), "resolved": _("Resolve"), "closed": _("Close")}[target]


@bp.get("/tickets")
@require(TICKET_READ)
def tickets():
    now = utcnow()
    filters = _filters()
    fmt = request.args.get("format")
    if fmt:  # export_response refuses a format it cannot write (422 naming it)
        rows = [_export_row(t, now) for t in services.all_tickets(db, filters, user_id=current_user.id, now=now)]
        return export_response("tickets", [(k, str(label)) for k, label in EXPORT_COLUMNS], rows, fmt)
    page = services.list_tickets(db, filters, sort=request.args.get("sort", "-created"),
                                 after=request.args.get("after"), limit=current_app.config["PAGE_SIZE"],
                                 user_id=current_user.id, now=now)
    page.rows = [_row(t, now) for t in page.rows]
    return render("crm/tickets/tickets.html", "crm/tickets/_tickets.html", page=page, columns=COLUMNS,
                  filters=filters, row_url=lambda row: url_for("crm.ticket", ticket_id=row["id"]),
                  title=_("Tickets"), **_choices())


@bp.route("/tickets/new", methods=["GET", "POST"])
@require(TICKET_WRITE)
def ticket_new():
    if request.method == "GET":
        values = {"priority": "normal", "party_id": request.args.get("party_id", ""),
                  "assignee_id": str(current_user.id)}
        return _form(None, values, {})
    values = {key: request.form.get(key, "") for key in FORM_FIELDS}
    with transaction(on_refusal=lambda exc: _form(None, values, exc.as_errors(), 422)):
        ticket = services.create_ticket(db, values, user_id=current_user.id, warn_percent=warn_percent(db))
    flash(_("Ticket %(number)s is open.", number=ticket.number), "success")
    return redirect(url_for("crm.ticket", ticket_id=ticket.id), 303)


@bp.get("/tickets/party-options")
@require(TICKET_WRITE)
def ticket_party_options():
    return render("crm/tickets/_options.html", options=_party_options(request.args.get("party_id", ""),
                                                                     request.args.get("party_q", "")[:200]),
                  selected=request.args.get("party_id", ""))


@bp.get("/tickets/contact-options")
@require(TICKET_WRITE)
def ticket_contact_options():
    return render("crm/tickets/_options.html", options=_contact_options(request.args.get("party_id", "")),
                  selected=request.args.get("contact_id", ""))


@bp.get("/tickets/<int:ticket_id>")
@require(TICKET_READ)
def ticket(ticket_id: int):
    return _detail(_ticket(ticket_id))


@bp.route("/tickets/<int:ticket_id>/edit", methods=["GET", "POST"])
@require(TICKET_WRITE)
def ticket_edit(ticket_id: int):
    ticket = _ticket(ticket_id)
    if request.method == "GET":
        values = {key: "" if getattr(ticket, key) is None else str(getattr(ticket, key)) for key in FORM_FIELDS}
        return _form(ticket, values, {})
    values = {key: request.form.get(key, "") for key in FORM_FIELDS}
    with transaction(on_refusal=lambda exc: _form(ticket, values, exc.as_errors(), 422)):
        services.update_ticket(db, ticket, values, warn_percent=warn_percent(db))
    flash(_("Ticket %(number)s is saved.", number=ticket.number), "success")
    return redirect(url_for("crm.ticket", ticket_id=ticket.id), 303)


@bp.post("/tickets/<int:ticket_id>/status")
@require(TICKET_WRITE)
def ticket_status(ticket_id: int):
    ticket = _ticket(ticket_id)
    with transaction(on_refusal=flashed_back(url_for("crm.ticket", ticket_id=ticket_id))):
        services.change_status(db, ticket, request.form.get("status", ""), user_id=current_user.id)
    flash(_("Ticket %(number)s is %(status)s.", number=ticket.number,
            status=str(STATUS_LABELS.get(ticket.status, ticket.status)).lower()), "success")
    return redirect(url_for("crm.ticket", ticket_id=ticket.id), 303)


@bp.post("/tickets/<int:ticket_id>/messages")
@require(TICKET_WRITE)
def ticket_message(ticket_id: int):
    ticket = _ticket(ticket_id)
    reply = {"kind": request.form.get("kind", "reply"), "body": request.form.get("body", "")}
    with transaction(on_refusal=lambda exc: _detail(_ticket(ticket_id), exc.as_errors(), reply, 422)):
        message = services.add_message(db, ticket, reply["kind"], reply["body"], user_id=current_user.id)
    _email(message)
    if is_partial_request():
        return _detail(ticket)
    return redirect(url_for("crm.ticket", ticket_id=ticket.id) + "#conversation", 303)


@bp.get("/sla")
@require(TICKET_READ)
def sla():
    now = utcnow()
    return render("crm/tickets/sla.html", breached=services.breached_tickets(db, now),
                  at_risk=services.at_risk_tickets(db, now), now=now, sla_badge=sla_badge,
                  policies=services.policies(db), priority_labels=PRIORITY_LABELS,
                  title=_("Service levels"))


@bp.route("/sla/policies", methods=["GET", "POST"])
@require(SLA_MANAGE)
def sla_policies():
    if request.method == "GET":
        return _policies_page({}, {})
    values = dict(request.form)
    with transaction(on_refusal=lambda exc: _policies_page(values, exc.as_errors(), 422)):
        for priority in PRIORITIES:
            services.update_policy(db, priority, values.get(f"response_hours_{priority}", ""),
                                   values.get(f"resolution_hours_{priority}", ""))
    flash(_("The service levels are saved."), "success")
    return redirect(url_for("crm.sla_policies"), 303)


def _policies_page(values: dict, errors: dict, status: int = 200):
    rows = [(p.priority, str(PRIORITY_LABELS.get(p.priority, p.priority)),
             values.get(f"response_hours_{p.priority}", p.response_hours),
             values.get(f"resolution_hours_{p.priority}", p.resolution_hours)) for p in services.policies(db)]
    return render("crm/tickets/sla_policies.html", rows=rows, errors=errors, title=_("Service level policies"),
                  warn=warn_percent(db)), status

