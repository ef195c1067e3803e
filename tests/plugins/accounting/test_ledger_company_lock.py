"""The base currency is locked once the books hold an entry (accounting's company_locked_fields)."""
from __future__ import annotations

import re
from datetime import date

from core.db import session

from plugins.accounting.ledger import services


def company(api) -> dict:
    return api.get("/api/v1/company").get_json()


def test_base_currency_is_locked_once_an_entry_exists(app, api, admin_client):
    base = company(api)["base_currency"]
    other = "EUR" if base != "EUR" else "SEK"
    # no entry yet: the currency may still be chosen, and back
    assert api.patch("/api/v1/company", json={"base_currency": other}).status_code == 200
    assert api.patch("/api/v1/company", json={"base_currency": base}).status_code == 200
    with app.app_context():
        services.create_entry(session, journal="GEN", date=date.today(), lines=[])  # a draft is enough
        session.commit()
    refused = api.patch("/api/v1/company", json={"base_currency": other})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "can no longer be changed" in refused.get_json()["errors"]["base_currency"][0]
    assert company(api)["base_currency"] == base
    assert api.patch("/api/v1/company", json={"base_currency": base, "city": "Odense"}).status_code == 200
    page = admin_client.get("/settings/company").get_data(as_text=True)
    assert re.search(rf'name="base_currency" value="{base}"[^>]*readonly', page)
    assert "can no longer be changed" in page
    form = {key: value for key, value in company(api).items() if isinstance(value, (str, int))}
    form["base_currency"] = other
    posted = admin_client.post_form("/settings/company", {k: str(v) for k, v in form.items()})
    assert posted.status_code == 422
    assert re.search(r'id="e-base_currency"[^>]*>[^<]*can no longer be changed', posted.get_data(as_text=True))
    assert company(api)["base_currency"] == base
