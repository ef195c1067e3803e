"""A lazy panel, an inline panel and an action on the page of every record kind the modules show."""
from flask import Blueprint

from core import Action, Manifest, Panel, Permission, hookimpl, require

manifest = Manifest(name="recordextras", title="Record extras", version="1.0.0",
                    summary="Adds a panel and an action to every record page.", category="Testing")

#: Every record page kind of the core and the bundled modules.
KINDS = ("core.party", "accounting.invoice", "accounting.entry", "accounting.payment", "accounting.statement",
         "crm.lead", "crm.opportunity", "crm.ticket", "crm.campaign")

bp = Blueprint("recordextras", __name__, url_prefix="/recordextras", template_folder="templates")


@bp.get("/panel/<kind>/<int:record_id>")
@require("recordextras.panel.read")
def panel(kind: str, record_id: int):
    return f"<p class='lazy-extra'>Lazy extra of {kind} {record_id}</p>"


@bp.post("/act/<kind>/<int:record_id>")
@require("recordextras.action.run")
def act(kind: str, record_id: int):
    return f"Acted on {kind} {record_id}"


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def register_permissions():
    return [Permission("recordextras.panel.read", "See the extra panels"),
            Permission("recordextras.action.run", "Run the extra action")]


@hookimpl
def record_panels(kind, record):
    if kind not in KINDS:
        return []
    args = {"kind": kind, "record_id": record.id}
    return [Panel(f"Lazy extra ({kind})", "recordextras.panel.read", endpoint="recordextras.panel", endpoint_args=args),
            Panel(f"Inline extra ({kind})", "recordextras.panel.read", template="recordextras/_inline.html",
                  context={"kind": kind, "record_id": record.id}, inline=True, order=5)]


@hookimpl
def record_actions(kind, record):
    if kind not in KINDS:
        return []
    return [Action(f"Extra action ({kind})", "recordextras.act", "recordextras.action.run",
                   endpoint_args={"kind": kind, "record_id": record.id}, post=True)]
