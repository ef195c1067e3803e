"""The group's companies in the core's pages: the Companies admin, a company's logo, the current
company's settings with its bank account, and the header's company switcher."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from core.auth.models import User
from core.company import services
from core.company.models import Company
from core.testing import factories
from tests.core.companies_kit import Browser, admin_browser, first, signed_in  # noqa: F401 (fixtures)

NEW = {"legal_name": "Nordlys Vertrieb GmbH", "base_currency": "EUR", "country": "DE", "locale": "de",
       "fiscal_year_start_month": "1", "fiscal_year_start_day": "1", "vat_id": "", "street": "Hafenstraße 1",
       "postal_code": "20457", "city": "Hamburg", "email": "", "phone": "", "bank_name": "Hamburger Sparkasse",
       "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX"}

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def _company_named(db, name: str) -> Company:
    return db.execute(select(Company).where(Company.legal_name == name)).scalar_one()


# -- the Companies admin --


def test_the_companies_page_lists_the_group(admin_browser, db):
    factories.group_company(db, "Nordlys Vertrieb GmbH")
    db.commit()
    page = admin_browser.get("/settings/companies").get_data(as_text=True)
    assert "Test Company ApS" in page and "Nordlys Vertrieb GmbH" in page
    assert "Germany" in page and "EUR" in page
    assert 'href="/settings/companies/new"' in page
    menu = admin_browser.get("/dashboard").get_data(as_text=True)
    assert 'href="/settings/companies"' in menu


def test_a_new_company_is_created_with_its_bank_account(admin_browser, db):
    form = admin_browser.get("/settings/companies/new").get_data(as_text=True)
    for name in ("legal_name", "base_currency", "country", "bank_name", "iban", "bic"):
        assert f'name="{name}"' in form
    response = admin_browser.post_form("/settings/companies/new", NEW)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.expire_all()
    company = _company_named(db, "Nordlys Vertrieb GmbH")
    assert (company.country, company.base_currency, company.locale) == ("DE", "EUR", "de")
    assert (company.iban, company.bic, company.bank_name) == ("DE89370400440532013000", "COBADEFFXXX",
                                                              "Hamburger Sparkasse")
    assert not company.is_default and company.active
    admin = db.execute(select(User).where(User.username == "admin")).scalar_one()
    assert company.id in services.company_ids_of(db, admin)  # the one who made it works in it
    assert response.headers["Location"].endswith(f"/settings/companies/{company.id}/edit")


@pytest.mark.parametrize("field, value", [("iban", "DE89 3704 0044 0532 0130 01"), ("iban", "XX12"),
                                          ("iban", "DK50 0040 0440 1162 4"), ("bic", "DABA"), ("bic", "DABAQQKK"),
                                          ("legal_name", ""), ("base_currency", "KWD"), ("country", "XX")])
def test_a_bad_new_company_is_refused_beside_the_field(admin_browser, db, field, value):
    response = admin_browser.post_form("/settings/companies/new", {**NEW, field: value})
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.get_data(as_text=True)
    db.expire_all()
    assert db.execute(select(Company).where(Company.legal_name == "Nordlys Vertrieb GmbH")).first() is None


def test_any_company_is_edited_and_made_default(admin_browser, db, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    db.commit()
    page = admin_browser.get(f"/settings/companies/{other.id}/edit").get_data(as_text=True)
    assert 'value="Nordlys Vertrieb GmbH"' in page and "Make default" in page
    response = admin_browser.post_form(f"/settings/companies/{other.id}/edit",
                                      {**NEW, "legal_name": "Nordlys Deutschland GmbH", "city": "Kiel"})
    assert response.status_code == 303
    refused = admin_browser.post_form(f"/settings/companies/{other.id}/edit", {**NEW, "bic": "nope"})
    assert refused.status_code == 422 and 'id="e-bic"' in refused.get_data(as_text=True)
    made = admin_browser.post_form(f"/settings/companies/{other.id}/default", {})
    assert made.status_code == 303
    db.expire_all()
    other, default = db.get(Company, other.id), db.get(Company, first)
    assert (other.legal_name, other.city, other.is_default, default.is_default) == ("Nordlys Deutschland GmbH", "Kiel",
                                                                                  True, False)
    assert default.legal_name == "Test Company ApS"  # the current company's settings did not change
    assert admin_browser.get("/settings/companies/999/edit").status_code == 404


def test_the_companies_pages_need_the_manage_permission(dispatcher, db, first):
    factories.group_company(db, "Nordlys Vertrieb GmbH")
    user = factories.user(db, permissions=["core.company.read"])
    db.commit()
    reader = signed_in(dispatcher, user.username)
    for path in ("/settings/companies", "/settings/companies/new", f"/settings/companies/{first}/edit"):
        assert reader.get(path).status_code == 403
    assert reader.post_form("/settings/companies/new", NEW).status_code == 403
    assert reader.post_form(f"/settings/companies/{first}/default", {}).status_code == 403
    db.expire_all()
    assert db.execute(select(Company).where(Company.legal_name == "Nordlys Vertrieb GmbH")).scalar_one()


def test_the_settings_page_edits_the_current_company_with_its_bank_account(admin_browser, db, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    admin = db.execute(select(User).where(User.username == "admin")).scalar_one()
    services.add_member(db, other, admin)
    db.commit()
    admin_browser.post_form("/company/switch", {"company": str(other.id)})
    page = admin_browser.get("/settings/company").get_data(as_text=True)
    assert 'value="Nordlys Vertrieb GmbH"' in page and 'name="iban"' in page and 'name="logo"' in page
    response = admin_browser.post_form("/settings/company", {**NEW, "iban": "DE89370400440532013000",
                                                            "bank_name": "Commerzbank"})
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Company, other.id).bank_name == "Commerzbank"
    assert db.get(Company, first).bank_name == ""


# -- the logo --


def test_a_logo_is_uploaded_served_and_removed(admin_browser, db, first):
    response = admin_browser.post_form(f"/settings/companies/{first}/logo", {"logo": (_file(PNG), "logo.png"),
                                                                     "next": "/settings/company"},
                                      content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings/company")
    served = admin_browser.get(f"/company/{first}/logo")
    assert served.status_code == 200 and served.data == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    page = admin_browser.get("/settings/company").get_data(as_text=True)
    assert f'src="/company/{first}/logo"' in page
    # a JPEG named .png, declared as text: its bytes say what it is
    admin_browser.post_form(f"/settings/companies/{first}/logo", {"logo": (_file(JPEG), "logo.png", "text/plain")},
                           content_type="multipart/form-data")
    assert admin_browser.get(f"/company/{first}/logo").headers["Content-Type"] == "image/jpeg"
    removed = admin_browser.post_form(f"/settings/companies/{first}/logo/remove", {})
    assert removed.status_code == 303
    assert admin_browser.get(f"/company/{first}/logo").status_code == 404
    db.expire_all()
    assert (db.get(Company, first).logo, db.get(Company, first).logo_type) == (None, "")


@pytest.mark.parametrize("data, name", [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.png"),
    (b"GIF89a" + b"\x00" * 20, "logo.jpg"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * (512 * 1024), "big.png"),
    (b"", "empty.png"),
])
def test_a_logo_that_is_not_a_small_png_or_jpeg_is_refused(admin_browser, db, data, name, first):
    response = admin_browser.post_form(f"/settings/companies/{first}/logo", {"logo": (_file(data), name, "image/png")},
                                      content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "flash-error" in page
    db.expire_all()
    assert db.get(Company, first).logo_type == ""
    assert admin_browser.get(f"/company/{first}/logo").status_code == 404


def test_a_logo_is_served_only_to_those_who_may_read_its_company(admin_browser, db, dispatcher, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    from core.company.admin import set_logo

    set_logo(db, other, PNG)
    outsider = factories.user(db, permissions=["core.company.read"])
    insider = factories.user(db, permissions=["core.company.read"], companies=[first, other.id])
    nobody = factories.user(db, companies=[first, other.id])
    db.commit()
    assert signed_in(dispatcher, outsider.username).get(f"/company/{other.id}/logo").status_code == 404
    assert signed_in(dispatcher, insider.username).get(f"/company/{other.id}/logo").status_code == 200
    assert signed_in(dispatcher, nobody.username).get(f"/company/{other.id}/logo").status_code == 403
    assert admin_browser.get(f"/company/{other.id}/logo").status_code == 200  # a manager reads every company's


def _file(data: bytes):
    import io

    return io.BytesIO(data)


# -- the header's switcher --


def _header(page: str) -> str:
    return page.split("</header>")[0]


def test_one_company_shows_its_name_without_a_switcher(admin_browser):
    header = _header(admin_browser.get("/dashboard").get_data(as_text=True))
    assert "Test Company ApS" in header and 'action="/company/switch"' not in header


def test_the_switcher_changes_the_current_company_and_remembers_it(dispatcher, db, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    user = factories.user(db, permissions=["core.company.read", "core.party.read"], companies=[first, other.id])
    db.commit()
    browser = signed_in(dispatcher, user.username)
    header = _header(browser.get("/parties?q=x").get_data(as_text=True))
    assert 'action="/company/switch"' in header and 'name="csrf_token"' in header
    assert re.search(rf'<option value="{first}" selected>\s*Test Company ApS', header)
    assert f'<option value="{other.id}">Nordlys Vertrieb GmbH' in header
    assert 'name="next" value="/parties?q=x"' in header
    response = browser.post_form("/company/switch", {"company": str(other.id), "next": "/parties?q=x"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/parties?q=x")
    header = _header(browser.get("/dashboard").get_data(as_text=True))
    assert f'<option value="{other.id}" selected>' in header
    assert browser.get("/api/v1/company").status_code == 401  # the API takes a token, never the cookie
    # the choice is kept on the user: a new sign-in starts in the company chosen last
    again = signed_in(dispatcher, user.username)
    assert f'<option value="{other.id}" selected>' in _header(again.get("/dashboard").get_data(as_text=True))
    db.expire_all()
    assert db.get(User, user.id).current_company_id == other.id


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x", ""])
def test_the_switch_goes_back_only_to_a_page_of_this_site(dispatcher, db, target, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    user = factories.user(db, companies=[first, other.id])
    db.commit()
    response = signed_in(dispatcher, user.username).post_form("/company/switch",
                                                               {"company": str(other.id), "next": target})
    assert response.status_code == 303 and response.headers["Location"].endswith("/dashboard")


@pytest.mark.parametrize("company", ["foreign", "999", "abc", ""])
def test_a_switch_to_a_company_the_user_does_not_work_in_is_refused(dispatcher, db, company, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    third = factories.group_company(db, "Nordlys Sverige AB", country="SE", base_currency="SEK", locale="sv")
    user = factories.user(db, companies=[first, other.id])
    db.commit()
    value = {"foreign": str(third.id)}.get(company, company)
    response = signed_in(dispatcher, user.username).post_form("/company/switch", {"company": value})
    assert response.status_code == 403
    db.expire_all()
    assert db.get(User, user.id).current_company_id == first


def test_the_switch_needs_a_signed_in_user_and_a_csrf_token(dispatcher, db, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    user = factories.user(db, companies=[first, other.id])
    db.commit()
    anonymous = Browser(dispatcher).post("/company/switch", data={"company": str(other.id)})
    assert anonymous.status_code in (302, 400, 401, 403)
    browser = signed_in(dispatcher, user.username)
    forged = browser.post("/company/switch", data={"company": str(other.id)})  # no CSRF token
    assert forged.status_code == 400
    db.expire_all()
    assert db.get(User, user.id).current_company_id == first


def test_the_switched_company_is_what_the_pages_show(dispatcher, db, first):
    """Parties restricted to one company and the current company's settings follow the switch."""
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    user = factories.user(db, permissions=["core.company.manage"], companies=[first, other.id])
    db.commit()
    browser = signed_in(dispatcher, user.username)
    assert 'value="Test Company ApS"' in browser.get("/settings/company").get_data(as_text=True)
    browser.post_form("/company/switch", {"company": str(other.id)})
    assert 'value="Nordlys Vertrieb GmbH"' in browser.get("/settings/company").get_data(as_text=True)


