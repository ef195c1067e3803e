"""The company's own settings and module settings: pages, API, validation, request defaults."""
from __future__ import annotations

import pytest
from flask import g

from core.company import services
from core.company.models import Company, SettingValue
from core.contrib import Setting
from core.parties.schemas import InvalidInput

VALID = {"legal_name": "Nordlys ApS", "base_currency": "dkk", "country": "dk", "locale": "da",
         "fiscal_year_start_month": "7", "fiscal_year_start_day": "1", "vat_id": "DK 1234 5678",
         "street": "Vestergade 1", "postal_code": "8000", "city": "Aarhus C", "email": "bogholderi@nordlys.dk",
         "phone": "+45 12 34 56 78"}


def test_the_settings_page_saves_the_company(admin_client, db):
    page = admin_client.get("/settings/company").get_data(as_text=True)
    assert 'value="Test Company ApS"' in page and '<option value="DKK" selected>' in page
    response = admin_client.post_form("/settings/company", VALID)
    assert response.status_code == 303
    db.expire_all()
    company = db.get(Company, 1)
    assert (company.legal_name, company.base_currency, company.country, company.locale) == ("Nordlys ApS", "DKK", "DK", "da")
    assert (company.fiscal_year_start_month, company.fiscal_year_start_day, company.vat_id) == (7, 1, "DK12345678")


@pytest.mark.parametrize("field, value", [("base_currency", "XYZ"), ("base_currency", "KWD"), ("base_currency", "DEM"),
                                          ("locale", "fr"), ("country", "XX"),
                                          ("fiscal_year_start_month", "13"), ("fiscal_year_start_day", "0"),
                                          ("legal_name", ""), ("vat_id", "SE123"), ("email", "bogholderi")])
def test_a_bad_value_is_refused_beside_its_field(admin_client, db, field, value):
    response = admin_client.post_form("/settings/company", {**VALID, field: value})
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Company, 1).legal_name == "Test Company ApS"


def test_a_fiscal_year_starts_on_a_real_day(db):
    with pytest.raises(InvalidInput) as refused:
        services.update_company(db, {**VALID, "fiscal_year_start_month": "2", "fiscal_year_start_day": "29"})
    assert set(refused.value.errors) == {"fiscal_year_start_day"}
    db.rollback()
    services.update_company(db, {"fiscal_year_start_month": 4}, partial=True)
    with pytest.raises(InvalidInput):
        services.update_company(db, {"fiscal_year_start_day": 31}, partial=True)  # 31 April
    db.rollback()


def test_company_api_reads_and_patches(api):
    body = api.get("/api/v1/company").json
    assert body["legal_name"] == "Test Company ApS" and body["base_currency"] == "DKK"
    patched = api.patch("/api/v1/company", json={"base_currency": "eur", "locale": "fi"})
    assert patched.status_code == 200 and (patched.json["base_currency"], patched.json["locale"]) == ("EUR", "fi")
    assert patched.json["legal_name"] == "Test Company ApS"
    problem = api.patch("/api/v1/company", json={"base_currency": "EURO", "fiscal_year_start_month": 0})
    assert problem.status_code == 422 and problem.headers["Content-Type"] == "application/problem+json"
    assert set(problem.json["errors"]) == {"base_currency", "fiscal_year_start_month"}
    three_decimals = api.patch("/api/v1/company", json={"base_currency": "BHD"})
    # the company now speaks Finnish, and so do its answers: the message names the currency
    assert three_decimals.status_code == 422 and "BHD" in three_decimals.json["errors"]["base_currency"][0]
    assert api.get("/api/v1/company").json["base_currency"] == "EUR"


def test_the_base_currency_list_offers_current_two_decimal_currencies_only(admin_client):
    page = admin_client.get("/settings/company").get_data(as_text=True)
    assert '<option value="EUR"' in page and '<option value="JPY"' in page
    for gone in ("DEM", "FRF", "KWD", "BHD"):  # replaced by the euro, or three decimals
        assert f'<option value="{gone}"' not in page


def test_every_request_knows_the_company_currency_and_locale(app, db):
    services.update_company(db, {"base_currency": "SEK", "locale": "sv"}, partial=True)
    db.commit()
    with app.test_request_context("/login"):
        app.preprocess_request()
        assert (g.company_currency, g.company_locale) == ("SEK", "sv")
        from core.i18n import money

        assert "SEK" in money("12.50") or "kr" in money("12.50")


def test_module_settings_are_validated_by_type(admin_client, app, db):
    app.extensions["kontor"].settings.extend([
        Setting("demo.copies", "Copies", default="1", type="integer"),
        Setting("demo.enabled", "Enabled", default="false", type="boolean"),
        Setting("demo.colour", "Colour", default="red", type="choice", choices=("red", "blue")),
        Setting("demo.footer", "Footer", default=""),
    ])
    page = admin_client.get("/settings/modules").get_data(as_text=True)
    assert 'name="demo.copies"' in page and '<option value="red" selected>' in page

    refused = admin_client.post_form("/settings/modules", {"demo.copies": "many", "demo.colour": "green",
                                                          "demo.footer": "Thanks"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'id="e-demo.copies"' in body and 'id="e-demo.colour"' in body
    assert db.get(SettingValue, ("demo.footer", 0)) is None

    saved = admin_client.post_form("/settings/modules", {"demo.copies": " 3 ", "demo.enabled": "1",
                                                        "demo.colour": "blue", "demo.footer": "Thanks"})
    assert saved.status_code == 303
    db.expire_all()
    settings = app.extensions["kontor"].settings
    values = services.setting_values(db, settings)
    assert {k: values[k] for k in ("demo.copies", "demo.enabled", "demo.colour", "demo.footer")} == \
        {"demo.copies": "3", "demo.enabled": "true", "demo.colour": "blue", "demo.footer": "Thanks"}
    services.update_settings(db, settings, {})  # an unticked box is false
    assert services.setting_values(db, settings)["demo.enabled"] == "false"
