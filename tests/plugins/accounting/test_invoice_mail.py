"""A posted customer invoice or credit note e-mailed to the customer with its PDF, through a real
SMTP server: the form, the API, the message log on the invoice's page, and who may send."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from core.mail.models import MailMessage
from core.mail.testing import configure_mail, smtp_server
from plugins.accounting.invoicing import services
from plugins.accounting.testing import draft_invoice, party, posted_invoice, session_of

CUSTOMER = "kunde@alfa.example"


@pytest.fixture
def settings(settings):
    return {**settings, "QUEUE_URL": "memory://", "JOB_RETRY_SECONDS": 0}


@pytest.fixture
def inbox(app):
    with smtp_server() as (received, port):
        with session_of(app) as db:
            configure_mail(db, port, sender_name="Test Company ApS", sender_address="billing@test-company.example")
            db.commit()
        yield received


@pytest.fixture
def books(app):
    with session_of(app) as db:
        alfa = party(db, "Alfa A/S", email=CUSTOMER)
        sale = posted_invoice(db, alfa, day=date(2026, 2, 20))
        draft = draft_invoice(db, alfa)
        bill = posted_invoice(db, party(db, "Beta GmbH", email="b@beta.example"), "400.00", kind="in_invoice",
                              day=date(2026, 2, 25))
        db.commit()
        return {"sale": sale.id, "number": sale.number, "draft": draft.id, "bill": bill.id}


def is_pdf_of(data: bytes, number: str) -> bool:
    """Whether ``data`` is a PDF whose title and subject carry the document's ``number``."""
    return data.startswith(b"%PDF-") and number.encode() in data


def test_the_form_sends_the_invoice_with_its_pdf_and_the_page_lists_the_message(admin_client, books, inbox, app):
    page = admin_client.get(f"/accounting/invoices/{books['sale']}").get_data(as_text=True)
    assert f'href="/accounting/invoices/{books["sale"]}/send"' in page
    form = admin_client.get(f"/accounting/invoices/{books['sale']}/send").get_data(as_text=True)
    assert f'value="{CUSTOMER}"' in form and books["number"] in form  # prefilled

    response = admin_client.post_form(f"/accounting/invoices/{books['sale']}/send", {
        "to": CUSTOMER, "to_name": "Alfa A/S", "subject": f"Invoice {books['number']}",
        "body": "Dear Alfa,\nplease pay."})
    assert response.status_code == 303

    message = inbox.for_address(CUSTOMER)
    assert message["Subject"] == f"Invoice {books['number']}"
    assert message["From"] == "Test Company ApS <billing@test-company.example>"
    [pdf] = list(message.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == books["number"].replace("/", "-") + ".pdf"
    assert is_pdf_of(pdf.get_content(), books["number"])  # the PDF of this invoice

    panel = admin_client.get(f"/accounting/invoices/{books['sale']}/mail-panel").get_data(as_text=True)
    assert CUSTOMER in panel and 'data-mail-status="sent"' in panel
    with session_of(app) as db:
        row = db.execute(select(MailMessage)).scalar_one()
        assert (row.record, row.status) == (f"accounting.invoice:{books['sale']}", "sent")


def test_bad_input_is_shown_beside_the_field_and_nothing_is_sent(admin_client, books, inbox, app):
    response = admin_client.post_form(f"/accounting/invoices/{books['sale']}/send", {
        "to": "not an address", "subject": "Invoice", "body": "x"})
    assert response.status_code == 422
    assert re.search(r'id="e-to" class="field-error">[^<]+', response.get_data(as_text=True))
    assert inbox.messages == []
    with session_of(app) as db:
        assert db.execute(select(MailMessage)).first() is None


def test_the_api_sends_with_the_defaults_and_lists_the_messages(api, books, inbox):
    response = api.post(f"/api/v1/accounting/invoices/{books['sale']}/send")
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["to"] == CUSTOMER
    message = inbox.for_address(CUSTOMER)
    assert books["number"] in message["Subject"] and "Test Company ApS" in message["Subject"]
    assert is_pdf_of(next(message.iter_attachments()).get_content(), books["number"])

    listed = api.get(f"/api/v1/accounting/invoices/{books['sale']}/mails").get_json()["items"]
    assert [(m["to"], m["status"]) for m in listed] == [(CUSTOMER, "sent")]

    refused = api.post(f"/api/v1/accounting/invoices/{books['sale']}/send", json={"to": "a@b.example\nBcc: c@d.example"})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert "to" in refused.get_json()["errors"]


@pytest.mark.parametrize("which", ["draft", "bill"])
def test_drafts_and_supplier_bills_are_not_sent(api, books, inbox, which):
    response = api.post(f"/api/v1/accounting/invoices/{books[which]}/send", json={"to": CUSTOMER})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert inbox.messages == []


def test_only_holders_of_the_send_permission_may_send(client_with, api_with, books, inbox):
    reader = client_with(permissions=["accounting.invoice.read"])
    page = reader.get(f"/accounting/invoices/{books['sale']}").get_data(as_text=True)
    assert "/send" not in page
    assert reader.get(f"/accounting/invoices/{books['sale']}/send").status_code == 403
    assert api_with(permissions=["accounting.invoice.read"]).post(
        f"/api/v1/accounting/invoices/{books['sale']}/send").status_code == 403
    sender = api_with(permissions=["accounting.invoice.read", "accounting.invoice.send"])
    assert sender.post(f"/api/v1/accounting/invoices/{books['sale']}/send").status_code == 202
    assert len(inbox.messages) == 1


def test_a_credit_note_is_sent_as_a_credit_note(api, books, inbox, app):
    with session_of(app) as db:
        note = services.create_credit_note(db, services.get_invoice(db, books["sale"]))
        services.post_invoice(db, note)
        db.commit()
        note_id, number = note.id, note.number
    assert api.post(f"/api/v1/accounting/invoices/{note_id}/send").status_code == 202
    message = inbox.for_address(CUSTOMER)
    assert number in message["Subject"] and "credit note" in message.get_body(("plain",)).get_content()
    assert is_pdf_of(next(message.iter_attachments()).get_content(), number)
