"""Security headers and session cookie flags, set once by the core for every module's pages.

Every GET page of the URL map, with every module installed and as an administrator (URL
parameters filled as the permissions walk fills them), answers with a Content-Security-Policy that
forbids framing and inline scripts, ``nosniff``, a Referrer-Policy and ``Cache-Control: no-store``.
Over HTTPS (``HTTPS`` setting, or a trusted proxy saying so) the cookie is ``__Host-`` and
``Secure`` and HSTS is sent.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.security import HSTS
from core.testing import WebClient, make_user

DUMMY = 1
SKIPPED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def modules():
    return ("accounting", "crm", "hello")


def _get_pages(app) -> list[tuple[str, str]]:
    """(endpoint, path) of every GET rule but static files, parameters filled with ``DUMMY``."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        pages.append((rule.endpoint, rule.build({arg: DUMMY for arg in rule.arguments}, append_unknown=False)[1]))
    return sorted(pages, key=lambda page: page[1])


def _csp(response) -> dict[str, str]:
    directives = {}
    for part in response.headers.get("Content-Security-Policy", "").split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value
    return directives


def _header_problems(response) -> list[str]:
    problems = []
    csp = _csp(response)
    if csp.get("frame-ancestors") not in ("'none'", "'self'"):
        problems.append(f"CSP frame-ancestors is {csp.get('frame-ancestors')!r}")
    if "'unsafe-inline'" in csp.get("script-src", "'unsafe-inline'") or "'unsafe-eval'" in csp.get("script-src", ""):
        problems.append(f"CSP script-src is {csp.get('script-src')!r}")
    if "default-src" not in csp:
        problems.append("CSP without default-src")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not response.headers.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    if "no-store" not in response.headers.get("Cache-Control", ""):
        problems.append(f"Cache-Control is {response.headers.get('Cache-Control')!r}")
    return problems


def test_every_html_page_carries_the_security_headers(app, dispatcher, admin_client):
    active = set(app.extensions["kontor"].active_names)
    assert {"accounting", "crm", "hello"} <= active
    pages = _get_pages(app)
    blueprints = {endpoint.split(".", 1)[0] for endpoint, _ in pages}
    assert {"web", "auth", "company", "parties", "accounting", "crm", "hello"} <= blueprints, blueprints
    problems, html_pages = [], 0
    for endpoint, path in pages:
        response = admin_client.get(path)
        if response.mimetype != "text/html":
            continue
        html_pages += 1
        problems += [f"GET {path} ({endpoint}, {response.status_code}): {p}" for p in _header_problems(response)]
        assert "Strict-Transport-Security" not in response.headers, path  # plain http here
    assert html_pages > 100, html_pages  # the walk reached the modules' pages, not a handful
    assert not problems, "\n".join(problems)


def test_pages_refused_or_anonymous_carry_them_too(app, client):
    for path in ("/login", "/dashboard", "/no-such-page"):
        response = client.get(path)
        assert not _header_problems(response), (path, response.status_code, _header_problems(response))


def test_api_answers_are_not_cached_nor_sniffed(api):
    response = api.get("/api/v1/company")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_stay_cacheable(client):
    response = client.get("/static/kontor.js")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_needs_an_inline_script():
    """The CSP forbids inline scripts and event handlers: no template of the core or a module has one."""
    root = Path(__file__).resolve().parents[2]
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    found = []
    for folder in ("core", "plugins", "tests/example_plugin"):
        for path in sorted((root / folder).rglob("*.html")):
            text = path.read_text(encoding="utf-8")
            if handler.search(text) or inline_script.search(text) or "javascript:" in text:
                found.append(str(path.relative_to(root)))
    assert not found, found


def _session_cookie(response) -> tuple[str, str, dict]:
    """The name, value and attributes of the session cookie the response sets."""
    for header in response.headers.getlist("Set-Cookie"):
        name_value, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = name_value.partition("=")
        if "session" in name:
            attrs = {}
            for attribute in attributes:
                key, _, val = attribute.partition("=")
                attrs[key.lower()] = val
            return name, value, attrs
    raise AssertionError(f"no session cookie in {response.headers.getlist('Set-Cookie')}")


def test_over_plain_http_the_cookie_is_not_secure_and_no_hsts(app, client):
    make_user(app, "clerk", [], "first password 1")
    response = client.login("clerk", "first password 1")
    assert response.status_code == 302
    name, _, attrs = _session_cookie(response)
    assert name == "kontor_session"
    assert "secure" not in attrs and "httponly" in attrs and attrs["samesite"].lower() == "lax"
    assert "Strict-Transport-Security" not in response.headers


def test_over_https_the_cookie_is_host_only_and_secure_and_hsts_is_sent(settings):
    from core.wsgi import Dispatcher

    dispatcher = Dispatcher({**settings, "HTTPS": True})
    app = dispatcher.app
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-kontor_session"
    make_user(app, "clerk", [], "first password 1")
    client = WebClient(dispatcher)
    page = client.get("/login", base_url="https://kontor.example")
    assert page.headers["Strict-Transport-Security"] == HSTS
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.get_data(as_text=True)).group(1)
    # over HTTPS the CSRF check also wants a same-site Referer, which Referrer-Policy same-origin keeps
    response = client.post("/login", base_url="https://kontor.example", headers={"Referer": "https://kontor.example/login"},
                           data={"username": "clerk", "password": "first password 1", "csrf_token": csrf})
    assert response.status_code == 302, response.get_data(as_text=True)
    name, value, attrs = _session_cookie(response)
    assert name == "__Host-kontor_session"
    assert "secure" in attrs and "httponly" in attrs and attrs.get("path") == "/" and "domain" not in attrs
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert client.get("/profile", base_url="https://kontor.example").status_code == 200


def test_a_trusted_proxy_tells_that_the_request_came_over_https(settings):
    from core.wsgi import Dispatcher

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    untrusted = WebClient(Dispatcher(settings)).get("/login", headers=forwarded)
    assert "Strict-Transport-Security" not in untrusted.headers  # anyone may send the header
    trusted = WebClient(Dispatcher({**settings, "PROXY_FIX": 1})).get("/login", headers=forwarded)
    assert trusted.headers["Strict-Transport-Security"] == HSTS


def test_https_and_proxy_settings_come_from_the_environment(settings, monkeypatch):
    from core.app import create_app

    base = dict(settings)
    monkeypatch.setenv("KONTOR_HTTPS", "1")
    monkeypatch.setenv("KONTOR_PROXY_FIX", "2")
    app = create_app(base)
    assert (app.config["HTTPS"], app.config["PROXY_FIX"]) == (True, 2)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("KONTOR_PROXY_FIX", "many")
    with pytest.raises(ValueError, match="KONTOR_PROXY_FIX"):
        create_app(base)
