"""Approvals through the pages, the JSON API and the CLI: the Approval panel of a record, "Awaiting my
approval" with its bulk approve, the rules admin with its steps editor, the user's manager and the
standing delegation. Segregation of duties holds on every path."""
from __future__ import annotations

import html
import re
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from core.approvals.models import ApprovalRequest, ApprovalRule, ApprovalTask
from core.auth.models import User
from core.auth.tokens import create_token
from core.testing import ApiClient, WebClient, factories
from tests.core.approvals_kit import KIND, by_manager, by_user, claim, person, rule


@pytest.fixture(scope="session")
def kontor_plugins() -> tuple[str, ...]:
    return ("kontor_hello.plugin", "expenses.plugin")


@pytest.fixture
def modules():
    return ("expenses",)


class Office:
    """A committed team (dora manages mads, who manages sofie; carl reads claims; root administers), a
    rule asking the manager then dora for claims above 1,000, a claim of 1,200, and signed-in clients.

    Each look at the database is made in an app context of its own, as a request would be."""

    def __init__(self, app, dispatcher):
        self.app, self.dispatcher = app, dispatcher
        with self.session() as db:
            self.dora = self._who(person(db, "dora"))
            self.mads = self._who(person(db, "mads", manager=db.get(User, self.dora.id)))
            self.sofie = self._who(person(db, "sofie", manager=db.get(User, self.mads.id)))
            self.carl = self._who(person(db, "carl", permissions=["expenses.claim.read"]))
            self.root = self._who(person(db, "root", roles=["admin"]))
            rule(db, "Large claims", [by_manager(), by_user("dora")], "amount > 1000")
            db.commit()
        self.claim_id = self.add_claim("Hamburg fair", "1200.00")

    @staticmethod
    def _who(user) -> SimpleNamespace:
        return SimpleNamespace(id=user.id, username=user.username)

    @contextmanager
    def session(self):
        with self.app.app_context():
            from core.db import session

            yield session
            session.rollback()

    def add_claim(self, title: str, amount: str) -> int:
        with self.session() as db:
            made = claim(db, title, amount=amount)
            db.commit()
            return made.id

    def add_person(self, name: str, permissions=()) -> SimpleNamespace:
        with self.session() as db:
            made = self._who(person(db, name, permissions=list(permissions)))
            db.commit()
            return made

    def web(self, user) -> WebClient:
        client = WebClient(self.dispatcher)
        assert client.login(user.username, factories.PASSWORD).status_code == 302
        return client

    def api(self, user) -> ApiClient:
        with self.session() as db:
            _, secret = create_token(db, db.get(User, user.id), "tests")
            db.commit()
        return ApiClient(WebClient(self.dispatcher), secret)

    def request(self) -> SimpleNamespace:
        """The newest request: its id, state and tasks (id, state) in order."""
        with self.session() as db:
            found = db.scalar(select(ApprovalRequest).order_by(ApprovalRequest.id.desc()).limit(1))
            return SimpleNamespace(id=found.id, state=found.state,
                                   tasks=[SimpleNamespace(id=t.id, state=t.state) for t in found.tasks])

    def task_state(self, task_id: int) -> str:
        with self.session() as db:
            return db.get(ApprovalTask, task_id).state

    def pending_tasks(self) -> list[int]:
        with self.session() as db:
            return list(db.scalars(select(ApprovalTask.id).where(ApprovalTask.state == "pending")
                                   .order_by(ApprovalTask.id)))

    def rule_named(self, name: str) -> SimpleNamespace | None:
        with self.session() as db:
            found = db.scalar(select(ApprovalRule).where(ApprovalRule.name == name))
            if found is None:
                return None
            return SimpleNamespace(id=found.id, condition=found.condition, active=found.active,
                                   limits=[s.amount_limit for s in found.steps])

    def decided_notice(self, user) -> str | None:
        from core.notifications.models import Notification

        with self.session() as db:
            return db.scalar(select(Notification.record).where(Notification.user_id == user.id,
                                                               Notification.kind == "core.approval_decided"))

    def panel_url(self, claim_id=None) -> str:
        return f"/approvals/record/{KIND}/{claim_id or self.claim_id}"


@pytest.fixture
def office(app, dispatcher) -> Office:
    return Office(app, dispatcher)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- the panel --


