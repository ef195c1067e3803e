"""Tickets through the JSON API: a ticket's life, the problems naming a field, the OpenAPI paths, and
the ticket and campaign endpoints under any input."""
from sqlalchemy import select

from plugins.crm.testing import add_ticket
from plugins.crm.tickets.models import TicketMessage


def test_api_ticket_lifecycle(app, api, customer):
    firm_id, mette_id = customer
    created = api.post("/api/v1/crm/tickets", json={"subject": "Login fails", "priority": "urgent",
                                                    "party_id": firm_id, "contact_id": mette_id})
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["number"] == f"T-{body['id']:06d}" and body["status"] == "new" and body["sla"] == "ok"
    assert body["response_due"] and body["resolution_due"]
    ticket_id = body["id"]

    reply = api.post(f"/api/v1/crm/tickets/{ticket_id}/replies", json={"body": "Reset your password"})
    assert reply.status_code == 201 and reply.get_json()["kind"] == "reply"
    note = api.post(f"/api/v1/crm/tickets/{ticket_id}/replies", json={"body": "VIP", "kind": "note"})
    assert note.get_json()["kind"] == "note"
    got = api.get(f"/api/v1/crm/tickets/{ticket_id}").get_json()
    assert got["status"] == "open" and [m["kind"] for m in got["messages"]] == ["reply", "note"]

    patched = api.patch(f"/api/v1/crm/tickets/{ticket_id}", json={"priority": "low"})
    assert patched.status_code == 200 and patched.get_json()["priority"] == "low"
    assert api.post(f"/api/v1/crm/tickets/{ticket_id}/status", json={"status": "resolved"}).status_code == 200
    listed = api.get("/api/v1/crm/tickets?status=resolved").get_json()
    assert [t["id"] for t in listed["items"]] == [ticket_id]


def test_api_errors_are_problem_json_naming_the_field(app, api, customer):
    firm_id, _ = customer
    cases = [
        (api.post("/api/v1/crm/tickets", json={"priority": "urgent", "party_id": firm_id}), 422, "subject"),
        (api.post("/api/v1/crm/tickets", json={"subject": "x", "priority": "soon", "party_id": firm_id}), 422,
         "priority"),
        (api.post("/api/v1/crm/tickets", json={"subject": "x"}), 422, "party_id"),
        (api.post("/api/v1/crm/tickets", json={"subject": "x", "party_id": 99999}), 422, "party_id"),
        (api.get("/api/v1/crm/tickets?sla=late"), 422, "sla"),
    ]
    for response, status, field in cases:
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert field in response.get_json()["errors"]
    ticket_id = add_ticket(app, party_id=firm_id)
    illegal = api.post(f"/api/v1/crm/tickets/{ticket_id}/status", json={"status": "waiting"})
    assert illegal.status_code == 409 and illegal.headers["Content-Type"] == "application/problem+json"
    assert "status" in illegal.get_json()["errors"]
    missing = api.get("/api/v1/crm/tickets/424242")
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
    not_json = api.post(f"/api/v1/crm/tickets/{ticket_id}/replies", data="hello")
    assert not_json.status_code == 400
    from core.db import session

    with app.app_context():
        assert session.execute(select(TicketMessage)).first() is None


def test_api_tickets_are_in_the_openapi_document(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/crm/tickets", "/api/v1/crm/tickets/{ticket_id}", "/api/v1/crm/tickets/{ticket_id}/status",
            "/api/v1/crm/tickets/{ticket_id}/replies", "/api/v1/crm/campaigns", "/api/v1/crm/campaigns/{campaign_id}",
            "/api/v1/crm/campaigns/{campaign_id}/send", "/api/v1/crm/segments",
            "/api/v1/crm/segments/{segment_id}"} <= set(paths)


def test_the_ticket_and_campaign_api_survives_any_input(app, api, customer):
    from hypothesis import HealthCheck, given, settings

    from tests.api_fuzz import assert_no_server_error, documents, operations, send

    spec = api.get("/api/v1/openapi.json").get_json()
    firm_id, _ = customer
    ticket_id = api.post("/api/v1/crm/tickets", json={"subject": "Target", "party_id": firm_id}).get_json()["id"]
    campaign_id = api.post("/api/v1/crm/campaigns", json={"name": "Target"}).get_json()["id"]
    known_ids = [str(ticket_id), str(campaign_id), str(firm_id)]
    mine = ("/api/v1/crm/tickets", "/api/v1/crm/campaigns", "/api/v1/crm/segments")
    crm_operations = [op for op in operations(spec) if op[1].startswith(mine)]
    assert len(crm_operations) == 14

    for operation in crm_operations:
        method, path, _fields, _query = operation

        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        @given(documents(operation, known_ids))
        def check(case):
            body, args, record_id = case
            url = path.replace("{ticket_id}", record_id).replace("{campaign_id}", record_id) \
                .replace("{segment_id}", record_id)
            assert_no_server_error(send(api, method, url, body, args), (method, url, body, args))

        check()
