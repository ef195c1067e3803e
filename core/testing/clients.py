"""HTTP clients of a Kontor app for tests: a browser-like page client and a bearer-token API client."""
from __future__ import annotations

import re

from werkzeug.test import Client

_CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


class WebClient(Client):
    """A werkzeug client that knows Kontor's login form and CSRF token (cookies are kept)."""

    def csrf_token(self, path: str = "/login") -> str:
        """The CSRF token of the page at ``path``, as a browser reads it from the page."""
        page = self.get(path).get_data(as_text=True)
        match = _CSRF_META.search(page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str, password: str):
        """Sign in through the login form; a 302 is a success."""
        token = self.csrf_token("/login")
        return self.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def post_form(self, path: str, data: dict, **kwargs):
        """POST a form with the CSRF token, as a browser would."""
        return self.post(path, data={**data, "csrf_token": self.csrf_token("/dashboard")}, **kwargs)

    def htmx(self, method: str, path: str, **kwargs):
        """A request as htmx sends it (HX-Request and the CSRF header)."""
        headers = {"HX-Request": "true", "X-CSRFToken": self.csrf_token("/dashboard"), **kwargs.pop("headers", {})}
        return self.open(path, method=method, headers=headers, **kwargs)


class ApiClient:
    """Calls the JSON API with a bearer token: ``api.get(path)``, ``api.post(path, json=…)``, …"""

    def __init__(self, client: Client, token: str):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method: str):
        def call(path, **kwargs):
            headers = {**self.headers, **kwargs.pop("headers", {})}
            return self.client.open(path, method=method.upper(), headers=headers, **kwargs)

        return call
