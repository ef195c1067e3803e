"""What the browser tests share: the live server's handle, viewport sizes, signing in, adding
parties and finding parts of the shell on a page (the fixtures stay in ``conftest.py``)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from playwright.sync_api import Page, expect

from core.wsgi import Dispatcher

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@dataclass
class LiveServer:
    """A running server: its base URL and the dispatcher behind it."""

    url: str
    dispatcher: Dispatcher

    @property
    def app(self) -> Flask:
        """The Flask app the server serves now."""
        return self.dispatcher.app


def sign_in(page: Page, username: str, password: str) -> None:
    """Sign in through the real login form and wait for the dashboard."""
    page.goto("/login")
    page.get_by_role("textbox", name="User name", exact=True).fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


def create_parties(live_server: LiveServer, *rows: dict) -> None:
    """Add parties (fields as the party form takes them) straight through the service."""
    from core.db import session
    from core.parties.services import create_party

    with live_server.app.app_context():
        for row in rows:
            create_party(session, row)
        session.commit()


def scripts_ready(page: Page) -> None:
    """Wait until the page's scripts run (htmx binds its triggers when the document is loaded).

    A click that races ahead of htmx still works, as a plain form or link, but without the
    partial swap or the confirm dialog a flow is meant to check.
    """
    page.wait_for_load_state("load")


def side_menu(page: Page):
    """The side menu (the shell's main navigation)."""
    return page.get_by_role("complementary", name="Main menu")