# -- the user admin: companies and roles per company --


def _role(db, name: str):
    from core.auth.models import Role

    return db.execute(select(Role).where(Role.name == name)).scalar_one()


def test_one_company_shows_no_companies_on_the_user_form(admin_browser):
    page = admin_browser.get("/admin/users/new").get_data(as_text=True)
    assert 'name="companies"' not in page


def test_a_new_user_works_in_the_companies_ticked_with_roles_there(admin_browser, db, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    db.commit()
    form = admin_browser.get("/admin/users/new").get_data(as_text=True)
    assert f'name="companies" value="{first}" checked' in form and f'name="companies" value="{other.id}"' in form
    assert f'name="company_roles-{other.id}" value="staff"' in form
    response = admin_browser.post_form("/admin/users/new", {
        "username": "jens", "full_name": "Jens Berg", "companies": [str(other.id)], "companies_shown": "1",
        f"company_roles-{other.id}": ["staff"]})
    assert response.status_code == 201
    page = response.get_data(as_text=True)
    assert "Nordlys Vertrieb GmbH (also staff)" in page and "Test Company ApS" not in page.split("<dl")[1]
    db.expire_all()
    jens = db.execute(select(User).where(User.username == "jens")).scalar_one()
    assert services.company_ids_of(db, jens) == [other.id] and jens.current_company_id == other.id
    assert services.company_role_ids(db, jens, other.id) == [_role(db, "staff").id]


def test_the_user_edit_page_changes_companies_and_roles_per_company(admin_browser, db, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    jens = factories.user(db, "jens")
    db.commit()
    form = admin_browser.get(f"/admin/users/{jens.id}/edit").get_data(as_text=True)
    assert f'name="companies" value="{first}" checked' in form
    assert f'name="companies" value="{other.id}" checked' not in form
    response = admin_browser.post_form(f"/admin/users/{jens.id}/edit", {
        "full_name": "Jens", "companies_shown": "1", "companies": [str(first), str(other.id)],
        f"company_roles-{other.id}": ["staff"]})
    assert response.status_code == 302
    db.expire_all()
    assert services.company_ids_of(db, jens) == sorted([first, other.id])
    assert services.company_role_ids(db, jens, other.id) == [_role(db, "staff").id]
    assert services.company_role_ids(db, jens, first) == []
    form = admin_browser.get(f"/admin/users/{jens.id}/edit").get_data(as_text=True)
    assert f'name="company_roles-{other.id}" value="staff" checked' in form
    # leaving a company takes its roles there away too
    admin_browser.post_form(f"/admin/users/{jens.id}/edit", {"full_name": "Jens", "companies_shown": "1",
                                                             "companies": [str(other.id)]})
    db.expire_all()
    assert services.company_ids_of(db, jens) == [other.id] and db.get(User, jens.id).current_company_id == other.id
    assert services.company_role_ids(db, jens, other.id) == []


@pytest.mark.parametrize("change", ["none", "unknown", "role_outside", "unknown_role"])
def test_bad_companies_on_the_user_form_are_refused_beside_the_field(admin_browser, db, first, change):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    jens = factories.user(db, "jens")
    db.commit()
    data = {"full_name": "Jens", "companies_shown": "1", "companies": [str(first)]}
    field = "companies"
    if change == "none":
        data["companies"] = []
    elif change == "unknown":
        data["companies"] = [str(first), "999"]
    elif change == "role_outside":
        data[f"company_roles-{other.id}"] = ["staff"]
        field = "company_roles"
    else:
        data[f"company_roles-{first}"] = ["no_such_role"]
        field = "company_roles"
    response = admin_browser.post_form(f"/admin/users/{jens.id}/edit", data)
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.get_data(as_text=True)
    db.expire_all()
    assert services.company_ids_of(db, jens) == [first] and db.get(User, jens.id).full_name == ""


def test_a_deactivated_user_may_work_in_no_company(admin_browser, db, first):
    factories.group_company(db, "Nordlys Vertrieb GmbH")
    jens = factories.user(db, "jens")
    from core.auth.services import set_active

    set_active(db, jens, False)
    db.commit()
    response = admin_browser.post_form(f"/admin/users/{jens.id}/edit", {"companies_shown": "1", "companies": []})
    assert response.status_code == 302
    db.expire_all()
    assert services.company_ids_of(db, jens) == []


def test_a_role_granted_in_one_company_applies_there_only(dispatcher, db, first):
    other = factories.group_company(db, "Nordlys Vertrieb GmbH")
    jens = factories.user(db, "jens", companies=[first, other.id])
    from core.company.admin import set_user_companies

    manager = factories.role_with(db, ["core.company.manage"], name="company_manager")
    set_user_companies(db, jens, [first, other.id], {str(other.id): [manager.name]})
    db.commit()
    browser = signed_in(dispatcher, "jens")
    assert browser.get("/settings/company").status_code == 403
    browser.post_form("/company/switch", {"company": str(other.id)})
    assert browser.get("/settings/company").status_code == 200
