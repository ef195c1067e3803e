"""Publishing a plugin wheel into a folder catalog that the marketplace then offers."""
import hashlib
import json

import pytest

from core.errors import ModuleError
from core.modules import marketplace
from core.modules.publish import publish
from tests.core.wheels import hello_wheel  # noqa: F401  (fixture)


def test_a_published_wheel_is_listed_with_its_manifest_and_checksum(hello_wheel, tmp_path):  # noqa: F811
    folder = tmp_path / "catalog"
    entry = publish(hello_wheel, folder)
    assert (entry.name, entry.version, entry.license) == ("hello", "1.0.0", "MIT")
    [listed] = marketplace.load_catalog(str(folder))
    assert listed == entry
    assert listed.sha256 == hashlib.sha256((folder / hello_wheel.name).read_bytes()).hexdigest()


def test_publishing_again_replaces_the_entry(hello_wheel, tmp_path):  # noqa: F811
    folder = tmp_path / "catalog"
    publish(hello_wheel, folder)
    publish(hello_wheel, folder)
    assert len(json.loads((folder / "index.json").read_text())["modules"]) == 1


def test_a_file_that_is_no_plugin_wheel_is_refused(tmp_path):
    fake = tmp_path / "fake-1.0-py3-none-any.whl"
    fake.write_bytes(b"not a zip")
    with pytest.raises(ModuleError, match="is not a wheel"):
        publish(fake, tmp_path / "catalog")
    assert not (tmp_path / "catalog" / "index.json").exists()


def test_the_cli_publishes_into_the_configured_folder(hello_wheel, kontor, tmp_path, monkeypatch):  # noqa: F811
    folder = tmp_path / "market"
    result = kontor("modules", "marketplace", "publish", str(hello_wheel), "--to", str(folder))
    assert result.exit_code == 0, result.output
    assert "Published hello 1.0.0" in result.output
    monkeypatch.setenv("KONTOR_MARKETPLACE", str(folder))
    listed = kontor("modules", "marketplace", "list")
    assert "hello" in listed.output
