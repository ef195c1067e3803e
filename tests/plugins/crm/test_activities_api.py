"""Activities through the JSON API: planning, ticking off and listing with a token."""
import json

from plugins.crm.testing import crm_user as user, party


def test_activities_api(db, client):
    mads = user(db, "mads", ["salesperson"])
    customer = party(db)
    db.commit()
    from core.auth.tokens import create_token

    _, token = create_token(db, mads, "tests")
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    response = client.post("/api/v1/crm/activities", headers=headers, json={"kind": "email", "subject": "Send quote",
                                                                            "party_id": customer.id,
                                                                            "due_at": "2026-12-01T09:00:00+01:00"})
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert made["due_at"].startswith("2026-12-01T08:00:00") and made["done"] is False
    response = client.post("/api/v1/crm/activities", headers=headers, json={"kind": "fax", "subject": "x"})
    assert response.status_code == 422 and "kind" in response.get_json()["errors"]
    response = client.patch(f"/api/v1/crm/activities/{made['id']}", headers=headers, json={"done": True})
    assert response.status_code == 200 and response.get_json()["done"] is True
    listed = client.get("/api/v1/crm/activities?view=done", headers=headers).get_json()
    assert [a["id"] for a in listed["items"]] == [made["id"]]
    assert json.loads(client.get("/api/v1/crm/activities?view=overdue", headers=headers).data)["items"] == []
