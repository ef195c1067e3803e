"""Bad input is treated one way everywhere (docs/api.md, "How the API treats input").

Every rule is checked on every documented operation of every module (accounting and the CRM are
installed), the cases generated from the OpenAPI document, on both backends; each refusal must be
a 4xx problem naming the field and leave the audit log, hence the business data, unchanged.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select, text

SKIPPED = {("post", "/api/v1/modules/marketplace")}


@pytest.fixture
def modules():
    return ("accounting", "crm")


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _url(path: str) -> str:
    """A concrete URL of ``path``: every path parameter is 1 (the screen runs before any lookup)."""
    import re

    return re.sub(r"\{[^}]+\}", "1", path)


def body_operations(spec: dict):
    """(method, path, properties of the body) of every documented operation that takes a body."""
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if (method, path) in SKIPPED or "requestBody" not in op:
                continue
            body = _resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])
            yield method, path, {name: _resolve(spec, prop) for name, prop in body.get("properties", {}).items()
                                 if not prop.get("readOnly")}


def query_operations(spec: dict):
    """(method, path, query parameter names) of every documented operation that reads a query."""
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            names = [p["name"] for p in op.get("parameters", []) if p["in"] == "query"]
            if names and (method, path) not in SKIPPED:
                yield method, path, names


def _audit_count(app) -> int:
    from core.db import session

    with app.app_context():
        count = session.execute(text("SELECT count(*) FROM core_audit")).scalar_one()
        session.rollback()
        return count


def _refused(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    if field is not None:
        assert field in body.get("errors", {}), body
    return body


@pytest.fixture
def spec(api) -> dict:
    return api.get("/api/v1/openapi.json").get_json()


def test_every_module_is_in_the_cases(spec):
    operations = list(body_operations(spec))
    paths = {path for _m, path, _f in operations}
    assert len(operations) >= 30
    assert any(p.startswith("/api/v1/accounting/") for p in paths) and any(p.startswith("/api/v1/crm/") for p in paths)
    assert "/api/v1/parties" in paths and "/api/v1/users" in paths


def test_surrogates_and_nul_in_any_text_field_are_refused_naming_it(app, api, spec):
    before = _audit_count(app)
    cases = 0
    for method, path, properties in body_operations(spec):
        for name in properties:
            for bad in ("Fjord \ud800 Data", "Fjord\x00Data"):
                sent = json.dumps({name: bad})  # escapes the surrogate as \ud800, as a client would
                response = getattr(api, method)(_url(path), data=sent,
                                    headers={"Content-Type": "application/json"})
                _refused(response, 422, name)
                cases += 1
    # a bad key, and a bad string deep inside a list of objects, are named too
    _refused(api.post("/api/v1/parties", json={"na\x00me": "x"}), 422, "na\\x00me")
    errors = _refused(api.post("/api/v1/accounting/entries", json={"lines": [{}, {"description": "\x00"}]}), 422)
    assert errors["errors"] == {"lines": {"1": {"description": [errors["errors"]["lines"]["1"]["description"][0]]}}}
    assert cases > 100 and _audit_count(app) == before


def test_nul_in_a_query_parameter_is_refused_naming_it(api, spec):
    for method, path, names in query_operations(spec):
        response = getattr(api, method)(_url(path), query_string={names[0]: "a\x00b"})
        _refused(response, 422, names[0])


def test_json_nested_too_deeply_is_a_400_everywhere(app, api, spec):
    deep = "[" * 100_000 + "]" * 100_000
    before = _audit_count(app)
    for method, path, _properties in body_operations(spec):
        response = getattr(api, method)(_url(path), data=deep, headers={"Content-Type": "application/json"})
        _refused(response, 400)
    _refused(api.post("/api/v1/parties", data=b'{"name": "\xff"}', headers={"Content-Type": "application/json"}), 400)
    assert _audit_count(app) == before


def test_unknown_fields_are_refused_naming_them_everywhere(app, api, spec):
    before = _audit_count(app)
    for method, path, properties in body_operations(spec):
        response = getattr(api, method)(_url(path), json={"colour_of_the_sky": "blue"})
        _refused(response, 422, "colour_of_the_sky")
    for method, path, names in query_operations(spec):
        _refused(getattr(api, method)(_url(path), query_string={"colour_of_the_sky": "1"}),
                 422, "colour_of_the_sky")
    _refused(api.get("/api/v1/parties", query_string=[("q", "a"), ("q", "b")]), 422, "q")
    assert _audit_count(app) == before


def test_money_is_a_decimal_string_never_a_float(app, api, spec):
    money = [(method, path, name) for method, path, properties in body_operations(spec)
             for name, prop in properties.items() if prop.get("format") == "decimal"]
    assert {path for _m, path, _n in money} >= {"/api/v1/accounting/taxes", "/api/v1/accounting/rates",
                                                 "/api/v1/accounting/payments", "/api/v1/crm/opportunities"}
    before = _audit_count(app)
    for method, path, name in money:
        _refused(getattr(api, method)(_url(path), json={name: 12.5}), 422, name)
    lines = [{"account": "1100", "debit": 10.0}, {"account": "4000", "credit": "10"}]
    body = _refused(api.post("/api/v1/accounting/entries", json={"journal": "GEN", "date": "2026-01-05", "lines": lines}), 422)
    assert "debit" in body["errors"]["lines"]["0"]
    assert _audit_count(app) == before
    # a string or an integer is read, and the answer carries money as a string
    party = api.post("/api/v1/parties", json={"name": "Kunde A/S"}).get_json()["id"]
    created = api.post("/api/v1/crm/opportunities", json={"party_id": party, "title": "Fleet", "expected_revenue": 1200})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["expected_revenue"] == "1200.00"


def test_a_list_field_given_a_scalar_is_refused(app, api, spec):
    lists = [(method, path, name) for method, path, properties in body_operations(spec)
             for name, prop in properties.items() if prop.get("type") == "array"]
    assert ("post", "/api/v1/parties", "tags") in lists and ("post", "/api/v1/crm/leads", "tags") in lists
    before = _audit_count(app)
    for method, path, name in lists:
        _refused(getattr(api, method)(_url(path), json={name: "one,two"}), 422, name)
    assert _audit_count(app) == before


def test_lists_are_bounded(api, spec):
    for method, path, properties in body_operations(spec):
        for name, prop in properties.items():
            if prop.get("type") == "array":
                assert prop.get("maxItems"), (method, path, name)
    _refused(api.post("/api/v1/parties", json={"name": "Many", "tags": [f"t{i}" for i in range(51)]}), 422, "tags")
    _refused(api.post("/api/v1/crm/leads", json={"name": "Many", "tags": [f"t{i}" for i in range(51)]}), 422, "tags")


def test_country_and_currency_codes_are_iso(api):
    _refused(api.post("/api/v1/parties", json={"name": "Nowhere", "country": "XX"}), 422, "country")
    _refused(api.patch("/api/v1/company", json={"base_currency": "VEF"}), 422, "base_currency")  # no longer tender
    _refused(api.patch("/api/v1/company", json={"country": "EU"}), 422, "country")
    _refused(api.post("/api/v1/accounting/taxes", json={"code": "X", "name": "X", "scope": "sale", "rate": "5",
                                                         "country": "QQ"}), 422, "country")
    _refused(api.post("/api/v1/accounting/rates", json={"currency": "XYZ", "date": "2026-01-01", "rate": "7"}),
             422, "currency")
    _refused(api.post("/api/v1/accounting/payments", json={"party_id": 1, "amount": "1", "currency": "ABC",
                                                           "date": "2026-01-02"}), 422, "currency")
    assert api.post("/api/v1/parties", json={"name": "Somewhere", "country": "se"}).status_code == 201


def test_oversized_requests_are_a_413(app, api, admin_client):
    from core.config import DEFAULT_MAX_CONTENT_LENGTH

    assert app.config["MAX_CONTENT_LENGTH"] == DEFAULT_MAX_CONTENT_LENGTH == 16 * 1024 * 1024
    app.config["MAX_CONTENT_LENGTH"] = 4096
    before = _audit_count(app)
    body = _refused(api.post("/api/v1/parties", json={"name": "x" * 5000}), 413)
    assert "4 KiB" in body["detail"]
    page = admin_client.post_form("/parties/new", {"name": "x" * 5000})
    assert page.status_code == 413 and "larger than 4 KiB" in page.get_data(as_text=True)
    upload = admin_client.post_form("/crm/leads/import", {"file": (__import__("io").BytesIO(b"n" * 5000), "big.csv")})
    assert upload.status_code == 413
    fragment = admin_client.htmx("POST", "/parties/new", data={"name": "x" * 5000})
    assert fragment.status_code == 413 and "<html" not in fragment.get_data(as_text=True)
    assert _audit_count(app) == before


def test_method_not_allowed_says_what_is_and_401_says_how_to_authenticate(api, client, admin_client):
    response = api.delete("/api/v1/parties")
    _refused(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    page = admin_client.open("/parties/new", method="DELETE")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
    anonymous = client.get("/api/v1/parties")
    _refused(anonymous, 401)
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="kontor"'


def test_forms_refuse_nul_naming_the_field_and_change_nothing(app, admin_client):
    before = _audit_count(app)
    for path, field in (("/parties/new", "name"), ("/crm/leads/new", "name"), ("/accounting/taxes/new", "name")):
        page = admin_client.post_form(path, {field: "Fjord\x00Data"})
        assert page.status_code == 422, path
        assert "cannot be stored" in page.get_data(as_text=True) and field in page.get_data(as_text=True)
    assert _audit_count(app) == before


def test_a_tag_with_a_non_ascii_capital_is_one_tag_on_both_backends(app, api):
    for _ in range(2):
        assert api.post("/api/v1/parties", json={"name": "Sund A/S", "tags": ["Øresund"]}).status_code == 201
        assert api.post("/api/v1/crm/leads", json={"name": "Sund lead", "tags": ["ØRESUND"]}).status_code == 201
    listed = api.get("/api/v1/parties", query_string={"tag": "øresund"}).get_json()["items"]
    assert len(listed) == 2 and all(item["tags"] == ["Øresund"] for item in listed)


def test_tags_are_found_with_one_query_whatever_their_number(app, db):
    from core.parties.models import Tag
    from core.parties.services import tags_named

    tags_named(db, [f"Tag {i}" for i in range(25)])
    db.commit()
    statements: list[str] = []
    engine = db.get_bind()

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        found = tags_named(db, [f"TAG {i}" for i in range(50)])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len([s for s in statements if "core_tag" in s and s.lstrip().upper().startswith("SELECT")]) == 1
    assert [t.name for t in found[:25]] == [f"Tag {i}" for i in range(25)]
    db.flush()
    assert db.execute(select(func.count()).select_from(Tag)).scalar_one() == 50  # 25 found, 25 new


def test_the_tag_key_revision_merges_tags_that_differ_only_in_case(app, db):
    from core.modules.migrate import downgrade, upgrade

    from pathlib import Path

    import plugins

    locations = [Path(plugins.__file__).parent / name / "migrations" for name in ("accounting", "crm")]
    connection = db.connection()
    downgrade(connection, "core@core_0005", locations)
    connection.execute(text("INSERT INTO core_tag (id, name) VALUES (901, 'Øresund'), (902, 'øresund'), (903, 'Fyn')"))
    connection.execute(text("INSERT INTO core_party (id, kind, name, name_key, email, phone, website, vat_id, tax_id, "
                            "street, postal_code, city, country, notes, active, created_at, updated_at, search_text) "
                            "VALUES (901, 'company', 'A', 'a', '', '', '', '', '', '', '', '', '', '', true, "
                            "'2026-01-01', '2026-01-01', 'a')"))
    connection.execute(text("INSERT INTO core_party_tag (party_id, tag_id) VALUES (901, 901), (901, 902)"))
    upgrade(connection, "core@head", locations)
    rows = connection.execute(text("SELECT id, name, name_key FROM core_tag WHERE id >= 901 ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(901, "Øresund", "øresund"), (903, "Fyn", "fyn")]
    links = connection.execute(text("SELECT tag_id FROM core_party_tag WHERE party_id = 901")).scalars().all()
    assert links == [901]
    db.rollback()
