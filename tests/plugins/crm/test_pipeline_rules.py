"""Record rules: a salesperson never sees another salesperson's opportunity, wherever it could surface."""
import pytest

from plugins.crm.pipeline import services

from tests.plugins.crm.test_pipeline_services import opportunity, party, stage_named, user
from tests.plugins.crm.test_pipeline_web import signed_in

SECRET = "Sofie secret deal"


@pytest.fixture
def deals(db):
    mads = user(db, "mads", ["salesperson", "staff"])
    sofie = user(db, "sofie", ["salesperson"])
    user(db, "boss", ["sales_manager", "staff"])
    customer = party(db, "Shared Customer A/S")
    mine = opportunity(db, mads, title="Mads own deal", customer=customer, expected_close="2027-01-10")
    theirs = opportunity(db, sofie, title=SECRET, customer=customer, expected_close="2027-01-20")
    lost = opportunity(db, sofie, title=SECRET + " lost", customer=customer)
    services.change_stage(db, lost, stage_named(db, "Lost"), lost_reason="Secret reason")
    db.commit()
    return {"mine": mine, "theirs": theirs, "customer": customer, "sofie": sofie}


def test_pages_exports_and_panels(db, client, deals):
    theirs, customer = deals["theirs"], deals["customer"]
    signed_in(client, "mads")
    for path in ("/crm/board", "/crm/opportunities", "/crm/opportunities?q=secret", "/crm/opportunities?status=lost",
                 f"/crm/opportunities?owner_id={deals['sofie'].id}", "/crm/opportunities?format=csv",
                 f"/crm/board/columns/{theirs.stage_id}/cards", f"/crm/board?owner_id={deals['sofie'].id}",
                 f"/parties/{customer.id}", f"/crm/timeline?party_id={customer.id}", "/crm/widgets/funnel"):
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert SECRET not in body and "Secret reason" not in body, path
    assert "Mads own deal" in client.get("/crm/opportunities?format=csv").get_data(as_text=True)
    for path in (f"/crm/opportunities/{theirs.id}", f"/crm/opportunities/{theirs.id}/edit",
                 f"/crm/opportunities/{theirs.id}/stage"):
        assert client.get(path).status_code == 404, path
    won = stage_named(db, "Won")
    assert client.post_form(f"/crm/opportunities/{theirs.id}/stage", {"stage_id": won.id}).status_code == 404
    assert client.htmx("POST", f"/crm/opportunities/{theirs.id}/stage",
                       data={"stage_id": won.id, "from": "board"}).status_code == 404
    assert client.get("/crm/forecast").status_code == 403  # salespeople have no forecast


def test_manager_sees_everything(db, client, deals):
    signed_in(client, "boss")
    board = client.get("/crm/board").get_data(as_text=True)
    assert SECRET in board and "Mads own deal" in board
    assert client.get(f"/crm/opportunities/{deals['theirs'].id}").status_code == 200
    forecast = client.get("/crm/forecast").get_data(as_text=True)
    assert "Secret reason" in forecast


def test_forecast_for_a_salesperson_with_report_rights_is_their_own(db, client, deals, app):
    from core.auth.models import Role
    from sqlalchemy import select

    analyst = user(db, "ana", ["salesperson"])
    # a role holding the report permission but not read_all
    from core.auth.services import ensure_role, grant

    role = ensure_role(db, "forecaster", "Forecaster", "Reads the forecast.")
    grant(db, role, "crm.report.read")
    analyst.roles = list(analyst.roles) + [db.execute(select(Role).where(Role.name == "forecaster")).scalar_one()]
    opportunity(db, analyst, title="Ana deal", revenue="500.00")
    db.commit()
    signed_in(client, "ana")
    page = client.get("/crm/forecast").get_data(as_text=True)
    assert "Secret reason" not in page and "Shared Customer" not in page
    data = client.get("/api/v1/crm/reports/forecast").get_json()
    assert {row["owner"] for row in data["by_owner"]} == {"ana"}
    assert data["lost_reasons"] == []


