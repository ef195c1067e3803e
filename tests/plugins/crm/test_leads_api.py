"""The leads' JSON API: list, get, create, update, convert, disqualify; problem+json naming the field."""
import pytest
from sqlalchemy import select

from core.testing import make_user

PROBLEM = "application/problem+json"


def token_for(app, username: str, roles: list[str]) -> dict:
    """Bearer headers of a new user with ``roles``."""
    from core.auth.models import User
    from core.auth.tokens import create_token
    from core.db import session

    make_user(app, username, roles)
    with app.app_context():
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        _, secret = create_token(session, user, "tests")
        session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_create_get_update_and_list(api):
    created = api.post("/api/v1/crm/leads", json={"name": "Anna Müller", "company_name": "Hanse Kontor GmbH",
                                                  "email": "anna@hanse.de", "tags": ["fair"], "source": "event"})
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert (body["name"], body["status"], body["tags"], body["possible_duplicates"]) == (
        "Anna Müller", "new", ["fair"], [])
    lead_id = body["id"]
    assert api.get(f"/api/v1/crm/leads/{lead_id}").get_json()["email"] == "anna@hanse.de"
    patched = api.patch(f"/api/v1/crm/leads/{lead_id}", json={"status": "contacted", "phone": "+49 40 123456"})
    assert patched.status_code == 200
    assert (patched.get_json()["status"], patched.get_json()["company_name"]) == ("contacted", "Hanse Kontor GmbH")
    second = api.post("/api/v1/crm/leads", json={"name": "A. Müller", "email": "ANNA@hanse.de"}).get_json()
    assert second["possible_duplicates"] == [{"kind": "lead", "id": lead_id, "name": "Anna Müller (Hanse Kontor GmbH)",
                                              "reason": "same email"}]
    listing = api.get("/api/v1/crm/leads?status=contacted").get_json()
    assert [item["id"] for item in listing["items"]] == [lead_id]
    assert [i["id"] for i in api.get("/api/v1/crm/leads?q=kontor").get_json()["items"]] == [lead_id]


def test_bad_input_is_a_problem_naming_the_field(api):
    response = api.post("/api/v1/crm/leads", json={"name": "Anna", "email": "nope"})
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert "email" in response.get_json()["errors"]
    missing = api.post("/api/v1/crm/leads", json={"email": "a@b.dk"})
    assert missing.status_code == 422 and "name" in missing.get_json()["errors"]
    lead_id = api.post("/api/v1/crm/leads", json={"name": "Anna"}).get_json()["id"]
    closed = api.patch(f"/api/v1/crm/leads/{lead_id}", json={"status": "qualified"})
    assert closed.status_code == 422 and "status" in closed.get_json()["errors"]
    assert api.get("/api/v1/crm/leads/999999").status_code == 404
    assert api.get("/api/v1/crm/leads?status=bogus").status_code == 422


def test_convert_and_disqualify(api):
    lead = {"name": "Mette Nielsen", "company_name": "Fjord ApS"}
    lead_id = api.post("/api/v1/crm/leads", json=lead).get_json()["id"]
    no_party = api.post(f"/api/v1/crm/leads/{lead_id}/convert", json={})
    assert no_party.status_code == 422 and "party_id" in no_party.get_json()["errors"]
    converted = api.post(f"/api/v1/crm/leads/{lead_id}/convert",
                         json={"create_party": True, "title": "Fleet", "expected_revenue": "1000.00"})
    assert converted.status_code == 201, converted.get_data(as_text=True)
    body = converted.get_json()
    assert body["lead"]["status"] == "qualified" and body["party_id"] and body["opportunity_id"]
    again = api.post(f"/api/v1/crm/leads/{lead_id}/disqualify", json={"reason": "late"})
    assert again.status_code == 409 and again.mimetype == PROBLEM
    other = api.post("/api/v1/crm/leads", json={"name": "Ola"}).get_json()["id"]
    no_reason = api.post(f"/api/v1/crm/leads/{other}/disqualify", json={"reason": ""})
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    done = api.post(f"/api/v1/crm/leads/{other}/disqualify", json={"reason": "No budget"})
    assert done.get_json()["disqualify_reason"] == "No budget"


def test_a_salesperson_reaches_only_their_own_leads_through_the_api(app, client):
    sam = token_for(app, "sam", ["salesperson"])
    sue = token_for(app, "sue", ["salesperson"])
    mine = client.post("/api/v1/crm/leads", json={"name": "Sam's", "email": "x@y.dk"}, headers=sam).get_json()["id"]
    theirs = client.post("/api/v1/crm/leads", json={"name": "Sue's", "email": "x@y.dk"}, headers=sue).get_json()
    assert theirs["possible_duplicates"] == []  # Sam's lead is not revealed to Sue
    theirs = theirs["id"]
    assert [i["id"] for i in client.get("/api/v1/crm/leads", headers=sam).get_json()["items"]] == [mine]
    assert client.get(f"/api/v1/crm/leads/{theirs}", headers=sam).status_code == 404
    assert client.patch(f"/api/v1/crm/leads/{theirs}", json={"name": "Mine"}, headers=sam).status_code == 404
    assert client.post(f"/api/v1/crm/leads/{theirs}/convert", json={"create_party": True},
                       headers=sam).status_code == 404
    assert client.post(f"/api/v1/crm/leads/{theirs}/disqualify", json={"reason": "x"}, headers=sam).status_code == 404
    assert client.get(f"/api/v1/crm/leads/{theirs}", headers=sue).get_json()["name"] == "Sue's"


@pytest.mark.parametrize("path", ["/api/v1/crm/leads", "/api/v1/crm/leads/1"])
def test_anonymous_callers_are_refused(client, path):
    response = client.get(path)
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_the_endpoints_are_in_the_openapi_document(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/crm/leads", "/api/v1/crm/leads/{lead_id}", "/api/v1/crm/leads/{lead_id}/convert",
                 "/api/v1/crm/leads/{lead_id}/disqualify"):
        assert path in paths, path
