"""The module lifecycle service: install, disable, enable, purge, upgrade, archives and quarantine.

The fixture plugins live in ``tests/fixture_plugins`` (lcbase, lcdep, lcfailmig, …); each test
runs on SQLite and on PostgreSQL.
"""
from __future__ import annotations

import json
import zipfile
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from core.db import get_engine
from core.errors import ModuleError
from core.modules import archive as archives
from core.modules import lifecycle

from tests.core.lifecycle_helpers import PLUGINS, audit_actions, ctx, rows, settings, snapshot  # noqa: F401  (settings: a fixture)


# -- install --


def test_install_loads_schema_data_permissions_and_audit(dispatcher, db_url):
    assert lifecycle.install(ctx(dispatcher), ["lcbase"]) == ["lcbase"]
    state = snapshot(db_url)
    assert "lcbase_item" in state["tables"]
    assert "lcbase_0002" in state["alembic"]
    assert ("lcbase", "installed") in state["modules"]
    assert {"lcbase.item.read", "lcbase.item.write"} <= set(state["permissions"])
    assert "lcbase_clerk" in state["roles"]
    items = rows(db_url, "SELECT name, note FROM lcbase_item ORDER BY id")
    assert items == [("first", None), ("second", "with a note")]
    grants = rows(db_url, "SELECT r.name FROM core_role_permission g JOIN core_role r ON r.id = g.role_id "
                          "WHERE g.permission = 'lcbase.item.read' ORDER BY r.name")
    assert [g[0] for g in grants] == ["admin", "staff"]
    assert audit_actions(db_url, "lcbase") == ["module.install"]


def test_install_brings_routes_menus_and_permissions_on_the_next_request(dispatcher, admin_client):
    assert admin_client.get("/lcbase/").status_code == 404
    before = dispatcher.app
    lifecycle.install(ctx(dispatcher), ["lcbase"])
    response = admin_client.get("/lcbase/")
    assert response.status_code == 200
    assert "lcbase items: 2" in response.get_data(as_text=True)
    assert dispatcher.app is not before
    assert "lcbase.item.read" in dispatcher.app.extensions["kontor"].permissions
    assert 'href="/lcbase/"' in admin_client.get("/dashboard").get_data(as_text=True)


def test_install_resolves_dependencies_first_and_reports_them(dispatcher, db_url):
    assert lifecycle.install(ctx(dispatcher), ["lcdep"]) == ["lcbase", "lcdep"]
    assert rows(db_url, "SELECT item_id, text FROM lcdep_note") == [(1, "about the first item")]


def test_installed_modules_hear_of_a_new_module(dispatcher, db_url):
    lifecycle.install(ctx(dispatcher), ["lcbase"])
    lifecycle.install(ctx(dispatcher), ["lcdep"])  # the app now has lcbase enabled
    assert ("saw lcdep",) in rows(db_url, "SELECT name FROM lcbase_item")


def test_a_module_with_a_broken_branch_stops_only_its_own_install(dispatcher, db_url):
    assert lifecycle.install(ctx(dispatcher), ["lcbase"]) == ["lcbase"]
    assert rows(db_url, "SELECT name FROM core_module WHERE name = 'lcbase'") == [("lcbase",)]
    before = snapshot(db_url)
    with pytest.raises(ModuleError) as refused:
        lifecycle.install(ctx(dispatcher), ["lcdangling"])
    assert "lcdangling" in refused.value.message
    assert snapshot(db_url) == before
    lifecycle.purge(ctx(dispatcher), ["lcbase"])  # and the others' acts still work
    assert "lcbase_item" not in snapshot(db_url)["tables"]


@pytest.mark.parametrize("name, reason", [
    ("lcfailmig", "fails half-way"),
    ("lcfaildata", "default data of lcfaildata is broken"),
])
def test_a_failed_install_leaves_schema_and_data_as_they_were(dispatcher, db_url, name, reason):
    lifecycle.install(ctx(dispatcher), ["hello"])
    before = snapshot(db_url)
    with pytest.raises(ModuleError) as refused:
        lifecycle.install(ctx(dispatcher), [name])
    assert name in refused.value.message and reason in refused.value.message
    assert snapshot(db_url) == before
    assert f"{name}_thing" not in before["tables"]


@pytest.mark.parametrize("names, culprit", [
    (["lccyclea"], "dependency cycle: lccyclea -> lccycleb -> lccyclea"),
    (["lcrange"], "lcbase>=2"),
    (["lcnewcore"], "'lcnewcore' requires core >=99"),
    (["lcmissing"], "'lcnowhere' is not available (required by lcmissing)"),
    (["lcbase", "lcmissing"], "lcnowhere"),
])
def test_dependency_problems_are_reported_before_anything_runs(dispatcher, db_url, names, culprit):
    before = snapshot(db_url)
    with pytest.raises(ModuleError) as refused:
        lifecycle.install(ctx(dispatcher), names)
    assert culprit in refused.value.message
    assert snapshot(db_url) == before


