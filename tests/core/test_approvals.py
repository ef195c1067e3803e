"""The approval engine, through its services, on the ``expenses`` fixture plugin's claims.

An admin's rule says when a claim needs approval (a condition over amount, discount, category and
urgent) and who approves (a chain of steps: a role, a named user or the requester's manager, in
sequence or in parallel, with amount limits). The requester asks; the approvers decide; the module
hears each outcome through ``approval_decided`` and a changed claim is asked again.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import Conflict, Forbidden, InvalidInput, acting_as
from core.approvals import services
from core.approvals.models import ApprovalTask
from tests.core.approvals_kit import KIND, by_manager, by_role, by_user, claim, person, rule, states


@pytest.fixture(scope="session")
def kontor_plugins() -> tuple[str, ...]:
    return ("kontor_hello.plugin", "expenses.plugin")


@pytest.fixture
def modules():
    return ("expenses",)


@pytest.fixture
def heard():
    """What the expenses module heard through approval_decided during the test."""
    from expenses.plugin import decided

    decided.clear()
    yield decided
    decided.clear()


@pytest.fixture
def team(db):
    """A director, a manager reporting to them, a salesperson reporting to the manager, and a clerk."""
    director = person(db, "dora")
    manager = person(db, "mads", manager=director)
    seller = person(db, "sofie", manager=manager)
    clerk = person(db, "carl")
    db.commit()
    return {"director": director, "manager": manager, "seller": seller, "clerk": clerk}


def ask(db, user, record, note=""):
    with acting_as(user):
        return services.request_approval(db, KIND, record, note=note)


def approve(db, user, task, note=""):
    with acting_as(user):
        return services.approve(db, task.id, note)


def task_of(request, label) -> ApprovalTask:
    [found] = [t for t in request.tasks if t.approver_label == label and t.state not in ("reset", "closed")]
    return found


def notified(db, user, kind="core.approval_requested") -> list[str]:
    from core.notifications.models import Notification

    return [n.record for n in db.scalars(select(Notification).where(Notification.user_id == user.id,
                                                                     Notification.kind == kind))]


# -- conditions --


def test_a_record_no_rule_holds_for_needs_no_approval(db, team, heard):
    rule(db, "Large claims", [by_manager()], "amount > 5000")
    small = claim(db, amount="1200.00")
    assert ask(db, team["seller"], small) is None
    assert services.approval_state(db, KIND, small) == "none"
    services.require_approval(db, KIND, small)  # nothing needed: no refusal
    assert heard == []


def test_a_rule_whose_condition_holds_asks_its_first_step_and_notifies_the_approver(db, team):
    rule(db, "Large claims", [by_manager(), by_user("dora")], "amount > 1000 or discount > 15")
    big = claim(db, amount="1200.00")
    assert services.approval_state(db, KIND, big) == "required"
    request = ask(db, team["seller"], big, note="Fair in Hamburg")
    db.commit()
    assert request.state == "pending" and request.note == "Fair in Hamburg"
    assert states(request) == [("Large claims", "Mads", "pending"), ("Large claims", "Dora", "waiting")]
    assert request.snapshot == {"amount": "1200", "discount": "0"}  # the fields the rules read
    assert notified(db, team["manager"]) == [f"{KIND}:{big.id}"]
    assert notified(db, team["director"]) == []  # not asked yet
    assert services.approval_state(db, KIND, big) == "pending"
    with pytest.raises(Conflict, match="needs approval before it can be paid"):
        from expenses.plugin import pay

        pay(big)
    again = ask(db, team["seller"], big)
    assert again.id == request.id and len(again.tasks) == 2  # no duplicate


def test_a_condition_on_text_and_boolean_fields(db, team):
    rule(db, "Urgent travel", [by_manager()], 'urgent and category == "travel"')
    assert ask(db, team["seller"], claim(db, urgent=True, category="meals")) is None
    assert ask(db, team["seller"], claim(db, urgent=True, category="travel")).state == "pending"


# -- chains --


def test_steps_in_sequence_then_the_request_is_approved_and_the_module_told(db, team, heard):
    rule(db, "Large claims", [by_manager(), by_user("dora")], "amount > 1000")
    big = claim(db)
    request = ask(db, team["seller"], big)
    approve(db, team["manager"], task_of(request, "Mads"), "fine by me")
    assert states(request) == [("Large claims", "Mads", "approved"), ("Large claims", "Dora", "pending")]
    assert notified(db, team["director"]) == [f"{KIND}:{big.id}"]
    assert request.state == "pending" and heard == []
    approve(db, team["director"], task_of(request, "Dora"))
    db.commit()
    assert request.state == "approved" and request.decided_at is not None
    assert heard == [(KIND, big.id, "approved")]
    assert big.state == "approved"  # what the module made of it, in the same transaction
    assert services.approval_state(db, KIND, big) == "approved"
    assert notified(db, team["seller"], "core.approval_decided") == [f"{KIND}:{big.id}"]
    from expenses.plugin import pay

    pay(big)
    assert big.state == "paid"


def test_parallel_steps_are_asked_together_and_all_must_approve(db, team):
    rule(db, "Two keys", [by_manager(), by_user("carl") | {"parallel": True}, by_user("dora")], "amount > 1000")
    request = ask(db, team["seller"], claim(db))
    assert [t.state for t in request.tasks] == ["pending", "pending", "waiting"]
    approve(db, team["clerk"], task_of(request, "Carl"))
    assert [t.state for t in request.tasks] == ["pending", "approved", "waiting"]
    approve(db, team["manager"], task_of(request, "Mads"))
    assert [t.state for t in request.tasks] == ["approved", "approved", "pending"]


def test_every_rule_that_holds_is_asked_and_all_must_approve(db, team, heard):
    rule(db, "Large claims", [by_manager()], "amount > 1000")
    rule(db, "Urgent", [by_user("carl")], "urgent")
    big = claim(db, urgent=True)
    request = ask(db, team["seller"], big)
    assert states(request) == [("Large claims", "Mads", "pending"), ("Urgent", "Carl", "pending")]
    approve(db, team["manager"], task_of(request, "Mads"))
    assert request.state == "pending"
    approve(db, team["clerk"], task_of(request, "Carl"))
    assert request.state == "approved" and heard == [(KIND, big.id, "approved")]


def test_a_role_step_asks_every_active_holder_but_the_requester_and_one_decides(db, team):
    from core.auth.services import create_role, set_active

    create_role(db, "finance", "Finance")
    anna = person(db, "anna", roles=["finance"])
    bo = person(db, "bo", roles=["finance"])
    gone = person(db, "gone", roles=["finance"])
    set_active(db, gone, False)
    person(db, "blind", roles=["finance"], permissions=[])  # may not read claims: not asked
    asker = person(db, "finn", roles=["finance"])
    rule(db, "Finance looks", [by_role("finance")], "amount > 1000")
    request = ask(db, asker, claim(db))
    [task] = request.tasks
    assert task.assignee_ids == {anna.id, bo.id}
    assert task.approver_label == "Finance"
    with acting_as(bo):
        assert [t.id for t in services.awaiting(db, bo)] == [task.id]
    approve(db, anna, task)
    assert request.state == "approved" and task.decided_by_id == anna.id
    with acting_as(bo):
        assert services.awaiting(db, bo) == []


def test_a_step_for_the_manager_of_a_requester_without_one_is_refused_naming_the_step(db, team):
    rule(db, "Large claims", [by_user("carl"), by_manager()], "amount > 1000")
    with pytest.raises(Conflict, match="Step 2 of the rule Large claims asks your manager"):
        ask(db, team["director"], claim(db))  # the director has no manager


# -- amount limits --


@pytest.mark.parametrize("amount, asked, approved", [
    ("4000.00", ["Mads"], ["approved", "skipped", "skipped"]),
    ("20000.00", ["Mads", "Dora"], ["approved", "approved", "skipped"]),
    ("90000.00", ["Mads", "Dora", "Carl"], ["approved", "approved", "approved"]),
])
def test_an_approver_whose_limit_covers_the_amount_completes_the_chain(db, team, amount, asked, approved):
    rule(db, "Spending", [by_manager(amount_limit="5000.00"), by_user("dora") | {"amount_limit": "50000"},
                          by_user("carl")])
    people = {"Mads": team["manager"], "Dora": team["director"], "Carl": team["clerk"]}
    request = ask(db, team["seller"], claim(db, amount=amount))
    for label in asked:
        approve(db, people[label], task_of(request, label))
    assert [t.state for t in request.tasks] == approved
    assert request.state == "approved"


def test_the_last_approver_cannot_approve_beyond_their_limit(db, team):
    rule(db, "Spending", [by_manager(amount_limit="5000.00")])
    request = ask(db, team["seller"], claim(db, amount="7000.00"))
    with pytest.raises(Forbidden, match="up to 5000.00"):
        approve(db, team["manager"], request.tasks[0])
    assert request.tasks[0].state == "pending"


# -- who may decide --


def test_the_requester_may_never_approve_their_own_request_nor_anyone_else_not_asked(db, team):
    rule(db, "Large claims", [by_role("admin")], "amount > 1000")
    boss = person(db, "boss", roles=["admin"])
    other = person(db, "otto", roles=["admin"])
    request = ask(db, boss, claim(db))  # the requester holds the role: someone else must approve
    assert boss.id not in request.tasks[0].assignee_ids
    with pytest.raises(Forbidden, match="You asked for this approval"):
        approve(db, boss, request.tasks[0])
    with pytest.raises(Forbidden, match="not yours to decide"):
        approve(db, team["clerk"], request.tasks[0])
    approve(db, other, request.tasks[0])
    assert request.state == "approved"


def test_a_step_naming_the_requester_is_refused_when_asked(db, team):
    rule(db, "Large claims", [by_user("sofie")], "amount > 1000")
    with pytest.raises(Conflict, match="Step 1 of the rule Large claims names an approver who cannot approve"):
        ask(db, team["seller"], claim(db))


def test_reject_needs_a_reason_and_rejects_the_whole_request(db, team, heard):
    rule(db, "Large claims", [by_manager(), by_user("dora")], "amount > 1000")
    big = claim(db)
    request = ask(db, team["seller"], big)
    with acting_as(team["manager"]), pytest.raises(InvalidInput) as refused:
        services.reject(db, request.tasks[0].id, "  ")
    assert refused.value.field == "reason" and request.tasks[0].state == "pending"
    with acting_as(team["manager"]):
        services.reject(db, request.tasks[0].id, "Book the train instead")
    assert request.state == "rejected" and [t.state for t in request.tasks] == ["rejected", "closed"]
    assert request.tasks[0].reason == "Book the train instead"
    assert heard == [(KIND, big.id, "rejected")]
    assert services.approval_state(db, KIND, big) == "rejected"
    with pytest.raises(Conflict, match="was rejected"):
        services.require_approval(db, KIND, big)
    with pytest.raises(Conflict, match="no longer waiting"):
        approve(db, team["director"], request.tasks[1])
    assert ask(db, team["seller"], big).id != request.id  # asking again makes a new request


def test_a_rejected_record_changed_is_decided_by_the_rules_that_hold_now(db, team):
    from expenses.plugin import change

    rule(db, "Large claims", [by_manager()], "amount > 1000")
    big = claim(db)
    with acting_as(team["manager"]):
        services.reject(db, ask(db, team["seller"], big).tasks[0].id, "Too dear")
    change(big, memo="cheaper hotel found")  # no field a rule reads: still rejected
    assert services.approval_state(db, KIND, big) == "rejected"
    change(big, amount=Decimal("1100.00"))
    assert services.approval_state(db, KIND, big) == "required"  # ask again
    change(big, amount=Decimal("800.00"))
    assert services.approval_state(db, KIND, big) == "none"
    services.require_approval(db, KIND, big)


def test_delegate_hands_the_task_over(db, team):
    rule(db, "Large claims", [by_manager()], "amount > 1000")
    request = ask(db, team["seller"], claim(db))
    task = request.tasks[0]
    with acting_as(team["manager"]), pytest.raises(InvalidInput) as refused:
        services.delegate(db, task.id, team["seller"])
    assert refused.value.field == "to_user"
    with acting_as(team["manager"]):
        services.delegate(db, task.id, team["clerk"])
    assert task.assignee_ids == {team["clerk"].id}
    assert notified(db, team["clerk"]) == [request.record]
    with pytest.raises(Forbidden, match="not yours"):
        approve(db, team["manager"], task)
    approve(db, team["clerk"], task)
    assert request.state == "approved"


def test_a_standing_delegation_covers_its_period_only(db, team):
    rule(db, "Large claims", [by_manager()], "amount > 1000")
    deputy = person(db, "deputy")
    today = date.today()
    with pytest.raises(InvalidInput) as refused:
        services.set_away(db, team["manager"], deputy, today, today - timedelta(days=1))
    assert refused.value.field == "ends"
    services.set_away(db, team["manager"], deputy, today + timedelta(days=1), today + timedelta(days=5))
    request = ask(db, team["seller"], claim(db))
    assert services.awaiting(db, deputy) == []  # not away yet
    with pytest.raises(Forbidden):
        approve(db, deputy, request.tasks[0])
    services.set_away(db, team["manager"], deputy, today, today + timedelta(days=5))
    assert [t.id for t in services.awaiting(db, deputy)] == [request.tasks[0].id]
    approve(db, deputy, request.tasks[0])
    assert request.state == "approved" and request.tasks[0].decided_by_id == deputy.id
    services.set_away(db, team["manager"], None, None, None)
    assert services.away_of(db, team["manager"]) is None


def test_recall_is_the_requesters_only(db, team, heard):
    rule(db, "Large claims", [by_manager()], "amount > 1000")
    big = claim(db)
    request = ask(db, team["seller"], big)
    with acting_as(team["manager"]), pytest.raises(Forbidden):
        services.recall(db, request.id)
    with acting_as(team["seller"]):
        services.recall(db, request.id)
    assert request.state == "recalled" and request.tasks[0].state == "closed"
    assert heard == [(KIND, big.id, "recalled")]
    assert services.approval_state(db, KIND, big) == "required"
    with acting_as(team["seller"]), pytest.raises(Conflict):
        services.recall(db, request.id)


def test_asking_needs_the_kinds_request_permission(db, team):
    rule(db, "Large claims", [by_manager()], "amount > 1000")
    reader = person(db, "reader", permissions=["expenses.claim.read"])
    with pytest.raises(Forbidden):
        ask(db, reader, claim(db))


# -- smart re-approval --


def test_a_change_to_a_field_no_rule_reads_changes_nothing(db, team, heard):
    from expenses.plugin import change

    rule(db, "Large claims", [by_manager()], "amount > 1000")
    big = claim(db)
    request = ask(db, team["seller"], big)
    approve(db, team["manager"], request.tasks[0])
    change(big, memo="receipt attached", title="Taxi, both ways")
    assert request.state == "approved" and heard == [(KIND, big.id, "approved")]
    assert services.approval_state(db, KIND, big) == "approved"


def test_a_change_to_a_read_field_asks_again_only_the_rules_that_hold_now(db, team, heard):
    from expenses.plugin import change

    rule(db, "Large claims", [by_manager()], "amount > 1000")
    rule(db, "Big discount", [by_user("dora")], "discount > 10")
    big = claim(db, amount="1200.00")
    request = ask(db, team["seller"], big)
    approve(db, team["manager"], request.tasks[0])
    assert request.state == "approved"
    change(big, amount=Decimal("900.00"), discount=Decimal("12"))
    db.commit()
    assert request.state == "pending" and heard[-1] == (KIND, big.id, "reset")
    assert big.state == "draft"
    assert states(request) == [("Large claims", "Mads", "reset"), ("Big discount", "Dora", "pending")]
    assert request.snapshot["amount"] == "900" and request.snapshot["discount"] == "12"
    assert notified(db, team["director"]) == [request.record]
    approve(db, team["director"], task_of(request, "Dora"))
    assert request.state == "approved"
    change(big, discount=Decimal("3"))
    assert request.state == "none" and heard[-1] == (KIND, big.id, "reset")
    assert services.approval_state(db, KIND, big) == "none"


def test_a_pending_request_changed_is_asked_again_of_the_same_rule(db, team):
    from expenses.plugin import change

    rule(db, "Large claims", [by_manager(), by_user("dora")], "amount > 1000")
    big = claim(db)
    request = ask(db, team["seller"], big)
    approve(db, team["manager"], task_of(request, "Mads"))
    change(big, amount=Decimal("1500.00"))
    assert [t.state for t in request.tasks] == ["reset", "reset", "pending", "waiting"]
    assert request.state == "pending"


def test_an_approved_record_changed_without_telling_the_engine_needs_approval_again(db, team):
    rule(db, "Large claims", [by_manager()], "amount > 1000")
    big = claim(db)
    approve(db, team["manager"], ask(db, team["seller"], big).tasks[0])
    big.amount = Decimal("3000.00")  # the module forgot record_changed: the snapshot still tells
    assert services.approval_state(db, KIND, big) == "required"


# -- the audit log --


def test_every_decision_is_audited_with_who_decided(db, team):
    from core.audit.models import AuditRecord

    rule(db, "Large claims", [by_manager(), by_user("dora")], "amount > 1000")
    request = ask(db, team["seller"], claim(db))
    db.commit()
    approve(db, team["manager"], request.tasks[0], "ok")
    db.commit()
    with acting_as(team["director"]):
        services.reject(db, request.tasks[1].id, "too much")
    db.commit()
    rows = db.scalars(select(AuditRecord).where(AuditRecord.table_name == "core_approval_task",
                                                AuditRecord.action == "update").order_by(AuditRecord.seq)).all()
    decided = [(r.username, json.loads(r.changes).get("state"), json.loads(r.changes).get("reason")) for r in rows]
    assert ("mads", ["pending", "approved"], ["", "ok"]) in decided
    assert ("dora", ["pending", "rejected"], ["", "too much"]) in decided
    requests = db.scalars(select(AuditRecord).where(AuditRecord.table_name == "core_approval_request")).all()
    assert {r.username for r in requests} >= {"sofie", "dora"}


def test_a_manager_chain_never_goes_round(db, team):
    from core.auth.managers import set_manager

    with pytest.raises(InvalidInput) as refused:
        set_manager(db, team["director"], team["seller"].id)  # sofie → mads → dora → sofie
    assert refused.value.field == "manager_id" and "round in a circle" in refused.value.message
    with pytest.raises(InvalidInput):
        set_manager(db, team["seller"], team["seller"].id)
    with pytest.raises(InvalidInput):
        set_manager(db, team["seller"], 99999)
    set_manager(db, team["clerk"], team["director"].id)
    assert team["clerk"].manager_id == team["director"].id
