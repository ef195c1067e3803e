"""Every hook in core/hookspecs.py, exercised for real through the fixture plugin ``everyhook``.

Each hook has a ``test_hook_<name>``; a meta-test fails when a hook has none. The plugin is
installed into the test's database through the module lifecycle, then used through the pages, the
API, the CLI and the services that call the hooks.
"""
from __future__ import annotations

import inspect
import re

import pytest
from sqlalchemy import select

from core import ModuleError, hookimpl, hookspecs
from core.modules import migrate
from core.testing import make_user
from tests.contract import install, purge
from tests.core.everyhook_site import PASSWORD, Site

HOOKS = sorted(name for name, func in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(func, "kontor_spec"))


@pytest.fixture
def site(settings) -> Site:
    settings["EXTRA_PLUGINS"] = (*settings["EXTRA_PLUGINS"], "everyhook.plugin")
    install(settings, "everyhook")
    return Site(settings)


def test_every_hook_has_a_test():
    missing = [name for name in HOOKS if f"test_hook_{name}" not in globals()]
    assert not missing, f"hooks without a test_hook_<name>: {missing}"


def test_the_fixture_plugin_implements_every_hook():
    import everyhook.plugin

    assert [name for name in HOOKS if not hasattr(everyhook.plugin, name)] == []


# -- Registration --


def test_hook_register_blueprints(site):
    assert site.client().get("/everyhook/").status_code == 302  # anonymous: to the login page
    page = site.client("boss").get("/everyhook/")
    assert page.status_code == 200
    assert "default thing" in page.get_data(as_text=True)


def test_a_cross_site_public_form_needs_no_csrf_token_and_others_still_do(site):
    anonymous = site.client()
    assert anonymous.post("/everyhook/suggest", data={"name": "tea"}).status_code == 201
    assert "suggested: tea" in site.things()
    assert anonymous.post("/everyhook/public-but-same-site", data={}).status_code == 400


def test_hook_register_api(site):
    from core.auth.models import User
    from core.auth.tokens import create_token

    make_user(site.app, "robot", ["admin"], PASSWORD)
    with site.session() as db:
        _, secret = create_token(db, db.execute(select(User).where(User.username == "robot")).scalar_one(), "tests")
        db.commit()
    client, headers = site.client(), {"Authorization": f"Bearer {secret}"}
    created = client.post("/api/v1/everyhook/things", json={"name": "from the API"}, headers=headers)
    assert created.status_code == 201, created.get_data(as_text=True)
    listed = client.get("/api/v1/everyhook/things", headers=headers).get_json()
    assert "from the API" in [t["name"] for t in listed["items"]] and listed["next"] is None
    refused = client.post("/api/v1/everyhook/things", json={"name": ""}, headers=headers)
    assert refused.status_code == 422 and "name" in refused.get_json()["errors"]
    assert client.get("/api/v1/everyhook/things").status_code == 401


def test_hook_register_permissions(site):
    from core.auth.models import PermissionRecord

    assert {"everyhook.thing.read", "everyhook.thing.write"} <= set(site.kontor.permissions)
    with site.session() as db:
        assert db.get(PermissionRecord, "everyhook.thing.read").module == "everyhook"
    staff = site.client("clerk", ("staff",))  # "staff" is a default role of everyhook.thing.read only
    assert staff.get("/everyhook/").status_code == 200
    party_id = site.party("Acme A/S")
    assert staff.post_form(f"/everyhook/give/{party_id}", {"name": "gift"}).status_code == 403
    assert "gift" not in site.things()


def test_hook_register_roles(site):
    from core.auth.models import Role

    with site.session() as db:
        role = db.execute(select(Role).where(Role.name == "everyhook_clerk")).scalar_one()
        assert "everyhook.thing.write" in role.permission_names
    party_id = site.party("Acme A/S")
    clerk = site.client("giver", ("everyhook_clerk",))
    assert clerk.post_form(f"/everyhook/give/{party_id}", {"name": "gift"}).status_code == 302
    assert "gift" in site.things()


def test_hook_register_menu_items(site):
    menu = site.client("boss").get("/dashboard").get_data(as_text=True)
    assert 'href="/everyhook/"' in menu
    # the module's own section, placed by its order between the core's Home (where everyone finds
    # "Awaiting my approval") and its Contacts and Administration
    aside = menu[menu.index('<aside class="shell-menu"'):menu.index("</aside>")]
    titles = re.findall(r"<summary>(.*?)</summary>", aside)
    assert titles == ["Home", "Thing keeping", "Contacts", "Administration"]
    assert re.search(r'<summary>Thing keeping</summary>\s*<ul>\s*<li><a href="/everyhook/"', aside)
    nobody = site.client("nobody", ())
    assert 'href="/everyhook/"' not in nobody.get("/dashboard").get_data(as_text=True)


