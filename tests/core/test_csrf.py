"""Every state change needs the CSRF token: from a form field, or the header htmx sends."""


def test_a_form_post_without_the_token_is_refused(admin_client):
    response = admin_client.post("/language", data={"locale": "de"})
    assert response.status_code == 400
    page = admin_client.get("/dashboard").get_data(as_text=True)
    assert '<html lang="en"' in page


def test_the_htmx_header_carries_the_token(admin_client):
    response = admin_client.htmx("POST", "/language", data={"locale": "de", "next": "/dashboard"})
    assert response.status_code == 302
    assert '<html lang="de"' in admin_client.get("/dashboard").get_data(as_text=True)


def test_every_page_offers_the_token_to_htmx(admin_client):
    page = admin_client.get("/dashboard").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
