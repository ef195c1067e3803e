"""The plugin contract, run over every plugin found, and shown to catch a broken plugin."""
from __future__ import annotations

import sys
import textwrap

import pytest

from core.app import get_discovery
from tests.contract import Contract, PluginContract, install, round_trip

#: Plugins kept under tests/ (the outside author's example and the every-hook fixture) join
#: those found through ``kontor.plugins`` entry points (the bundled ones and any pip-installed).
TEST_PLUGINS = ("kontor_hello.plugin", "everyhook.plugin")


def discovered() -> list[tuple[str, str | None]]:
    found = get_discovery(TEST_PLUGINS, refresh=True)
    modules = {info.name: (info.module.__name__ if info.source == "config" else None) for info in found.plugins.values()}
    return sorted(modules.items())


PLUGINS = discovered()
IDS = [name for name, _ in PLUGINS]


def test_every_plugin_found_loads():
    found = get_discovery(TEST_PLUGINS, refresh=True)
    assert {name: q.error for name, q in found.quarantined.items()} == {}
    assert {"hello", "everyhook"} <= set(IDS)


@pytest.fixture(scope="module", params=PLUGINS, ids=IDS)
def static(request) -> Contract:
    """The contract of one plugin, for the checks that need no database."""
    name, module = request.param
    return Contract(name, {"EXTRA_PLUGINS": TEST_PLUGINS}, module)


def test_manifest_validates(static):
    static.check_manifest()


def test_depends_resolve(static):
    static.check_depends()


def test_migration_branch_has_one_head(static):
    static.check_single_head()


def test_has_the_module_shape(static):
    static.check_shape()


def test_schemas_round_trip(static):
    static.check_schemas()


@pytest.mark.parametrize(("name", "module"), PLUGINS, ids=IDS)
def test_installs_with_working_menus_routes_templates_and_purges_cleanly(settings, name, module):
    settings["EXTRA_PLUGINS"] = TEST_PLUGINS
    Contract(name, settings, module).check_install_and_purge()


class TestEveryhookContract(PluginContract):
    """How a plugin's own suite reuses the contract."""

    plugin_name = "everyhook"
    plugin_module = "everyhook.plugin"


# -- The contract fails on a broken plugin --

BROKEN_PLUGIN = '''
from flask import Blueprint

from core import Manifest, MenuItem, Permission, hookimpl, require
from core.db import session

manifest = Manifest(name="broken", title="Broken", version="1.0", summary="Breaks every rule.")


@hookimpl
def register_permissions():
    return [Permission("broken.thing.read", "See")]


@hookimpl
def register_menu_items():
    return [MenuItem("main", "Nowhere", "broken.missing", "broken.thing.read"),
            MenuItem("main", "Unregistered", "broken.index", "broken.thing.write"),
            MenuItem("lost", "In no section", "broken.index", "broken.thing.read")]


@hookimpl
def register_blueprints():
    bp = Blueprint("broken", __name__, url_prefix="/broken", template_folder="templates")

    @bp.get("/")
    @require("broken.thing.read")
    def index():
        return "ok"

    @bp.get("/open")
    def undeclared():
        return "no permission declared"

    @bp.get("/secret")
    @require("broken.secret.read")
    def secret():
        return "needs a permission nobody registers"

    return [bp]
'''

FORKED_PLUGIN = '''
from pathlib import Path

from core import Manifest, hookimpl

manifest = Manifest(name="forked", title="Forked", version="1.0", summary="Its branch has two heads.")


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"
'''

TWO_HEADS = '''
revision = "{rev}"
down_revision = {down}
branch_labels = {labels}
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
'''


@pytest.fixture
def broken_packages(tmp_path, monkeypatch):
    """Plugin packages written to disk: ``broken`` (menus, routes, template, schema), ``forked`` (branch)."""
    package = tmp_path / "broken"
    (package / "templates" / "broken").mkdir(parents=True)
    (package / "__init__.py").write_text('"""Broken."""\n')
    (package / "plugin.py").write_text(BROKEN_PLUGIN)
    (package / "templates" / "broken" / "page.html").write_text("{{ 'x' | no_such_filter }}")
    (package / "schemas.py").write_text(textwrap.dedent('''
        from marshmallow import Schema, fields, post_dump


        class LossySchema(Schema):
            name = fields.String(required=True)

            @post_dump
            def shout(self, data, **kwargs):
                return {**data, "name": data["name"] + "!"}
    '''))
    forked = tmp_path / "forked"
    (forked / "migrations").mkdir(parents=True)
    (forked / "__init__.py").write_text('"""Forked."""\n')
    (forked / "plugin.py").write_text(FORKED_PLUGIN)
    for rev, down, labels in (("forked_0001", None, ("forked",)), ("forked_0002", "'forked_0001'", None),
                              ("forked_0003", "'forked_0001'", None)):
        (forked / "migrations" / f"{rev}.py").write_text(TWO_HEADS.format(rev=rev, down=down, labels=labels))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield ("broken.plugin", "forked.plugin")
    for name in [m for m in sys.modules if m.split(".")[0] in ("broken", "forked")]:
        del sys.modules[name]


def test_the_contract_catches_each_broken_rule(settings, broken_packages):
    settings["EXTRA_PLUGINS"] = broken_packages
    with pytest.raises(AssertionError, match="branch forked has more than one head"):
        Contract("forked", settings).check_single_head()
    contract = Contract("broken", settings)
    with pytest.raises(AssertionError, match="LossySchema"):
        contract.check_schemas()
    with pytest.raises(AssertionError) as shape:
        contract.check_shape()
    assert "plugin.py imports core.db (import from the facade, core)" in str(shape.value)
    assert "register_blueprints makes blueprint broken anew on each call" in str(shape.value)

    app = install(settings, "broken")
    kontor = app.extensions["kontor"]
    with pytest.raises(AssertionError) as menus:
        contract._check_menus(app, kontor)
    assert "unknown endpoint broken.missing" in str(menus.value)
    assert "broken.thing.write is not registered" in str(menus.value)
    assert "menu item In no section goes into section 'lost', which no module declares" in str(menus.value)
    with pytest.raises(AssertionError) as routes:
        contract._check_routes(app, kontor)
    assert "/broken/open (broken.undeclared) declares no permission" in str(routes.value)
    assert "/broken/secret needs broken.secret.read" in str(routes.value)
    with pytest.raises(AssertionError, match="page.html.*no_such_filter"):
        contract._check_templates(app)


def test_round_trip_uses_a_schema_example():
    from marshmallow import Schema, fields, validate

    class CodeSchema(Schema):
        EXAMPLE = {"code": "AB-12"}
        code = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{2}-\d{2}$"))

    round_trip(CodeSchema)
    del CodeSchema.EXAMPLE
    with pytest.raises(Exception, match="code"):
        round_trip(CodeSchema)