def test_hook_register_migrations(site):
    assert "everyhook_thing" in site.tables()
    with site.kontor.engine.connect() as conn:
        assert "everyhook_0001" in migrate.current_revisions(conn)
    purge(site.settings, "everyhook")
    assert "everyhook_thing" not in site.tables()
    with site.kontor.engine.connect() as conn:
        assert "everyhook_0001" not in migrate.current_revisions(conn)


def test_hook_register_settings(site):
    from core.company.services import setting_values, update_settings

    setting = next(s for s in site.kontor.settings if s.key == "everyhook.greeting")
    with site.session() as db:
        assert setting_values(db, [setting]) == {"everyhook.greeting": "Hello"}
        update_settings(db, [setting], {"everyhook.greeting": "Hej"})
        db.commit()
        assert setting_values(db, [setting]) == {"everyhook.greeting": "Hej"}


def test_a_secret_setting_is_never_shown_nor_audited_and_kept_when_left_empty(site):
    from sqlalchemy import select

    from core.audit.models import AuditRecord
    from core.company.services import setting_values

    admin = site.client("boss")
    token = admin.csrf_token("/settings/modules")
    form = {"everyhook.greeting": "Hej", "everyhook.password": " s3cret pass ", "csrf_token": token}
    assert admin.post("/settings/modules", data=form).status_code == 303
    page = admin.get("/settings/modules").get_data(as_text=True)
    assert "s3cret" not in page and 'type="password"' in page and "leave this empty to keep it" in page
    # saving the form again without typing the password keeps it
    assert admin.post("/settings/modules", data={**form, "everyhook.password": ""}).status_code == 303
    setting = next(s for s in site.kontor.settings if s.key == "everyhook.password")
    with site.session() as db:
        assert setting_values(db, [setting]) == {"everyhook.password": " s3cret pass "}
        audited = db.execute(select(AuditRecord).where(AuditRecord.record_id == "everyhook.password/0")).scalars().all()
        assert audited and all("s3cret" not in str(record.changes) for record in audited)


def test_hook_register_commands(site):
    assert "things" in site.app.cli.commands
    result = site.app.test_cli_runner().invoke(args=["things"])
    assert result.exit_code == 0, result.output
    assert "default thing" in result.output


def test_hook_register_jinja(site):
    from flask import render_template_string

    with site.app.test_request_context():
        assert render_template_string("{{ thing_word | shout }}") == "THING!"
    assert "THING!" in site.client("boss").get("/everyhook/").get_data(as_text=True)


def test_hook_register_hookspecs(site):
    pm = site.kontor.pm
    seen = []

    class Listener:
        @hookimpl
        def everyhook_thing_added(self, thing):
            seen.append(thing)
            return thing.upper()

    pm.register(Listener())
    pm.check_pending()  # the plugin's own hookspec is known, so the implementation is valid
    with site.session() as db:
        assert pm.hook.everyhook_thing_added(thing="box", session=db) == ["BOX"]
    assert seen == ["box"]


def test_hook_register_record_rules(site):
    from core.auth.models import User
    from core.auth.tokens import create_token

    assert "private things" in [rule.name for rule in site.kontor.record_rules]
    site.add_thing("private plans")
    site.add_thing("public notes")
    make_user(site.app, "viewer", ["staff"], PASSWORD)
    make_user(site.app, "clerk", ["staff", "everyhook_clerk"], PASSWORD)
    with site.session() as db:
        tokens = {name: create_token(db, db.execute(select(User).where(User.username == name)).scalar_one(), "t")[1]
                  for name in ("viewer", "clerk")}
        db.commit()

    def listed(name):
        answer = site.client().get("/api/v1/everyhook/things", headers={"Authorization": f"Bearer {tokens[name]}"})
        assert answer.status_code == 200
        return {thing["name"] for thing in answer.get_json()["items"]}

    # the rule holds on the API's list although the endpoint filters nothing itself
    assert "private plans" not in listed("viewer") and "public notes" in listed("viewer")
    assert {"private plans", "public notes"} <= listed("clerk")
    # and the system, acting for nobody, is not restricted
    assert set(site.things()) >= {"private plans", "public notes"}


