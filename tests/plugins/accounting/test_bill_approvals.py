"""Supplier bills above an amount need approval before they are posted: the admin sets the rule and its
chain on Administration → Approval rules; a bill it applies to is refused at posting (on the page and
in the API) until approved; one under the amount posts at once; changing an approved bill's total
asks again."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core import Notification, approval_state
from core.testing import WebClient
from core.testing.factories import PASSWORD, user
from plugins.accounting.invoicing import services as invoicing
from plugins.accounting.invoicing.models import Invoice
from plugins.accounting.testing import draft_invoice, line, supplier
from tests.plugins.approval_kit import add_rule, pending_task_id

REFUSED = "This bill needs approval before it can be posted: request approval first."


@pytest.fixture
def people(app, in_app):
    """Ida keeps the books (enters and posts bills), Karl is the accountant who approves them."""
    with in_app() as db:
        user(db, "ida", roles=["bookkeeper"])
        user(db, "karl", roles=["accountant"])


@pytest.fixture
def rule(admin_client, people):
    """The admin's rule: a bill of more than 10,000 in total is approved by an accountant."""
    add_rule(admin_client, "accounting.bill", "Bills over 10,000", "total > 10000",
             [{"approver": "role", "role": "accountant"}])


def signed_in(dispatcher, username: str) -> WebClient:
    """A client of its own, signed in as ``username``."""
    client = WebClient(dispatcher)
    assert client.login(username, PASSWORD).status_code == 302
    return client


def bill(in_app, net: str) -> int:
    """A draft bill of one line of ``net`` plus 25 % VAT, today; its id."""
    with in_app() as db:
        return draft_invoice(db, supplier(db), [line("Steel beams", unit_price=net, taxes=["DK-P25"],
                                                     account="6100")], kind="in_invoice").id


def state_of(in_app, invoice_id: int) -> tuple[str, str]:
    """(the document's state, its approval state)."""
    with in_app() as db:
        invoice = db.get(Invoice, invoice_id)
        return invoice.state, approval_state(db, "accounting.bill", invoice)


def test_a_bill_over_the_amount_is_posted_only_once_approved(app, dispatcher, in_app, rule):
    ida, karl = signed_in(dispatcher, "ida"), signed_in(dispatcher, "karl")
    big = bill(in_app, "10000.00")  # 12,500.00 with VAT
    assert state_of(in_app, big) == ("draft", "required")

    # 1. Posting is refused on the page, with the reason, and nothing changes.
    page = ida.post_form(f"/accounting/invoices/{big}/post", {})
    assert page.status_code == 422 and REFUSED in page.get_data(as_text=True)
    assert "Request approval" in ida.get(f"/accounting/invoices/{big}").get_data(as_text=True)
    assert state_of(in_app, big) == ("draft", "required")

    # 2. Ida asks; Karl, the accountant, is notified and the request waits for him.
    assert ida.post_form(f"/accounting/invoices/{big}/request-approval", {"note": "Urgent delivery"}).status_code == 303
    assert state_of(in_app, big) == ("draft", "pending")
    with in_app() as db:
        karl_id = db.scalar(select(Notification.user_id).where(Notification.kind == "core.approval_requested",
                                                                  Notification.record == f"accounting.bill:{big}"))
        task = pending_task_id(db, "accounting.bill", big)
    assert karl_id is not None
    waiting = ida.post_form(f"/accounting/invoices/{big}/post", {})
    assert waiting.status_code == 422 and "waiting for approval" in waiting.get_data(as_text=True)

    # 3. Ida may not approve her own request; Karl approves, and Ida posts it.
    assert ida.post_form(f"/approvals/tasks/{task}/approve", {}).status_code in (403, 422)
    assert state_of(in_app, big) == ("draft", "pending")
    assert karl.post_form(f"/approvals/tasks/{task}/approve", {}).status_code == 303
    assert state_of(in_app, big) == ("draft", "approved")
    assert ida.post_form(f"/accounting/invoices/{big}/post", {}).status_code == 303
    assert state_of(in_app, big)[0] == "posted"


def test_the_api_refuses_to_post_an_unapproved_bill_with_a_problem_saying_why(api_with, in_app, rule):
    big = bill(in_app, "20000.00")
    bookkeeper = api_with(roles=["bookkeeper"])
    response = bookkeeper.post(f"/api/v1/accounting/invoices/{big}/post")
    assert response.status_code == 409 and response.content_type == "application/problem+json"
    assert response.get_json()["detail"] == REFUSED
    assert state_of(in_app, big) == ("draft", "required")


def test_a_bill_under_the_amount_and_other_documents_post_directly(api_with, in_app, rule):
    small = bill(in_app, "8000.00")  # 10,000.00 with VAT: not more than 10,000
    with in_app() as db:
        sale = draft_invoice(db, lines=[line(unit_price="50000.00")]).id  # a customer invoice: never approved
    bookkeeper = api_with(roles=["bookkeeper"])
    for document in (small, sale):
        response = bookkeeper.post(f"/api/v1/accounting/invoices/{document}/post")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.get_json()["state"] == "posted"
    assert state_of(in_app, small) == ("posted", "none")


def test_changing_the_total_of_an_approved_bill_asks_again(dispatcher, in_app, rule):
    ida, karl = signed_in(dispatcher, "ida"), signed_in(dispatcher, "karl")
    big = bill(in_app, "10000.00")
    ida.post_form(f"/accounting/invoices/{big}/request-approval", {})
    with in_app() as db:
        task = pending_task_id(db, "accounting.bill", big)
    assert karl.post_form(f"/approvals/tasks/{task}/approve", {}).status_code == 303
    assert state_of(in_app, big) == ("draft", "approved")

    with in_app() as db:  # the supplier's corrected bill: a higher amount
        invoice = db.get(Invoice, big)
        invoicing.update_invoice(db, invoice, {"lines": [line("Steel beams", unit_price="11000.00",
                                                              taxes=["DK-P25"], account="6100")]})
    assert state_of(in_app, big) == ("draft", "pending")  # asked again of the accountant
    refused = ida.post_form(f"/accounting/invoices/{big}/post", {})
    assert refused.status_code == 422 and "waiting for approval" in refused.get_data(as_text=True)
    with in_app() as db:
        again = pending_task_id(db, "accounting.bill", big)
    assert again != task
    assert karl.post_form(f"/approvals/tasks/{again}/approve", {}).status_code == 303
    assert ida.post_form(f"/accounting/invoices/{big}/post", {}).status_code == 303
    assert state_of(in_app, big)[0] == "posted"


def test_a_change_the_rules_do_not_read_keeps_the_approval(dispatcher, in_app, rule):
    ida, karl = signed_in(dispatcher, "ida"), signed_in(dispatcher, "karl")
    big = bill(in_app, "10000.00")
    ida.post_form(f"/accounting/invoices/{big}/request-approval", {})
    with in_app() as db:
        task = pending_task_id(db, "accounting.bill", big)
    assert karl.post_form(f"/approvals/tasks/{task}/approve", {}).status_code == 303
    with in_app() as db:
        invoicing.update_invoice(db, db.get(Invoice, big), {"reference": "RE-2026-7", "invoice_date": date.today()})
    assert state_of(in_app, big) == ("draft", "approved")
    assert ida.post_form(f"/accounting/invoices/{big}/post", {}).status_code == 303
