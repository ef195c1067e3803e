"""The manifest and one implementation of every hook of the core."""
from pathlib import Path

from core import (Action, JinjaExtras, Manifest, MenuItem, MenuSection, ModuleError, Panel, Permission, RecordRule,
                  Role, Setting, has_permission,
                  Widget, hookimpl)

manifest = Manifest(
    name="everyhook",
    title="Every hook",
    version="1.0.0",
    summary="Implements every hook of the core, for the tests.",
    requires_core=">=0.1",
    author="Kontor",
    license="AGPL-3.0-or-later",
    category="Testing",
)


@hookimpl
def register_blueprints():
    from everyhook import routes

    return [routes.bp]


@hookimpl
def register_api():
    from everyhook import api

    return [api.api]


@hookimpl
def register_permissions():
    return [
        Permission("everyhook.thing.read", "See things", ("staff",)),
        Permission("everyhook.thing.write", "Create things", ("everyhook_clerk",)),
    ]


@hookimpl
def register_roles():
    return [Role("everyhook_clerk", "Thing clerk", "Creates things.")]


@hookimpl
def register_menu_items():
    return [MenuSection("everyhook", "Thing keeping", order=500),
            MenuItem("everyhook", "Things", "everyhook.index", "everyhook.thing.read", order=50)]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def register_settings():
    return [Setting("everyhook.greeting", "Greeting", default="Hello", help="How things greet."),
            Setting("everyhook.password", "Password of the thing service", type="secret")]


@hookimpl
def register_commands():
    from everyhook.cli import things_command

    return [things_command]


@hookimpl
def register_jinja():
    return JinjaExtras(filters={"shout": lambda text: f"{str(text).upper()}!"}, globals={"thing_word": "thing"})


@hookimpl
def register_invariant_checks():
    from everyhook.services import NO_FORBIDDEN_THING

    return [NO_FORBIDDEN_THING]


@hookimpl
def register_record_rules():
    from everyhook.models import Thing

    # a thing named "private …" is seen only by those who may create things (and by the system)
    return [RecordRule(Thing, lambda user: None if user is None or has_permission("everyhook.thing.write", user)
                       else ~Thing.name.startswith("private"), "private things")]


@hookimpl
def register_hookspecs():
    from everyhook import hookspecs

    return hookspecs


@hookimpl
def load_default_data(session):
    from everyhook.services import add_thing

    add_thing(session, "default thing")


@hookimpl
def module_installed(name, session):
    from everyhook.services import add_thing

    add_thing(session, f"saw {name} installed")


@hookimpl
def module_uninstalling(name, session):
    from everyhook.services import thing_named

    if name == "everyhook" and thing_named(session, "keep me") is not None:
        raise ModuleError("A thing named 'keep me' must not be purged.")


@hookimpl
def load_demo_data(session, progress):
    from everyhook.services import add_thing

    for number in (1, 2, 3):
        add_thing(session, f"demo thing {number}")
        progress(1)


@hookimpl
def dashboard_widgets(user):
    return [Widget("Thing count", "everyhook.thing.read", template="everyhook/_widget.html",
                   context={"owner": user.username})]


@hookimpl
def record_panels(kind, record, user):
    if kind != "core.party":
        return []
    from everyhook.services import things_of_party

    return [Panel("Things of this party", "everyhook.thing.read", template="everyhook/_panel.html",
                  context={"things": [t.name for t in things_of_party(record.id)]}, inline=True)]


@hookimpl
def record_actions(kind, record, user):
    if kind != "core.party":
        return []
    return [Action("Give a thing", "everyhook.give", "everyhook.thing.write", endpoint_args={"party_id": record.id},
                   post=True)]


@hookimpl
def party_merging(source, target, session):
    from everyhook.services import move_things

    move_things(session, source.id, target.id)


@hookimpl
def company_locked_fields(session):
    from everyhook.services import thing_named

    return {"vat_id": "A thing named 'vat' keeps it."} if thing_named(session, "vat") is not None else {}


@hookimpl
def register_job_kinds():
    from core import JobKind
    from everyhook.services import tally_things

    return [JobKind("everyhook.tally", run=tally_things, title="Tally things", permission="everyhook.thing.write")]


@hookimpl
def register_schedules():
    from datetime import timedelta

    from core import Schedule

    return [Schedule("everyhook.hourly_tally", kind="everyhook.tally", every=timedelta(hours=1),
                     arguments={"prefix": "hourly", "count": 1}),
            Schedule("everyhook.nightly_tally", kind="everyhook.tally", cron="0 2 * * *",
                     arguments={"prefix": "nightly", "count": 1}, per_company=False)]


@hookimpl
def register_notification_kinds():
    from core import NotificationKind

    return [NotificationKind("everyhook.tally_ended", "A tally I asked for has ended", channel="email")]


@hookimpl
def job_ended(job, session):
    from core import N_, notify

    if job.kind == "everyhook.tally" and job.user_id is not None:
        notify(session, "everyhook.tally_ended", [job.user_id], N_("Tally %(job)s ended: %(status)s"),
               {"job": job.id, "status": job.status})


@hookimpl
def register_rule_kinds():
    from decimal import Decimal

    from core import RuleKind, RuleVariable

    return [RuleKind("everyhook.thing_price", "Price of a thing",
                     (RuleVariable("weight", "number", "Weight in kg", Decimal("2.5")),
                      RuleVariable("name", "text", "Name", "box")),
                     result="number", permission="everyhook.thing.write")]


@hookimpl
def register_attachables():
    from core import Attachable
    from everyhook.models import Thing

    return [Attachable("everyhook.thing", Thing, "everyhook.thing.read", "everyhook.thing.write")]


@hookimpl
def register_approvables():
    from core import Approvable, RuleVariable
    from everyhook.models import Thing

    return [Approvable("everyhook.thing", Thing, "Thing", (RuleVariable("name", "text", "Name", "big thing"),),
                       values=lambda thing: {"name": thing.name}, describe=lambda thing: f"the thing {thing.name}",
                       url=lambda thing: "/everyhook/", read_permission="everyhook.thing.read",
                       request_permission="everyhook.thing.write")]


@hookimpl
def approval_decided(kind, record, state, session):
    from everyhook.services import add_thing

    if kind == "everyhook.thing":
        add_thing(session, f"{state}: {record.name}")
