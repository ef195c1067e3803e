"""Purge and restore of every bundled module, with the demo's data in it.

1. Install accounting and CRM and load the demo data as ``kontor demo`` does.
2. Purge each module: its tables, roles, grants and permissions go; the archive is private (0600
   in a 0700 folder). Accounting's posted books are within their retention period, so its purge
   is refused unless the admin explicitly accepts losing them, and that override is audited.
3. Restore the archive: every row, role, grant and membership comes back exactly.
4. Purge again and reinstall from scratch: the module installs with its default data.
"""
from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from core.audit.models import AuditRecord
from core.demo import create_users, ensure_viewer_role, load_demo_data
from core.errors import ModuleError
from core.modules import archive as archives
from core.modules.lifecycle import context_from_app, install, purge
from core.wsgi import Dispatcher

BUNDLED = ("accounting", "crm")


@pytest.fixture
def modules():
    return BUNDLED


def fresh_app(settings):
    """The app for the module set now in the database (as the next request would get it)."""
    return Dispatcher(settings).app


def snapshot(app, module: str) -> tuple[dict, dict]:
    """Every row of ``module``'s tables, and the roles, grants and members it owns."""
    kontor = app.extensions["kontor"]
    info = kontor.discovery.plugins[module]
    with kontor.engine.connect() as conn:
        tables = archives.module_tables(conn, info, set(kontor.discovery.plugins) - {module})
        return archives.dump_tables(conn, tables), archives.dump_access(conn, module)


def table_names(app) -> set[str]:
    from sqlalchemy import inspect

    return set(inspect(app.extensions["kontor"].engine).get_table_names())


@pytest.fixture
def demo_app(settings):
    """Both bundled modules installed, with the demo's users and data, as ``kontor demo`` loads them."""
    app = fresh_app(settings)
    with app.app_context():
        from core.db import session as db

        ensure_viewer_role(db, app.extensions["kontor"].permissions)
        create_users(db, reset_passwords=False)
        db.commit()
    done, failed = load_demo_data(app)
    assert failed == [] and set(BUNDLED) <= set(done)
    return app


def test_every_bundled_module_purges_restores_and_reinstalls(demo_app, settings):
    app = demo_app
    for module in BUNDLED:
        rows, access = snapshot(app, module)
        assert sum(len(t["rows"]) for t in rows.values()) > 50, f"{module} has no demo data to round-trip"
        assert access["roles"] and access["members"], f"{module} registers no roles with members"
        if module == "accounting":
            with pytest.raises(ModuleError, match="must be kept until") as refused:
                purge(context_from_app(app), [module])
            assert refused.value.field == "force_lose_records"
            assert snapshot(app, module) == (rows, access)

        # 2. Purge: the tables, roles and permissions go; the archive is the owner's alone.
        [path] = purge(context_from_app(app), [module], force=module == "accounting")
        app = fresh_app(settings)
        assert not any(name.startswith(f"{module}_") for name in table_names(app))
        with app.extensions["kontor"].engine.connect() as conn:
            assert archives.dump_access(conn, module) == {"roles": [], "grants": [], "members": []}
        stored = Path(settings["INSTANCE_PATH"]) / "files" / path  # the storage service's folder
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
        assert stat.S_IMODE(Path(archives.sidecar(str(stored))).stat().st_mode) == 0o600
        assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
        with app.app_context():
            from core.db import session as db

            event = db.execute(select(AuditRecord).where(AuditRecord.action == "module.purge",
                                                         AuditRecord.module == module)).scalar_one()
            changes = json.loads(event.changes)
            assert sorted(changes["roles"]) == sorted(role[0] for role in access["roles"])
            assert changes.get("forced", False) is (module == "accounting")
            if module == "accounting":
                lost = db.execute(select(AuditRecord).where(AuditRecord.action == "accounting.books_lost")).scalar_one()
                assert json.loads(lost.changes)["posted_entries"] > 0
            db.rollback()

        # 3. Restore: every row, role, grant and member is back as it was.
        install(context_from_app(app), [module], restore_from=path)
        app = fresh_app(settings)
        assert snapshot(app, module) == (rows, access)

        # 4. Purge again and reinstall from scratch.
        purge(context_from_app(app), [module], force=True)
        app = fresh_app(settings)
        install(context_from_app(app), [module])
        app = fresh_app(settings)
        assert module in app.extensions["kontor"].installed
        assert snapshot(app, module)[1]["roles"] == access["roles"]