def test_install_refuses_unknown_quarantined_and_installed_modules(dispatcher):
    with pytest.raises(lifecycle.UnknownModule) as unknown:
        lifecycle.install(ctx(dispatcher), ["nosuchmodule"])
    assert unknown.value.status == 404 and "nosuchmodule" in unknown.value.message
    with pytest.raises(ModuleError, match="lcbroken.plugin is quarantined: ModuleNotFoundError"):
        lifecycle.install(ctx(dispatcher), ["lcbroken.plugin"])
    lifecycle.install(ctx(dispatcher), ["lcbase"])
    with pytest.raises(ModuleError, match="Already installed: lcbase"):
        lifecycle.install(ctx(dispatcher), ["lcbase"])


def test_broken_plugins_are_quarantined_and_the_rest_works(dispatcher, admin_client):
    quarantined = dispatcher.app.extensions["kontor"].quarantined
    assert "No module named 'lcbroken_no_such_module'" in quarantined["lcbroken.plugin"].error
    assert "version 'one point oh'" in quarantined["lcbadmanifest.plugin"].error
    statuses = {s.name: s for s in lifecycle.module_status(ctx(dispatcher))}
    assert statuses["lcbroken.plugin"].state == "quarantined"
    assert statuses["lcbase"].state == "available"
    lifecycle.install(ctx(dispatcher), ["hello"])
    assert admin_client.get("/hello/").status_code == 200


def test_an_installed_module_whose_code_is_gone_is_listed_as_quarantined(dispatcher, db_url):
    with get_engine(db_url).begin() as conn:
        conn.execute(text("INSERT INTO core_module (name, version, state, source, installed_at, updated_at) "
                          "VALUES ('ghost', '1.0.0', 'installed', 'config', :now, :now)"),
                     {"now": datetime(2026, 1, 1, tzinfo=timezone.utc).replace(tzinfo=None)})
    ghost = {s.name: s for s in lifecycle.module_status(ctx(dispatcher))}["ghost"]
    assert (ghost.state, ghost.installed_version) == ("quarantined", "1.0.0")
    assert "code is not found" in ghost.error
    with pytest.raises(ModuleError, match="The code of ghost is not found"):
        lifecycle.purge(ctx(dispatcher), ["ghost"])


# -- disable and enable --


def test_disable_keeps_rows_and_removes_routes_menus_and_permissions(dispatcher, db_url, admin_client):
    lifecycle.install(ctx(dispatcher), ["lcbase"])
    assert admin_client.get("/lcbase/").status_code == 200
    assert lifecycle.disable(ctx(dispatcher), ["lcbase"]) == ["lcbase"]
    assert admin_client.get("/lcbase/").status_code == 404
    app = dispatcher.app
    assert "lcbase.item.read" not in app.extensions["kontor"].permissions
    assert 'href="/lcbase/"' not in admin_client.get("/dashboard").get_data(as_text=True)
    assert len(rows(db_url, "SELECT id FROM lcbase_item")) == 2
    assert ("lcbase", "disabled") in snapshot(db_url)["modules"]
    assert lifecycle.enable(ctx(dispatcher), ["lcbase"]) == ["lcbase"]
    assert "lcbase items: 2" in admin_client.get("/lcbase/").get_data(as_text=True)
    assert audit_actions(db_url, "lcbase") == ["module.install", "module.disable", "module.enable"]


def test_has_permission_is_false_for_a_disabled_module(dispatcher, admin):
    from sqlalchemy import select as sa_select

    from core.actor import acting_as
    from core.auth.models import User
    from core.db import session
    from core.security import has_permission

    lifecycle.install(ctx(dispatcher), ["lcbase"])
    lifecycle.disable(ctx(dispatcher), ["lcbase"])
    app = dispatcher.app
    with app.test_request_context("/"), acting_as(
            session.execute(sa_select(User).where(User.username == admin[0])).scalar_one()):
        assert has_permission("core.module.read")
        assert not has_permission("lcbase.item.read")


def test_disable_is_refused_while_enabled_modules_depend_unless_cascading(dispatcher, db_url):
    lifecycle.install(ctx(dispatcher), ["lcdep"])
    before = snapshot(db_url)
    with pytest.raises(ModuleError, match="while needed by lcdep"):
        lifecycle.disable(ctx(dispatcher), ["lcbase"])
    assert snapshot(db_url) == before
    assert lifecycle.disable(ctx(dispatcher), ["lcbase"], cascade=True) == ["lcdep", "lcbase"]
    assert snapshot(db_url)["modules"] == [("lcbase", "disabled"), ("lcdep", "disabled")]
    assert lifecycle.enable(ctx(dispatcher), ["lcdep"]) == ["lcbase", "lcdep"]