def test_the_record_page_loads_the_approval_panel_and_each_viewer_gets_their_buttons(office):
    sofie, mads = office.web(office.sofie), office.web(office.mads)
    page = text(sofie.get(f"/expenses/{office.claim_id}"))
    assert f'hx-get="{office.panel_url()}"' in page
    panel = text(sofie.get(office.panel_url()))
    assert "Needs approval" in panel and "Request approval" in panel
    asked = sofie.htmx("POST", f"{office.panel_url()}/request", data={"note": "Booth rent"})
    assert asked.status_code == 200
    panel = text(asked)
    assert 'data-approval-state="pending"' in panel and "asked by Sofie" in panel and "Booth rent" in panel
    assert "Recall" in panel and "approval-approve" not in panel  # the requester never gets Approve
    request = office.request()
    first, second = request.tasks
    assert re.search(rf'data-task="{first.id}" data-state="pending".*?Mads', panel, re.S)
    mine = text(mads.get(office.panel_url()))
    assert f"/approvals/tasks/{first.id}/approve" in mine and f"/approvals/tasks/{second.id}/approve" not in mine
    assert "Recall" not in mine
    approved = mads.htmx("POST", f"/approvals/tasks/{first.id}/approve")
    assert approved.status_code == 200 and 'data-state="approved"' in text(approved)
    assert "Mads on" in text(approved)  # who decided, and when


def test_a_record_no_rule_holds_for_says_so_in_the_panel(office):
    small = office.add_claim("Coffee", "12.00")
    sofie = office.web(office.sofie)
    assert "No approval needed" in text(sofie.get(office.panel_url(small)))
    refused = sofie.htmx("POST", f"{office.panel_url(small)}/request", data={"note": ""})
    assert refused.status_code == 422 and "No approval rule applies" in text(refused)


def test_the_panel_of_a_record_the_viewer_may_not_read_is_refused(office):
    nobody = office.add_person("nobody")
    assert office.web(nobody).get(office.panel_url()).status_code == 403
    assert office.web(office.sofie).get(office.panel_url(999999)).status_code == 404


def test_reject_without_a_reason_shows_the_error_beside_the_field_and_changes_nothing(office):
    sofie, mads = office.web(office.sofie), office.web(office.mads)
    sofie.htmx("POST", f"{office.panel_url()}/request", data={"note": ""})
    task = office.request().tasks[0]
    refused = mads.htmx("POST", f"/approvals/tasks/{task.id}/reject", data={"reason": "  "})
    assert refused.status_code == 422
    body = text(refused)
    assert re.search(rf'id="f-reason-{task.id}"[^>]*aria-invalid="true"', body)
    assert f'id="e-reason-{task.id}" class="field-error">Say why you reject it.' in body
    assert office.request().tasks[0].state == "pending"
    rejected = mads.htmx("POST", f"/approvals/tasks/{task.id}/reject", data={"reason": "Too dear"})
    assert 'data-approval-state="rejected"' in text(rejected) and "“Too dear”" in text(rejected)
    # the salesperson sees the decision: in the panel, and in their inbox
    assert "Rejected" in text(sofie.get(office.panel_url()))
    assert office.decided_notice(office.sofie) == f"{KIND}:{office.claim_id}"


def test_the_requester_cannot_approve_their_own_request_in_the_ui(office):
    sofie = office.web(office.sofie)
    sofie.htmx("POST", f"{office.panel_url()}/request", data={"note": ""})
    task = office.request().tasks[0]
    refused = sofie.post_form(f"/approvals/tasks/{task.id}/approve", {})
    assert refused.status_code == 403 and "You asked for this approval" in text(refused)
    bulk = sofie.post_form("/approvals/approve", {"tasks": [str(task.id)]})
    assert bulk.status_code == 303
    assert "You asked for this approval" in text(sofie.get("/approvals/"))  # the flashed refusal
    assert office.request().tasks[0].state == "pending"


def test_delegate_from_the_panel(office):
    sofie, mads, carl = office.web(office.sofie), office.web(office.mads), office.web(office.carl)
    sofie.htmx("POST", f"{office.panel_url()}/request", data={"note": ""})
    task = office.request().tasks[0]
    handed = mads.htmx("POST", f"/approvals/tasks/{task.id}/delegate", data={"to_user": str(office.carl.id)})
    assert handed.status_code == 200
    assert f"/approvals/tasks/{task.id}/approve" not in text(handed)  # no longer the manager's
    assert f"/approvals/tasks/{task.id}/approve" in text(carl.get(office.panel_url()))
    refused = carl.htmx("POST", f"/approvals/tasks/{task.id}/delegate", data={"to_user": str(office.sofie.id)})
    assert refused.status_code == 422 and "The requester cannot approve their own request." in text(refused)


def test_recall_from_the_panel(office):
    sofie = office.web(office.sofie)
    sofie.htmx("POST", f"{office.panel_url()}/request", data={"note": ""})
    recalled = sofie.htmx("POST", f"/approvals/{office.request().id}/recall")
    assert recalled.status_code == 200 and "Needs approval" in text(recalled)
    assert office.request().state == "recalled"