def test_api(db, client, deals):
    from core.auth.tokens import create_token
    from sqlalchemy import select

    from core.auth.models import User

    mads = db.execute(select(User).where(User.username == "mads")).scalar_one()
    _, token = create_token(db, mads, "tests")
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/crm/opportunities", headers=headers).get_json()
    assert [o["title"] for o in listed["items"]] == ["Mads own deal"]
    theirs = deals["theirs"].id
    assert client.get(f"/api/v1/crm/opportunities/{theirs}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/crm/opportunities/{theirs}", headers=headers, json={"title": "x"}).status_code == 404
    assert client.post(f"/api/v1/crm/opportunities/{theirs}/stage", headers=headers,
                       json={"stage_id": stage_named(db, "Won").id}).status_code == 404
    assert client.get("/api/v1/crm/reports/forecast", headers=headers).status_code == 403
    # the activity API refuses to link to the hidden deal
    response = client.post("/api/v1/crm/activities", headers=headers,
                           json={"kind": "call", "subject": "x", "opportunity_id": theirs})
    assert response.status_code == 422 and "opportunity_id" in response.get_json()["errors"]


def test_opportunity_api_round_trip(db, client, deals):
    from core.auth.tokens import create_token
    from sqlalchemy import select

    from core.auth.models import User

    mads = db.execute(select(User).where(User.username == "mads")).scalar_one()
    _, token = create_token(db, mads, "tests")
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    stages = client.get("/api/v1/crm/stages", headers=headers).get_json()["items"]
    assert [s["name"] for s in stages][:2] == ["New", "Qualified"]
    response = client.post("/api/v1/crm/opportunities", headers=headers, json={
        "party_id": deals["customer"].id, "title": "API deal", "expected_revenue": "1234.56", "currency": "EUR",
        "expected_close": "2027-05-31"})
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert (made["expected_revenue"], made["currency"], made["probability"], made["stage_name"], made["status"]) == (
        "1234.56", "EUR", 10, "New", "open")
    assert made["weighted_revenue"] == "123.46"
    bad = client.post("/api/v1/crm/opportunities", headers=headers, json={"party_id": deals["customer"].id,
                                                                          "title": "x", "currency": "ZZZ"})
    assert bad.status_code == 422 and "currency" in bad.get_json()["errors"]
    bad = client.post("/api/v1/crm/opportunities", headers=headers, json={"party_id": deals["customer"].id,
                                                                          "title": "x", "expected_revenue": "1.005"})
    assert bad.status_code == 422 and "expected_revenue" in bad.get_json()["errors"]  # refused, not rounded
    bad = client.post("/api/v1/crm/opportunities", headers=headers, json={"title": "x", "expected_revenue": "abc"})
    assert bad.status_code == 422 and {"party_id", "expected_revenue"} <= set(bad.get_json()["errors"])
    lost = stage_named(db, "Lost").id
    refused = client.post(f"/api/v1/crm/opportunities/{made['id']}/stage", headers=headers, json={"stage_id": lost})
    assert refused.status_code == 422 and "lost_reason" in refused.get_json()["errors"]
    moved = client.post(f"/api/v1/crm/opportunities/{made['id']}/stage", headers=headers,
                        json={"stage_id": lost, "lost_reason": "Timing"})
    assert moved.status_code == 200 and moved.get_json()["status"] == "lost"
    patched = client.patch(f"/api/v1/crm/opportunities/{made['id']}", headers=headers, json={"probability": 5})
    assert patched.status_code == 200 and patched.get_json()["probability"] == 5
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    documented = {path for path in paths if path.startswith("/api/v1/crm/")}
    for wanted in ("/api/v1/crm/stages", "/api/v1/crm/opportunities", "/api/v1/crm/activities",
                   "/api/v1/crm/reports/forecast"):
        assert wanted in documented, sorted(documented)
    assert any(path.endswith("/stage") and "opportunities" in path for path in documented)


def test_a_reader_sees_the_board_but_cannot_move(db, client, deals):
    from core.auth.services import ensure_role, grant

    role = ensure_role(db, "pipeline_reader", "Pipeline reader", "Looks at the pipeline.")
    for name in ("crm.opportunity.read", "crm.opportunity.read_all"):
        grant(db, role, name)
    user(db, "reader", ["pipeline_reader"])
    db.commit()
    signed_in(client, "reader")
    board = client.get("/crm/board").get_data(as_text=True)
    assert SECRET in board and 'data-can-move="0"' in board and 'name="stage_id"' not in board
    response = client.post_form(f"/crm/opportunities/{deals['mine'].id}/stage", {"stage_id": stage_named(db, "Won").id})
    assert response.status_code == 403