def test_enable_refuses_what_is_not_installed_or_already_enabled(dispatcher):
    with pytest.raises(ModuleError, match="lcbase is not installed"):
        lifecycle.enable(ctx(dispatcher), ["lcbase"])
    lifecycle.install(ctx(dispatcher), ["lcbase"])
    with pytest.raises(ModuleError, match="Already enabled: lcbase"):
        lifecycle.enable(ctx(dispatcher), ["lcbase"])
    lifecycle.disable(ctx(dispatcher), ["lcbase"])
    with pytest.raises(ModuleError, match="Already disabled: lcbase"):
        lifecycle.disable(ctx(dispatcher), ["lcbase"])


# -- purge and restore --


def test_purge_writes_a_valid_archive_then_drops_everything(dispatcher, db_url, settings):
    lifecycle.install(ctx(dispatcher), ["lcbase"])
    [path] = lifecycle.purge(ctx(dispatcher), ["lcbase"])
    name = archives.archive_name(path)
    assert path == f"archives/{name}" and name.startswith("lcbase-") and name.endswith(".kontor-archive")
    with zipfile.ZipFile(Path(settings["INSTANCE_PATH"]) / "files" / path) as zipped:  # the storage folder
        manifest = json.loads(zipped.read("manifest.json"))
        data = json.loads(zipped.read("data.json"))
    assert manifest["module"] == "lcbase" and manifest["version"] == "1.0.0"
    assert manifest["revisions"] == ["lcbase_0002"]
    assert manifest["tables"] == [{"name": "lcbase_item", "rows": 2}, {"name": "lcbase_log", "rows": 0}]
    item = data["tables"]["lcbase_item"]
    first = dict(zip(item["columns"], item["rows"][0]))
    assert first["amount"] == "1234.56" and first["day"] == "2026-01-31"
    assert archives.read_archive(path, ctx(dispatcher).storage).counts == {"lcbase_item": 2, "lcbase_log": 0}
    state = snapshot(db_url)
    assert "lcbase_item" not in state["tables"]
    assert not [r for r in state["alembic"] if r.startswith("lcbase")]
    assert not [p for p in state["permissions"] if p.startswith("lcbase.")]
    assert "lcbase" not in dict(state["modules"])
    assert audit_actions(db_url, "lcbase") == ["module.install", "module.purge"]
    assert {s.name: s.state for s in lifecycle.module_status(ctx(dispatcher))}["lcbase"] == "available"


def typed_rows(db_url: str, table: str) -> list:
    """The rows of ``table`` with their Python values (Decimal, date, aware datetime)."""
    from core.db import metadata

    table = metadata.tables[table]
    with get_engine(db_url).connect() as conn:
        return conn.execute(select(table).order_by(*table.primary_key.columns)).all()


def test_reinstall_restores_the_archived_rows_exactly(dispatcher, db_url):
    from core.db import make_sessionmaker
    from lcbase.models import Item

    lifecycle.install(ctx(dispatcher), ["lcdep"])
    sessions = make_sessionmaker(get_engine(db_url))
    with sessions() as db:
        db.add(Item(id=7, name="added", amount=Decimal("99999.99"), day=date(2026, 12, 24),
                    at=datetime(2026, 5, 1, 12, 30, 0, 123456, tzinfo=timezone.utc)))
        db.execute(text("INSERT INTO lcbase_log (id, line) VALUES (1, 'a table no model maps')"))
        db.commit()
    before, notes = typed_rows(db_url, "lcbase_item"), typed_rows(db_url, "lcdep_note")
    paths = lifecycle.purge(ctx(dispatcher), ["lcbase", "lcdep"])
    assert [archives.archive_name(p).split("-")[0] for p in paths] == ["lcdep", "lcbase"]
    assert archives.read_archive(paths[1], ctx(dispatcher).storage).counts == {"lcbase_item": 3, "lcbase_log": 1}
    assert lifecycle.install(ctx(dispatcher), ["lcbase"], restore_from=paths[1]) == ["lcbase"]
    assert typed_rows(db_url, "lcbase_item") == before
    assert rows(db_url, "SELECT id, line FROM lcbase_log") == [(1, "a table no model maps")]
    assert before[2].amount == Decimal("99999.99") and before[2].at.microsecond == 123456
    lifecycle.install(ctx(dispatcher), ["lcdep"], restore_from=paths[0])
    assert typed_rows(db_url, "lcdep_note") == notes
    with sessions() as db:  # new keys go on after the restored ones
        item = Item(name="after", amount=Decimal("0.10"), day=date(2027, 1, 1))
        db.add(item)
        db.commit()
        assert item.id > 7  # lcbase also noted the reinstall of lcdep as a new item


