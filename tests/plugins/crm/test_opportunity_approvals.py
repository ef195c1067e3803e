"""An opportunity with a discount over 10 % needs its salesperson's manager's approval before it is won:
the admin's rule, the salesperson's request, the manager's notification and decision, the salesperson
told, and the deal won; a change to the discount asks again. Also the discount itself, checked beside
its field."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core import Notification, Party, User, approval_state
from plugins.crm import testing
from plugins.crm.pipeline.models import Opportunity
from tests.plugins.approval_kit import add_rule, pending_task_id

NEEDS_APPROVAL = "This opportunity needs approval before it can be won: request approval first."


@pytest.fixture
def team(app, in_app):
    """Mads sells; Sofie, a sales manager, is his manager; a customer. Their ids."""
    from core.auth.managers import set_manager

    with in_app() as db:
        mads = testing.crm_user(db, "mads", ["salesperson"])
        sofie = testing.crm_user(db, "sofie", ["sales_manager"])
        set_manager(db, mads, sofie.id)
        customer = testing.company(db, "Fjord Logistik ApS")
        return {"mads": mads.id, "sofie": sofie.id, "customer": customer.id}


@pytest.fixture
def in_app(app):
    """A block in its own app context and session, committed at its end (between the clients' requests)."""
    from contextlib import contextmanager

    @contextmanager
    def block():
        with app.app_context():
            from core.db import session

            yield session
            session.commit()
    return block


@pytest.fixture
def rule(admin_client, team):
    """The admin's rule: a discount over 10 % is approved by the requester's manager."""
    add_rule(admin_client, "crm.opportunity", "Discounts over 10%", "discount > 0.10", [{"approver": "manager"}])


def client_of(dispatcher, username: str):
    """A client of its own, signed in as ``username``."""
    from core.testing import WebClient

    return testing.signed_in(WebClient(dispatcher), username)


def deal(in_app, team, discount: str) -> int:
    """Mads's opportunity of 80,000 with ``discount`` percent; its id."""
    with in_app() as db:
        return testing.opportunity(db, db.get(User, team["mads"]), title="Fleet tracking", revenue="80000.00",
                                   customer=db.get(Party, team["customer"]), discount=discount).id


def stage_id(in_app, name: str) -> int:
    """The id of the pipeline stage called ``name``."""
    with in_app() as db:
        return testing.stage_named(db, name).id


def state_of(in_app, opportunity_id: int) -> tuple[str, str]:
    """(the deal's status, its approval state)."""
    with in_app() as db:
        found = db.get(Opportunity, opportunity_id)
        return found.status, approval_state(db, "crm.opportunity", found)


def inbox(in_app, user_id: int, kind: str) -> list[tuple[str, dict]]:
    """(url, params) of the user's notifications of ``kind``, oldest first."""
    with in_app() as db:
        return [(n.url, n.params) for n in db.scalars(select(Notification).where(
            Notification.user_id == user_id, Notification.kind == kind).order_by(Notification.id))]


def test_a_discount_over_ten_percent_is_won_only_once_the_manager_approves(dispatcher, in_app, team, rule):
    mads, sofie = client_of(dispatcher, "mads"), client_of(dispatcher, "sofie")
    big = deal(in_app, team, "15")
    won = stage_id(in_app, "Won")
    assert state_of(in_app, big) == ("open", "required")

    # 1. Marking it won is refused beside the stage, with what is needed; it stays open.
    refused = mads.post_form(f"/crm/opportunities/{big}/stage", {"stage_id": str(won)})
    assert refused.status_code == 422 and NEEDS_APPROVAL in refused.get_data(as_text=True)
    assert state_of(in_app, big) == ("open", "required")

    # 2. Mads asks from the button on the page; Sofie, his manager, is notified with a link to the deal.
    page = mads.get(f"/crm/opportunities/{big}").get_data(as_text=True)
    assert f'action="/crm/opportunities/{big}/request-approval"' in page
    asked = mads.post_form(f"/crm/opportunities/{big}/request-approval", {"note": "Fleet of 40 vans"})
    assert asked.status_code == 303
    assert state_of(in_app, big) == ("open", "pending")
    twice = mads.post_form(f"/crm/opportunities/{big}/request-approval", {}, follow_redirects=True)
    assert "is asked already" in twice.get_data(as_text=True)
    assert [url for url, _params in inbox(in_app, team["sofie"], "core.approval_requested")] == [
        f"/crm/opportunities/{big}"]
    assert f'action="/crm/opportunities/{big}/request-approval"' not in mads.get(
        f"/crm/opportunities/{big}").get_data(as_text=True)
    waiting = mads.post_form(f"/crm/opportunities/{big}/stage", {"stage_id": str(won)})
    assert waiting.status_code == 422 and "waiting for approval" in waiting.get_data(as_text=True)

    # 3. Sofie approves; Mads is told, the timeline says so, and the deal can be won.
    with in_app() as db:
        task = pending_task_id(db, "crm.opportunity", big)
    assert sofie.post_form(f"/approvals/tasks/{task}/approve", {}).status_code == 303
    assert state_of(in_app, big) == ("open", "approved")
    assert [params["title"] for _url, params in inbox(in_app, team["mads"], "core.approval_decided")] == [
        "Fleet tracking"]
    assert "Approved" in mads.get(f"/crm/timeline?opportunity_id={big}").get_data(as_text=True)
    assert mads.post_form(f"/crm/opportunities/{big}/stage", {"stage_id": str(won)}).status_code == 303
    assert state_of(in_app, big)[0] == "won"


def test_a_small_discount_is_won_directly_and_needs_no_request(dispatcher, in_app, team, rule):
    mads = client_of(dispatcher, "mads")
    small = deal(in_app, team, "10")  # not more than 10 %
    assert state_of(in_app, small) == ("open", "none")
    page = mads.get(f"/crm/opportunities/{small}").get_data(as_text=True)
    assert "request-approval" not in page
    refused = mads.post_form(f"/crm/opportunities/{small}/request-approval", {}, follow_redirects=True)
    assert "needs no approval" in refused.get_data(as_text=True)
    assert mads.post_form(f"/crm/opportunities/{small}/stage",
                          {"stage_id": str(stage_id(in_app, "Won"))}).status_code == 303
    assert state_of(in_app, small)[0] == "won"


def test_a_larger_discount_after_approval_asks_the_manager_again(dispatcher, in_app, team, rule):
    mads, sofie = client_of(dispatcher, "mads"), client_of(dispatcher, "sofie")
    big = deal(in_app, team, "15")
    mads.post_form(f"/crm/opportunities/{big}/request-approval", {})
    with in_app() as db:
        first = pending_task_id(db, "crm.opportunity", big)
    sofie.post_form(f"/approvals/tasks/{first}/approve", {})

    renamed = mads.post_form(f"/crm/opportunities/{big}/edit", {"title": "Fleet tracking, 40 vans"})
    assert renamed.status_code == 303
    assert state_of(in_app, big) == ("open", "approved")  # the rule does not read the title

    raised = mads.post_form(f"/crm/opportunities/{big}/edit", {"discount": "20"})
    assert raised.status_code == 303
    assert state_of(in_app, big) == ("open", "pending")
    assert len(inbox(in_app, team["sofie"], "core.approval_requested")) == 2
    with in_app() as db:
        again = pending_task_id(db, "crm.opportunity", big)
    assert again != first


def test_the_api_cannot_win_with_a_discount_above_the_approved_one(api_with, in_app, team, rule, dispatcher):
    mads, sofie = client_of(dispatcher, "mads"), client_of(dispatcher, "sofie")
    big = deal(in_app, team, "15")
    mads.post_form(f"/crm/opportunities/{big}/request-approval", {})
    with in_app() as db:
        sofie.post_form(f"/approvals/tasks/{pending_task_id(db, 'crm.opportunity', big)}/approve", {})
    manager = api_with(roles=["sales_manager"])

    # the discount raised and the deal won in one call: won with a discount nobody approved? No.
    response = manager.patch(f"/api/v1/crm/opportunities/{big}",
                             json={"discount": "25.00", "stage_id": stage_id(in_app, "Won")})
    assert response.status_code == 409 and response.content_type == "application/problem+json"
    assert response.get_json()["detail"] == NEEDS_APPROVAL
    with in_app() as db:
        found = db.get(Opportunity, big)
        assert (found.status, found.discount) == ("open", Decimal("15.00"))

    moved = manager.post(f"/api/v1/crm/opportunities/{big}/stage", json={"stage_id": stage_id(in_app, "Won")})
    assert moved.status_code == 200 and moved.get_json()["status"] == "won"
    assert moved.get_json()["discount"] == "15.00"


def rejected(dispatcher, in_app, team) -> int:
    """Mads's deal with 15 % whose approval Sofie rejected; its id."""
    mads, sofie = client_of(dispatcher, "mads"), client_of(dispatcher, "sofie")
    big = deal(in_app, team, "15")
    mads.post_form(f"/crm/opportunities/{big}/request-approval", {})
    with in_app() as db:
        task = pending_task_id(db, "crm.opportunity", big)
    assert sofie.post_form(f"/approvals/tasks/{task}/reject", {"reason": "Too much"}).status_code == 303
    assert state_of(in_app, big) == ("open", "rejected")
    return big


def test_after_a_rejection_the_salesperson_may_ask_again(dispatcher, in_app, team, rule):
    big = rejected(dispatcher, in_app, team)
    mads = client_of(dispatcher, "mads")
    refused = mads.post_form(f"/crm/opportunities/{big}/stage", {"stage_id": str(stage_id(in_app, "Won"))})
    assert refused.status_code == 422 and "was rejected" in refused.get_data(as_text=True)
    assert mads.post_form(f"/crm/opportunities/{big}/edit", {"discount": "12"}).status_code == 303
    assert mads.post_form(f"/crm/opportunities/{big}/request-approval", {}).status_code == 303
    assert state_of(in_app, big) == ("open", "pending")


def test_a_rejected_deal_whose_discount_no_rule_reads_any_more_can_be_won(dispatcher, in_app, team, rule):
    big = rejected(dispatcher, in_app, team)
    mads = client_of(dispatcher, "mads")
    assert mads.post_form(f"/crm/opportunities/{big}/edit", {"discount": "5"}).status_code == 303
    assert state_of(in_app, big) == ("open", "none")


@pytest.mark.parametrize("typed, error", [("abc", "Enter a percentage such as 12.5."),
                                          ("150", "Enter a percentage from 0 to 100."),
                                          ("12.345", "Give the discount to the hundredth of a percent")])
def test_a_discount_that_is_no_percentage_is_refused_beside_its_field(dispatcher, in_app, team, typed, error):
    mads = client_of(dispatcher, "mads")
    big = deal(in_app, team, "5")
    response = mads.post_form(f"/crm/opportunities/{big}/edit", {"discount": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and error in html and 'id="e-discount"' in html
    with in_app() as db:
        assert db.get(Opportunity, big).discount == Decimal("5.00")


def test_the_api_takes_the_discount_as_a_decimal_string_and_names_it_when_wrong(api_with, team):
    manager = api_with(roles=["sales_manager"])
    made = manager.post("/api/v1/crm/opportunities", json={"party_id": team["customer"], "title": "Racking",
                                                           "owner_id": team["mads"], "discount": "12.50"})
    assert made.status_code == 201 and made.get_json()["discount"] == "12.50"
    wrong = manager.post("/api/v1/crm/opportunities", json={"party_id": team["customer"], "title": "Racking",
                                                            "owner_id": team["mads"], "discount": "101"})
    assert wrong.status_code == 422 and "discount" in wrong.get_json()["errors"]


def test_the_demo_holds_the_discount_rule_and_a_request_waiting_for_a_sales_manager(db):
    from core.approvals.models import ApprovalRequest, ApprovalRule
    from core.parties.demo import load_demo_parties
    from plugins.crm.pipeline import plugin as pipeline

    testing.crm_user(db, "admin", ["admin"])
    testing.crm_user(db, "sales", ["staff", "salesperson"])
    manager = testing.crm_user(db, "manager", ["staff", "sales_manager"])
    load_demo_parties(db, lambda n=1: None)
    pipeline.load_demo_data(db, lambda n=1: None)

    [rule] = db.scalars(select(ApprovalRule)).all()
    assert (rule.kind, rule.name, rule.condition) == ("crm.opportunity", "Discounts over 10 %", "discount > 0.10")
    assert [(step.approver_type, step.role.name) for step in rule.steps] == [("role", "sales_manager")]
    discounted = db.scalars(select(Opportunity).where(Opportunity.discount > 0)).unique().all()
    assert discounted and all(d.status == "open" for d in discounted)
    [asked] = db.scalars(select(ApprovalRequest)).all()
    assert asked.state == "pending" and db.get(Opportunity, asked.record_id).discount > 10
    assert [a.user_id for task in asked.tasks for a in task.assignees] == [manager.id]
