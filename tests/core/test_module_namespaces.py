"""A module's routes, blueprints, permissions, roles and tables live under its own name.

A module registering what belongs to the core or another module is refused at install (nothing
changes), quarantined at start-up if it got in before, and fails the plugin contract; the message
names both modules. Granting an existing core permission to the module's own role is allowed.
The fixture plugins are ``tests/fixture_plugins/ns*``.
"""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text

from core.auth.models import PermissionRecord, Role, RoleGrant
from core.db import get_engine
from core.errors import ModuleError
from core.modules import lifecycle
from core.plugins import claims_of, core_claims, discover, namespace_problems
from tests.contract import Contract
from tests.core.lifecycle_helpers import ctx, snapshot

PLUGINS = ("kontor_hello.plugin", "lcbase.plugin", "nsclash.plugin", "nsgrant.plugin", "nstable.plugin")


@pytest.fixture
def settings(settings):
    return {**settings, "EXTRA_PLUGINS": PLUGINS}


def _problems(name: str, *others: str) -> list[str]:
    plugins = discover(PLUGINS).plugins
    return namespace_problems(claims_of(plugins[name]), [core_claims(), *(claims_of(plugins[o]) for o in others)])


def test_the_bundled_modules_and_the_example_stay_in_their_namespaces():
    plugins = discover(("kontor_hello.plugin",)).plugins
    assert {"accounting", "crm", "hello"} <= set(plugins)
    taken = [core_claims()]
    for name in sorted(plugins):
        claims = claims_of(plugins[name])
        assert namespace_problems(claims, taken) == [], name
        taken.append(claims)


def test_every_problem_is_named_with_its_owner():
    problems = "\n".join(_problems("nsclash", "hello", "lcbase"))
    assert "nsclash: the route /hello/ is outside /nsclash/ and /api/v1/nsclash/, and module hello serves it" in problems
    assert "nsclash: the permission hello.greeting.read belongs to module hello" in problems
    assert "nsclash: the permission core.party.read belongs to the core; nsclash may only grant it to its own " \
           "roles, not to staff" in problems
    assert "nsclash: the role lcbase_clerk belongs to module lcbase" in problems


def test_a_name_outside_any_namespace_is_refused_too():
    problems = "\n".join(_problems("nsclash"))  # hello and lcbase are not there to own anything
    assert "the route /hello/ is outside /nsclash/" in problems
    assert "the permission hello.greeting.read is outside its namespace nsclash." in problems


def test_a_module_named_like_a_core_url_is_refused():
    from core.plugins import Claims

    problems = namespace_problems(Claims(owner="admin", rules={"/admin/things"}), [core_claims()])
    assert problems == ["admin: its URL prefix /admin/ is taken by the core"]


def test_install_refuses_a_module_registering_what_others_own(dispatcher, db_url):
    lifecycle.install(ctx(dispatcher), ["hello", "lcbase"])
    before = snapshot(db_url)
    with pytest.raises(ModuleError) as refused:
        lifecycle.install(ctx(dispatcher), ["nsclash"])
    message = refused.value.message
    assert message.startswith("nsclash cannot be installed, nothing was changed")
    assert "module hello" in message and "module lcbase" in message and "the core" in message
    assert snapshot(db_url) == before  # no module row, no permission, no grant to staff, no audit
    with get_engine(db_url).connect() as conn:
        assert conn.execute(select(Role.module).where(Role.name == "lcbase_clerk")).scalar() == "lcbase"


def test_install_of_two_clashing_modules_at_once_is_refused(dispatcher, db_url):
    before = snapshot(db_url)
    with pytest.raises(ModuleError, match="nsclash: the route /hello/ .* module hello serves it"):
        lifecycle.install(ctx(dispatcher), ["hello", "nsclash"])
    assert snapshot(db_url) == before


def test_a_role_created_by_a_module_whose_code_is_gone_is_still_its_own(dispatcher, db_url):
    with get_engine(db_url).begin() as conn:
        conn.execute(text("INSERT INTO core_role (name, title, description, module) "
                          "VALUES ('nsgrant_reader', 'Reader', '', 'ghost')"))
    with pytest.raises(ModuleError, match="the role nsgrant_reader belongs to module ghost"):
        lifecycle.install(ctx(dispatcher), ["nsgrant"])


def test_a_table_in_another_modules_prefix_refuses_the_install(dispatcher, db_url):
    before = snapshot(db_url)
    with pytest.raises(ModuleError, match="nstable created the table lcbase_stolen, which belongs to lcbase"):
        lifecycle.install(ctx(dispatcher), ["nstable"])
    assert snapshot(db_url) == before  # the table is gone with the rolled back transaction


def test_a_module_may_grant_a_core_permission_to_its_own_role(dispatcher, db_url, admin_client):
    assert lifecycle.install(ctx(dispatcher), ["nsgrant"]) == ["nsgrant"]
    with get_engine(db_url).connect() as conn:
        owner = conn.execute(select(PermissionRecord.module).where(PermissionRecord.name == "core.party.read"))
        assert owner.scalar() == "core"  # the permission stays the core's
        granted = set(conn.execute(select(Role.name).join(RoleGrant, RoleGrant.role_id == Role.id)
                                   .where(RoleGrant.permission == "core.party.read")).scalars())
    assert {"nsgrant_reader", "staff", "admin"} <= granted
    app = dispatcher.app
    assert "nsgrant" in app.extensions["kontor"].active_names
    assert str(app.extensions["kontor"].permissions["core.party.read"].description) == "See companies and people"
    assert admin_client.get("/nsgrant/").status_code == 200
    lifecycle.purge(ctx(dispatcher), ["nsgrant"])
    with get_engine(db_url).connect() as conn:
        assert conn.execute(select(PermissionRecord.module).where(
            PermissionRecord.name == "core.party.read")).scalar() == "core"  # purge leaves it


def test_a_clashing_module_that_got_in_before_is_quarantined_at_start_up(dispatcher, db_url, admin_client):
    lifecycle.install(ctx(dispatcher), ["hello"])
    with get_engine(db_url).begin() as conn:  # as an older core let it in, unchecked
        conn.execute(text("INSERT INTO core_module (name, version, state, source, installed_at, updated_at) "
                          "VALUES ('nsclash', '1.0.0', 'installed', 'config', :now, :now)"), {"now": datetime(2026, 1, 1)})
        conn.execute(text("UPDATE core_modules_revision SET revision = revision + 1"))
    kontor = dispatcher.app.extensions["kontor"]
    assert "nsclash" not in kontor.active_names and "hello" in kontor.active_names
    error = kontor.quarantined["nsclash"].error
    assert "the route /hello/ is outside /nsclash/" in error and "module hello serves it" in error
    assert admin_client.get("/hello/").get_data(as_text=True) != "nsclash pretending to be hello"
    assert {s.name: s.state for s in lifecycle.module_status(ctx(dispatcher))}["nsclash"] == "quarantined"


def test_the_plugin_contract_fails_a_module_outside_its_namespace():
    contract = Contract("nsclash", {"EXTRA_PLUGINS": PLUGINS})
    with pytest.raises(AssertionError, match="module hello"):
        contract.check_namespace()
    Contract("nsgrant", {"EXTRA_PLUGINS": PLUGINS}).check_namespace()
