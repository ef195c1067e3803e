"""The kinds of record that take attachments in the running app (``register_attachables``)."""
from __future__ import annotations

from flask import current_app

from core.contrib import Attachable


def attachables() -> dict[str, Attachable]:
    """The attachable kinds by name, collected once per app build (a plugin whose hook fails is
    logged and left out, as for the other UI hooks)."""
    cached = current_app.extensions.get("kontor_attachables")
    if cached is None:
        from core.web.shell import contributions

        found = [a for a in contributions("register_attachables") if isinstance(a, Attachable)]
        cached = current_app.extensions["kontor_attachables"] = {a.kind: a for a in found}
    return cached