# -- awaiting my approval --


def test_awaiting_my_approval_lists_my_tasks_with_a_count_and_approves_the_ticked_ones(office):
    second = office.add_claim("Berlin fair", "3000.00")
    sofie, mads = office.web(office.sofie), office.web(office.mads)
    for claim_id in (office.claim_id, second):
        sofie.htmx("POST", f"{office.panel_url(claim_id)}/request", data={"note": ""})
    page = text(mads.get("/approvals/"))
    assert "Awaiting my approval (2)" in page  # the menu entry counts them
    assert f'href="/expenses/{office.claim_id}">Claim Hamburg fair</a>' in page
    assert f'href="/expenses/{second}">Claim Berlin fair</a>' in page
    tasks = office.pending_tasks()
    assert len(tasks) == 2
    done = mads.post_form("/approvals/approve", {"tasks": [str(t) for t in tasks]})
    assert done.status_code == 303
    after = text(mads.get("/approvals/"))
    assert "2 approved." in after and "Nothing awaits your approval." in after
    assert "Awaiting my approval (" not in after
    assert "Awaiting my approval" in text(office.web(office.dora).get("/approvals/"))
    assert "Claim Hamburg fair" in text(office.web(office.dora).get("/approvals/"))


def test_the_standing_delegation_form_names_its_fields(office):
    mads = office.web(office.mads)
    refused = mads.post_form("/approvals/away", {"delegate_id": str(office.carl.id), "starts": "2026-12-10",
                                                 "ends": "2026-12-01"})
    assert refused.status_code == 422
    assert re.search(r'id="e-ends" class="field-error">Give the last day you are away', text(refused))
    assert mads.post_form("/approvals/away", {"delegate_id": str(office.carl.id), "starts": "2026-12-01",
                                              "ends": "2026-12-10"}).status_code == 303
    assert 'value="2026-12-10"' in text(mads.get("/approvals/away"))


# -- the API --


