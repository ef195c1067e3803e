"""Six languages: every core string translated, and numbers, dates and money in the user's locale."""
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core.config import LANGUAGES

from core.translations_tool import catalog_folders

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = [(folder.relative_to(ROOT).parts[-2], folder) for folder in catalog_folders()]


@pytest.mark.parametrize("lang", [code for code in LANGUAGES if code != "en"])
@pytest.mark.parametrize("owner, catalogs", CATALOGS, ids=[owner for owner, _ in CATALOGS])
def test_every_string_is_translated(owner, catalogs, lang):
    with open(catalogs / "messages.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    with open(catalogs / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f)
    untranslated = sorted(
        str(m.id) for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)) or m.fuzzy)
    )
    missing = sorted(str(i) for i in template - {m.id for m in catalog})
    assert not missing, f"{lang}: not in the catalog (run extract): {missing[:10]}"
    assert not untranslated, f"{lang}: untranslated: {untranslated[:10]}"


@pytest.mark.parametrize("locale, currency, expected", [
    ("en", "EUR", "€1,234.50"),
    ("de", "EUR", "1.234,50\xa0€"),
    ("da", "DKK", "1.234,50\xa0kr."),
    ("pl", "PLN", "1\xa0234,50\xa0zł"),
    ("fi", "EUR", "1\xa0234,50\xa0€"),
    ("sv", "SEK", "1\xa0234,50\xa0kr"),
])
def test_money_in_the_users_locale(app, locale, currency, expected):
    from flask import g
    from flask_babel import force_locale

    from core.i18n import money

    with app.test_request_context("/"), force_locale(locale):
        g.company_currency = currency
        assert money(Decimal("1234.5")) == expected


def test_dates_in_the_users_locale(app):
    from flask_babel import force_locale

    from core.i18n import date_

    with app.test_request_context("/"), force_locale("de"):
        assert date_(date(2026, 11, 24)) == "24.11.2026"


def test_a_visitor_picks_a_language(client):
    token = client.csrf_token("/login")
    client.post("/language", data={"locale": "de", "next": "/login", "csrf_token": token})
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="de"' in page


def test_menu_labels_are_translated_once(admin_client):
    # "Modules" is "Module" in German; translating that again would give "Modul"
    admin_client.htmx("POST", "/language", data={"locale": "de", "next": "/dashboard"})
    page = admin_client.get("/dashboard").get_data(as_text=True)
    assert ">Module</a>" in page and ">Modul</a>" not in page
