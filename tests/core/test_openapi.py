"""The OpenAPI document at /api/v1/openapi.json: valid OpenAPI 3.1, complete, and public."""
from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from core.api.base import API_PREFIX
from core.api.openapi import openapi_path
from tests.contract import install

#: The endpoints the API must document (issue: parties, users, roles and modules are exposed).
EXPECTED_PATHS = ("/api/v1/parties", "/api/v1/parties/{party_id}", "/api/v1/users", "/api/v1/roles",
                  "/api/v1/modules")


@pytest.fixture
def app(settings):
    """An app with the ``everyhook`` fixture plugin installed (list, create and read endpoints)."""
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], "everyhook.plugin")
    return install(settings, "everyhook")


@pytest.fixture
def document(app) -> dict:
    response = app.test_client().get("/api/v1/openapi.json")  # anonymous: the document is public
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith(API_PREFIX) and r.endpoint != "api_core.openapi"]


def references(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_api_endpoint_is_documented(app, document):
    undocumented = [r.rule for r in api_rules(app) if not hasattr(app.view_functions[r.endpoint], "kontor_api_doc")]
    assert undocumented == [], "API endpoints without @documented(...)"
    for rule in api_rules(app):
        path, _ = openapi_path(rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"].get(path, {}), f"{method} {path} is missing"


def test_the_core_endpoints_are_in_the_document(document):
    assert set(EXPECTED_PATHS) <= set(document["paths"])
    assert {"get", "post"} <= set(document["paths"]["/api/v1/modules"])
    assert {"get", "patch"} <= set(document["paths"]["/api/v1/parties/{party_id}"])


def test_every_reference_resolves(document):
    refs = set(references(document))
    assert "#/components/schemas/Thing" in refs
    for ref in refs:
        node = document
        for part in ref.removeprefix("#/").split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_operations_carry_schemas_parameters_and_security(document):
    things = document["paths"]["/api/v1/everyhook/things"]
    page = things["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["properties"]["items"] == {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}
    assert page["properties"]["next"]["type"] == ["string", "null"]
    assert [p["name"] for p in things["get"]["parameters"] if p["in"] == "query"] == ["name"]
    assert things["post"]["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Thing"}
    assert "201" in things["post"]["responses"] and things["post"]["x-permission"] == "everyhook.thing.write"
    assert things["post"]["responses"]["422"] == {"$ref": "#/components/responses/Problem"}
    one = document["paths"]["/api/v1/everyhook/things/{thing_id}"]["get"]
    assert one["parameters"] == [{"name": "thing_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "A personal API token."}


def test_errors_are_problem_json(document):
    problem = document["components"]["responses"]["Problem"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status"}
    for operations in document["paths"].values():
        for operation in operations.values():
            assert operation["responses"]["default"] == {"$ref": "#/components/responses/Problem"}


def test_a_disabled_module_leaves_the_document(settings, document):
    from core.app import create_app

    assert "/api/v1/everyhook/things" in document["paths"]
    settings["EXTRA_PLUGINS"] = ()
    app = create_app(settings, refresh_plugins=True)  # everyhook's code is gone: it is not active
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/everyhook/things" not in paths


def test_a_patch_body_requires_no_field(document):
    patch = document["paths"]["/api/v1/parties/{party_id}"]["patch"]["requestBody"]["content"]["application/json"]
    schema = document["components"]["schemas"][patch["schema"]["$ref"].rsplit("/", 1)[1]]
    assert "required" not in schema
    post = document["paths"]["/api/v1/parties"]["post"]["requestBody"]["content"]["application/json"]
    assert "name" in document["components"]["schemas"][post["schema"]["$ref"].rsplit("/", 1)[1]]["required"]
