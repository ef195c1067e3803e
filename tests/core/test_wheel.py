"""A third-party module, built into a wheel, installed from the marketplace into a running server.

The example plugin under ``tests/example_plugin`` is built as its author would build it; the
server never has that folder on its path, so it can only use the module once the marketplace
has pip-installed the wheel into the environment.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import shutil
from pathlib import Path

import pytest

from tests.core import live_server
from tests.core.wheels import EXAMPLE_PLUGIN, hello_wheel, pip  # noqa: F401  (hello_wheel: a fixture)

DISTRIBUTION = "kontor-hello"

pytestmark = pytest.mark.slow


def distribution_installed() -> bool:
    importlib.invalidate_caches()
    try:
        importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def write_catalog(folder: Path, wheel: Path, sha256: str | None = None) -> Path:
    """A marketplace folder: ``index.json`` and the wheel next to it."""
    folder.mkdir(parents=True)
    shutil.copy(wheel, folder / wheel.name)
    entry = {
        "name": "hello", "title": "Hello", "summary": "Greetings in six languages.", "version": "1.0.0",
        "requires_core": ">=0.1,<1", "depends": [], "author": "Kontor Example Authors", "license": "MIT",
        "wheel": wheel.name, "sha256": sha256 or hashlib.sha256(wheel.read_bytes()).hexdigest(),
    }
    (folder / "index.json").write_text(json.dumps({"modules": [entry]}))
    return folder


@pytest.fixture
def clean_environment():
    """No ``kontor-hello`` installed before the test, and none left after it, whatever happens."""
    if distribution_installed():
        pip("uninstall", "-y", DISTRIBUTION)
    assert not distribution_installed()
    yield
    pip("uninstall", "-y", DISTRIBUTION)
    importlib.invalidate_caches()


def test_the_wheel_holds_templates_migrations_and_data(hello_wheel):
    import zipfile

    names = set(zipfile.ZipFile(hello_wheel).namelist())
    assert "kontor_hello/templates/hello/index.html" in names
    assert "kontor_hello/migrations/hello_0001_greetings.py" in names
    assert "kontor_hello/data/greetings.json" in names
    entry_points = zipfile.ZipFile(hello_wheel).read("kontor_hello-1.0.0.dist-info/entry_points.txt").decode()
    assert "[kontor.plugins]" in entry_points and "hello = kontor_hello.plugin" in entry_points


def test_a_wheel_from_the_marketplace_is_installed_used_and_purged_in_a_running_server(
        hello_wheel, clean_environment, tmp_path):
    catalog = write_catalog(tmp_path / "market", hello_wheel)
    instance = tmp_path / "instance"
    env = live_server.environment(f"sqlite:///{tmp_path / 'kontor.db'}", instance, KONTOR_MARKETPLACE=str(catalog))
    token = live_server.prepare(env, tmp_path)
    server = live_server.start(env, tmp_path, "serve", "--bind", "127.0.0.1:{port}", "--workers", "1")
    try:
        listed = live_server.request(server.url("/api/v1/modules/marketplace"), token=token)
        assert listed.status == 200 and [m["name"] for m in listed.json()["items"]] == ["hello"]
        assert live_server.request(server.url("/api/v1/hello/greetings"), token=token).status == 404

        installed = live_server.request(server.url("/api/v1/modules/marketplace"), "POST", token, {"name": "hello"})
        assert installed.status == 200, installed.body
        assert installed.json()["installed"] == ["hello"]
        assert distribution_installed()

        greetings = live_server.request(server.url("/api/v1/hello/greetings"), token=token)
        assert greetings.status == 200, server.output()
        assert {g["language"] for g in greetings.json()["items"]} == {"en", "da", "de", "pl", "fi", "sv"}

        purged = live_server.request(server.url("/api/v1/modules"), "POST", token, {"name": "hello", "action": "purge"})
        assert purged.status == 200, purged.body
        assert live_server.request(server.url("/api/v1/hello/greetings"), token=token).status == 404
        [archive] = purged.json()["archives"]
        assert [p.name for p in instance.rglob(archive)] == [archive]
    finally:
        server.stop()


@pytest.fixture
def settings(settings, hello_wheel, tmp_path):
    """An app whose catalog offers the wheel under a wrong checksum, without the example plugin's code."""
    catalog = write_catalog(tmp_path / "market", hello_wheel, sha256="0" * 64)
    return {**settings, "MARKETPLACE": str(catalog), "EXTRA_PLUGINS": ()}


def test_a_wheel_with_a_wrong_checksum_is_refused_and_nothing_is_installed(clean_environment, api, app):
    refused = api.post("/api/v1/modules/marketplace", json={"name": "hello"})
    assert refused.status_code == 409
    assert "checksum" in refused.get_json()["detail"]
    assert not distribution_installed()
    assert list(Path(app.instance_path).rglob("*.whl")) == []
    modules = api.get("/api/v1/modules").get_json()["items"]
    assert "hello" not in [m["name"] for m in modules]
    assert api.get("/api/v1/hello/greetings").status_code == 404
