"""Attachments as a built-in plugin: the panel on every attachable record page, its pages and API."""
from __future__ import annotations

from core.attachments import api, routes
from core.attachments.registry import attachables
from core.attachments.services import human_size
from core.contrib import JinjaExtras, Panel
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_blueprints():
    return [routes.bp]


@hookimpl
def register_api():
    return [api.bp]


@hookimpl
def register_jinja():
    return JinjaExtras(filters={"filesize": human_size})


@hookimpl
def record_panels(kind, record):
    """The Attachments panel, on the page of every record whose kind takes attachments."""
    attachable = attachables().get(kind)
    if attachable is None or getattr(record, "id", None) is None:
        return []
    return [Panel(_l("Attachments"), attachable.read_permission, endpoint="attachments.panel",
                  endpoint_args={"kind": kind, "record_id": record.id}, order=800)]
