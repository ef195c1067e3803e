"""The group's companies through the JSON API and the CLI: /api/v1/companies, /api/v1/company, the
users API's companies and roles per company, and ``kontor users create --company``."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from core.auth.models import Role, User
from core.company import services
from core.company.models import Company
from core.testing import factories
from tests.core.companies_kit import api_of, first  # noqa: F401 (fixture)

NEW = {"legal_name": "Nordlys Vertrieb GmbH", "base_currency": "EUR", "country": "DE", "locale": "de",
       "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFF", "bank_name": "Commerzbank"}


@pytest.fixture
def admin_api(app, dispatcher, db, admin):
    return api_of(app, dispatcher, db.execute(select(User).where(User.username == admin[0])).scalar_one())


def _problem(response, status: int, field: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    assert field in response.json.get("errors", {}), response.json


def test_a_manager_lists_creates_reads_and_changes_companies(admin_api, db, first):
    listed = admin_api.get("/api/v1/companies")
    assert listed.status_code == 200
    assert [c["legal_name"] for c in listed.json["items"]] == ["Test Company ApS"]
    assert listed.json["items"][0]["is_default"] is True and listed.json["items"][0]["id"] == first
    created = admin_api.post("/api/v1/companies", json=NEW)
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["legal_name"], body["iban"], body["bic"], body["is_default"], body["has_logo"]) == (
        "Nordlys Vertrieb GmbH", "DE89370400440532013000", "COBADEFF", False, False)
    company_id = body["id"]
    assert admin_api.get(f"/api/v1/companies/{company_id}").json["country"] == "DE"
    patched = admin_api.patch(f"/api/v1/companies/{company_id}", json={"city": "Kiel", "bank_name": "Förde Sparkasse"})
    assert patched.status_code == 200 and (patched.json["city"], patched.json["legal_name"]) == ("Kiel", "Nordlys Vertrieb GmbH")
    assert admin_api.get("/api/v1/company").json["legal_name"] == "Test Company ApS"  # still the current company
    assert len(admin_api.get("/api/v1/companies").json["items"]) == 2
    # the current company, named by ?company=
    assert admin_api.get(f"/api/v1/company?company={company_id}").json["legal_name"] == "Nordlys Vertrieb GmbH"
    db.expire_all()
    assert db.get(Company, company_id).city == "Kiel" and db.get(Company, first).city == ""


@pytest.mark.parametrize("field, value", [("iban", "DE89370400440532013001"), ("bic", "12345678"),
                                          ("legal_name", ""), ("base_currency", "KWD"), ("country", "XX"),
                                          ("locale", "fr"), ("fiscal_year_start_month", 13)])
def test_bad_input_is_a_problem_naming_the_field(admin_api, db, first, field, value):
    _problem(admin_api.post("/api/v1/companies", json={**NEW, field: value}), 422, field)
    _problem(admin_api.patch(f"/api/v1/companies/{first}", json={field: value}), 422, field)
    _problem(admin_api.patch("/api/v1/company", json={field: value}), 422, field)
    db.expire_all()
    assert db.execute(select(Company).where(Company.legal_name == "Nordlys Vertrieb GmbH")).first() is None
    assert db.get(Company, first).legal_name == "Test Company ApS"


def test_an_unknown_field_is_refused(admin_api, first):
    _problem(admin_api.post("/api/v1/companies", json={**NEW, "logo": "x"}), 422, "logo")
    _problem(admin_api.patch(f"/api/v1/companies/{first}", json={"is_default": True}), 422, "is_default")


def test_a_reader_sees_only_the_companies_they_work_in(app, dispatcher, db, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    third = factories.group_company(db, "Nordlys Sverige AB", country="SE", base_currency="SEK", locale="sv")
    reader = factories.user(db, permissions=["core.company.read"], companies=[first, other.id])
    db.commit()
    api = api_of(app, dispatcher, reader)
    names = [c["legal_name"] for c in api.get("/api/v1/companies").json["items"]]
    assert names == ["Nordlys Vertrieb GmbH", "Test Company ApS"]
    assert api.get(f"/api/v1/companies/{other.id}").status_code == 200
    assert api.get(f"/api/v1/companies/{third.id}").status_code == 404  # not told apart from a missing one
    assert api.get("/api/v1/companies/999").status_code == 404
    assert api.post("/api/v1/companies", json=NEW).status_code == 403
    assert api.patch(f"/api/v1/companies/{other.id}", json={"city": "Kiel"}).status_code == 403
    assert api.get(f"/api/v1/company?company={third.id}").status_code == 403


def test_the_companies_endpoints_are_in_the_openapi_document(admin_api):
    paths = admin_api.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/companies"])
    assert {"get", "patch"} <= set(paths["/api/v1/companies/{company_id}"])
    assert {"get", "patch"} <= set(paths["/api/v1/company"])


# -- the users API --


def test_the_users_api_sets_companies_and_roles_per_company(admin_api, db, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    db.commit()
    created = admin_api.post("/api/v1/users", json={"username": "jens", "companies": [other.id, first],
                                                    "company_roles": {str(other.id): ["staff"]}})
    assert created.status_code == 201, created.json
    assert created.json["companies"] == sorted([first, other.id])
    assert created.json["company_roles"] == {str(other.id): ["staff"]}
    assert created.json["current_company_id"] == other.id
    user_id = created.json["id"]
    patched = admin_api.patch(f"/api/v1/users/{user_id}", json={"companies": [first]})
    assert patched.status_code == 200
    assert (patched.json["companies"], patched.json["company_roles"]) == ([first], {})
    patched = admin_api.patch(f"/api/v1/users/{user_id}", json={"company_roles": {str(first): ["staff"]}})
    assert patched.json["company_roles"] == {str(first): ["staff"]}
    patched = admin_api.patch(f"/api/v1/users/{user_id}", json={"full_name": "Jens Berg"})
    assert patched.json["company_roles"] == {str(first): ["staff"]}  # untouched when not given
    read = admin_api.get(f"/api/v1/users/{user_id}").json
    assert (read["companies"], read["current_company_id"]) == ([first], first)
    db.expire_all()
    staff = db.execute(select(Role).where(Role.name == "staff")).scalar_one()
    assert services.company_role_ids(db, db.get(User, user_id), first) == [staff.id]


@pytest.mark.parametrize("body, field", [
    ({"companies": []}, "companies"),
    ({"companies": [999]}, "companies"),
    ({"companies": ["x"]}, "companies"),
    ({"companies": 1}, "companies"),
    ({"company_roles": {"999": ["staff"]}}, "company_roles"),
    ({"company_roles": {"FIRST": ["no_such_role"]}}, "company_roles"),
    ({"company_roles": {"x": ["staff"]}}, "company_roles"),
    ({"company_roles": {"FIRST": "staff"}}, "company_roles"),
])
def test_bad_companies_in_the_users_api_are_problems_naming_the_field(admin_api, db, first, body, field):
    jens_id = factories.user(db, "jens").id
    db.commit()
    body = {key: ({str(first) if k == "FIRST" else k: v for k, v in value.items()} if isinstance(value, dict) else value)
            for key, value in body.items()}
    _problem(admin_api.patch(f"/api/v1/users/{jens_id}", json=body), 422, field)
    _problem(admin_api.post("/api/v1/users", json={"username": "other", **body}), 422, field)
    db.rollback()
    assert services.company_ids_of(db, db.get(User, jens_id)) == [first]
    assert db.execute(select(User).where(User.username == "other")).first() is None


# -- the CLI --


def test_kontor_users_create_takes_companies(kontor, app):
    from core.db import session

    with app.app_context():
        first = services.default_company(session).id
        other = factories.group_company(session, "Nordlys Vertrieb GmbH").id
        session.commit()
    result = kontor("users", "create", "jens", "--company", "Nordlys Vertrieb GmbH", "--company", str(first))
    assert result.exit_code == 0, result.output
    refused = kontor("users", "create", "karin", "--company", "Nowhere Ltd")
    assert refused.exit_code == 1 and "Nowhere Ltd" in refused.stderr
    with app.app_context():
        jens = session.execute(select(User).where(User.username == "jens")).scalar_one()
        assert services.company_ids_of(session, jens) == sorted([first, other]) and jens.current_company_id == other
        assert session.execute(select(User).where(User.username == "karin")).first() is None