def test_hook_register_attachables(site):
    import io

    thing = site.add_thing("boxed")
    admin = site.client("attacher")
    token = admin.csrf_token("/dashboard")
    answer = admin.post(f"/attachments/everyhook.thing/{thing}", headers={"HX-Request": "true", "X-CSRFToken": token},
                        data={"file": (io.BytesIO(b"%PDF-1.4 box"), "box.pdf")})
    assert answer.status_code == 200 and "box.pdf" in answer.get_data(as_text=True)
    assert "box.pdf" in admin.get(f"/attachments/everyhook.thing/{thing}").get_data(as_text=True)
    # a kind nobody registered takes no files
    assert admin.get(f"/attachments/everyhook.other/{thing}").status_code == 404
    viewer = site.client("onlooker", roles=("staff",))  # reads things, may not write them
    assert "box.pdf" in viewer.get(f"/attachments/everyhook.thing/{thing}").get_data(as_text=True)
    refused = viewer.post(f"/attachments/everyhook.thing/{thing}", data={"file": (io.BytesIO(b"x"), "x.txt")},
                          headers={"HX-Request": "true", "X-CSRFToken": viewer.csrf_token("/dashboard")})
    assert refused.status_code == 403


def test_hook_register_rule_kinds(site):
    from decimal import Decimal

    from core import compile_rule, rule_kinds

    with site.app.app_context():
        kind = rule_kinds()["everyhook.thing_price"]
        assert [v.name for v in kind.variables] == ["weight", "name"]
        rule = compile_rule("everyhook.thing_price", "round_money(weight * 3.333)")  # by the kind's name
        assert rule.evaluate({"weight": Decimal("2.5")}) == Decimal("8.33")
    admin = site.client("ruler")
    assert "Price of a thing" in admin.get("/settings/rule-kinds").get_data(as_text=True)
    tester = admin.get("/settings/rule-kinds/everyhook.thing_price").get_data(as_text=True)
    assert 'name="try-rule-weight"' in tester and 'value="2.5"' in tester
    # trying needs the kind's own permission (everyhook.thing.write), not a rules permission
    clerk = site.client("pricer", roles=("everyhook_clerk",))
    answer = clerk.htmx("POST", "/rules/try", data={"rule_try": "everyhook.thing_price|rule", "rule": "weight * 2",
                                                    "try-rule-weight": "1.25", "try-rule-name": "box"})
    assert answer.status_code == 200 and "2.50" in answer.get_data(as_text=True)
    viewer = site.client("looker", roles=("staff",))
    assert viewer.htmx("POST", "/rules/try", data={"rule_try": "everyhook.thing_price|rule",
                                                   "rule": "weight"}).status_code == 403


