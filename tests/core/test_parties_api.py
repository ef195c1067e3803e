"""The parties API: keyset lists, create, get, patch, merge, and problems that name the field."""
from __future__ import annotations

import pytest

from core.auth.tokens import create_token
from core.auth.models import User
from core.testing import make_user


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json


def _create(api, **data):
    response = api.post("/api/v1/parties", json=data)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def test_create_get_and_patch(api):
    body = _create(api, name="Hanse Logistik GmbH", vat_id="de 123 456 789", country="de", tags=["supplier"])
    assert body["vat_id"] == "DE123456789" and body["country"] == "DE" and body["tags"] == ["supplier"]
    assert body["kind"] == "company" and body["active"] is True and body["id"] > 0

    fetched = api.get(f"/api/v1/parties/{body['id']}").json
    assert fetched == body

    patched = api.patch(f"/api/v1/parties/{body['id']}", json={"city": "Lübeck", "tags": ["supplier", "partner"]})
    assert patched.status_code == 200
    assert patched.json["city"] == "Lübeck" and patched.json["name"] == "Hanse Logistik GmbH"
    assert patched.json["tags"] == ["partner", "supplier"]

    person = _create(api, kind="person", name="Anna Müller", company_id=body["id"])
    assert person["company_name"] == "Hanse Logistik GmbH"


def test_bad_input_is_a_problem_naming_the_fields_and_changes_nothing(api):
    errors = _problem(api.post("/api/v1/parties", json={"email": "nope", "country": "Denmark"}), 422)["errors"]
    assert set(errors) == {"name", "email", "country"}
    party = _create(api, name="Fjord Data ApS")
    errors = _problem(api.patch(f"/api/v1/parties/{party['id']}", json={"vat_id": "DK123"}), 422)["errors"]
    assert set(errors) == {"vat_id"}
    errors = _problem(api.patch(f"/api/v1/parties/{party['id']}", json={"company_id": 999}), 422)["errors"]
    assert set(errors) == {"company_id"}
    assert api.get(f"/api/v1/parties/{party['id']}").json["vat_id"] == ""
    assert [p["name"] for p in api.get("/api/v1/parties").json["items"]] == ["Fjord Data ApS"]
    _problem(api.post("/api/v1/parties", data="[1]", headers={"Content-Type": "application/json"}), 400)
    _problem(api.get("/api/v1/parties?sort=colour&limit=0"), 422)


def test_unknown_ids_are_404_problems(api):
    _problem(api.get("/api/v1/parties/4242"), 404)
    _problem(api.patch("/api/v1/parties/4242", json={"name": "x"}), 404)
    _problem(api.post("/api/v1/parties/4242/merge", json={"into": 1}), 404)


def test_keyset_pages_search_and_sort(api):
    for name, city in [("Beta Oy", "Turku"), ("alfa AB", "Umeå"), ("Gamma GmbH", "Berlin"), ("Delta S.A.", "Kraków"),
                       ("Epsilon A/S", "Aalborg")]:
        _create(api, name=name, city=city)
    names, after = [], ""
    while True:
        page = api.get(f"/api/v1/parties?limit=2{'&after=' + after if after else ''}").json
        names += [p["name"] for p in page["items"]]
        if not page["next"]:
            break
        after = page["next"]
    assert names == ["alfa AB", "Beta Oy", "Delta S.A.", "Epsilon A/S", "Gamma GmbH"]
    by_city = api.get("/api/v1/parties?sort=-city").json["items"]
    assert [p["city"] for p in by_city] == ["Umeå", "Turku", "Kraków", "Berlin", "Aalborg"]
    assert [p["name"] for p in api.get("/api/v1/parties?q=GMBH").json["items"]] == ["Gamma GmbH"]


def test_merge(api):
    target = _create(api, name="Vind Energi A/S", vat_id="DK11223344")
    source = _create(api, name="Vind Energi", email="info@vind.dk", vat_id="DK11223344")
    person = _create(api, kind="person", name="Freja Møller", company_id=source["id"])
    errors = _problem(api.post(f"/api/v1/parties/{source['id']}/merge", json={"into": source["id"]}), 422)["errors"]
    assert set(errors) == {"into"}
    errors = _problem(api.post(f"/api/v1/parties/{source['id']}/merge", json={}), 422)["errors"]
    assert set(errors) == {"into"}
    errors = _problem(api.post(f"/api/v1/parties/{source['id']}/merge", json={"into": 9999}), 422)["errors"]
    assert set(errors) == {"into"}
    _problem(api.post(f"/api/v1/parties/{source['id']}/merge", json={"into": person["id"]}), 422)

    merged = api.post(f"/api/v1/parties/{source['id']}/merge", json={"into": target["id"]})
    assert merged.status_code == 200 and merged.json["email"] == "info@vind.dk"
    retired = api.get(f"/api/v1/parties/{source['id']}").json
    assert retired["active"] is False and retired["merged_into_id"] == target["id"]
    assert api.get(f"/api/v1/parties/{person['id']}").json["company_id"] == target["id"]
    _problem(api.post(f"/api/v1/parties/{source['id']}/merge", json={"into": target["id"]}), 409)


@pytest.fixture
def staff_api(app, client):
    """A bearer client of a user with the role staff."""
    from sqlalchemy import select

    from core.db import session

    make_user(app, "clerk", ["staff"], "clerk password 1")
    with app.app_context():
        user = session.execute(select(User).where(User.username == "clerk")).scalar_one()
        _, secret = create_token(session, user, "tests")
        session.commit()
    headers = {"Authorization": f"Bearer {secret}"}

    class StaffApi:
        def __getattr__(self, method):
            return lambda path, **kw: client.open(path, method=method.upper(), headers=headers, **kw)

    return StaffApi()


def test_staff_reads_and_writes_but_cannot_merge_or_change_the_company(staff_api):
    first = staff_api.post("/api/v1/parties", json={"name": "Kyst Media ApS"})
    second = staff_api.post("/api/v1/parties", json={"name": "Kyst Media"})
    assert first.status_code == second.status_code == 201
    assert staff_api.get("/api/v1/parties").json["items"]
    assert staff_api.patch(f"/api/v1/parties/{first.json['id']}", json={"city": "Esbjerg"}).status_code == 200
    _problem(staff_api.post(f"/api/v1/parties/{second.json['id']}/merge", json={"into": first.json["id"]}), 403)
    assert staff_api.get("/api/v1/company").status_code == 200
    _problem(staff_api.patch("/api/v1/company", json={"legal_name": "Mine"}), 403)


def test_the_endpoints_are_in_the_openapi_document(api):
    paths = api.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/parties"]) and "patch" in paths["/api/v1/parties/{party_id}"]
    assert "post" in paths["/api/v1/parties/{party_id}/merge"] and "patch" in paths["/api/v1/company"]


def test_anonymous_gets_401(client):
    _problem(client.get("/api/v1/parties"), 401)
