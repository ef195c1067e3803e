"""Plugins are found through entry points and settings; broken ones are quarantined, never fatal."""
import sys
import types

import pytest

from core.app import get_discovery
from core.plugins import BUILTIN_PLUGINS, Manifest, build_manager, hookimpl, load_plugin


def test_a_misspelled_hook_quarantines_the_plugin():
    found = get_discovery(("typo_hook.plugin",), refresh=True)
    assert "typo_hook" not in found.plugins
    reason = found.quarantined["typo_hook.plugin"].error
    assert "register_blueprint" in reason


def test_a_missing_module_is_quarantined_with_the_reason():
    found = get_discovery(("no_such_package.plugin",), refresh=True)
    assert "ModuleNotFoundError" in found.quarantined["no_such_package.plugin"].error


def test_the_platform_starts_with_a_broken_plugin_configured(settings, client, admin):
    settings["EXTRA_PLUGINS"] = ("typo_hook.plugin", "no_such_package.plugin")
    from core.app import create_app

    app = create_app(settings, refresh_plugins=True)
    assert set(app.extensions["kontor"].quarantined) >= {"typo_hook.plugin", "no_such_package.plugin"}
    response = app.test_client().get("/login")
    assert response.status_code == 200


def test_builtin_plugins_all_register():
    pm = build_manager([], {})
    assert {pm.get_name(p) for p in pm.get_plugins()} >= set(BUILTIN_PLUGINS)


def test_a_plugin_failing_to_register_is_left_out_whole(settings, db_url, admin):
    from sqlalchemy import insert

    from core.app import create_app
    from core.db import get_engine
    from core.modules.models import ModuleRecord

    with get_engine(db_url).begin() as conn:
        conn.execute(insert(ModuleRecord).values(name="raising_hook", version="1.0", state="installed"))
    settings["EXTRA_PLUGINS"] = ("raising_hook.plugin",)
    app = create_app(settings, refresh_plugins=True)
    kontor = app.extensions["kontor"]
    assert "cannot build my pages" in kontor.quarantined["raising_hook"].error
    assert "raising_hook" not in kontor.active_names
    assert all(item.label != "Never shown" for item in kontor.menu_items)


def test_a_plugin_may_implement_the_hooks_of_a_module_it_depends_on():
    found = get_discovery(("listener.plugin",), refresh=True)
    assert "listener" in found.plugins and "listener.plugin" not in found.quarantined
    # without everyhook active, its hooks are simply never called
    pm = build_manager([found.plugins["listener"]], {})
    assert pm.get_plugin("listener") is not None


def test_a_dependency_hook_is_called_when_the_dependency_is_active():
    import listener.plugin

    found = get_discovery(("listener.plugin", "everyhook.plugin"), refresh=True)
    pm = build_manager([found.plugins["everyhook"], found.plugins["listener"]], {})

    class Thing:
        name = "kettle"

    listener.plugin.HEARD.clear()
    pm.hook.everyhook_thing_added(thing=Thing(), session=None)
    assert listener.plugin.HEARD == ["kettle"]


def test_hooks_of_a_module_not_depended_on_are_still_misspellings():
    module = types.ModuleType("stranger_plugin")
    module.manifest = Manifest(name="stranger", title="Stranger", version="1.0.0", summary="No dependencies.")
    module.everyhook_thing_added = hookimpl(lambda thing, session: None)
    sys.modules["stranger_plugin"] = module
    try:
        with pytest.raises(Exception, match="unknown hook 'everyhook_thing_added'"):
            load_plugin("stranger_plugin", None, "config")
    finally:
        del sys.modules["stranger_plugin"]