def test_hook_register_invariant_checks(site):
    from core import InvariantError
    from core.parties.services import create_party
    from everyhook.services import add_thing

    assert [c.name for c in site.kontor.invariant_checks] == ["everyhook.no_forbidden_thing"]
    # a service's operation: the thing and the party made with it are rolled back together
    with site.session() as db:
        create_party(db, {"name": "Made with a forbidden thing", "kind": "company"})
        add_thing(db, "forbidden")
        with pytest.raises(InvariantError, match="must not be named 'forbidden'") as refused:
            db.commit()
        assert refused.value.status == 409 and refused.value.check == "everyhook.no_forbidden_thing"
        db.rollback()
    # the API: 409 problem+json, nothing kept
    make_user(site.app, "robot", ["admin"], PASSWORD)
    from core.auth.models import User
    from core.auth.tokens import create_token

    with site.session() as db:
        _, secret = create_token(db, db.execute(select(User).where(User.username == "robot")).scalar_one(), "tests")
        db.commit()
    answer = site.client().post("/api/v1/everyhook/things", json={"name": "forbidden"},
                                headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 409 and answer.mimetype == "application/problem+json"
    assert answer.get_json()["detail"] == "A thing must not be named 'forbidden'."
    # a page: the error page says why
    party_id = site.party("Nordlys Handel ApS")
    page = site.client("boss").post_form(f"/everyhook/give/{party_id}", {"name": "forbidden"})
    assert page.status_code == 409 and "must not be named &#39;forbidden&#39;" in page.get_data(as_text=True)
    assert "forbidden" not in site.things()
    with site.session() as db:
        from core.parties.models import Party

        assert db.execute(select(Party).where(Party.name == "Made with a forbidden thing")).first() is None
    # a thing with another name passes the same check
    assert site.add_thing("allowed")
    assert "allowed" in site.things()


# -- Lifecycle --


def test_hook_load_default_data(site):
    assert site.things() == ["default thing"]


def test_hook_module_installed(site):
    install(site.settings, "hello")
    assert "saw hello installed" in site.things()


def test_hook_module_uninstalling(site):
    site.add_thing("keep me")
    with pytest.raises(ModuleError, match="keep me"):
        purge(site.settings, "everyhook")
    assert "everyhook_thing" in site.tables()
    assert "everyhook" in Site(site.settings).kontor.active_names
    from everyhook.services import thing_named

    with site.session() as db:
        db.delete(thing_named(db, "keep me"))
        db.commit()
    purge(site.settings, "everyhook")
    assert "everyhook_thing" not in site.tables()


def test_hook_load_demo_data(site, monkeypatch):
    from click.testing import CliRunner

    from core.cli import main

    monkeypatch.setenv("KONTOR_DATABASE_URL", site.settings["DATABASE_URL"])
    monkeypatch.setenv("KONTOR_INSTANCE", site.settings["INSTANCE_PATH"])
    monkeypatch.setenv("KONTOR_SECRET_KEY", site.settings["SECRET_KEY"])
    monkeypatch.setenv("KONTOR_PLUGINS", ",".join(site.settings["EXTRA_PLUGINS"]))
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert {"demo thing 1", "demo thing 2", "demo thing 3"} <= set(site.things())


# -- Master data --


def test_hook_company_locked_fields(site):
    from core.auth.models import User
    from core.auth.tokens import create_token

    make_user(site.app, "robot", ["admin"], PASSWORD)
    with site.session() as db:
        _, secret = create_token(db, db.execute(select(User).where(User.username == "robot")).scalar_one(), "tests")
        db.commit()
    api, headers = site.client(), {"Authorization": f"Bearer {secret}"}
    assert api.patch("/api/v1/company", json={"vat_id": "DK12345674"}, headers=headers).status_code == 200
    site.add_thing("vat")  # from now on everyhook locks the VAT id
    refused = api.patch("/api/v1/company", json={"vat_id": "DK87654321"}, headers=headers)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert refused.get_json()["errors"]["vat_id"] == ["A thing named 'vat' keeps it."]
    same = api.patch("/api/v1/company", json={"vat_id": "DK12345674", "city": "Aarhus"}, headers=headers)
    assert same.status_code == 200 and same.get_json()["city"] == "Aarhus"  # sending the stored value is no change
    page = site.client("boss").get("/settings/company").get_data(as_text=True)
    assert re.search(r'name="vat_id" value="DK12345674"[^>]*readonly', page)
    assert "A thing named &#39;vat&#39; keeps it." in page


# -- Request and UI --


def test_hook_dashboard_widgets(site):
    page = site.client("boss").get("/dashboard").get_data(as_text=True)
    assert "Thing count" in page and "Things of boss" in page
    assert "Thing count" not in site.client("nobody", ()).get("/dashboard").get_data(as_text=True)


def test_hook_record_panels(site):
    party_id = site.party("Nordlys Handel ApS")
    site.add_thing("a lamp", party_id)
    page = site.client("boss").get(f"/parties/{party_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Things of this party" in text and "a lamp" in text


def test_hook_record_actions(site):
    party_id = site.party("Nordlys Handel ApS")
    client = site.client("boss")
    page = client.get(f"/parties/{party_id}").get_data(as_text=True)
    assert "Give a thing" in page and f"/everyhook/give/{party_id}" in page
    assert client.post_form(f"/everyhook/give/{party_id}", {"name": "a gift"}).status_code == 302
    from everyhook.services import things_of_party

    with site.session() as db:
        assert [t.name for t in things_of_party(party_id, db)] == ["a gift"]


# -- Domain events --


def test_hook_party_merging(site):
    from core.parties.services import get_party, merge_parties
    from everyhook.services import things_of_party

    source, target = site.party("Nordlys Handel"), site.party("Nordlys Handel ApS")
    site.add_thing("a lamp", source)
    with site.session() as db:
        merge_parties(db, get_party(db, source), get_party(db, target), on_merging=site.kontor.pm.hook.party_merging)
        db.commit()
        assert [t.name for t in things_of_party(target, db)] == ["a lamp"]
        assert things_of_party(source, db) == []


def test_hook_register_job_kinds(site):
    from core import acting_as, start_job
    from core.auth.models import User

    assert site.kontor.job_kinds["everyhook.tally"].permission == "everyhook.thing.write"
    site.client("boss")
    with site.session() as db:
        with acting_as(db.execute(select(User).where(User.username == "boss")).scalar_one()):
            start_job(db, "everyhook.tally", {"prefix": "hooked", "count": 2})
            db.commit()  # the job runs after the commit (immediate mode in the tests)
    assert {"hooked 1", "hooked 2"} <= set(site.things())


def test_hook_register_schedules(site):
    from datetime import datetime, timezone

    from core.jobs.scheduler import tick

    names = [s.name for s in site.kontor.schedules]
    assert names[-2:] == ["everyhook.hourly_tally", "everyhook.nightly_tally"]  # after the core's own
    assert len(tick(site.app, datetime(2026, 12, 7, 2, 0, tzinfo=timezone.utc))) == 2
    assert {"hourly 1", "nightly 1"} <= set(site.things())


def test_hook_register_notification_kinds(site):
    from core.notifications import services
    from core.notifications.registry import notification_kinds

    boss = site.client("boss")
    with site.session() as db:
        kinds = notification_kinds()
        assert kinds["everyhook.tally_ended"].channel == "email"
        assert {"core.job_done", "core.job_failed"} <= set(kinds)  # the core's own beside it
        from core.auth.models import User

        user = db.execute(select(User).where(User.username == "boss")).scalar_one()
        assert services.choices(db, user)["everyhook.tally_ended"] == "email"  # the kind's default
    settings = boss.get("/notifications/settings").get_data(as_text=True)
    assert "A tally I asked for has ended" in settings


def test_hook_register_approvables(site):
    import html

    from core.approvals.registry import approvables
    from core.rules.registry import rule_kinds

    boss = site.client("boss")
    with site.session():
        assert approvables()["everyhook.thing"].request_permission == "everyhook.thing.write"
        kind = rule_kinds()["approval.everyhook.thing"]  # its conditions compile as rules over its fields
        assert [v.name for v in kind.variables] == ["name"] and kind.result == "boolean"
    assert "Thing" in boss.get("/admin/approval-rules").get_data(as_text=True)
    form = {"name": "Big", "active": "1", "sequence": "10", "step_count": "1", "step-0-approver": "user",
            "step-0-user": "boss"}
    refused = boss.post_form("/admin/approval-rules/new?kind=everyhook.thing", {**form, "condition": "size > 3"})
    assert refused.status_code == 422
    assert "Unknown name 'size' at line 1, column 1" in html.unescape(refused.get_data(as_text=True))
    made = boss.post_form("/admin/approval-rules/new?kind=everyhook.thing", {**form, "condition": 'name == "big"'})
    assert made.status_code == 303, made.get_data(as_text=True)


def test_hook_approval_decided(site):
    from core import acting_as, approval_state, approve, record_changed, request_approval
    from core.approvals.chains import save_rule
    from core.auth.models import User
    from everyhook.models import Thing

    site.client("boss")
    site.client("asker", ("everyhook_clerk", "staff"))
    thing_id = site.add_thing("big thing")
    with site.session() as db:
        boss, asker = (db.execute(select(User).where(User.username == name)).scalar_one() for name in ("boss", "asker"))
        with acting_as(boss):
            save_rule(db, None, {"kind": "everyhook.thing", "name": "Big", "condition": 'name == "big thing"',
                                 "steps": [{"approver": "user", "user": "boss"}]})
        thing = db.get(Thing, thing_id)
        with acting_as(asker):
            request = request_approval(db, "everyhook.thing", thing)
        with acting_as(boss):
            approve(db, request.tasks[0].id)
        db.commit()
        assert approval_state(db, "everyhook.thing", thing) == "approved"
        thing.name = "small thing"
        record_changed(db, "everyhook.thing", thing)  # no rule holds now: the approval is reset, not needed
        db.commit()
    assert {"approved: big thing", "reset: small thing"} <= set(site.things())


def test_hook_job_ended(site):
    from core import Notification, acting_as, start_job
    from core.auth.models import User

    site.client("boss")
    with site.session() as db:
        boss = db.execute(select(User).where(User.username == "boss")).scalar_one()
        with acting_as(boss):
            done = start_job(db, "everyhook.tally", {"prefix": "ended", "count": 1}).id
            failed = start_job(db, "everyhook.tally", {"prefix": "broken", "count": 1, "fail_first": 9},
                               max_attempts=1).id
            db.commit()  # both run after the commit; each one's end is announced once it is recorded
        got = db.execute(select(Notification.kind, Notification.params).where(
            Notification.kind == "everyhook.tally_ended").order_by(Notification.id)).all()
    assert got == [("everyhook.tally_ended", {"job": done, "status": "done"}),
                   ("everyhook.tally_ended", {"job": failed, "status": "failed"})]
