"""groupnotes: a per-company note, its API and default data loaded per company."""
from pathlib import Path

from flask import abort
from sqlalchemy import func, select

from core import (ApiBlueprint, Manifest, Permission, Setting, get_company, hookimpl, json_response, require, session,
                  setting_values)

manifest = Manifest(name="groupnotes", version="1.0.0", title="Group notes", summary="Notes kept per company.")
PER_COMPANY = Setting("groupnotes.motto", "Motto", default="none", scope="company")
api = ApiBlueprint("groupnotes", __name__)


@api.get("/notes")
@require("groupnotes.note.read")
def list_notes():
    from groupnotes.models import Note

    notes = session.execute(select(Note).order_by(Note.id)).scalars()
    total = session.execute(select(func.coalesce(func.sum(Note.amount), 0))).scalar()
    return json_response({"items": [{"id": n.id, "code": n.code, "company_id": n.company_id} for n in notes],
                          "total": str(total), "motto": setting_values(session, [PER_COMPANY])[PER_COMPANY.key]})


@api.get("/notes/<int:note_id>")
@require("groupnotes.note.read")
def read_note(note_id: int):
    from groupnotes.models import Note

    note = session.get(Note, note_id)
    if note is None:
        abort(404)
    return json_response({"id": note.id, "code": note.code})


@hookimpl
def register_api():
    return [api]


@hookimpl
def register_permissions():
    return [Permission("groupnotes.note.read", "See notes")]


@hookimpl
def register_settings():
    return [PER_COMPANY]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def load_default_data(session):
    from groupnotes.models import Note

    session.add(Note(code="WELCOME", text=f"Welcome to {get_company(session).legal_name}"))
