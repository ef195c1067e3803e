"""The modules in the JSON API: ``GET /api/v1/modules`` and ``POST /api/v1/modules``."""
from __future__ import annotations

from flask import Blueprint, current_app
from marshmallow import Schema, fields, validate

from core.api.base import ApiBlueprint, documented, json_response, load_body
from core.modules import archive as archives
from core.modules import lifecycle
from core.security import require


class ModuleSchema(Schema):
    """A module and its state (available, installed, disabled, upgradable, quarantined)."""

    name = fields.String()
    title = fields.String()
    version = fields.String(metadata={"description": "The version of the code here."})
    installed_version = fields.String()
    state = fields.String()
    depends = fields.List(fields.String())
    required_by = fields.List(fields.String())
    summary = fields.String()
    author = fields.String()
    license = fields.String()
    category = fields.String()
    error = fields.String()


class ModuleActSchema(Schema):
    """A lifecycle act on one module."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=64))
    action = fields.String(required=True, validate=validate.OneOf(sorted(lifecycle.ACTS)))
    cascade = fields.Boolean(load_default=False, metadata={"description": "disable: also disable dependents."})
    force_lose_records = fields.Boolean(load_default=False, metadata={
        "description": "purge: purge even though a module would keep its records (posted books within their "
                       "retention period); they are lost, and the override is audited."})


class ModuleActResultSchema(Schema):
    """What an act did: the modules it changed and the archives a purge wrote."""

    action = fields.String()
    modules = fields.List(fields.String())
    archives = fields.List(fields.String())



def create_api() -> Blueprint:
    """The ``api_modules`` blueprint at /api/v1/modules (made anew for every app build)."""
    bp = ApiBlueprint("modules", __name__)

    @bp.get("")
    @require("core.module.read")
    @documented("List the modules and their states", response=ModuleSchema, many=True)
    def list_modules():
        statuses = lifecycle.module_status(lifecycle.context_from_app(current_app))
        return json_response({"items": ModuleSchema().dump([s.as_dict() for s in statuses], many=True)})

    @bp.post("")
    @require("core.module.manage")
    @documented("Install, disable, enable, purge or upgrade a module", body=ModuleActSchema,
                response=ModuleActResultSchema)
    def act():
        data = load_body(ModuleActSchema())
        action = data["action"]
        options = {"disable": {"cascade": data["cascade"]},
                   "purge": {"force": data["force_lose_records"]}}.get(action, {})
        # the act runs its own transactions on the engine; a refusal is answered by the app-wide mapping
        result = lifecycle.ACTS[action](lifecycle.context_from_app(current_app), [data["name"]], **options)
        body = {"action": action, "modules": [data["name"]] if action == "purge" else result,
                "archives": [archives.archive_name(key) for key in result] if action == "purge" else []}
        return json_response(ModuleActResultSchema().dump(body))

    return bp
