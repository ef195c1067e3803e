"""The marketplace catalog: reading and validating it, fetching wheels, compatibility, the UI and API."""
from __future__ import annotations

import functools
import hashlib
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from core.errors import ModuleError
from core.modules import marketplace
from core.modules.marketplace import CatalogEntry, CatalogError
from core.modules.models import ModuleRecord

WHEEL = "kontor_hello-1.0.0-py3-none-any.whl"
WHEEL_BYTES = b"not really a zip, but bytes with a known digest"


def entry_data(**changes) -> dict:
    data = {
        "name": "hello", "title": "Hello", "summary": "Greetings.", "version": "1.0.0",
        "requires_core": ">=0.1,<1", "depends": [], "author": "Example Authors", "license": "MIT",
        "wheel": WHEEL, "sha256": hashlib.sha256(WHEEL_BYTES).hexdigest(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def write_catalog(folder: Path, *entries: dict, wheel_bytes: bytes = WHEEL_BYTES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.json").write_text(json.dumps({"modules": list(entries)}))
    (folder / WHEEL).write_bytes(wheel_bytes)
    return folder


def entry(**changes) -> CatalogEntry:
    data = entry_data(**changes)
    return CatalogEntry(**{**data, "depends": tuple(data.get("depends", ()))})


@pytest.fixture
def catalog_folder(tmp_path) -> Path:
    return write_catalog(tmp_path / "market", entry_data())


@pytest.fixture
def http_catalog(catalog_folder):
    """The catalog folder served over HTTP on the loopback interface."""
    handler = functools.partial(QuietHandler, directory=str(catalog_folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# -- reading the catalog --


def test_a_folder_catalog_lists_its_modules(catalog_folder):
    [hello] = marketplace.load_catalog(str(catalog_folder))
    assert (hello.name, hello.version, hello.license, hello.depends) == ("hello", "1.0.0", "MIT", ())


def test_a_catalog_is_read_over_http(http_catalog):
    [hello] = marketplace.load_catalog(http_catalog)
    assert hello.title == "Hello"
    assert marketplace.wheel_location(hello, http_catalog) == http_catalog + WHEEL


def test_the_index_file_itself_may_be_named(catalog_folder):
    assert [e.name for e in marketplace.load_catalog(str(catalog_folder / "index.json"))] == ["hello"]


@pytest.mark.parametrize("changes, culprit", [
    ({"sha256": None}, "sha256"),
    ({"sha256": "abc"}, "sha256"),
    ({"name": "Hello World"}, "name"),
    ({"version": "one"}, "version"),
    ({"requires_core": "about 1"}, "requires_core"),
    ({"wheel": "hello.zip"}, "wheel"),
    ({"wheel": "kontor_hello-2.0.0-py3-none-any.whl"}, "wheel"),
    ({"depends": "crm"}, "depends"),
    ({"depends": ["not a requirement !"]}, "depends"),
    ({"title": ""}, "title"),
])
def test_a_malformed_entry_is_refused_naming_the_field(tmp_path, changes, culprit):
    folder = write_catalog(tmp_path / "m", entry_data(**changes))
    with pytest.raises(CatalogError, match=culprit):
        marketplace.load_catalog(str(folder))


@pytest.mark.parametrize("content, message", [
    ("{not json", "not JSON"),
    ('{"items": []}', "no list of modules"),
    ('[1, 2]', "no list of modules"),
])
def test_a_malformed_index_is_refused(tmp_path, content, message):
    (tmp_path / "index.json").write_text(content)
    with pytest.raises(CatalogError, match=message):
        marketplace.load_catalog(str(tmp_path))


def test_a_module_listed_twice_is_refused(tmp_path):
    folder = write_catalog(tmp_path / "m", entry_data(), entry_data(title="Again"))
    with pytest.raises(CatalogError, match="twice"):
        marketplace.load_catalog(str(folder))


def test_a_missing_catalog_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="cannot be read"):
        marketplace.load_catalog(str(tmp_path / "nowhere"))
    with pytest.raises(ModuleError, match="KONTOR_MARKETPLACE"):
        marketplace.load_catalog("")


# -- fetching and verifying wheels --


def test_a_wheel_is_fetched_from_a_folder_and_verified(catalog_folder, tmp_path):
    [hello] = marketplace.load_catalog(str(catalog_folder))
    path = marketplace.fetch_wheel(hello, str(catalog_folder), tmp_path)
    assert path == tmp_path / WHEEL and path.read_bytes() == WHEEL_BYTES


def test_a_wheel_is_fetched_over_http(http_catalog, tmp_path):
    [hello] = marketplace.load_catalog(http_catalog)
    assert marketplace.fetch_wheel(hello, http_catalog, tmp_path).read_bytes() == WHEEL_BYTES


def test_a_wheel_with_another_checksum_is_refused_and_deleted(tmp_path):
    folder = write_catalog(tmp_path / "m", entry_data(), wheel_bytes=b"tampered")
    [hello] = marketplace.load_catalog(str(folder))
    dest = tmp_path / "downloads"
    dest.mkdir()
    with pytest.raises(ModuleError, match="checksum"):
        marketplace.fetch_wheel(hello, str(folder), dest)
    assert list(dest.iterdir()) == []


def test_a_wheel_that_is_not_there_is_a_clear_error(tmp_path):
    folder = write_catalog(tmp_path / "m", entry_data())
    (folder / WHEEL).unlink()
    [hello] = marketplace.load_catalog(str(folder))
    with pytest.raises(CatalogError, match="cannot be downloaded"):
        marketplace.fetch_wheel(hello, str(folder), tmp_path)


def test_pip_refuses_a_broken_wheel(tmp_path):
    broken = tmp_path / WHEEL
    broken.write_bytes(WHEEL_BYTES)
    with pytest.raises(ModuleError, match="pip could not install"):
        marketplace.pip_install(broken)


# -- compatibility and dependencies --


def test_a_module_for_another_core_is_refused():
    with pytest.raises(ModuleError, match="needs core >=9"):
        marketplace.check_compatible(entry(requires_core=">=9"), {"hello"})


def test_a_dependency_must_be_here_or_in_the_catalog():
    with pytest.raises(ModuleError, match="depends on crm"):
        marketplace.check_compatible(entry(depends=["crm>=1"]), {"hello"})
    marketplace.check_compatible(entry(depends=["crm>=1"]), {"hello", "crm"})


def test_wheels_needed_brings_catalog_dependencies_first_and_skips_present_code():
    crm = entry(name="crm", wheel="kontor_crm-1.0.0-py3-none-any.whl")
    base = entry(name="base", wheel="kontor_base-1.0.0-py3-none-any.whl")
    hello = entry(depends=["crm", "base"])
    assert [e.name for e in marketplace.wheels_needed(hello, [hello, crm, base], set())] == ["crm", "base", "hello"]
    assert [e.name for e in marketplace.wheels_needed(hello, [hello, crm, base], {"base"})] == ["crm", "hello"]


def test_a_dependency_cycle_in_the_catalog_is_refused():
    crm = entry(name="crm", depends=["hello"], wheel="kontor_crm-1.0.0-py3-none-any.whl")
    hello = entry(depends=["crm"])
    with pytest.raises(ModuleError, match="cycle: hello -> crm -> hello"):
        marketplace.wheels_needed(hello, [hello, crm], set())


# -- the JSON API, the admin section and the CLI --


@pytest.fixture
def settings(settings, catalog_folder, request):
    """The catalog configured; the example plugin's code is here only for tests asking for ``code_present``."""
    extra = settings["EXTRA_PLUGINS"] if "code_present" in request.fixturenames else ()
    return {**settings, "MARKETPLACE": str(catalog_folder), "EXTRA_PLUGINS": extra}


@pytest.fixture
def code_present():
    """Marks a test whose app finds the example plugin's code without a download."""


def test_the_api_lists_the_catalog(api):
    response = api.get("/api/v1/modules/marketplace")
    assert response.status_code == 200
    [hello] = response.get_json()["items"]
    assert hello["name"] == "hello" and hello["sha256"] == hashlib.sha256(WHEEL_BYTES).hexdigest()


def test_the_api_refuses_a_wheel_with_a_wrong_checksum_and_installs_nothing(api, app, catalog_folder):
    (catalog_folder / WHEEL).write_bytes(b"tampered")
    response = api.post("/api/v1/modules/marketplace", json={"name": "hello"})
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "checksum" in response.get_json()["errors"]["name"][0]
    assert list((Path(app.config["INSTANCE_PATH"]) / "marketplace").glob("**/*.whl")) == []
    with app.app_context():
        from core.db import session

        assert session.execute(select(ModuleRecord).where(ModuleRecord.name == "hello")).first() is None


def test_the_api_names_an_unknown_module(api):
    response = api.post("/api/v1/modules/marketplace", json={"name": "nosuch"})
    assert response.status_code == 404
    assert "nosuch" in response.get_json()["errors"]["name"][0]


def test_the_api_wants_a_name(api):
    response = api.post("/api/v1/modules/marketplace", json={})
    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]


def test_a_user_without_the_module_permission_cannot_install(app, client):
    from core.testing import make_user

    make_user(app, "clerk", ["staff"], "clerk password 1")
    client.login("clerk", "clerk password 1")
    assert client.htmx("POST", "/admin/marketplace/hello").status_code == 403
    assert client.get("/admin/marketplace/").status_code == 403


def test_the_modules_page_loads_the_marketplace_section(admin_client):
    page = admin_client.get("/admin/modules/").get_data(as_text=True)
    assert 'hx-get="/admin/marketplace/"' in page


def test_the_admin_section_shows_the_catalog_with_install_buttons(admin_client):
    response = admin_client.htmx("GET", "/admin/marketplace/")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith('<section id="marketplace">')
    assert "Hello" in page and 'hx-post="/admin/marketplace/hello"' in page


def test_the_admin_section_shows_a_refused_install(admin_client, catalog_folder):
    (catalog_folder / WHEEL).write_bytes(b"tampered")
    response = admin_client.post_form("/admin/marketplace/hello", {})
    assert response.status_code == 409
    assert "checksum" in response.get_data(as_text=True)


def test_a_module_whose_code_is_here_is_installed_without_a_download(code_present, admin_client, api, catalog_folder):
    (catalog_folder / WHEEL).write_bytes(b"tampered")  # never fetched: the code is already here
    response = admin_client.htmx("POST", "/admin/marketplace/hello")
    assert response.status_code == 204 and response.headers["HX-Refresh"] == "true"
    assert api.get("/api/v1/hello/greetings").status_code == 200
    section = admin_client.htmx("GET", "/admin/marketplace/").get_data(as_text=True)
    assert "Installed" in section and 'hx-post="/admin/marketplace/hello"' not in section
    refused = api.post("/api/v1/modules/marketplace", json={"name": "hello"})
    assert refused.status_code == 409 and "Already installed" in refused.get_json()["detail"]


def test_the_cli_lists_the_catalog(app):
    result = app.test_cli_runner().invoke(args=["modules", "marketplace", "list"])
    assert result.exit_code == 0, result.output
    assert "hello" in result.output and "1.0.0" in result.output
