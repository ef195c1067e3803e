"""The CRM module's manifest and its contributions to Kontor.

The module is made of areas (leads, pipeline, activities, service, campaigns); each area package
exposes the same small set of functions, and :class:`plugins.areas.AreaHooks` hands the core's
hooks to each in turn.
"""
from core import Manifest

from plugins.areas import AreaHooks
from plugins.crm import activities, campaigns, hookspecs, leads, menus, permissions, pipeline, service

manifest = Manifest(
    name="crm",
    title="CRM",
    version="1.0.0",
    summary="Leads, pipeline, activities, service tickets and campaigns, with the customer's whole picture.",
    requires_core=">=0.1,<1",
    author="Kontor",
    license="AGPL-3.0-or-later",
    category="Sales",
)

#: The areas, in the order their contributions appear.
AREAS = (leads, pipeline, activities, service, campaigns)

_hooks = AreaHooks(manifest.name, __name__, AREAS, hookspecs=hookspecs, permissions=permissions, menus=menus,
                   command_help="The CRM: leads, pipeline, tickets and campaigns.")
globals().update(_hooks.implementations())  # register_blueprints, load_default_data, … as module-level hooks
