"""The users and roles API: lists, creation, changes, and problems that name the field."""
from core.testing import WebClient


def _problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    return response.json


def test_create_a_user_returns_the_password_once(api, dispatcher):
    response = api.post("/api/v1/users", json={"username": "berit", "email": "berit@example.com", "roles": ["admin"]})
    assert response.status_code == 201
    body = response.json
    assert body["roles"] == ["admin"] and len(body["password"]) >= 10
    assert "password" not in api.get(f"/api/v1/users/{body['id']}").json
    assert "password_hash" not in body
    assert WebClient(dispatcher).login("berit", body["password"]).status_code == 302


def test_create_names_the_bad_fields(api):
    errors = _problem(api.post("/api/v1/users", json={"email": "nope", "locale": "xx"}), 422)["errors"]
    assert set(errors) == {"username", "email", "locale"}
    errors = _problem(api.post("/api/v1/users", json={"username": "x y"}), 422)["errors"]
    assert set(errors) == {"username"}
    errors = _problem(api.post("/api/v1/users", json={"username": "admin"}), 422)["errors"]
    assert set(errors) == {"username"}  # taken
    errors = _problem(api.post("/api/v1/users", json={"username": "carl", "roles": ["ghost"]}), 422)["errors"]
    assert set(errors) == {"roles"}
    assert [u["username"] for u in api.get("/api/v1/users").json["items"]] == ["admin"]
    _problem(api.post("/api/v1/users", data="[]", headers={"Content-Type": "application/json"}), 400)


def test_list_pages_and_searches(api):
    for n in range(5):
        assert api.post("/api/v1/users", json={"username": f"clerk{n}"}).status_code == 201
    first = api.get("/api/v1/users?limit=4").json
    assert len(first["items"]) == 4 and first["next"]
    second = api.get(f"/api/v1/users?limit=4&after={first['next']}").json
    assert len(second["items"]) == 2 and second["next"] is None
    assert [u["username"] for u in api.get("/api/v1/users?q=clerk3").json["items"]] == ["clerk3"]
    assert set(_problem(api.get("/api/v1/users?limit=0"), 422)["errors"]) == {"limit"}


def test_patch_a_user_including_active_and_roles(api, dispatcher):
    created = api.post("/api/v1/users", json={"username": "clerk"}).json
    response = api.patch(f"/api/v1/users/{created['id']}", json={"full_name": "Clara", "roles": ["admin"], "active": False})
    assert response.status_code == 200
    assert (response.json["full_name"], response.json["roles"], response.json["active"]) == ("Clara", ["admin"], False)
    assert WebClient(dispatcher).login("clerk", created["password"]).status_code == 401
    errors = _problem(api.patch(f"/api/v1/users/{created['id']}", json={"email": "x", "active": "maybe"}), 422)["errors"]
    assert set(errors) == {"email", "active"}
    assert api.get(f"/api/v1/users/{created['id']}").json["full_name"] == "Clara"


def test_unknown_ids_are_404_problems(api):
    _problem(api.get("/api/v1/users/9999"), 404)
    _problem(api.patch("/api/v1/users/9999", json={"full_name": "x"}), 404)
    _problem(api.get("/api/v1/roles/9999"), 404)
    _problem(api.patch("/api/v1/roles/9999", json={"title": "x"}), 404)


def test_roles_create_read_and_set_permissions(api):
    response = api.post("/api/v1/roles", json={"name": "sales", "title": "Sales", "permissions": ["core.user.read"]})
    assert response.status_code == 201
    role = response.json
    assert role["permissions"] == ["core.user.read"]
    response = api.patch(f"/api/v1/roles/{role['id']}", json={"permissions": ["core.role.manage", "core.audit.read"]})
    assert response.json["permissions"] == ["core.audit.read", "core.role.manage"]
    assert api.get(f"/api/v1/roles/{role['id']}").json["title"] == "Sales"
    names = [r["name"] for r in api.get("/api/v1/roles").json["items"]]
    assert "admin" in names and "sales" in names


def test_roles_name_the_bad_fields(api):
    assert set(_problem(api.post("/api/v1/roles", json={"name": "Bad Name"}), 422)["errors"]) == {"name"}
    assert set(_problem(api.post("/api/v1/roles", json={"name": "admin"}), 422)["errors"]) == {"name"}
    errors = _problem(api.post("/api/v1/roles", json={"name": "ok", "permissions": ["no.such.thing"]}), 422)["errors"]
    assert set(errors) == {"permissions"}
    assert "ok" not in [r["name"] for r in api.get("/api/v1/roles").json["items"]]
    admin_id = next(r["id"] for r in api.get("/api/v1/roles").json["items"] if r["name"] == "admin")
    assert set(_problem(api.patch(f"/api/v1/roles/{admin_id}", json={"permissions": []}), 422)["errors"]) == {"permissions"}
