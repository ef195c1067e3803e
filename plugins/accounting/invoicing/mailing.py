"""Invoices and credit notes e-mailed to the customer, with the PDF attached, through the core's mail."""
from __future__ import annotations

from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency
from flask_babel import force_locale
from sqlalchemy.orm import Session

from core import (MailFile, Conflict, MailMessage, Party, get_company, gettext as _, mail_messages, send_mail)

from plugins.accounting.invoicing import printing, services
from plugins.accounting.invoicing.models import Invoice


def record_of(invoice: Invoice) -> str:
    """How the mail log names ``invoice``."""
    return f"accounting.invoice:{invoice.id}"


def check_sendable(invoice: Invoice) -> None:
    """Refuse (Conflict) a document that is not a posted customer invoice or credit note."""
    if not invoice.is_customer:
        raise Conflict(_("Only customer invoices and credit notes are sent by e-mail."), field="invoice")
    if invoice.is_draft:
        raise Conflict(_("Post the document before sending it: a draft has no number yet."), field="invoice")


def mail_defaults(db: Session, invoice: Invoice) -> dict[str, str]:
    """The message the form starts from: the customer's address, and a subject and text in the
    invoice's language (the company's, as the PDF)."""
    party = db.get(Party, invoice.party_id)
    company = get_company(db)
    locale = printing.print_locale(db, invoice)
    with force_locale(locale):
        title = services.invoice_title(invoice)
        values = {"title": title, "number": invoice.number, "company": company.legal_name,
                  "total": format_currency(invoice.amount_total, invoice.currency, locale=locale),
                  "due": format_date(invoice.due_date, "long", locale=locale), "name": party.name}
        subject = _("%(title)s %(number)s from %(company)s", **values)
        if invoice.is_refund:
            body = _("Dear %(name)s,\n\nplease find attached our credit note %(number)s of %(total)s.\n\n"
                     "Kind regards,\n%(company)s", **values)
        else:
            body = _("Dear %(name)s,\n\nplease find attached our invoice %(number)s of %(total)s, "
                     "due on %(due)s.\n\nKind regards,\n%(company)s", **values)
    return {"to": party.email, "to_name": party.name, "subject": subject, "body": body}


def send_invoice(db: Session, invoice: Invoice, data: dict[str, Any]) -> MailMessage:
    """E-mail posted customer ``invoice`` with its PDF attached; ``data`` may change the defaults of
    :func:`mail_defaults` (``to``, ``to_name``, ``subject``, ``body``). The message is sent by a job
    after the commit; the invoice's page lists it."""
    check_sendable(invoice)
    message = {**mail_defaults(db, invoice), **{k: v for k, v in data.items() if v is not None}}
    pdf = MailFile(printing.file_name(invoice), printing.invoice_pdf(db, invoice), "application/pdf")
    return send_mail(db, message["to"], message["subject"], message["body"], to_name=message["to_name"],
                     attachments=[pdf], record=record_of(invoice))


def messages_of(db: Session, invoice: Invoice) -> list[MailMessage]:
    """The messages sent about ``invoice``, newest first."""
    return mail_messages(db, record_of(invoice))
