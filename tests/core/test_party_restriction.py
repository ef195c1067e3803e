"""A party restricted to some companies of the group is seen only where one of them is in scope: on
the party list, search, detail, export, API and pickers, for users and the system alike."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

import core
from core.auth.models import User
from core.company import services as company_services
from core.parties import services
from core.parties.models import Party
from core.testing import factories
from tests.core.companies_kit import api_of, first, signed_in  # noqa: F401 (fixture)


@pytest.fixture
def group(db, first):
    """Company A (the first) and B; a party shared by the group, one restricted to A, one to A and B;
    a user working in both, with the party permissions, currently in A."""
    b = factories.group_company(db, "Nordlys Vertrieb GmbH")
    shared = factories.party(db, "Shared Supplier A/S")
    only_a = factories.party(db, "Aarhus Only ApS", city="Aarhus")
    both = factories.party(db, "Both Companies AB")
    services.set_party_companies(db, only_a, [first])
    services.set_party_companies(db, both, [first, b.id])
    user = factories.user(db, permissions=["core.party.read", "core.party.write"], companies=[first, b.id])
    db.commit()
    return {"a": first, "b": b.id, "shared": shared.id, "only_a": only_a.id, "both": both.id, "user": user}


def _restricted_to(db, party_id: int) -> list[int]:
    from core.company.models import party_companies

    return sorted(db.execute(select(party_companies.c.company_id).where(party_companies.c.party_id == party_id)).scalars())


def _names(db) -> set[str]:
    return set(db.execute(select(Party.name)).scalars())


def test_the_rule_narrows_every_query_to_the_companies_in_scope(db, group):
    with core.in_company(group["a"]):
        assert {"Shared Supplier A/S", "Aarhus Only ApS", "Both Companies AB"} <= _names(db)
        assert db.get(Party, group["only_a"]) is not None
    with core.in_company(group["b"]):
        names = _names(db)
        assert "Aarhus Only ApS" not in names and {"Shared Supplier A/S", "Both Companies AB"} <= names
        db.expire_all()
        assert db.get(Party, group["only_a"]) is None
        assert services.search_parties(db, "Aarhus") == []
        counted = db.execute(select(func.count()).select_from(Party).where(Party.id == group["only_a"])).scalar()
        assert counted == 0
        assert services.overview(db)["companies"] == len(names)
    # a report over both companies sees it again; platform maintenance sees every party
    with core.in_company(group["b"], companies=[group["a"]]):
        assert "Aarhus Only ApS" in _names(db)
    with core.in_company(group["b"]), core.all_companies():
        assert "Aarhus Only ApS" in _names(db)


def test_the_system_is_restricted_by_its_scope_too(db, group):
    # no user acting: the system works in the default company (A) unless told otherwise
    assert "Aarhus Only ApS" in _names(db)
    with core.in_company(group["b"]):
        assert "Aarhus Only ApS" not in _names(db)


def test_a_restricted_party_is_absent_from_every_page_in_the_other_company(dispatcher, db, group):
    browser = signed_in(dispatcher, group["user"].username)
    assert "Aarhus Only ApS" in browser.get("/parties").get_data(as_text=True)
    assert browser.get(f"/parties/{group['only_a']}").status_code == 200
    browser.post_form("/company/switch", {"company": str(group["b"])})
    listed = browser.get("/parties").get_data(as_text=True)
    assert "Aarhus Only ApS" not in listed and "Shared Supplier A/S" in listed and "Both Companies AB" in listed
    assert "Aarhus Only ApS" not in browser.get("/parties?q=Aarhus").get_data(as_text=True)
    assert browser.get(f"/parties/{group['only_a']}").status_code == 404
    assert browser.get(f"/parties/{group['only_a']}/edit").status_code == 404
    assert browser.get(f"/parties/{group['only_a']}/fields").status_code == 404
    exported = browser.get("/parties?format=csv")
    assert exported.status_code == 200 and exported.headers["Content-Disposition"].startswith("attachment")
    assert "Aarhus Only ApS" not in exported.get_data(as_text=True) and "Shared Supplier A/S" in exported.get_data(as_text=True)
    picker = browser.get("/parties/company-options?company_q=Aarhus").get_data(as_text=True)
    assert "Aarhus Only ApS" not in picker
    form = browser.get("/parties/new?kind=person").get_data(as_text=True)
    assert "Aarhus Only ApS" not in form and "Shared Supplier A/S" in form
    widget = browser.get("/parties/widget").get_data(as_text=True)
    assert "Aarhus Only ApS" not in widget
    # a person may not be attached to a company the user cannot see
    refused = browser.post_form("/parties/new", {"kind": "person", "name": "Jens", "company_id": str(group["only_a"])})
    assert refused.status_code == 422 and 'id="e-company_id"' in refused.get_data(as_text=True)


def test_a_restricted_party_is_absent_from_the_api_in_the_other_company(app, dispatcher, db, group):
    api = api_of(app, dispatcher, group["user"])
    names = lambda path: {p["name"] for p in api.get(path).json["items"]}  # noqa: E731
    assert "Aarhus Only ApS" in names("/api/v1/parties?limit=200")
    assert "Aarhus Only ApS" not in names(f"/api/v1/parties?limit=200&company={group['b']}")
    assert "Aarhus Only ApS" not in names(f"/api/v1/parties?q=Aarhus&company={group['b']}")
    assert api.get(f"/api/v1/parties/{group['only_a']}?company={group['b']}").status_code == 404
    assert api.patch(f"/api/v1/parties/{group['only_a']}?company={group['b']}", json={"city": "Kiel"}).status_code == 404
    detail = api.get(f"/api/v1/parties/{group['both']}").json
    assert sorted(detail["companies"]) == sorted([group["a"], group["b"]])
    assert api.get(f"/api/v1/parties/{group['shared']}").json["companies"] == []


def test_the_party_form_offers_visible_in_for_a_group_of_several(dispatcher, db, group):
    browser = signed_in(dispatcher, group["user"].username)
    form = browser.get("/parties/new").get_data(as_text=True)
    assert 'name="visibility" value="all" checked' in form
    assert f'name="companies" value="{group["b"]}"' in form
    response = browser.post_form("/parties/new", {"kind": "company", "name": "Kiel Only GmbH", "active": "1",
                                                  "visibility": "some", "companies": [str(group["b"])]})
    assert response.status_code == 303
    db.expire_all()
    made_id = db.execute(select(Party.id).where(Party.name == "Kiel Only GmbH")
                         .execution_options(kontor_unscoped=True)).scalar_one()
    assert _restricted_to(db, made_id) == [group["b"]]
    assert browser.get(f"/parties/{made_id}").status_code == 404  # the user is in A
    browser.post_form("/company/switch", {"company": str(group["b"])})
    page = browser.get(f"/parties/{made_id}").get_data(as_text=True)
    assert "Sichtbar in" in page and "Nordlys Vertrieb GmbH" in page  # in the German company's language
    edit = browser.get(f"/parties/{made_id}/edit").get_data(as_text=True)
    assert 'name="visibility" value="some" checked' in edit and f'value="{group["b"]}" checked' in edit
    # back to every company
    response = browser.post_form(f"/parties/{made_id}/edit", {"kind": "company", "name": "Kiel Only GmbH", "active": "1",
                                                              "visibility": "all", "companies": [str(group["b"])]})
    assert response.status_code == 303
    assert _restricted_to(db, made_id) == []


def test_only_these_companies_needs_one_ticked(dispatcher, db, group):
    browser = signed_in(dispatcher, group["user"].username)
    response = browser.post_form("/parties/new", {"kind": "company", "name": "Nowhere ApS", "visibility": "some"})
    assert response.status_code == 422 and 'id="e-companies"' in response.get_data(as_text=True)
    bad = browser.post_form("/parties/new", {"kind": "company", "name": "Nowhere ApS", "visibility": "some",
                                             "companies": ["999"]})
    assert bad.status_code == 422 and 'id="e-companies"' in bad.get_data(as_text=True)
    db.expire_all()
    assert db.execute(select(Party).where(Party.name == "Nowhere ApS")).first() is None


def test_one_company_shows_no_visible_in(admin_client):
    assert 'name="visibility"' not in admin_client.get("/parties/new").get_data(as_text=True)


def test_the_api_sets_and_clears_the_companies(app, dispatcher, db, group):
    api = api_of(app, dispatcher, group["user"])
    created = api.post("/api/v1/parties", json={"name": "API Only ApS", "companies": [group["a"]]})
    assert created.status_code == 201 and created.json["companies"] == [group["a"]]
    party_id = created.json["id"]
    assert api.get(f"/api/v1/parties/{party_id}?company={group['b']}").status_code == 404
    cleared = api.patch(f"/api/v1/parties/{party_id}", json={"companies": []})
    assert cleared.status_code == 200 and cleared.json["companies"] == []
    assert api.get(f"/api/v1/parties/{party_id}?company={group['b']}").status_code == 200
    kept = api.patch(f"/api/v1/parties/{party_id}", json={"city": "Vejle"})
    assert kept.json["companies"] == []
    for bad in ([999], ["x"], 3, [None]):
        problem = api.patch(f"/api/v1/parties/{party_id}", json={"companies": bad})
        assert problem.status_code == 422 and "companies" in problem.json["errors"], (bad, problem.json)


def test_the_restriction_is_audited(db, group):
    from core.audit.models import AuditRecord

    with core.all_companies():
        records = db.execute(select(AuditRecord).where(AuditRecord.action == "core.party.companies",
                                                       AuditRecord.record_id == str(group["only_a"]))).scalars().all()
    assert records and '"companies"' in records[-1].changes
