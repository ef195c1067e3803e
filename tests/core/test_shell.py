"""The shell: signing in, the dashboard, errors for unknown pages."""


def test_anonymous_is_sent_to_login(client):
    response = client.get("/dashboard")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_admin_signs_in_and_sees_dashboard(admin_client):
    page = admin_client.get("/dashboard")
    assert page.status_code == 200
    assert "Dashboard" in page.get_data(as_text=True)


def test_wrong_password_is_refused_with_field_error(client, admin):
    response = client.login(admin[0], "not the password")
    assert response.status_code == 401
    assert "Wrong user name or password." in response.get_data(as_text=True)


def test_unknown_api_path_is_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/problem+json"


def test_the_dashboard_carries_the_cores_own_widgets(admin_client):
    page = admin_client.get("/dashboard").get_data(as_text=True)
    assert 'hx-get="/parties/widget"' in page and 'hx-get="/audit/widget"' in page


def test_the_contacts_widget_counts_and_charts_parties(admin_client, app):
    from core.db import session
    from core.parties.services import create_party

    with app.app_context():
        create_party(session, {"kind": "company", "name": "Fjord Træ ApS", "country": "DK"})
        create_party(session, {"kind": "person", "name": "Ida Berg", "country": "SE"})
        session.commit()
    widget = admin_client.get("/parties/widget", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<strong>1</strong> company" in widget and "<strong>1</strong> person" in widget
    assert "Denmark" in widget and "Sweden" in widget and "Fjord Træ ApS" in widget


def test_a_staff_user_sees_contacts_but_not_the_audit_widget(client, app):
    from core.testing import make_user

    make_user(app, "clerk", ["staff"], "clerk password 1")
    client.login("clerk", "clerk password 1")
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'hx-get="/parties/widget"' in page and "/audit/widget" not in page
    assert client.get("/audit/widget").status_code == 403


def test_an_id_beyond_the_integer_range_is_not_found(admin_client, api):
    assert admin_client.get("/parties/99999999999").status_code == 404
    response = api.get("/api/v1/parties/99999999999")
    assert response.status_code == 404 and response.headers["Content-Type"] == "application/problem+json"


def test_a_reference_beyond_the_integer_range_is_a_field_error(api):
    created = api.post("/api/v1/parties", json={"kind": "company", "name": "Keep ApS"}).get_json()
    response = api.post(f"/api/v1/parties/{created['id']}/merge", json={"into": -2717522846939807219712})
    assert response.status_code == 422
    assert "into" in response.get_json()["errors"]


def test_the_cores_menu_names_only_its_own_sections_and_a_modules_section_comes_from_the_module(app, admin_client):
    from core.web import shell

    assert not hasattr(shell, "SECTIONS")
    sections = app.extensions["kontor"].menu_sections
    owned = {key for key in sections if key not in {"main", "contacts", "admin"}}
    assert {"inventory", "hr", "sales"}.isdisjoint(sections)
    active = set(app.extensions["kontor"].active_names)
    assert owned <= active, f"sections {owned - active} are declared by no active module"
    page = admin_client.get("/dashboard").get_data(as_text=True)
    assert "<summary>Contacts</summary>" in page and "<summary>Administration</summary>" in page


def test_no_template_has_an_inline_style_block():
    """Styles live in static files (the core's kontor.css, a module's static/*.css), never in a template."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    inline = [str(path.relative_to(root)) for folder in ("core", "plugins") for path in (root / folder).rglob("*.html")
              if "<style" in path.read_text(encoding="utf-8")]
    assert inline == []
