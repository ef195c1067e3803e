"""Web-to-lead: a public form post, without login or CSRF token, guarded by a honeypot and a rate limit."""
from sqlalchemy import select

from tests.conftest import make_user

FORM = {"name": "Freja Lund", "company": "Nordlys ApS", "email": "freja@nordlys.dk", "phone": "+45 11 22 33 44",
        "message": "Please call me about solar panels."}


def leads(app):
    from core.db import session
    from plugins.crm.leads.models import Lead

    with app.app_context():
        return [(l.name, l.company_name, l.source, l.notes, l.owner_id)
                for l in session.execute(select(Lead).order_by(Lead.id)).scalars()]


def set_settings(app, **values):
    from core.db import session
    from core.company.services import update_settings
    from plugins.crm.leads.webform import SETTINGS

    with app.app_context():
        update_settings(session, SETTINGS, {f"crm.web_to_lead_{k}": v for k, v in values.items()})
        session.commit()


def test_an_anonymous_visitor_creates_a_lead_without_a_csrf_token(client, app):
    response = client.post("/crm/web-to-lead", data=FORM)
    assert response.status_code == 303 and response.headers["Location"].endswith("/crm/web-to-lead/thanks")
    assert leads(app) == [("Freja Lund", "Nordlys ApS", "website", "Please call me about solar panels.", None)]
    assert "Thank you" in client.get("/crm/web-to-lead/thanks").get_data(as_text=True)


def test_the_owner_comes_from_the_setting(client, app):
    owner_id, _ = make_user(app, "sam", ["salesperson"])
    set_settings(app, owner="sam")
    client.post("/crm/web-to-lead", data=FORM)
    assert leads(app)[0][4] == owner_id


def test_a_filled_honeypot_is_accepted_silently_and_creates_nothing(client, app):
    response = client.post("/crm/web-to-lead", data={**FORM, "website": "http://spam.example"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/crm/web-to-lead/thanks")
    assert leads(app) == []


def test_bad_input_is_refused_and_creates_nothing(client, app):
    response = client.post("/crm/web-to-lead", data={**FORM, "email": "nope", "name": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "email" in page and "name" in page
    assert leads(app) == []


def test_submissions_are_limited_per_client_address(client, app):
    set_settings(app, limit="3")
    for index in range(3):
        assert client.post("/crm/web-to-lead", data={**FORM, "name": f"Visitor {index}"}).status_code == 303
    refused = client.post("/crm/web-to-lead", data={**FORM, "name": "One too many"})
    assert refused.status_code == 429
    other_address = client.post("/crm/web-to-lead", data={**FORM, "name": "Elsewhere"},
                                environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other_address.status_code == 303
    assert [name for name, *_ in leads(app)] == ["Visitor 0", "Visitor 1", "Visitor 2", "Elsewhere"]


def test_the_limit_is_kept_in_the_database_across_workers(settings, app):
    """Two dispatchers (as two worker processes would be) share one count."""
    from core.wsgi import Dispatcher
    from tests.conftest import WebClient

    set_settings(app, limit="2")
    first, second = WebClient(Dispatcher(settings)), WebClient(Dispatcher(settings))
    assert first.post("/crm/web-to-lead", data=FORM).status_code == 303
    assert second.post("/crm/web-to-lead", data=FORM).status_code == 303
    assert first.post("/crm/web-to-lead", data=FORM).status_code == 429
    assert second.post("/crm/web-to-lead", data=FORM).status_code == 429


def test_next_is_followed_only_to_allowed_addresses(client, app):
    set_settings(app, redirects="https://www.example.com/thanks https://shop.example.org")
    allowed = client.post("/crm/web-to-lead", data={**FORM, "next": "https://www.example.com/thanks"})
    assert allowed.headers["Location"] == "https://www.example.com/thanks"
    whole_site = client.post("/crm/web-to-lead", data={**FORM, "next": "https://shop.example.org/any/page"})
    assert whole_site.headers["Location"] == "https://shop.example.org/any/page"
    for bad in ("https://evil.example.net/", "https://www.example.com/other", "//evil.example.net",
                "javascript:alert(1)", "https://www.example.com.evil.net/thanks"):
        response = client.post("/crm/web-to-lead", data={**FORM, "next": bad})
        assert response.headers["Location"].endswith("/crm/web-to-lead/thanks"), bad


def test_other_crm_pages_still_need_the_csrf_token(admin_client):
    response = admin_client.post("/crm/leads/new", data={"name": "No token"})
    assert response.status_code == 400
