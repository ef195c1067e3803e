"""The example third-party module, in process: installed, used, disabled, enabled and purged."""
from __future__ import annotations

import re

import pytest
from flask import render_template
from sqlalchemy import inspect, select

from core.modules import lifecycle
from core.testing import make_user

LANGUAGES = {"en", "da", "de", "pl", "fi", "sv"}


@pytest.fixture
def hello(dispatcher):
    """The hello module, installed through the lifecycle service."""
    assert lifecycle.install(lifecycle.context_from_app(dispatcher.app), ["hello"]) == ["hello"]
    return dispatcher


def test_its_page_lists_the_default_greetings(hello, admin_client):
    page = admin_client.get("/hello/").get_data(as_text=True)
    assert "Cześć" in page and "Hej hej" in page
    assert 'action="/hello/"' in page  # the admin may add greetings


def test_its_api_lists_the_greetings_and_says_which_process_answered(hello, api):
    import os

    greetings = api.get("/api/v1/hello/greetings").get_json()["items"]
    assert {g["language"] for g in greetings} == LANGUAGES
    assert api.get("/api/v1/hello/ping").get_json() == {"pid": os.getpid()}


def test_a_greeting_is_added_through_the_form(hello, admin_client, db_url):
    response = admin_client.htmx("POST", "/hello/", data={"text": "Moi", "language": "fi"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="greetings">') and "Moi" in fragment


def test_a_wrong_greeting_is_refused_next_to_its_field(hello, admin_client, api):
    response = admin_client.post_form("/hello/", {"text": "Bonjour", "language": "fr"})
    assert response.status_code == 422
    assert 'id="e-language"' in response.get_data(as_text=True)
    assert "Bonjour" not in {g["text"] for g in api.get("/api/v1/hello/greetings").get_json()["items"]}


def test_its_menu_item_and_widget_are_on_the_dashboard(hello, admin_client):
    page = admin_client.get("/dashboard").get_data(as_text=True)
    assert 'href="/hello/"' in page
    assert re.search(r'<summary>Hello</summary>\s*<ul>\s*<li><a href="/hello/"', page)  # in its own section
    assert "6 greetings" in page


def test_its_panel_is_on_the_party_page(hello, admin):
    app = hello.app
    from core.auth.models import User
    from core.db import session
    from core.parties.models import Party
    from core.web.shell import contributions

    with app.test_request_context("/"):
        user = session.execute(select(User).where(User.username == admin[0])).scalar_one()
        user.locale = "da"
        party = Party(name="Nordsø Fisk ApS", name_key="nordsø fisk aps")
        panels = contributions("record_panels", kind="core.party", record=party, user=user)
        assert [str(p.title) for p in panels] == ["Greeting"]
        assert [p.permission for p in panels] == ["hello.greeting.read"]
        html = render_template("core/_record_panels.html", panels=panels, kind="core.party", record=party)
        assert "Hej, Nordsø Fisk ApS!" in html
        assert contributions("record_panels", kind="accounting.invoice", record=party, user=user) == []
        session.rollback()


def test_its_command_greets_in_a_language(hello):
    result = hello.app.test_cli_runner().invoke(args=["hello", "greet", "--language", "pl", "Ola"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Cześć, Ola!"


def test_staff_may_read_but_not_add_greetings(hello, client):
    make_user(hello.app, "clerk", ["staff"], "clerk password 1")
    client.login("clerk", "clerk password 1")
    page = client.get("/hello/")
    assert page.status_code == 200
    assert 'action="/hello/"' not in page.get_data(as_text=True)
    assert client.post_form("/hello/", {"text": "Hi", "language": "en"}).status_code == 403


def test_disable_removes_page_and_menu_and_enable_brings_them_back(hello, admin_client):
    assert lifecycle.disable(lifecycle.context_from_app(hello.app), ["hello"]) == ["hello"]
    assert admin_client.get("/hello/").status_code == 404
    assert 'href="/hello/"' not in admin_client.get("/dashboard").get_data(as_text=True)
    assert "hello.greeting.read" not in hello.app.extensions["kontor"].permissions

    assert lifecycle.enable(lifecycle.context_from_app(hello.app), ["hello"]) == ["hello"]
    assert "Cześć" in admin_client.get("/hello/").get_data(as_text=True)
    assert 'href="/hello/"' in admin_client.get("/dashboard").get_data(as_text=True)


def test_purge_drops_its_table_and_keeps_an_archive(hello, admin_client, db_url):
    [archive] = lifecycle.purge(lifecycle.context_from_app(hello.app), ["hello"])
    assert lifecycle.context_from_app(hello.app).storage.exists(archive) and "hello" in archive
    assert admin_client.get("/hello/").status_code == 404
    engine = hello.app.extensions["kontor"].engine
    assert not inspect(engine).has_table("hello_greeting")


def test_a_purged_module_is_restored_from_its_archive(hello, api):
    [archive] = lifecycle.purge(lifecycle.context_from_app(hello.app), ["hello"])
    lifecycle.install(lifecycle.context_from_app(hello.app), ["hello"], restore_from=archive)
    assert len(api.get("/api/v1/hello/greetings").get_json()["items"]) == len(LANGUAGES)


def test_it_keeps_the_plugin_contract(settings):
    from tests.contract import check_plugin

    check_plugin("hello", settings, module="kontor_hello.plugin")
