"""The notification kinds of the running app (``register_notification_kinds``) and the kinds of record
a notification may be about (attachable and approvable kinds: each knows its model and read permission)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from core.attachments.registry import attachables
from core.contrib import NotificationKind


@dataclass(frozen=True)
class RecordKind:
    """How to read a record a notification is about: its model and the permission that reads it."""

    kind: str
    model: type
    read_permission: str


def notification_kinds() -> dict[str, NotificationKind]:
    """The registered notification kinds by name, collected once per app build."""
    cached = current_app.extensions.get("kontor_notification_kinds")
    if cached is None:
        from core.web.shell import contributions

        found = [k for k in contributions("register_notification_kinds") if isinstance(k, NotificationKind)]
        cached = current_app.extensions["kontor_notification_kinds"] = {k.name: k for k in found}
    return cached


def record_kinds() -> dict[str, RecordKind]:
    """The kinds of record a notification may name: every attachable and approvable kind."""
    cached = current_app.extensions.get("kontor_notification_records")
    if cached is None:
        from core.contrib import Approvable
        from core.web.shell import contributions

        cached = {a.kind: RecordKind(a.kind, a.model, a.read_permission) for a in attachables().values()}
        for approvable in contributions("register_approvables"):
            if isinstance(approvable, Approvable):
                cached.setdefault(approvable.kind,
                                  RecordKind(approvable.kind, approvable.model, approvable.read_permission))
        current_app.extensions["kontor_notification_records"] = cached
    return cached
