"""The taxes page, the tax form with its validation, default taxes, the taxes API and permissions."""
from decimal import Decimal

from sqlalchemy import select, text

from core.testing import make_user
from plugins.accounting.tax.models import Tax


def tax_by_code(db, code):
    db.expire_all()
    return db.execute(select(Tax).where(Tax.code == code)).scalar_one_or_none()


def test_taxes_page_lists_the_default_taxes(admin_client):
    page = admin_client.get("/accounting/taxes")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "DK-S25" in html and "DK-PRC25" in html and "salgsmoms" in html


def test_create_and_edit_a_tax(admin_client, db):
    assert admin_client.get("/accounting/taxes/new").status_code == 200
    created = admin_client.post_form("/accounting/taxes/new", {
        "code": "dk-s25-food", "name": "Salgsmoms fødevarer", "scope": "sale", "rate": "25,00", "country": "dk",
        "collected_account": "2200", "paid_account": "", "report_code": "salgsmoms", "active": "1"})
    assert created.status_code == 303, created.get_data(as_text=True)
    tax = tax_by_code(db, "DK-S25-FOOD")
    assert (tax.rate, tax.country, tax.active, tax.price_included) == (Decimal("25.0000"), "DK", True, False)
    edit = admin_client.get(f"/accounting/taxes/{tax.id}")
    assert edit.status_code == 200 and "Salgsmoms fødevarer" in edit.get_data(as_text=True)
    changed = admin_client.post_form(f"/accounting/taxes/{tax.id}", {
        "code": "DK-S25-FOOD", "name": "Salgsmoms fødevarer", "scope": "sale", "rate": "25", "country": "DK",
        "collected_account": "2200", "report_code": "salgsmoms", "price_included": "1"})
    assert changed.status_code == 303
    tax = tax_by_code(db, "DK-S25-FOOD")
    assert tax.price_included and not tax.active
    assert admin_client.get("/accounting/taxes/999999").status_code == 404


def test_tax_form_errors_name_the_field_and_change_nothing(admin_client, db):
    base = {"code": "X1", "name": "X", "scope": "sale", "rate": "10", "collected_account": "2200", "active": "1"}
    for change, field in ((dict(code="DK-S25"), "code"), (dict(rate="101"), "rate"), (dict(rate="1.23456"), "rate"),
                          (dict(rate="ten"), "rate"), (dict(scope="both"), "scope"), (dict(collected_account=""),
                          "collected_account"), (dict(reverse_charge="1"), "reverse_charge"),
                          (dict(collected_account="4"), "collected_account"), (dict(country="DNK"), "country")):
        response = admin_client.post_form("/accounting/taxes/new", {**base, **change})
        html = response.get_data(as_text=True)
        assert response.status_code == 422, change
        assert f'id="e-{field}"' in html, (change, field)
    assert tax_by_code(db, "X1") is None


def test_load_default_taxes_of_another_country(admin_client, db):
    response = admin_client.post_form("/accounting/taxes/load-defaults", {"country": "PL"})
    assert response.status_code == 303
    assert tax_by_code(db, "PL-S23").rate == Decimal("23.0000")
    assert admin_client.post_form("/accounting/taxes/load-defaults", {"country": "US"}).status_code == 422


def test_a_company_without_a_table_is_told_how_to_add_taxes(admin_client, db):
    db.execute(text("DELETE FROM accounting_tax"))
    db.execute(text("UPDATE core_company SET country = 'US' WHERE id = 1"))
    db.commit()
    html = admin_client.get("/accounting/taxes").get_data(as_text=True)
    assert "There are no default taxes for the company country (US)" in html and "New tax" in html


def test_taxes_api(api, db):
    listed = api.get("/api/v1/accounting/taxes").get_json()["items"]
    s25 = next(t for t in listed if t["code"] == "DK-S25")
    assert s25["rate"] == "25.0000" and s25["scope"] == "sale"
    created = api.post("/api/v1/accounting/taxes", json={
        "code": "DK-P25-CAR", "name": "Købsmoms bil 25 % (25 % fradrag)", "scope": "purchase", "rate": "6.25",
        "paid_account": "1400", "report_code": "kobsmoms"})
    assert created.status_code == 201, created.get_data(as_text=True)
    tax_id = created.get_json()["id"]
    assert api.get(f"/api/v1/accounting/taxes/{tax_id}").get_json()["rate"] == "6.2500"
    changed = api.patch(f"/api/v1/accounting/taxes/{tax_id}", json={"active": False})
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    bad = api.post("/api/v1/accounting/taxes", json={"code": "Q", "name": "Q", "scope": "sale", "rate": "5"})
    assert bad.status_code == 422 and "collected_account" in bad.get_json()["errors"]
    float_rate = api.post("/api/v1/accounting/taxes", json={"code": "Q", "name": "Q", "scope": "sale", "rate": 5.5,
                                                            "collected_account": "2200"})
    assert float_rate.status_code == 422 and "rate" in float_rate.get_json()["errors"]
    assert api.get("/api/v1/accounting/taxes/999999").status_code == 404


def test_a_viewer_reads_the_vat_report_but_not_the_tax_settings(app, client):
    make_user(app, "viewer", ["accounting_viewer"], "viewer password 1")
    client.login("viewer", "viewer password 1")
    assert client.get("/accounting/reports/vat").status_code == 200
    assert client.get("/accounting/taxes").status_code == 403


def test_a_tax_on_entries_keeps_its_rate_and_kind(admin_client, db):
    from datetime import date

    from plugins.accounting.ledger import services as ledger
    from plugins.accounting.ledger import years

    years.ensure_years(db, date(2026, 1, 1))
    tax = tax_by_code(db, "DK-S25")
    ledger.create_and_post(db, journal="SAL", date=date(2026, 5, 1), lines=[
        {"account": "1200", "debit": "125.00"}, {"account": "4000", "credit": "100.00", "tax_base_id": tax.id},
        {"account": "2200", "credit": "25.00", "tax_id": tax.id}])
    db.commit()
    form = {"code": "DK-S25", "name": "Salgsmoms", "scope": "sale", "rate": "22", "collected_account": "2200",
            "report_code": "salgsmoms", "active": "1"}
    refused = admin_client.post_form(f"/accounting/taxes/{tax.id}", form)
    assert refused.status_code == 422 and 'id="e-rate"' in refused.get_data(as_text=True)
    renamed = admin_client.post_form(f"/accounting/taxes/{tax.id}", {**form, "rate": "25"})
    assert renamed.status_code == 303
    tax = tax_by_code(db, "DK-S25")
    assert (tax.name, tax.rate) == ("Salgsmoms", Decimal("25.0000"))
