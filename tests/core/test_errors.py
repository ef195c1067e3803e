"""Typed refusals and their one mapping: problem+json on the API, a form re-render, a flash and 303,
an htmx fragment or the error page on a page, an error line in the CLI; and ``transaction``, the
unit of work that commits once and leaves nothing behind when it fails halfway.

The fixture module ``refusals`` writes a party and then raises each typed error, through a form
view and an API endpoint; every test checks that the party is gone.
"""
from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from core import (Conflict, Forbidden, InvalidInput, KontorError, ModuleError, NotFound, Party, Unavailable,
                  create_party, problem_for, refusal, transaction)
from core.wsgi import Dispatcher
from core.testing import WebClient, make_user
from tests.contract import install

PASSWORD = "refusals password 1"

#: kind → (status, problem title, errors in the problem+json body)
API_ANSWERS = {
    "invalid": (422, "Validation failed", {"name": ["Give a shorter name."]}),
    "legacy": (422, "Validation failed", {"name": ["Old style refusal."]}),
    "conflict": (409, "Conflict", {"_schema": ["The party is already closed."]}),
    "notfound": (404, "Not Found", None),
    "forbidden": (403, "Forbidden", None),
    "unavailable": (503, "Service Unavailable", {"_schema": ["The mail server cannot be reached."]}),
}
MESSAGES = {
    "invalid": "Give a shorter name.", "legacy": "Old style refusal.", "conflict": "The party is already closed.",
    "notfound": "No such party.", "forbidden": "You may not change this party.",
    "unavailable": "The mail server cannot be reached.",
}


@pytest.fixture
def site(settings):
    """The refusals module installed; returns (dispatcher, signed-in admin client)."""
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], "refusals.plugin")
    install(settings, "refusals")
    dispatcher = Dispatcher(settings)
    make_user(dispatcher.app, "boss", ["admin"], PASSWORD)
    client = WebClient(dispatcher)
    assert client.login("boss", PASSWORD).status_code == 302
    return dispatcher, client


def _parties_named(app, name: str) -> int:
    with app.app_context():
        from core.db import session

        return session.execute(select(func.count()).select_from(Party).where(Party.name == name)).scalar_one()


def _api(client, path: str, body: dict):
    from core.auth.models import User
    from core.auth.tokens import create_token
    from core.db import session

    with client.application.app.app_context():
        user = session.execute(select(User).where(User.username == "boss")).scalar_one()
        _, secret = create_token(session, user, "errors test")
        session.commit()
    return client.post(path, json=body, headers={"Authorization": f"Bearer {secret}"})


# -- The errors themselves --


def test_each_typed_error_has_its_status_and_the_old_spelling_still_works():
    assert [cls("x").status for cls in (InvalidInput, Conflict, NotFound, Forbidden, Unavailable)] == \
        [422, 409, 404, 403, 503]
    assert all(issubclass(cls, KontorError) for cls in (InvalidInput, Conflict, NotFound, Forbidden, Unavailable))
    assert ModuleError("x").status == 409 and isinstance(ModuleError("x"), Conflict)
    legacy = KontorError("Too long.", field="name", status=422)
    assert (legacy.status, legacy.as_errors()) == (422, {"name": ["Too long."]})
    several = InvalidInput({"email": ["Not an address."], "name": ["Required."]})
    assert (several.message, several.field) == ("Not an address.", "email")
    assert several.as_errors() == {"email": ["Not an address."], "name": ["Required."]}
    assert InvalidInput("Give a name.", field="name").as_errors() == {"name": ["Give a name."]}


def test_the_one_mapping_gives_status_title_and_errors():
    assert (refusal(Forbidden("No.")).status, refusal(Forbidden("No.")).title) == (403, "Forbidden")
    assert refusal(Forbidden("No.")).errors == {}
    assert refusal(NotFound("Gone.", field="party_id")).errors == {"party_id": ["Gone."]}
    assert (refusal(KontorError("Bad.")).status, refusal(KontorError("Bad.")).title) == (422, "Validation failed")
    assert refusal(KontorError("Slow down.", field="username", status=429)).title == "Too Many Requests"
    assert refusal(Unavailable("Down.")).title == "Service Unavailable"


# -- API --


@pytest.mark.parametrize("kind", sorted(API_ANSWERS))
def test_an_api_refusal_is_problem_json_and_leaves_nothing_behind(site, kind):
    dispatcher, client = site
    name = f"api {kind}"
    response = _api(client, f"/api/v1/refusals/{kind}", {"name": name})
    status, title, errors = API_ANSWERS[kind]
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["status"], body["title"], body["detail"]) == (status, title, MESSAGES[kind])
    assert body.get("errors") == errors
    assert _parties_named(dispatcher.app, name) == 0


def test_an_api_success_commits_once(site):
    dispatcher, client = site
    response = _api(client, "/api/v1/refusals/none", {"name": "api kept"})
    assert response.status_code == 201
    assert _parties_named(dispatcher.app, "api kept") == 1


def test_an_api_crash_rolls_back_and_answers_500_problem(site):
    dispatcher, client = site
    response = _api(client, "/api/v1/refusals/crash", {"name": "api crash"})
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert _parties_named(dispatcher.app, "api crash") == 0


