"""Rules through their pages, the API and the CLI: lookup tables edited in place, the rule tester and
its "Try it" panel (errors beside the rule or the value), /api/v1/rules and /api/v1/lookup-tables,
``kontor rules``. The rule kind tried is the ``everyhook`` fixture plugin's ``everyhook.thing_price``."""
from __future__ import annotations

import html
import io
import re

import pytest
from sqlalchemy import select

from core.audit.models import AuditRecord
from core.testing import ApiClient, WebClient
from tests.contract import install
from tests.core.everyhook_site import Site

KIND = "everyhook.thing_price"


@pytest.fixture
def site(settings) -> Site:
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], "everyhook.plugin")
    install(settings, "everyhook")
    return Site(settings)


def api_of(site: Site, username: str, roles: tuple[str, ...]) -> ApiClient:
    from core.auth.models import User
    from core.auth.tokens import create_token

    site.client(username, roles=roles)
    with site.session() as db:
        user = db.scalar(select(User).where(User.username == username))
        _, secret = create_token(db, user, "tests")
        db.commit()
    return ApiClient(WebClient(site.dispatcher), secret)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# -- lookup tables in the admin pages --


def test_an_admin_creates_a_lookup_table_and_edits_its_rows_in_place(site):
    admin = site.client("rules_admin")
    refused = admin.post_form("/settings/lookup-tables/new", {"name": "Tiers!", "title": "Tiers",
                                                               "key_type": "number", "match": "bracket"})
    assert refused.status_code == 422
    assert re.search(r'id="e-name" class="field-error">A name is lower-case letters', text(refused))
    created = admin.post_form("/settings/lookup-tables/new", {"name": "tiers", "title": "Discount tiers",
                                                               "key_type": "number", "match": "bracket"})
    assert created.status_code == 303
    page_url = created.headers["Location"]
    table_id = int(page_url.rstrip("/").rsplit("/", 1)[1])
    rows_url = f"/settings/lookup-tables/{table_id}/rows"

    added = admin.htmx("POST", rows_url, data={"key": "10", "value": "0.05", "valid_from": "", "valid_until": ""})
    assert added.status_code == 200 and 'id="lookup-rows"' in text(added) and 'value="0.05"' in text(added)
    bad = admin.htmx("POST", rows_url, data={"key": "100", "value": "lots", "valid_from": "", "valid_until": ""})
    assert bad.status_code == 422
    assert re.search(r'id="row-new-value-error" class="field-error">Enter a number', text(bad))
    assert 'value="lots"' in text(bad)  # what was typed stays in the field

    with site.session() as db:
        from core.rules.services import get_table

        row_id = get_table(db, table_id).rows[0].id
    changed = admin.htmx("POST", f"{rows_url}/{row_id}", data={"key": "10", "value": "0.06", "valid_from": "",
                                                               "valid_until": "2026-12-31"})
    assert changed.status_code == 200 and 'value="0.06"' in text(changed) and 'value="2026-12-31"' in text(changed)
    exported = admin.get(f"/settings/lookup-tables/{table_id}/rows.csv")
    assert text(exported) == "key,value,valid_from,valid_until\n10,0.06,,2026-12-31\n"

    imported = admin.post(f"/settings/lookup-tables/{table_id}/import", content_type="multipart/form-data",
                          data={"csrf_token": admin.csrf_token("/dashboard"),
                                "file": (io.BytesIO(b"key,value\n0,0\n50,0.1\nx,1\n"), "tiers.csv")})
    assert imported.status_code == 422 and "Line 4, key: Enter a number" in text(imported)
    assert "Discount tiers" in text(admin.get("/settings/lookup-tables"))

    deleted = admin.htmx("POST", f"{rows_url}/{row_id}/delete")
    assert deleted.status_code == 200 and "No rows yet" in text(deleted)
    with site.session() as db:
        actions = db.scalars(select(AuditRecord.action).where(AuditRecord.table_name == "core_lookup_row")).all()
    assert len(actions) == 3  # added, changed, deleted: each audited


def test_lookup_pages_need_the_rules_permission(site):
    clerk = site.client("clerk", roles=("everyhook_clerk",))
    assert clerk.get("/settings/lookup-tables").status_code == 403
    assert clerk.post_form("/settings/lookup-tables/new", {"name": "x", "title": "X"}).status_code == 403


# -- the rule tester and "Try it" --


