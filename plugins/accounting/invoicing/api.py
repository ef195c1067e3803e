"""Invoices under /api/v1/accounting/invoices: list, create and change drafts, post, credit, PDF.

Each endpoint states its transaction once; a refusal escapes to the core's problem+json answer.
"""
from flask import Response, request

from core import (acting, documented, json_response, keyset_page, load_body, load_query, paged, require,
                  session as db, transaction)

from plugins.accounting.invoicing import mailing, printing, services
from plugins.accounting.invoicing.models import KINDS, Invoice
from plugins.accounting.invoicing.schemas import (CreditNoteBodySchema, InvoiceBodySchema, InvoiceMailBodySchema,
                                                  InvoiceMailSchema, InvoiceQuerySchema, InvoiceSchema)
from plugins.accounting.permissions import INVOICE_POST, INVOICE_READ, INVOICE_SEND, INVOICE_WRITE
from plugins.accounting.web import api


def _one(invoice: Invoice, status: int = 200):
    return json_response(InvoiceSchema().dump(invoice), status)


@api.get("/invoices")
@require(INVOICE_READ)
@documented("List invoices, bills and credit notes", query=InvoiceQuerySchema, response=InvoiceSchema, many=True)
def invoice_list():
    args = load_query(InvoiceQuerySchema())
    kinds = [args["kind"]] if args.get("kind") else list(KINDS)
    stmt = services.invoices_query(kinds=kinds, q=args.get("q", ""), state=args.get("state", ""),
                                   party_id=args.get("party_id"), date_from=args.get("date_from"),
                                   date_to=args.get("date_to"), overdue=args.get("overdue", False))
    page = keyset_page(db, stmt, sort_keys={"id": Invoice.id}, id_column=Invoice.id, sort="id",
                       cursor=args.get("after"), size=args.get("limit", 50))
    return paged(page.rows, next_cursor=page.next_cursor, schema=InvoiceSchema())


@api.post("/invoices")
@require(INVOICE_WRITE)
@documented("Create a draft invoice, bill or credit note", body=InvoiceBodySchema, response=InvoiceSchema,
            status=201)
def invoice_create():
    body = load_body(InvoiceBodySchema())
    with transaction():
        invoice = services.create_invoice(db, body.pop("kind", "out_invoice"), body)
    return _one(invoice, 201)


@api.get("/invoices/<int:invoice_id>")
@require(INVOICE_READ)
@documented("One invoice with its lines", response=InvoiceSchema)
def invoice_get(invoice_id: int):
    return _one(services.get_invoice(db, invoice_id))


@api.patch("/invoices/<int:invoice_id>")
@require(INVOICE_WRITE)
@documented("Change a draft (lines, when given, replace the draft's lines)", body=InvoiceBodySchema,
            response=InvoiceSchema)
def invoice_update(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    body = load_body(InvoiceBodySchema(), partial=True)
    body.pop("kind", None)
    with transaction():
        services.update_invoice(db, invoice, body)
    return _one(invoice)


@api.delete("/invoices/<int:invoice_id>")
@require(INVOICE_WRITE)
@documented("Delete a draft (a posted invoice is refused: credit it)", status=204)
def invoice_delete(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    with transaction():
        services.delete_invoice(db, invoice)
    return Response(status=204)


@api.post("/invoices/<int:invoice_id>/post")
@require(INVOICE_POST)
@documented("Post a draft: number it and book its entry", response=InvoiceSchema)
def invoice_post(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    with transaction():
        services.post_invoice(db, invoice, user_id=acting().user_id)
    return _one(invoice)


@api.post("/invoices/<int:invoice_id>/credit-note")
@require(INVOICE_POST)
@documented("Draft a credit note of a posted invoice (every line unless lines are given)",
            body=CreditNoteBodySchema, response=InvoiceSchema, status=201)
def invoice_credit_note(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    body = load_body(CreditNoteBodySchema()) if request.get_data() else {}
    with transaction():
        note = services.create_credit_note(db, invoice, lines=body.get("lines"), date=body.get("date"))
    return _one(note, 201)


@api.post("/invoices/<int:invoice_id>/send")
@require(INVOICE_SEND)
@documented("E-mail a posted customer invoice or credit note with its PDF (to the customer's address, with "
            "the default subject and text, unless given); a job sends it", body=InvoiceMailBodySchema,
            response=InvoiceMailSchema, status=202)
def invoice_send(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    body = load_body(InvoiceMailBodySchema()) if request.get_data() else {}
    with transaction():
        message = mailing.send_invoice(db, invoice, body)
    return json_response(InvoiceMailSchema().dump(message), 202)


@api.get("/invoices/<int:invoice_id>/mails")
@require(INVOICE_READ)
@documented("The messages sent about an invoice, newest first", response=InvoiceMailSchema, many=True)
def invoice_mails(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    return paged(mailing.messages_of(db, invoice), next_cursor=None, schema=InvoiceMailSchema())


@api.get("/invoices/<int:invoice_id>/pdf")
@require(INVOICE_READ)
@documented("The invoice as a PDF")
def invoice_pdf(invoice_id: int):
    invoice = services.get_invoice(db, invoice_id)
    return printing.pdf_response(db, invoice)
