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