def test_the_rule_tester_lists_variables_and_tries_a_rule_with_its_trace(site):
    admin = site.client("tester")
    kinds = text(admin.get("/settings/rule-kinds"))
    assert "Price of a thing" in kinds and KIND in kinds
    page = text(admin.get(f"/settings/rule-kinds/{KIND}"))
    assert '<textarea id="f-rule" name="rule"' in page
    assert "Weight in kg" in page and "round_money(x)" in page and 'value="2.5"' in page

    data = {"rule_try": f"{KIND}|rule", "rule": "round_money(weight * 3.333) + 1", "try-rule-weight": "2.5",
            "try-rule-name": "box"}
    answer = admin.htmx("POST", "/rules/try", data=data)
    body = text(answer)
    assert answer.status_code == 200
    assert "<output>9.33</output>" in body
    assert "<code>weight * 3.333</code></td><td>8.3325</td>" in body  # every decimal, none rounded away
    assert re.search(r'id="rule-error-rule" class="field-error" aria-live="polite" hx-swap-oob="true"></small>', body)


def test_try_it_puts_a_rule_error_beside_the_rule_and_a_value_error_beside_the_value(site):
    admin = site.client("tester")
    answer = admin.htmx("POST", "/rules/try", data={"rule_try": f"{KIND}|rule", "rule": "wieght * 2",
                                                    "try-rule-weight": "1", "try-rule-name": "box"})
    assert answer.status_code == 422
    assert re.search(r'id="rule-error-rule"[^>]*hx-swap-oob="true">Unknown name \'wieght\' at line 1, column 1\. '
                     r'Did you mean \'weight\'\?</small>', text(answer))
    answer = admin.htmx("POST", "/rules/try", data={"rule_try": f"{KIND}|rule", "rule": "weight * 2",
                                                    "try-rule-weight": "heavy", "try-rule-name": "box"})
    assert answer.status_code == 422
    assert re.search(r'id="try-rule-weight-error"[^>]*hx-swap-oob="true">\'weight\' must be a number\.</small>',
                     text(answer))


def test_try_it_works_without_javascript(site):
    admin = site.client("tester")
    answer = admin.post_form("/rules/try", {"rule_try": f"{KIND}|rule", "rule": "weight + 1",
                                            "try-rule-weight": "2", "try-rule-name": "box"})
    assert answer.status_code == 200
    assert "<title>" in text(answer) and "<output>3</output>" in text(answer)
    assert ">weight + 1</textarea>" in text(answer) and 'value="2"' in text(answer)


def test_try_it_needs_the_kinds_permission(site):
    assert site.client("nobody", roles=()).htmx(
        "POST", "/rules/try", data={"rule_try": f"{KIND}|rule", "rule": "weight"}).status_code == 403
    assert site.client("staff_member", roles=("staff",)).htmx(
        "POST", "/rules/try", data={"rule_try": f"{KIND}|rule", "rule": "weight"}).status_code == 403


# -- the API --


def test_the_api_checks_and_evaluates_rules(site):
    api = api_of(site, "api_admin", ("admin",))
    checked = api.post("/api/v1/rules/check", json={"kind": KIND, "text": "weight * 2 + 1"})
    assert checked.status_code == 200 and checked.get_json() == {"names": ["weight"], "result_type": "number"}

    refused = api.post("/api/v1/rules/check", json={"kind": KIND, "text": "weight == 'x'"})
    assert refused.status_code == 422 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["errors"] == {"text": ["'weight' is a number, compared with a text at line 1, column 8."]}

    evaluated = api.post("/api/v1/rules/evaluate", json={"kind": KIND, "text": "round_money(weight * 1.005)",
                                                         "values": {"weight": "2.5"}})
    assert evaluated.status_code == 200
    assert evaluated.get_json() == {"result": "2.51", "steps": [{"text": "weight * 1.005", "value": "2.5125"},
                                                                {"text": "round_money(weight * 1.005)",
                                                                 "value": "2.51"}]}
    missing = api.post("/api/v1/rules/evaluate", json={"kind": KIND, "text": "weight * 2", "values": {}})
    assert missing.status_code == 422 and list(missing.get_json()["errors"]) == ["weight"]
    unknown = api.post("/api/v1/rules/check", json={"kind": "nope.kind", "text": "1"})
    assert unknown.status_code == 422 and list(unknown.get_json()["errors"]) == ["kind"]
    extra = api.post("/api/v1/rules/check", json={"kind": KIND, "text": "1", "debug": True})
    assert extra.status_code == 422 and "debug" in extra.get_json()["errors"]