@pytest.fixture
def posted_books(settings):
    """Accounting with one posted entry in the fiscal year 2026."""
    app = fresh_app(settings)
    with app.app_context():
        from core.db import session as db
        from plugins.accounting.ledger import services, years

        years.ensure_years(db, date(2026, 6, 1))
        services.create_and_post(db, journal="GEN", date=date(2026, 6, 1), lines=[
            {"account": "1100", "debit": "10.00"}, {"account": "4000", "credit": "10.00"}])
        db.commit()
    return app


@pytest.mark.parametrize(("country", "setting", "years"), [
    ("DK", "0", 5), ("SE", "0", 7), ("DE", "0", 10), ("PL", "0", 10), ("FI", "0", 10), ("", "0", 10),
    ("DK", "3", 3),
])
def test_retention_follows_the_company_country_or_the_setting(posted_books, country, setting, years):
    from plugins.accounting import retention

    with posted_books.app_context():
        from core.company.services import get_company, update_settings
        from core.db import session as db

        get_company(db).country = country
        update_settings(db, [retention.RETENTION_YEARS], {retention.RETENTION_YEARS.key: setting})
        assert retention.retention_years(db) == years
        until = date(2026 + years, 12, 31)
        assert retention.kept_until(db) == until
        with pytest.raises(ModuleError):
            retention.check_purge(db, force=False, today=until)
        retention.check_purge(db, force=False, today=date(2027 + years, 1, 1))  # past retention: allowed
        db.rollback()


def test_the_override_reaches_purge_from_the_cli_the_api_and_the_page(posted_books, settings, kontor, client, admin):
    # CLI: refused without the flag, purged with it
    refused = kontor("modules", "purge", "accounting", "--yes")
    assert refused.exit_code != 0 and "must be kept until" in refused.output
    # the page: refused without the checkbox, purged with it
    client.login(*admin)
    token = client.csrf_token("/admin/modules/")
    page = client.post("/admin/modules/accounting/purge", data={"csrf_token": token, "confirm_name": "accounting"})
    assert page.status_code == 409 and "must be kept until" in page.get_data(as_text=True)
    assert "accounting" in fresh_app(settings).extensions["kontor"].installed
    done = client.post("/admin/modules/accounting/purge", data={"csrf_token": token, "confirm_name": "accounting",
                                                                 "force_lose_records": "1"})
    assert done.status_code == 302
    assert "accounting" not in fresh_app(settings).extensions["kontor"].installed
    archive = next(Path(settings["INSTANCE_PATH"], "files", "archives").glob("accounting-*.kontor-archive"))
    install(context_from_app(fresh_app(settings)), ["accounting"], restore_from=archive)
    result = kontor("modules", "purge", "accounting", "--yes", "--force-lose-records")
    assert result.exit_code == 0, result.output
    assert "accounting" not in fresh_app(settings).extensions["kontor"].installed


def test_the_api_names_the_override_field(posted_books, settings, api):
    body = {"name": "accounting", "action": "purge"}
    refused = api.post("/api/v1/modules", json=body)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "force_lose_records" in refused.get_json()["errors"]
    assert "accounting" in fresh_app(settings).extensions["kontor"].installed
    done = api.post("/api/v1/modules", json={**body, "force_lose_records": True})
    assert done.status_code == 200 and done.get_json()["archives"][0].startswith("accounting-")


def test_raw_sql_guards_come_back_with_a_restored_archive(posted_books, settings, db_url):
    """Restoring loads rows past the module's triggers (issued documents' too), then puts them back."""
    from plugins.accounting.testing import party, pay, posted_invoice

    app = posted_books
    with app.app_context():
        from core.db import session as db

        sale = posted_invoice(db, party(db, "Alfa A/S"))
        pay(db, sale.party, "100.00", [(sale, "100.00")])
        db.commit()
        invoice_id = sale.id
    [path] = purge(context_from_app(app), ["accounting"], force=True)
    install(context_from_app(fresh_app(settings)), ["accounting"], restore_from=path)
    engine = create_engine(db_url)
    try:
        for sql in ("UPDATE accounting_invoice SET amount_total = 1 WHERE id = :id",
                    "DELETE FROM accounting_invoice WHERE id = :id",
                    "UPDATE accounting_payment SET amount = 1",
                    "DELETE FROM accounting_payment_allocation"):
            with pytest.raises(Exception, match="issued|numbered"):
                with engine.begin() as conn:
                    conn.execute(text(sql), {"id": invoice_id})
    finally:
        engine.dispose()
