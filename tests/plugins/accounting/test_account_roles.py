"""Account roles: modules declare the accounts they post to by role; the company maps roles to
accounts (settings page, API); postings ask account_for. This module is also a tiny plugin
(``role_watch``) declaring a role of its own without depending on accounting."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from core import Conflict, InvalidInput, Manifest, current_company_id, hookimpl

import plugins.accounting as accounting
from plugins.accounting.ledger import chart, roles, services, years
from plugins.accounting.ledger.models import AccountRoleAccount, FiscalYear

manifest = Manifest(name="role_watch", title="Role watch", version="1.0",
                    summary="Declares an account role (a test plugin).")


@hookimpl(optionalhook=True)
def accounting_account_roles():
    from plugins.accounting import AccountRole

    return [AccountRole("role_watch.stock", "Stock on hand", ("asset",), "1300")]


@pytest.fixture
def watched(settings):
    from tests.contract import install

    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], __name__)
    return install(settings, "role_watch")


def new_account(db, code, type_="asset", name="Other receivables"):
    return chart.create_account(db, {"code": code, "name": name, "type": type_, "postable": True, "active": True})


# -- services --

def test_every_role_falls_back_to_its_default_code(db):
    assert accounting.account_for(db, "accounting.receivable").code == "1200"
    assert accounting.account_for(db, roles.PAYABLE).code == "2100"
    rows = {row.role.key: row for row in roles.role_accounts(db)}
    assert {"accounting.retained_earnings", "accounting.exchange_gain", "accounting.exchange_loss",
            "accounting.rounding", "accounting.vat_settlement", "accounting.sales"} <= set(rows)
    assert rows["accounting.rounding"].account.code == "8300" and not rows["accounting.rounding"].mapped


def test_mapping_a_role_is_checked_audited_and_answered(db):
    from core.audit.models import AuditRecord

    other = new_account(db, "1210")
    roles.set_role_accounts(db, {"accounting.receivable": "1210"})
    assert accounting.account_for(db, "accounting.receivable") == other
    assert db.scalar(select(AuditRecord).where(AuditRecord.table_name == "accounting_account_role")) is not None
    with pytest.raises(InvalidInput) as caught:  # an income account cannot be the receivable
        roles.set_role_accounts(db, {"accounting.receivable": "4000", "accounting.payable": "2100"})
    assert set(caught.value.as_errors()) == {"accounting.receivable"}
    assert db.get(AccountRoleAccount, (current_company_id(db), "accounting.payable")) is None  # nothing changed
    with pytest.raises(InvalidInput) as caught:
        roles.set_role_accounts(db, {"accounting.nonsense": "1200"})
    assert "accounting.nonsense" in caught.value.as_errors()
    roles.set_role_accounts(db, {"accounting.receivable": None})
    assert accounting.account_for(db, "accounting.receivable").code == "1200"
    assert chart.is_used(db, other) is False
    roles.set_role_accounts(db, {"accounting.receivable": other.id})
    assert chart.is_used(db, other)  # a mapped account is not deleted


def test_a_role_without_account_is_a_conflict_naming_it(db):
    rounding = services.account_by_code(db, "8300")
    chart.update_account(db, rounding, {"active": False})
    with pytest.raises(Conflict) as caught:
        accounting.account_for(db, "accounting.rounding")
    assert caught.value.field == "accounting.rounding" and "accounting.rounding" in caught.value.message
    with pytest.raises(InvalidInput):
        accounting.account_for(db, "nobody.declares_this")


def test_the_year_end_close_posts_to_the_mapped_retained_earnings(db):
    reserve = new_account(db, "3200", "equity", "Other reserves")
    roles.set_role_accounts(db, {"accounting.retained_earnings": reserve})
    year = db.scalar(select(FiscalYear).order_by(FiscalYear.start_date))
    services.create_and_post(db, journal="GEN", date=year.start_date, lines=[
        {"account": "1100", "debit": "100.00"}, {"account": "4000", "credit": "100.00"}])
    entry = years.close_year(db, year, today=year.end_date)
    assert any(line.account_id == reserve.id and line.credit == Decimal("100.00") for line in entry.lines)


def test_the_vat_settlement_refuses_clearly_without_its_account(db):
    from plugins.accounting.tax import vat_report
    from plugins.accounting.tax.models import Tax

    tax = db.scalar(select(Tax).where(Tax.scope == "sale").limit(1))
    chart.update_account(db, services.account_by_code(db, "2210"), {"active": False})
    services.create_and_post(db, journal="GEN", date=date.today(), lines=[
        {"account": "1100", "debit": "125.00"}, {"account": "4000", "credit": "100.00"},
        {"account": "2200", "credit": "25.00", "tax_id": tax.id}])
    with pytest.raises(Conflict) as caught:
        vat_report.settle(db, date.today().replace(day=1), date.today())
    assert caught.value.field == "accounting.vat_settlement"


# -- web --

def test_settings_page_maps_a_role_and_refuses_a_wrong_type_beside_the_field(admin_client, db):
    page = admin_client.get("/accounting/settings/account-roles")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "accounting.exchange_gain" in body and "8100 Exchange gains" in body
    gain = services.account_by_code(db, "4900")
    wrong = admin_client.post_form("/accounting/settings/account-roles",
                                   {"accounting.exchange_gain": str(services.account_by_code(db, "6100").id)})
    assert wrong.status_code == 422
    assert 'id="e-accounting.exchange_gain"' in wrong.get_data(as_text=True)
    db.expire_all()
    assert db.get(AccountRoleAccount, (current_company_id(db), "accounting.exchange_gain")) is None
    saved = admin_client.post_form("/accounting/settings/account-roles", {"accounting.exchange_gain": str(gain.id)})
    assert saved.status_code == 303
    db.expire_all()
    assert accounting.account_for(db, roles.EXCHANGE_GAIN) == gain


def test_settings_page_needs_the_chart_permission(client_with):
    viewer = client_with(permissions=["accounting.report.read"])
    assert viewer.get("/accounting/settings/account-roles").status_code == 403
    reader = client_with(permissions=["accounting.account.read"])
    assert reader.get("/accounting/settings/account-roles").status_code == 200
    assert 'href="/accounting/settings/account-roles"' in reader.get("/dashboard").get_data(as_text=True)
    assert reader.post_form("/accounting/settings/account-roles", {}).status_code == 403


# -- API --

def test_api_lists_and_maps_roles(api, db):
    listed = api.get("/api/v1/accounting/account-roles").get_json()["items"]
    receivable = next(item for item in listed if item["key"] == "accounting.receivable")
    assert receivable["account_code"] == "1200" and receivable["mapped"] is False
    assert receivable["account_types"] == ["asset"]
    new_account(db, "1210")
    db.commit()
    changed = api.put("/api/v1/accounting/account-roles", json={"accounts": {"accounting.receivable": "1210"}})
    assert changed.status_code == 200, changed.get_json()
    item = next(i for i in changed.get_json()["items"] if i["key"] == "accounting.receivable")
    assert item["account_code"] == "1210" and item["mapped"] is True
    wrong = api.put("/api/v1/accounting/account-roles", json={"accounts": {"accounting.payable": "4000"}})
    assert wrong.status_code == 422 and "accounting.payable" in wrong.get_json()["errors"]
    assert api.put("/api/v1/accounting/account-roles", json={"roles": {}}).status_code == 422
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "put"} <= set(paths["/api/v1/accounting/account-roles"])


# -- hook --

def test_a_module_declares_its_own_role(watched):
    from core.db import session

    with watched.app_context():
        keys = {role.key for role in roles.declared_roles()}
        assert "role_watch.stock" in keys and "accounting.receivable" in keys
        assert accounting.account_for(session, "role_watch.stock").code == "1300"
        page = roles.role_accounts(session)
        assert next(row for row in page if row.role.key == "role_watch.stock").account.code == "1300"
        session.rollback()


def test_a_role_key_is_namespaced():
    with pytest.raises(ValueError):
        accounting.AccountRole("stock", "Stock", ("asset",), "1300")
    with pytest.raises(ValueError):
        accounting.AccountRole("x.stock", "Stock", ("cash",), "1300")


# -- migration --

def test_the_migration_moves_the_config_accounts_into_roles(app, db):
    from sqlalchemy import inspect

    from core.modules import migrate
    from core.modules.lifecycle import migration_connection
    from plugins.accounting.plugin import register_migrations

    db.rollback()
    location = [register_migrations()]
    engine = db.get_bind()
    with migration_connection(engine) as conn:  # on SQLite, foreign keys checked before the commit
        migrate.downgrade(conn, "accounting_0005", location)
        conn.execute(text("UPDATE accounting_config SET rounding_account_id = "
                          "(SELECT id FROM accounting_account WHERE code = '8400'), receivable_account_id = "
                          "(SELECT id FROM accounting_account WHERE code = '1200') WHERE id = 1"))
        migrate.upgrade(conn, "accounting@head", location)
        rows = dict(conn.execute(text("SELECT role, account_id FROM accounting_account_role")).all())
        codes = dict(conn.execute(text("SELECT id, code FROM accounting_account")).all())
        columns = {column["name"] for column in inspect(conn).get_columns("accounting_config")}
    assert {role: codes[account] for role, account in rows.items()} == {
        "accounting.rounding": "8400", "accounting.receivable": "1200"}
    assert "rounding_account_id" not in columns and "lock_date" in columns
    assert accounting.account_for(db, roles.ROUNDING).code == "8400"
