"""The hooks of the beta area."""
from core import Action, hookimpl, record_event

from kontor_twoareas.beta import routes


@hookimpl
def register_blueprints():
    return [routes.bp]


@hookimpl
def record_actions(kind, record, user):
    if kind != "core.party":
        return []
    return [Action("Open the notes", "twoareas.index", "twoareas.note.read")]


@hookimpl
def module_uninstalling(name, session):
    if name == "twoareas":
        record_event(session, "twoareas.uninstalling", module="twoareas", changes={"name": name})