def test_the_api_asks_decides_and_reads_with_the_same_rules(office):
    sofie, mads, dora = office.api(office.sofie), office.api(office.mads), office.api(office.dora)
    record = f"{KIND}:{office.claim_id}"
    made = sofie.post("/api/v1/approvals/request", json={"record": record, "note": "Booth"})
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert body["state"] == "pending" and body["values"] == {"amount": "1200"} and body["requested_by"] == "sofie"
    assert [(t["approvers"], t["state"]) for t in body["tasks"]] == [(["mads"], "pending"), (["dora"], "waiting")]
    assert sofie.post("/api/v1/approvals/request", json={"record": record}).status_code == 200  # the same one
    first, second = (t["id"] for t in body["tasks"])
    awaiting = mads.get("/api/v1/approvals?awaiting=1").get_json()["items"]
    assert [(t["id"], t["request"]["record"]) for t in awaiting] == [(first, record)]
    assert sofie.get("/api/v1/approvals?awaiting=1").get_json()["items"] == []
    own = sofie.post(f"/api/v1/approvals/tasks/{first}/approve", json={})
    assert own.status_code == 403 and own.headers["Content-Type"] == "application/problem+json"
    assert "You asked for this approval" in own.get_json()["detail"]
    early = dora.post(f"/api/v1/approvals/tasks/{second}/approve", json={})
    assert early.status_code == 409  # her step waits for the manager's
    assert mads.post(f"/api/v1/approvals/tasks/{first}/approve", json={"note": "ok"}).get_json()["tasks"][1]["state"] \
        == "pending"
    no_reason = dora.post(f"/api/v1/approvals/tasks/{second}/reject", json={"reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    done = dora.post(f"/api/v1/approvals/tasks/{second}/approve", json={})
    assert done.status_code == 200 and done.get_json()["state"] == "approved"
    assert sofie.get(f"/api/v1/approvals/{body['id']}").get_json()["state"] == "approved"


def test_the_api_refuses_bad_input_naming_the_field(office):
    sofie = office.api(office.sofie)
    for bad in ({"record": "claim"}, {"record": "expenses.claim:0"}, {}):
        answer = sofie.post("/api/v1/approvals/request", json=bad)
        assert answer.status_code == 422 and "record" in answer.get_json()["errors"], bad
    assert sofie.post("/api/v1/approvals/request", json={"record": "nothing.here:1"}).status_code == 404
    assert sofie.post("/api/v1/approvals/request", json={"record": f"{KIND}:99999"}).status_code == 404
    assert sofie.post("/api/v1/approvals/request", json={"record": f"{KIND}:{office.claim_id}",
                                                         "note": 5}).get_json()["errors"] == {
        "note": ["Not a valid string."]}
    made = sofie.post("/api/v1/approvals/request", json={"record": f"{KIND}:{office.claim_id}"}).get_json()
    mads = office.api(office.mads)
    task = made["tasks"][0]["id"]
    unknown = mads.post(f"/api/v1/approvals/tasks/{task}/delegate", json={"to_user": "ghost"})
    assert unknown.status_code == 422 and "to_user" in unknown.get_json()["errors"]
    stranger = office.api(office.add_person("reader"))
    assert stranger.get(f"/api/v1/approvals/{made['id']}").status_code == 403
    assert stranger.post(f"/api/v1/approvals/tasks/{task}/approve", json={}).status_code == 403
    assert mads.post(f"/api/v1/approvals/{made['id']}/recall").status_code == 403
    assert office.request().state == "pending"


def test_a_bulk_approval_through_the_api_is_all_or_nothing(office):
    second = office.add_claim("Berlin fair", "3000.00")
    sofie, mads = office.api(office.sofie), office.api(office.mads)
    first = sofie.post("/api/v1/approvals/request", json={"record": f"{KIND}:{office.claim_id}"}).get_json()
    other = sofie.post("/api/v1/approvals/request", json={"record": f"{KIND}:{second}"}).get_json()
    mine, hers = first["tasks"][0]["id"], other["tasks"][1]["id"]  # hers: dora's, still waiting
    refused = mads.post("/api/v1/approvals/tasks/approve", json={"tasks": [mine, hers]})
    assert refused.status_code == 403 and list(refused.get_json()["errors"]) == ["tasks.1"]
    assert office.task_state(mine) == "pending"  # nothing was approved
    empty = mads.post("/api/v1/approvals/tasks/approve", json={"tasks": []})
    assert empty.status_code == 422 and "tasks" in empty.get_json()["errors"]
    both = [mine, other["tasks"][0]["id"]]
    assert mads.post("/api/v1/approvals/tasks/approve", json={"tasks": both}).get_json() == {"approved": both}


def test_approval_rules_through_the_api(office):
    root, sofie = office.api(office.root), office.api(office.sofie)
    steps = [{"approver": "role", "role": "nosuchrole"}]
    bad = root.post("/api/v1/approval-rules", json={"kind": KIND, "name": "Odd", "steps": steps})
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["steps.1.role"]
    bad = root.post("/api/v1/approval-rules", json={"kind": KIND, "name": "Odd", "steps": [],
                                                    "condition": "amount > 'x'"})
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["condition"]
    bad = root.post("/api/v1/approval-rules", json={"kind": "no.kind", "name": "Odd", "steps": []})
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["kind"]
    made = root.post("/api/v1/approval-rules", json={
        "kind": KIND, "name": "Discounts", "condition": "discount > 15",
        "steps": [{"approver": "manager", "amount_limit": "5000"}, {"approver": "user", "user": "dora",
                                                                    "parallel": True}]})
    assert made.status_code == 201, made.get_data(as_text=True)
    rule = made.get_json()
    assert rule["steps"] == [{"approver": "manager", "role": None, "user": None, "parallel": False,
                              "amount_limit": "5000.00"},
                             {"approver": "user", "role": None, "user": "dora", "parallel": True, "amount_limit": None}]
    listed = root.get(f"/api/v1/approval-rules?kind={KIND}").get_json()["items"]
    assert [r["name"] for r in listed] == ["Large claims", "Discounts"]
    patched = root.patch(f"/api/v1/approval-rules/{rule['id']}", json={"condition": "discount > 20"})
    assert patched.get_json()["condition"] == "discount > 20" and len(patched.get_json()["steps"]) == 2
    assert root.delete(f"/api/v1/approval-rules/{rule['id']}").status_code == 204
    assert office.rule_named("Discounts").active is False
    assert sofie.get("/api/v1/approval-rules").status_code == 403


# -- the rules admin --


def test_the_steps_editor_adds_removes_and_moves_steps_without_saving(office):
    root = office.web(office.root)
    url = f"/admin/approval-rules/new?kind={KIND}"
    form = {"name": "Travel", "condition": 'category == "travel"', "active": "1", "sequence": "20",
            "step_count": "1", "step-0-approver": "user", "step-0-user": "carl"}
    added = root.htmx("POST", url, data={**form, "op": "add"})
    assert added.status_code == 200 and added.get_data(as_text=True).lstrip().startswith("<fieldset id=\"rule-steps\"")
    assert 'name="step_count" value="2"' in text(added)
    moved = root.htmx("POST", url, data={**form, "step_count": "2", "step-1-approver": "manager", "op": "up-1"})
    body = text(moved)
    assert body.index('name="step-0-approver"') < body.index('<option value="manager" selected')
    assert body.index('<option value="manager" selected') < body.index('name="step-1-approver"')
    removed = root.htmx("POST", url, data={**form, "op": "remove-0"})
    assert 'name="step_count" value="0"' in text(removed)
    assert office.rule_named("Travel") is None


def test_the_rule_form_shows_each_error_beside_its_field_and_saves_a_good_rule(office):
    root = office.web(office.root)
    url = f"/admin/approval-rules/new?kind={KIND}"
    form = {"name": "Travel", "condition": "amount >", "active": "1", "sequence": "20",
            "step_count": "1", "step-0-approver": "user", "step-0-user": "carl"}
    refused = root.post_form(url, form)
    assert refused.status_code == 422
    assert re.search(r'id="rule-error-condition" class="field-error"[^>]*>The rule ends too early', text(refused))
    refused = root.post_form(url, {**form, "condition": "", "step-0-amount_limit": "lots"})
    assert refused.status_code == 422
    assert 'id="e-step-0-amount_limit" class="field-error">Step 1: the amount limit' in text(refused)
    saved = root.post_form(url, {**form, "condition": 'category == "travel"', "step-0-amount_limit": "2,500.00"})
    assert saved.status_code == 303
    rule = office.rule_named("Travel")
    assert rule.condition == 'category == "travel"' and str(rule.limits[0]) == "2500.00"
    listing = text(root.get("/admin/approval-rules"))
    assert "Travel" in listing and "Carl (up to" in listing
    deactivated = root.post_form(f"/admin/approval-rules/{rule.id}/active", {"active": "0"})
    assert deactivated.status_code == 303
    assert office.rule_named("Travel").active is False
    assert office.web(office.sofie).get("/admin/approval-rules").status_code == 403


# -- the manager of a user --


def test_the_manager_is_set_on_the_user_form_and_the_api_and_never_in_a_circle(office):
    root = office.web(office.root)
    edit = text(root.get(f"/admin/users/{office.dora.id}/edit"))
    assert 'name="manager_id"' in edit
    circle = root.post_form(f"/admin/users/{office.dora.id}/edit", {"full_name": "Dora", "email": "",
                                                                   "manager_id": str(office.sofie.id)})
    assert circle.status_code == 422
    assert 'id="e-manager_id" class="field-error">sofie is managed by dora' in text(circle)
    saved = root.post_form(f"/admin/users/{office.sofie.id}/edit", {"full_name": "Sofie", "email": "",
                                                                   "roles": [], "manager_id": str(office.dora.id)})
    assert saved.status_code == 302
    assert f'href="/admin/users/{office.dora.id}">Dora</a>' in text(root.get(f"/admin/users/{office.sofie.id}"))
    api = office.api(office.root)
    answer = api.patch(f"/api/v1/users/{office.dora.id}", json={"manager_id": office.dora.id})
    assert answer.status_code == 422 and list(answer.get_json()["errors"]) == ["manager_id"]
    answer = api.patch(f"/api/v1/users/{office.mads.id}", json={"manager_id": None})
    assert answer.status_code == 200 and answer.get_json()["manager_id"] is None
    assert api.get(f"/api/v1/users/{office.sofie.id}").get_json()["manager_id"] == office.dora.id


# -- the CLI --


def test_kontor_approvals_lists_and_decides_as_the_user_named(office, kontor):
    sofie = office.api(office.sofie)
    made = sofie.post("/api/v1/approvals/request", json={"record": f"{KIND}:{office.claim_id}"}).get_json()
    task = made["tasks"][0]["id"]
    listed = kontor("approvals", "list", "--awaiting", "mads")
    assert listed.exit_code == 0 and listed.output.split("\t")[:3] == [str(task), f"{KIND}:{office.claim_id}",
                                                                        "Claim Hamburg fair"]
    assert kontor("approvals", "list").output.startswith(f"{made['id']}\t{KIND}:{office.claim_id}")
    own = kontor("--as", "sofie", "approvals", "approve", str(task))
    assert own.exit_code == 1 and "You asked for this approval" in own.output
    done = kontor("--as", "mads", "approvals", "approve", str(task), "--note", "fine")
    assert done.exit_code == 0 and done.output.strip() == f"Task {task}: approved; request {made['id']}: pending"
    peek = kontor("--as", "carl", "approvals", "list", "--awaiting", "dora")
    assert peek.exit_code == 1 and "only the approvals awaiting you" in peek.output
