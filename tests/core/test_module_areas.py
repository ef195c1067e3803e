"""A module made of areas: each area's ``plugin.py`` is an ordinary pluggy plugin of the module.

The fixture module ``twoareas`` (``tests/fixture_plugins/kontor_twoareas``) has two areas: ``alpha``
implements ``register_permissions`` and ``module_installed``, ``beta`` ``register_blueprints``,
``record_actions`` and ``module_uninstalling``. Broken variants are written per test into a
temporary folder on ``sys.path``.
"""
from __future__ import annotations

import importlib
import inspect
import json
import sys
import textwrap

import pytest
from sqlalchemy import create_engine, insert, select

from core import hookspecs
from core.app import create_app, get_discovery
from core.modules import lifecycle
from core.modules.archive import module_tables
from core.plugins import Manifest, ManifestError, build_manager, discover, single_manager
from core.wsgi import Dispatcher
from core.testing import WebClient, make_user
from tests.contract import check_plugin, install, purge, schemas_of

TWOAREAS = "kontor_twoareas.plugin"
PASSWORD = "two areas password"
CORE_HOOKS = sorted(name for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
                    if hasattr(func, "kontor_spec"))


@pytest.fixture
def write_module(tmp_path, monkeypatch):
    """Write a package under a folder put on ``sys.path``: ``write_module("pkg", {"plugin.py": …})``.

    Returns the import name of its ``plugin.py``; every ``__init__.py`` is added, and the
    package's modules are forgotten after the test.
    """
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(package: str, files: dict[str, str]) -> str:
        for relative, text in files.items():
            path = tmp_path / package / relative
            for folder in [path.parent, *path.parent.parents]:
                if folder == tmp_path:
                    break
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "__init__.py").touch()
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        written.append(package)
        importlib.invalidate_caches()
        return f"{package}.plugin"

    yield write
    for name in list(sys.modules):
        if any(name == package or name.startswith(f"{package}.") for package in written):
            del sys.modules[name]


def manifest_text(name: str, areas: tuple[str, ...], depends: tuple[str, ...] = ()) -> str:
    return (f"from core import Manifest\n\nmanifest = Manifest(name={name!r}, title='T', version='1.0', "
            f"summary='S', depends={depends!r}, areas={areas!r})\n")


# -- The manifest --


def test_the_manifest_declares_areas_and_they_are_validated():
    base = {"name": "big", "title": "Big", "version": "1.0", "summary": "A module of areas."}
    Manifest(**base, areas=("ledger", "tax")).validate()
    assert Manifest(**base).areas == ()
    with pytest.raises(ManifestError, match="areas must be a list"):
        Manifest(**base, areas="ledger").validate()
    with pytest.raises(ManifestError, match="'led-ger' is not the name of a sub-package"):
        Manifest(**base, areas=("led-ger",)).validate()
    with pytest.raises(ManifestError, match="'class' is not the name"):
        Manifest(**base, areas=("class",)).validate()
    with pytest.raises(ManifestError, match="tax is named more than once"):
        Manifest(**base, areas=("tax", "ledger", "tax")).validate()


def test_discovery_imports_each_areas_plugin_as_a_part_of_the_module():
    found = get_discovery((TWOAREAS,), refresh=True)
    assert "twoareas" in found.plugins, found.quarantined
    info = found.plugins["twoareas"]
    assert [part.__name__ for part in info.parts] == [
        "kontor_twoareas.plugin", "kontor_twoareas.alpha.plugin", "kontor_twoareas.beta.plugin"]
    assert info.part_names() == ["twoareas", "twoareas.alpha", "twoareas.beta"]
    assert info.packages == ["kontor_twoareas", "kontor_twoareas.alpha", "kontor_twoareas.beta"]


def test_a_module_without_areas_is_one_part():
    info = get_discovery(("kontor_hello.plugin",), refresh=True).plugins["hello"]
    assert info.parts == (info.module,) and info.part_names() == ["hello"]


