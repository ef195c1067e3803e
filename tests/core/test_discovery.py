"""Plugins are found through entry points and settings; broken ones are quarantined, never fatal."""
from core.app import get_discovery
from core.plugins import BUILTIN_PLUGINS, build_manager


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
