"""``kontor plugin new``: the package it writes installs, keeps the plugin contract, passes its own
tests on both backends, and purges cleanly."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from core.cli import main
from core.db import get_engine
from tests.contract import check_plugin, install, purge

NAME = "scaffolded"
PACKAGE = f"kontor_{NAME}"

#: The documented shape (docs/plugins.md, "Layout"), as the scaffold must write it.
SHAPE = {
    "pyproject.toml", "README.md",
    f"{PACKAGE}/__init__.py", f"{PACKAGE}/plugin.py", f"{PACKAGE}/models.py", f"{PACKAGE}/services.py",
    f"{PACKAGE}/schemas.py", f"{PACKAGE}/routes.py", f"{PACKAGE}/api.py", f"{PACKAGE}/permissions.py",
    f"{PACKAGE}/menus.py", f"{PACKAGE}/migrations/{NAME}_0001_items.py",
    f"{PACKAGE}/templates/{NAME}/index.html", f"{PACKAGE}/templates/{NAME}/_items.html",
    f"{PACKAGE}/static/{NAME}.css", f"{PACKAGE}/translations/messages.pot",
    "tests/conftest.py", "tests/test_services.py", "tests/test_web.py", "tests/test_api.py",
}


def new_plugin(*args: str):
    return CliRunner().invoke(main, ["plugin", "new", *args])


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """A plugin written by ``kontor plugin new``, importable for the tests of this module."""
    folder = tmp_path_factory.mktemp("scaffold") / f"kontor-{NAME}"
    result = new_plugin(NAME, "--into", str(folder), "--title", "Scaffolded things")
    assert result.exit_code == 0, result.output
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    for module in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
        del sys.modules[module]


def test_it_writes_the_documented_shape(scaffolded):
    written = {str(p.relative_to(scaffolded)) for p in scaffolded.rglob("*") if p.is_file()}
    assert written == SHAPE
    pyproject = (scaffolded / "pyproject.toml").read_text()
    assert '[project.entry-points."kontor.plugins"]' in pyproject
    assert f'{NAME} = "{PACKAGE}.plugin"' in pyproject
    assert 'title="Scaffolded things"' in (scaffolded / PACKAGE / "plugin.py").read_text()
    catalog = (scaffolded / PACKAGE / "translations" / "messages.pot").read_text()
    assert 'msgid "Add item"' in catalog and 'msgid "There is no such item."' in catalog
    assert "$" not in "".join((scaffolded / p).read_text() for p in SHAPE)  # every placeholder filled in


def test_it_refuses_a_wrong_name_and_a_folder_in_use(tmp_path):
    wrong = new_plugin("Bad-Name", "--into", str(tmp_path / "a"))
    assert wrong.exit_code == 1 and "lower-case letters" in wrong.output
    assert new_plugin("core", "--into", str(tmp_path / "b")).exit_code == 1
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("mine")
    in_use = new_plugin("things", "--into", str(tmp_path / "used"))
    assert in_use.exit_code == 1 and "not an empty folder" in in_use.output
    assert [p.name for p in (tmp_path / "used").iterdir()] == ["keep.txt"]
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_it_defaults_to_a_folder_named_after_the_distribution(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert new_plugin("two_words").exit_code == 0
    assert (tmp_path / "kontor-two-words" / "kontor_two_words" / "plugin.py").exists()


def test_it_keeps_the_plugin_contract(settings, scaffolded):
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], f"{PACKAGE}.plugin")
    check_plugin(NAME, settings, module=f"{PACKAGE}.plugin")


def test_it_installs_serves_and_purges_cleanly(settings, scaffolded, db_url):
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], f"{PACKAGE}.plugin")
    engine = get_engine(db_url)
    before = set(inspect(engine).get_table_names())
    app = install(settings, NAME)
    assert f"{NAME}_item" in inspect(engine).get_table_names()
    assert "api_scaffolded.create_item" in app.view_functions
    assert f"{NAME}.item.write" in app.extensions["kontor"].permissions
    purge(settings, NAME)
    assert set(inspect(engine).get_table_names()) == before
    with engine.connect() as conn:
        versions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
        permissions = list(conn.execute(text("SELECT name FROM core_permission WHERE module = :m"), {"m": NAME}))
    assert not [v for v in versions if v.startswith(f"{NAME}_")] and permissions == []


@pytest.mark.slow
def test_its_own_tests_pass_on_both_backends(scaffolded, postgres_server):
    env = {**os.environ, "KONTOR_TEST_POSTGRES_URL": postgres_server.base_url, "PYTHONPATH": ""}
    env.pop("KONTOR_PLUGINS", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(scaffolded / "tests")], cwd=scaffolded, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert re.search(r"^32 passed", done.stdout, re.M), done.stdout[-2000:]  # 16 tests, each on SQLite and PostgreSQL