def test_purge_is_refused_while_dependents_are_installed(dispatcher, db_url):
    lifecycle.install(ctx(dispatcher), ["lcdep"])
    lifecycle.disable(ctx(dispatcher), ["lcdep"])
    before = snapshot(db_url)
    with pytest.raises(ModuleError, match="while needed by lcdep"):
        lifecycle.purge(ctx(dispatcher), ["lcbase"])
    assert snapshot(db_url) == before
    assert ctx(dispatcher).storage.keys("archives") == []


def test_a_module_can_veto_its_purge_and_no_archive_is_left(dispatcher, db_url):
    lifecycle.install(ctx(dispatcher), ["lcbase"])
    with get_engine(db_url).begin() as conn:
        conn.execute(text("UPDATE lcbase_item SET name = 'posted' WHERE id = 1"))
    before = snapshot(db_url)
    with pytest.raises(ModuleError, match="posted items"):
        lifecycle.purge(ctx(dispatcher), ["lcbase"])
    assert snapshot(db_url) == before
    assert ctx(dispatcher).storage.keys("archives") == []


def test_a_failed_purge_keeps_everything_and_deletes_its_archive(dispatcher, db_url):
    lifecycle.install(ctx(dispatcher), ["lcfailpurge"])
    before = snapshot(db_url)
    with pytest.raises(ModuleError, match="lcfailpurge.*fails half-way"):
        lifecycle.purge(ctx(dispatcher), ["lcfailpurge"])
    assert snapshot(db_url) == before
    assert rows(db_url, "SELECT id FROM lcfailpurge_thing ORDER BY id") == [(1,), (2,)]
    assert ctx(dispatcher).storage.keys("archives") == []


def test_a_damaged_or_outdated_archive_is_refused(dispatcher, db_url, tmp_path, settings):
    lifecycle.install(ctx(dispatcher), ["lcbase"])
    [path] = lifecycle.purge(ctx(dispatcher), ["lcbase"])
    before = snapshot(db_url)
    stored = Path(settings["INSTANCE_PATH"]) / "files" / path  # the storage folder
    damaged = stored.read_bytes()
    stored.write_bytes(damaged[:-1] + bytes([damaged[-1] ^ 1]))
    with pytest.raises(ModuleError, match="checksum"):
        lifecycle.install(ctx(dispatcher), ["lcbase"], restore_from=path)
    stored.write_bytes(damaged)
    old = tmp_path / "old.kontor-archive"
    with zipfile.ZipFile(stored) as source, zipfile.ZipFile(old, "w") as target:
        manifest = json.loads(source.read("manifest.json"))
        target.writestr("manifest.json", json.dumps({**manifest, "revisions": ["lcbase_0001"]}))
        target.writestr("data.json", source.read("data.json"))
    with pytest.raises(ModuleError, match="revision lcbase_0001.*lcbase_0002"):
        lifecycle.install(ctx(dispatcher), ["lcbase"], restore_from=old)
    with pytest.raises(ModuleError, match="does not install"):
        lifecycle.install(ctx(dispatcher), ["hello"], restore_from=path)
    assert snapshot(db_url) == before


# -- upgrade --


def test_upgrade_runs_the_new_revisions_and_records_the_version(dispatcher, db_url):
    from core.modules import migrate

    lifecycle.install(ctx(dispatcher), ["lcbase"])
    locations = lifecycle.migration_locations(ctx(dispatcher).discovery, {"lcbase"})
    with get_engine(db_url).begin() as conn:  # as if version 0.9.0, one revision behind, were installed
        migrate.downgrade(conn, "lcbase@lcbase_0001", locations)
        conn.execute(text("UPDATE core_module SET version = '0.9.0' WHERE name = 'lcbase'"))
    statuses = {s.name: s for s in lifecycle.module_status(ctx(dispatcher))}
    assert (statuses["lcbase"].state, statuses["lcbase"].installed_version) == ("upgradable", "0.9.0")
    assert lifecycle.upgrade(ctx(dispatcher), ["lcbase"]) == ["lcbase"]
    assert "note" in {c["name"] for c in inspect(get_engine(db_url)).get_columns("lcbase_item")}
    assert {s.name: s.state for s in lifecycle.module_status(ctx(dispatcher))}["lcbase"] == "installed"
    assert audit_actions(db_url, "lcbase") == ["module.install", "module.upgrade"]
    with pytest.raises(ModuleError, match="lcdep is not installed"):
        lifecycle.upgrade(ctx(dispatcher), ["lcdep"])
