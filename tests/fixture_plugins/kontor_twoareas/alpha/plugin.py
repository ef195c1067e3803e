"""The hooks of the alpha area."""
from core import Permission, hookimpl, record_event

READ = "twoareas.note.read"


@hookimpl
def register_permissions():
    return [Permission(READ, "See the notes of two areas", ("staff",))]


@hookimpl
def module_installed(name, session):
    record_event(session, "twoareas.saw_installed", module="twoareas", changes={"name": name})
