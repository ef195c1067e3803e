"""The OpenAPI document at /api/v1/openapi.json: valid OpenAPI 3.1, complete, and public."""
from __future__ import annotations

import re

import pytest
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate

from core.api.base import API_PREFIX
from core.api.openapi import openapi_path
from tests.contract import install
from tests.demo_instance import demo  # noqa: F401  (the module-scoped fixture of the truth check)

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


# -- the document against the truth: every GET of the demo instance, validated by its own schema --

PATH_PARAMETER = re.compile(r"\{(\w+)\}")


def _decimal_fields(document):
    for name, schema in document["components"]["schemas"].items():
        for field, prop in schema.get("properties", {}).items():
            yield name, field, prop


def test_decimals_are_documented_as_strings_and_bounds_are_numbers(document):
    from core.api.openapi import DECIMAL_PATTERN

    decimals = [(n, f, p) for n, f, p in _decimal_fields(document) if p.get("format") == "decimal"]
    for name, field, prop in decimals:
        assert "string" in (prop["type"] if isinstance(prop["type"], list) else [prop["type"]]), (name, field)
        assert prop["pattern"] == DECIMAL_PATTERN
    for name, field, prop in _decimal_fields(document):
        for bound in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            assert not isinstance(prop.get(bound), str), (name, field, bound)


def test_a_field_that_may_be_none_is_documented_nullable(document):
    thing = document["components"]["schemas"]["Thing"]["properties"]
    assert thing["party_id"]["type"] == ["integer", "null"] and thing["name"]["type"] == "string"


def _validator(document, schema) -> OAS31Validator:
    return OAS31Validator({**schema, "components": document["components"]}, format_checker=oas31_format_checker)


def _first_id(demo, path: str, cache: dict) -> str:
    """An id for a path parameter: the first item of the list the path sits under, else 1."""
    parent = path.rsplit("/{", 1)[0]
    if parent not in cache:
        listed = demo.api_get(PATH_PARAMETER.sub(lambda m: cache.get(m.group(0), "1"), parent))
        items = listed.get_json().get("items") if listed.status_code == 200 and listed.is_json else None
        cache[parent] = str(items[0]["id"]) if items and isinstance(items[0], dict) and "id" in items[0] else "1"
    return cache[parent]


def _get_operations(document):
    for path, operations in sorted(document["paths"].items()):
        operation = operations.get("get")
        if operation and path != "/api/v1/openapi.json":
            yield path, operation


def test_every_get_answers_what_the_document_says(demo):
    """Real answers of every documented GET, with every module and its demo data, match their
    documented schema (types, formats, nullability, required fields): the document cannot drift."""
    document = demo.api_get("/api/v1/openapi.json").get_json()
    validate(document)
    checked, ids, failures = [], {}, []
    for path, operation in _get_operations(document):
        url = path
        for parameter in PATH_PARAMETER.findall(path):
            url = url.replace("{" + parameter + "}", _first_id(demo, path.split("{" + parameter + "}")[0] + "{x}", ids),
                              1)
        success = next((code for code in operation["responses"] if code.startswith("2")), None)
        schema = operation["responses"][success].get("content", {}).get("application/json", {}).get("schema")
        query = {"limit": "200"} if any(p.get("name") == "limit" for p in operation.get("parameters", [])) else {}
        response = demo.api_get(url, query_string=query)
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code != int(success) or schema is None or not response.is_json:
            continue
        errors = sorted(_validator(document, schema).iter_errors(response.get_json()), key=lambda e: list(e.path))
        failures += [f"GET {url}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]]
        checked.append(path)
    assert not failures, "\n".join(failures)
    assert len(checked) >= 40, checked
