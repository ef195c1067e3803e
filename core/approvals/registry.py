"""The approvable kinds of the running app (``register_approvables``) and the rule kind of each."""
from __future__ import annotations

from flask import current_app

from core.contrib import Approvable, RuleKind
from core.errors import NotFound
from core.i18n import gettext as _

MANAGE = "core.approvals.manage"


def approvables() -> dict[str, Approvable]:
    """The approvable kinds by name, collected once per app build (a plugin whose hook fails is
    logged and left out, as for the other registries)."""
    cached = current_app.extensions.get("kontor_approvables")
    if cached is None:
        from core.web.shell import contributions

        found = [a for a in contributions("register_approvables") if isinstance(a, Approvable)]
        cached = current_app.extensions["kontor_approvables"] = {a.kind: a for a in found}
    return cached


def approvable(kind: str) -> Approvable:
    """The approvable kind ``kind``; :class:`NotFound` when no module declares it."""
    found = approvables().get(kind)
    if found is None:
        raise NotFound(_("Records of kind %(kind)s do not take approval.", kind=kind))
    return found


def rule_kind_name(kind: str) -> str:
    """The rule kind of the conditions of ``kind``'s approval rules: ``approval.<kind>``."""
    return f"approval.{kind}"


def rule_kind_of(approvable: Approvable) -> RuleKind:
    """The rule kind a condition of ``approvable``'s rules is compiled as: a boolean over its fields."""
    return RuleKind(rule_kind_name(approvable.kind), approvable.title, tuple(approvable.fields), result="boolean",
                    permission=MANAGE)
