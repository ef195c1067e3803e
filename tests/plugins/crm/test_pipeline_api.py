"""The pipeline through the JSON API: a salesperson's token sees only their own opportunities, and
an opportunity's round trip (create, refuse, move, patch) with the paths in the OpenAPI document."""
from plugins.crm.testing import stage_named


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