# -- Every hook reaches every area --


def test_every_core_hook_reaches_every_area(write_module):
    def area(hook_names: list[str]) -> str:
        lines = ["from core import hookimpl\n"]
        for name in hook_names:
            args = ", ".join(getattr(hookspecs, name).__code__.co_varnames[:getattr(hookspecs, name).__code__.co_argcount])
            lines.append(f"\n\n@hookimpl\ndef {name}({args}):\n    return None\n")
        return "".join(lines)

    target = write_module("areas_every_hook", {
        "plugin.py": manifest_text("everyarea", ("one", "two")),
        "one/plugin.py": area(CORE_HOOKS),
        "two/plugin.py": area(CORE_HOOKS),
    })
    found = discover((target,))
    assert "everyarea" in found.plugins, found.quarantined
    for pm in (build_manager([found.plugins["everyarea"]], {}), single_manager(found.plugins["everyarea"])):
        for name in CORE_HOOKS:
            names = [impl.plugin_name for impl in getattr(pm.hook, name).get_hookimpls()]
            assert {"everyarea.one", "everyarea.two"} <= set(names), name


@pytest.fixture
def site(settings):
    """A test database with twoareas installed, served by a dispatcher; an admin is signed in."""
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], TWOAREAS)
    install(settings, "twoareas")
    dispatcher = Dispatcher(settings)
    make_user(dispatcher.app, "boss", ["admin"], PASSWORD)
    client = WebClient(dispatcher)
    assert client.login("boss", PASSWORD).status_code == 302
    with dispatcher.app.app_context():
        from core.db import session
        from core.parties.services import create_party

        party_id = create_party(session, {"name": "Fjordlys ApS", "kind": "company"}).id
        session.commit()
    return dispatcher, client, party_id


def audited(app, action: str) -> list[dict]:
    from core.audit.models import AuditRecord
    from core.db import session

    with app.app_context():
        rows = session.execute(select(AuditRecord.changes).where(AuditRecord.action == action)
                               .order_by(AuditRecord.seq)).scalars()
        return [json.loads(changes) for changes in rows]


def test_the_hooks_of_both_areas_are_called(site, settings):
    dispatcher, client, party_id = site
    kontor = dispatcher.app.extensions["kontor"]
    assert kontor.pm.get_plugin("twoareas.alpha") is not None and kontor.pm.get_plugin("twoareas.beta") is not None
    # alpha: register_permissions (registered in the database by the install, too)
    assert "twoareas.note.read" in kontor.permissions
    from core.auth.models import PermissionRecord
    from core.db import session

    with dispatcher.app.app_context():
        assert session.get(PermissionRecord, "twoareas.note.read").module == "twoareas"
    # beta: register_blueprints and record_actions
    page = client.get("/twoareas/")
    assert page.status_code == 200 and "The notes of two areas." in page.get_data(as_text=True)
    party_page = client.get(f"/parties/{party_id}").get_data(as_text=True)
    assert "Open the notes" in party_page and 'href="/twoareas/"' in party_page
    # alpha: module_installed, when another module arrives
    assert audited(dispatcher.app, "twoareas.saw_installed") == []
    install(settings, "hello")
    assert audited(dispatcher.app, "twoareas.saw_installed") == [{"name": "hello"}]


def test_disabling_the_module_removes_both_areas_and_enabling_brings_them_back(site, settings):
    dispatcher, client, party_id = site
    lifecycle.disable(lifecycle.context_from_app(dispatcher.app), ["twoareas"])
    kontor = dispatcher.app.extensions["kontor"]  # the dispatcher rebuilt the app
    assert "twoareas" not in kontor.active_names
    assert kontor.pm.get_plugin("twoareas.alpha") is None and kontor.pm.get_plugin("twoareas.beta") is None
    assert "twoareas.note.read" not in kontor.permissions
    assert client.get("/twoareas/").status_code == 404
    assert "Open the notes" not in client.get(f"/parties/{party_id}").get_data(as_text=True)
    install(settings, "hello")
    assert audited(dispatcher.app, "twoareas.saw_installed") == []  # a disabled module hears nothing

    lifecycle.enable(lifecycle.context_from_app(dispatcher.app), ["twoareas"])
    assert dispatcher.app.extensions["kontor"].pm.get_plugin("twoareas.beta") is not None
    assert client.get("/twoareas/").status_code == 200
    assert "Open the notes" in client.get(f"/parties/{party_id}").get_data(as_text=True)