# -- Pages --


@pytest.mark.parametrize("kind", ["invalid", "legacy", "conflict", "unavailable"])
def test_a_form_with_on_refusal_is_rendered_again_with_the_error_beside_its_field(site, kind):
    dispatcher, client = site
    name = f"form {kind}"
    response = client.post_form(f"/refusals/{kind}", {"name": name, "inline": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = "name" if kind in ("invalid", "legacy") else "_schema"
    assert f'<span class="error" data-field="{field}">{MESSAGES[kind]}</span>' in page
    assert f'value="{name}"' in page  # what was typed comes back
    assert _parties_named(dispatcher.app, name) == 0


def test_a_refused_form_without_on_refusal_flashes_and_goes_back_to_the_sending_page(site):
    dispatcher, client = site
    response = client.post_form("/refusals/conflict", {"name": "flash me"},
                                headers={"Referer": "http://localhost/parties"})
    assert response.status_code == 303
    assert response.headers["Location"] in ("http://localhost/parties", "/parties")
    assert MESSAGES["conflict"] in client.get("/parties").get_data(as_text=True)
    assert _parties_named(dispatcher.app, "flash me") == 0


@pytest.mark.parametrize("referrer", [None, "https://evil.example/parties", "itself"])
def test_without_a_same_site_page_to_go_back_to_the_error_page_names_the_refusal(site, referrer):
    dispatcher, client = site

    def send(kind: str, name: str):
        sent_from = f"http://localhost/refusals/{kind}" if referrer == "itself" else referrer
        return client.post_form(f"/refusals/{kind}", {"name": name}, headers={"Referer": sent_from} if sent_from else {})

    response = send("invalid", "no way back")
    assert response.status_code == 422 and "Location" not in response.headers
    page = response.get_data(as_text=True)
    assert "<html" in page and MESSAGES["invalid"] in page
    unavailable = send("unavailable", "down")
    assert unavailable.status_code == 503 and MESSAGES["unavailable"] in unavailable.get_data(as_text=True)
    assert _parties_named(dispatcher.app, "no way back") == _parties_named(dispatcher.app, "down") == 0


@pytest.mark.parametrize("kind,status", [("notfound", 404), ("forbidden", 403)])
def test_a_missing_or_forbidden_record_is_the_error_page_with_its_status(site, kind, status):
    dispatcher, client = site
    response = client.post_form(f"/refusals/{kind}", {"name": kind}, headers={"Referer": "http://localhost/parties"})
    assert response.status_code == status and "<html" in response.get_data(as_text=True)
    assert _parties_named(dispatcher.app, kind) == 0


def test_an_htmx_request_gets_a_422_fragment_with_the_message(site):
    dispatcher, client = site
    response = client.htmx("POST", "/refusals/conflict", data={"name": "fragment"},
                           headers={"Referer": "http://localhost/parties"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" not in body and MESSAGES["conflict"] in body
    assert _parties_named(dispatcher.app, "fragment") == 0


def test_a_page_crash_rolls_back(site):
    dispatcher, client = site
    response = client.post_form("/refusals/crash", {"name": "page crash"})
    assert response.status_code == 500
    assert _parties_named(dispatcher.app, "page crash") == 0


def test_a_core_form_still_names_the_field(admin_client, app):
    response = admin_client.post_form("/parties/new", {"kind": "company", "name": "", "active": "1"})
    assert response.status_code == 422 and 'name="name"' in response.get_data(as_text=True)
    merged = admin_client.post_form("/parties/new", {"kind": "company", "name": "Kept ApS", "active": "1"})
    assert merged.status_code == 303 and _parties_named(app, "Kept ApS") == 1


# -- The unit of work outside a request --


def test_a_transaction_that_raises_halfway_leaves_no_row_behind(app):
    with app.app_context():
        from core.db import session

        with pytest.raises(Conflict):
            with transaction() as db:
                create_party(db, {"name": "halfway", "kind": "company"})
                db.flush()
                raise Conflict("stop")
        with pytest.raises(ZeroDivisionError):
            with transaction() as db:
                create_party(db, {"name": "halfway bug", "kind": "company"})
                db.flush()
                1 / 0
        assert not session.in_transaction() or not session.new
        with transaction() as db:
            create_party(db, {"name": "whole", "kind": "company"})
    assert _parties_named(app, "halfway") == _parties_named(app, "halfway bug") == 0
    assert _parties_named(app, "whole") == 1


def test_a_refusal_in_a_cli_command_is_an_error_line_and_exit_1(app):
    @click.command()
    def refuse():
        with app.app_context():
            with transaction() as db:
                create_party(db, {"name": "cli halfway", "kind": "company"})
                db.flush()
                raise Unavailable("The bank feed cannot be reached.")

    result = CliRunner().invoke(refuse, [])
    assert result.exit_code == 1
    assert "Error: The bank feed cannot be reached." in result.output
    assert _parties_named(app, "cli halfway") == 0


def test_problem_for_answers_a_refusal(app):
    with app.test_request_context("/api/v1/anything"):
        response = problem_for(InvalidInput("Too long.", field="name"))
        assert response.status_code == 422 and response.mimetype == "application/problem+json"
        assert response.get_json()["errors"] == {"name": ["Too long."]}