def test_the_api_answers_by_the_kinds_own_permission(site):
    clerk = api_of(site, "api_clerk", ("everyhook_clerk",))
    assert clerk.post("/api/v1/rules/check", json={"kind": KIND, "text": "weight"}).status_code == 200
    assert clerk.get("/api/v1/lookup-tables").status_code == 403
    for roles in ((), ("staff",)):
        other = api_of(site, f"api_{len(roles)}", roles)
        assert other.post("/api/v1/rules/check", json={"kind": KIND, "text": "weight"}).status_code == 403
        assert other.post("/api/v1/rules/check", json={}).status_code == 403


def test_the_api_keeps_lookup_tables(site):
    api = api_of(site, "api_admin", ("admin",))
    created = api.post("/api/v1/lookup-tables", json={"name": "rates", "title": "Rates", "key_type": "number",
                                                      "match": "bracket"})
    assert created.status_code == 201
    table = created.get_json()
    assert (table["name"], table["rows"]) == ("rates", [])
    again = api.post("/api/v1/lookup-tables", json={"name": "rates", "title": "Rates again"})
    assert again.status_code == 422 and list(again.get_json()["errors"]) == ["name"]

    base = f"/api/v1/lookup-tables/{table['id']}"
    row = api.post(f"{base}/rows", json={"key": "0", "value": "0.01"})
    assert row.status_code == 201 and row.get_json()["value"] == "0.01"
    bad = api.post(f"{base}/rows", json={"key": "ten", "value": "0.02"})
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["key"]
    api.post(f"{base}/rows", json={"key": "1000", "value": "0.02", "valid_from": "2026-01-01"})
    evaluated = api.post("/api/v1/rules/evaluate", json={"kind": KIND, "text": "weight * lookup('rates', weight)",
                                                         "values": {"weight": "1500"}, "on": "2026-03-01"})
    assert evaluated.get_json()["result"] == "30.000000"
    before = api.post("/api/v1/rules/evaluate", json={"kind": KIND, "text": "weight * lookup('rates', weight)",
                                                      "values": {"weight": "1500"}, "on": "2025-03-01"})
    assert before.get_json()["result"] == "15.000000"

    changed = api.patch(base, json={"title": "Commission rates"})
    assert changed.status_code == 200 and changed.get_json()["title"] == "Commission rates"
    assert api.patch(base, json={"key_type": "text"}).status_code == 422
    row_id = row.get_json()["id"]
    assert api.put(f"{base}/rows/{row_id}", json={"key": "0", "value": "0.015"}).get_json()["value"] == "0.015"
    assert api.delete(f"{base}/rows/{row_id}").status_code == 204
    assert len(api.get(base).get_json()["rows"]) == 1
    assert [t["name"] for t in api.get("/api/v1/lookup-tables").get_json()["items"]] == ["rates"]
    assert api.delete(base).status_code == 204
    assert api.get(base).status_code == 404


# -- the CLI --


def test_kontor_rules_lists_checks_and_tries(site, kontor):
    kinds = kontor("rules", "kinds")
    assert kinds.exit_code == 0 and f"{KIND}\tnumber\tweight:number name:text\t" in kinds.output
    ok = kontor("rules", "check", KIND, "round_money(weight * 2)")
    assert ok.exit_code == 0 and ok.output == "ok: gives number, reads weight\n"
    bad = kontor("rules", "check", KIND, "weight.real > 1")
    assert bad.exit_code == 1 and "Attribute access ('.real') is not allowed in a rule (at line 1, column 7)." in bad.output
    tried = kontor("rules", "try", KIND, "round_money(weight * 1.1) + 1", "weight=2.55")
    assert tried.exit_code == 0
    assert tried.output.splitlines() == ["weight * 1.1\t2.805", "round_money(weight * 1.1)\t2.81",
                                         "round_money(weight * 1.1) + 1\t3.81", "= 3.81"]
    missing = kontor("rules", "try", KIND, "weight * 2")
    assert missing.exit_code == 1 and "Enter a value for 'weight'." in missing.output
    assert kontor("rules", "check", "nope.kind", "1").exit_code == 1