def test_purging_a_disabled_module_still_asks_its_areas(site, settings):
    dispatcher, _client, _party_id = site
    lifecycle.disable(lifecycle.context_from_app(dispatcher.app), ["twoareas"])
    purge(settings, "twoareas")
    assert audited(dispatcher.app, "twoareas.uninstalling") == [{"name": "twoareas"}]
    from core.auth.models import PermissionRecord
    from core.db import session

    with dispatcher.app.app_context():
        assert session.get(PermissionRecord, "twoareas.note.read") is None


def test_the_plugin_contract_passes_on_a_module_of_areas(settings):
    check_plugin("twoareas", settings, module=TWOAREAS)


def test_the_contract_finds_the_schemas_of_the_areas():
    info = get_discovery((TWOAREAS,), refresh=True).plugins["twoareas"]
    assert [schema.__name__ for schema in schemas_of(info)] == ["NoteSchema"]


def test_the_archive_knows_the_models_of_every_area(write_module):
    target = write_module("areas_with_models", {
        "plugin.py": manifest_text("withmodels", ("books",)),
        "books/plugin.py": "",
        "books/models.py": '"""No table: importing it is what is checked."""\n',
    })
    info = discover((target,)).plugins["withmodels"]
    assert "areas_with_models.books.models" not in sys.modules
    with create_engine("sqlite://").connect() as conn:
        assert module_tables(conn, info, set()) == []
    assert "areas_with_models.books.models" in sys.modules


# -- A module is one unit: a broken area quarantines it whole --


def test_an_area_failing_to_import_quarantines_the_module(write_module):
    target = write_module("areas_broken_import", {
        "plugin.py": manifest_text("brokenimport", ("fine", "broken")),
        "fine/plugin.py": "from core import hookimpl\n\n\n@hookimpl\ndef register_permissions():\n    return []\n",
        "broken/plugin.py": "import no_such_package_anywhere\n",
    })
    found = discover((target,))
    assert "brokenimport" not in found.plugins
    error = found.quarantined[target].error
    assert "area 'broken'" in error and "no_such_package_anywhere" in error


def test_an_area_that_is_missing_quarantines_the_module(write_module):
    target = write_module("areas_missing", {"plugin.py": manifest_text("missingarea", ("ghost",))})
    error = discover((target,)).quarantined[target].error
    assert "area 'ghost' (areas_missing.ghost.plugin) failed to import" in error


def test_a_misspelt_hook_in_an_area_names_the_area(write_module):
    target = write_module("areas_typo", {
        "plugin.py": manifest_text("typoarea", ("good", "sloppy")),
        "good/plugin.py": "from core import hookimpl\n\n\n@hookimpl\ndef register_permissions():\n    return []\n",
        "sloppy/plugin.py": "from core import hookimpl\n\n\n@hookimpl\ndef register_blueprint():\n    return []\n",
    })
    found = discover((target,))
    assert "typoarea" not in found.plugins
    assert "unknown hook 'register_blueprint' in area 'sloppy' of plugin 'typoarea'" in found.quarantined[target].error


def test_an_area_may_implement_the_hooks_of_a_module_the_module_depends_on(write_module):
    target = write_module("areas_listener", {
        "plugin.py": manifest_text("arealistener", ("ears",), depends=("everyhook",)),
        "ears/plugin.py": "from core import hookimpl\n\n\n@hookimpl\ndef everyhook_thing_added(thing, session):\n"
                          "    return thing\n",
    })
    found = discover((target, "everyhook.plugin"))
    assert "arealistener" in found.plugins, found.quarantined
    pm = build_manager([found.plugins["everyhook"], found.plugins["arealistener"]], {})
    assert pm.hook.everyhook_thing_added(thing="kettle", session=None) == ["kettle"]


