"""The module lifecycle through the admin page (htmx), the JSON API and the ``kontor modules`` CLI."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.testing import make_user
from tests.core.lifecycle_helpers import audit_actions, settings, snapshot  # noqa: F401  (fixture)


def states(client_or_api, path="/api/v1/modules") -> dict[str, str]:
    return {m["name"]: m["state"] for m in client_or_api.get(path).get_json()["items"]}


# -- the admin page --


def test_the_page_lists_modules_with_states_and_the_quarantine(admin_client):
    page = admin_client.get("/admin/modules/").get_data(as_text=True)
    assert 'id="module-lcbase" data-state="available"' in page
    assert 'data-action="install"' in page
    assert "lcbroken.plugin" in page and "No module named" in page
    assert "version &#39;one point oh&#39;" in page
    assert 'href="/admin/modules/"' in page  # the menu item


def test_installing_from_the_page_reloads_it_with_the_new_menu(admin_client, db_url):
    response = admin_client.htmx("POST", "/admin/modules/lcbase/install")
    assert response.status_code == 204
    assert response.headers["HX-Refresh"] == "true"
    page = admin_client.get("/admin/modules/").get_data(as_text=True)
    assert 'id="module-lcbase" data-state="installed"' in page
    assert 'href="/lcbase/"' in page and "Installed: lcbase." in page
    assert audit_actions(db_url, "lcbase") == ["module.install"]


def test_a_refused_act_shows_the_error_in_the_table_and_changes_nothing(admin_client, db_url):
    before = snapshot(db_url)
    response = admin_client.htmx("POST", "/admin/modules/lccyclea/install")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="modules-table">')
    assert 'role="alert"' in body and "dependency cycle: lccyclea -&gt; lccycleb -&gt; lccyclea" in body
    assert snapshot(db_url) == before
    plain = admin_client.post_form("/admin/modules/lccyclea/install", {})
    assert plain.status_code == 409 and "dependency cycle" in plain.get_data(as_text=True)


def test_every_act_from_the_page(admin_client, db_url):
    assert admin_client.post_form("/admin/modules/lcdep/install", {}).status_code == 302
    assert admin_client.post_form("/admin/modules/lcbase/disable", {}).status_code == 409
    assert admin_client.htmx("POST", "/admin/modules/lcbase/disable", data={"cascade": "1"}).status_code == 204
    assert ("lcdep", "disabled") in snapshot(db_url)["modules"]
    assert admin_client.htmx("POST", "/admin/modules/lcdep/enable").status_code == 204
    assert admin_client.get("/lcbase/").status_code == 200
    assert admin_client.htmx("POST", "/admin/modules/lcbase/upgrade").status_code == 204
    # purging asks for the module's name, typed: without it nothing is purged
    refused = admin_client.htmx("POST", "/admin/modules/lcdep/purge")
    assert refused.status_code == 200 and "Type lcdep to confirm the purge." in refused.get_data(as_text=True)
    assert ("lcdep", "installed") in snapshot(db_url)["modules"]
    assert admin_client.htmx("POST", "/admin/modules/lcdep/purge", data={"confirm_name": "lcdep"}).status_code == 204
    page = admin_client.get("/admin/modules/").get_data(as_text=True)
    assert "Purged lcdep; its rows are archived in lcdep-" in page
    assert 'id="module-lcdep" data-state="available"' in page
    assert admin_client.htmx("POST", "/admin/modules/lcbase/explode").status_code == 404


def test_the_page_needs_its_permissions(app, client, db_url):
    make_user(app, "viewer", [], "viewer password 1")
    client.login("viewer", "viewer password 1")
    assert client.get("/admin/modules/").status_code == 403
    assert client.htmx("POST", "/admin/modules/lcbase/install").status_code == 403
    assert "lcbase" not in dict(snapshot(db_url)["modules"])


def test_reading_is_not_managing(app, client, db_url):
    from core.auth.services import create_role
    from core.db import session

    with app.app_context():
        create_role(session, "module_reader", permissions=["core.module.read"])
        session.commit()
    make_user(app, "reader", ["module_reader"], "reader password 1")
    client.login("reader", "reader password 1")
    page = client.get("/admin/modules/").get_data(as_text=True)
    assert 'id="module-lcbase"' in page and 'data-action="install"' not in page
    assert client.htmx("POST", "/admin/modules/lcbase/install").status_code == 403


# -- the JSON API --


def test_api_lists_modules(api):
    response = api.get("/api/v1/modules")
    assert response.status_code == 200
    items = {m["name"]: m for m in response.get_json()["items"]}
    assert items["lcdep"]["depends"] == ["lcbase>=1.0"] and items["lcdep"]["state"] == "available"
    assert items["lcbroken.plugin"]["state"] == "quarantined" and "No module named" in items["lcbroken.plugin"]["error"]


def test_api_acts(api, dispatcher, settings):  # noqa: F811
    from werkzeug.test import Client

    anonymous = Client(dispatcher)
    response = api.post("/api/v1/modules", json={"name": "lcdep", "action": "install"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["modules"] == ["lcbase", "lcdep"]
    assert anonymous.get("/lcbase/").status_code == 302  # the route exists (and wants a sign-in)
    response = api.post("/api/v1/modules", json={"name": "lcbase", "action": "disable", "cascade": True})
    assert response.get_json()["modules"] == ["lcdep", "lcbase"]
    assert anonymous.get("/lcbase/").status_code == 404
    enabled = api.post("/api/v1/modules", json={"name": "lcdep", "action": "enable"})
    assert enabled.get_json()["modules"] == ["lcbase", "lcdep"]
    assert api.post("/api/v1/modules", json={"name": "lcbase", "action": "upgrade"}).status_code == 200
    assert api.post("/api/v1/modules", json={"name": "lcdep", "action": "purge"}).status_code == 200
    response = api.post("/api/v1/modules", json={"name": "lcbase", "action": "purge"})
    [archive] = response.get_json()["archives"]
    assert (Path(settings["INSTANCE_PATH"]) / "files" / "archives" / archive).is_file()
    assert states(api)["lcbase"] == "available"


@pytest.mark.parametrize("body, status, field, words", [
    ({"name": "lccyclea", "action": "install"}, 409, "name", "dependency cycle"),
    ({"name": "lcbase", "action": "enable"}, 409, "name", "lcbase is not installed"),
    ({"name": "nosuchmodule", "action": "install"}, 404, "name", "nosuchmodule"),
    ({"name": "lcbase", "action": "explode"}, 422, "action", "Must be one of"),
    ({"action": "install"}, 422, "name", "required"),
])
def test_api_refusals_are_problems_naming_the_culprit(api, db_url, body, status, field, words):
    before = snapshot(db_url)
    response = api.post("/api/v1/modules", json=body)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert words in " ".join(problem["errors"][field])
    assert snapshot(db_url) == before


def test_api_is_refused_without_a_token(client):
    assert client.get("/api/v1/modules").status_code == 401


# -- the CLI --


def run(dispatcher, *args, input=None):
    return dispatcher.app.test_cli_runner().invoke(args=["modules", *args], input=input)


def test_cli_lists_modules_and_the_quarantine(dispatcher):
    result = run(dispatcher, "list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "STATE", "AVAILABLE", "INSTALLED", "TITLE"]
    assert any(line.split()[:3] == ["lcbase", "available", "1.0.0"] for line in lines)
    assert "Quarantined:" in result.output and "lcbroken.plugin: ModuleNotFoundError" in result.output


def test_cli_acts(dispatcher, db_url):
    result = run(dispatcher, "install", "lcdep")
    assert result.exit_code == 0, result.output
    assert "install lcbase…" in result.output and "Installed: lcbase, lcdep" in result.output
    assert run(dispatcher, "disable", "lcbase", "--cascade").output.strip().endswith("Disabled: lcdep, lcbase")
    assert "Enabled: lcbase, lcdep" in run(dispatcher, "enable", "lcdep").output
    assert "Upgraded: lcbase" in run(dispatcher, "upgrade", "lcbase").output
    refused = run(dispatcher, "purge", "lcdep", input="n\n")
    assert refused.exit_code == 1 and "Nothing was purged" in refused.stderr
    purged = run(dispatcher, "purge", "lcdep", "--yes")
    assert purged.exit_code == 0 and "Archive: " in purged.output
    archive = purged.output.split("Archive: ")[1].strip()
    assert "Installed: lcdep" in run(dispatcher, "install", "lcdep", "--restore", archive).output
    assert ("lcdep", "installed") in snapshot(db_url)["modules"]


@pytest.mark.parametrize("args, words", [
    (("install", "lccyclea"), "dependency cycle"),
    (("install", "nosuchmodule"), "There is no module called nosuchmodule"),
    (("disable", "lcbase"), "lcbase is not installed"),
    (("purge", "lcbase", "--yes"), "lcbase is not installed"),
])
def test_cli_errors_go_to_stderr_with_a_non_zero_exit(dispatcher, db_url, args, words):
    before = snapshot(db_url)
    result = run(dispatcher, *args)
    assert result.exit_code == 1
    assert words in result.stderr and words not in result.stdout
    assert snapshot(db_url) == before
