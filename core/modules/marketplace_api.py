"""The marketplace in the JSON API: ``/api/v1/modules/marketplace``."""
from __future__ import annotations

from flask import Blueprint, current_app
from marshmallow import Schema, fields

from core.api.base import API_PREFIX, documented, json_response, load_body
from core.modules import marketplace
from core.security import require


class CatalogEntrySchema(Schema):
    """A module the marketplace offers."""

    name = fields.String()
    title = fields.String()
    summary = fields.String()
    version = fields.String()
    requires_core = fields.String()
    depends = fields.List(fields.String())
    author = fields.String()
    license = fields.String()
    category = fields.String()
    wheel = fields.String()
    sha256 = fields.String()


class MarketplaceInstallSchema(Schema):
    """Which catalog module to install."""

    name = fields.String(required=True)


class InstalledSchema(Schema):
    """The modules an install brought in, dependencies first."""

    installed = fields.List(fields.String())


def create_api() -> Blueprint:
    """The ``api_marketplace`` blueprint (made anew for every app build)."""
    bp = Blueprint("api_marketplace", __name__, url_prefix=f"{API_PREFIX}/modules/marketplace")

    @bp.get("")
    @require("core.module.read")
    @documented("The marketplace catalog", response=CatalogEntrySchema, many=True)
    def catalog():
        entries = marketplace.load_catalog(current_app.config["MARKETPLACE"])
        return json_response({"items": CatalogEntrySchema().dump([e.as_dict() for e in entries], many=True)})

    @bp.post("")
    @require("core.module.manage")
    @documented("Download, verify and install a module from the marketplace", body=MarketplaceInstallSchema,
                response=InstalledSchema)
    def install():
        data = load_body(MarketplaceInstallSchema())
        installed = marketplace.install_from_app(current_app, data["name"])
        return json_response({"installed": installed})

    return bp