def bad_signature_module(write_module) -> str:
    """A module whose area ``ears`` implements everyhook's hook with an argument it does not offer:
    valid on its own, refused when registered beside everyhook."""
    return write_module("areas_bad_signature", {
        "plugin.py": manifest_text("badears", ("eyes", "ears"), depends=("everyhook",)),
        "eyes/plugin.py": "from core import Permission, hookimpl\n\n\n@hookimpl\ndef register_permissions():\n"
                          "    return [Permission('badears.look', 'Look', ('staff',))]\n",
        "ears/plugin.py": "from core import hookimpl\n\n\n@hookimpl\ndef everyhook_thing_added(thing, colour):\n"
                          "    return thing\n",
    })


def test_an_area_failing_to_register_leaves_the_whole_module_out(write_module):
    found = discover((bad_signature_module(write_module), "everyhook.plugin"))
    assert "badears" in found.plugins, found.quarantined
    quarantined: dict = {}
    pm = build_manager([found.plugins["everyhook"], found.plugins["badears"]], quarantined)
    assert "colour" in quarantined["badears"].error and "badears.ears" in quarantined["badears"].error
    assert [pm.get_plugin(name) for name in ("badears", "badears.eyes", "badears.ears")] == [None, None, None]
    assert pm.get_plugin("everyhook") is not None


def installed_rows(db_url: str, *names: str) -> None:
    """Mark ``names`` installed in the database, as if their install had run (start-up reads only this)."""
    from core.db import get_engine
    from core.modules.models import ModuleRecord

    with get_engine(db_url).begin() as conn:
        for name in names:
            conn.execute(insert(ModuleRecord).values(name=name, version="1.0", state="installed"))


def test_at_start_up_an_area_failing_to_register_quarantines_the_module(settings, db_url, write_module):
    target = bad_signature_module(write_module)
    installed_rows(db_url, "everyhook", "badears")
    settings["EXTRA_PLUGINS"] = ("everyhook.plugin", target)
    kontor = create_app(settings, refresh_plugins=True).extensions["kontor"]
    assert "badears" in kontor.quarantined and "badears" not in kontor.active_names
    assert "everyhook" in kontor.active_names
    assert "badears.look" not in kontor.permissions


def test_at_start_up_an_area_whose_registration_hook_raises_quarantines_the_module(settings, db_url, write_module):
    target = write_module("areas_raising", {
        "plugin.py": manifest_text("raisingarea", ("calm", "angry")),
        "calm/plugin.py": "from core import Permission, hookimpl\n\n\n@hookimpl\ndef register_permissions():\n"
                          "    return [Permission('raisingarea.look', 'Look', ('staff',))]\n",
        # register_menu_items is first called while the app collects contributions, area by area
        "angry/plugin.py": "from core import hookimpl\n\n\n@hookimpl\ndef register_menu_items():\n"
                           "    raise RuntimeError('cannot build my menu')\n",
    })
    installed_rows(db_url, "raisingarea")
    settings["EXTRA_PLUGINS"] = (target,)
    app = create_app(settings, refresh_plugins=True)
    kontor = app.extensions["kontor"]
    error = kontor.quarantined["raisingarea"].error
    assert "register_menu_items failed in area angry: RuntimeError: cannot build my menu" in error
    assert "raisingarea" not in kontor.active_names and "raisingarea.angry" not in kontor.quarantined
    assert kontor.pm.get_plugin("raisingarea.calm") is None and kontor.pm.get_plugin("raisingarea") is None
    assert "raisingarea.look" not in kontor.permissions
    assert app.test_client().get("/login").status_code == 200
