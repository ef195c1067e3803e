"""Opportunities as an approvable kind: the fields an approval rule may read, and what approval unlocks.

An admin writes the rules (Administration → Approval rules), e.g. ``discount > 0.10`` approved by
the requester's manager. An opportunity a rule applies to cannot be won until it is approved; a
change to a field the rules read asks again (:func:`core.record_changed`).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core import (Approvable, N_, RuleVariable, approval_state, Conflict, current_actor, gettext as _, has_permission,
                  lazy_gettext as _l, record_changed, request_approval, require_approval)

from plugins.crm import timeline
from plugins.crm.permissions import OPPORTUNITY_READ, OPPORTUNITY_WRITE
from plugins.crm.pipeline.models import Opportunity

KIND = "crm.opportunity"

FIELDS = (
    RuleVariable("expected_revenue", "number", _l("Expected revenue"), Decimal("50000")),
    RuleVariable("discount", "number", _l("Discount requested, as a fraction (0.15 is 15 %)"), Decimal("0.15")),
    RuleVariable("probability", "number", _l("Probability in percent (0 to 100)"), Decimal("50")),
    RuleVariable("currency", "text", _l("Currency (ISO code such as EUR)"), "EUR"),
    RuleVariable("stage", "text", _l("Stage"), "Proposal"),
    RuleVariable("owner", "text", _l("Owner's user name"), "mads"),
)


def values(opportunity: Opportunity) -> dict[str, Any]:
    """The values of :data:`FIELDS` for ``opportunity`` (the discount as a fraction: 15 % is 0.15)."""
    return {"expected_revenue": opportunity.expected_revenue, "discount": opportunity.discount / 100,
            "probability": Decimal(opportunity.probability), "currency": opportunity.currency,
            "stage": opportunity.stage.name if opportunity.stage else "",
            "owner": opportunity.owner.username if opportunity.owner else ""}


APPROVABLE = Approvable(
    KIND, Opportunity, _l("Opportunity"), FIELDS, values, describe=lambda o: o.title,
    url=lambda o: f"/crm/opportunities/{o.id}", read_permission=OPPORTUNITY_READ,
    request_permission=OPPORTUNITY_WRITE, amount="expected_revenue",
)


def check_may_win(db: Session, opportunity: Opportunity) -> None:
    """Refuse (409, naming what is needed) to win an opportunity an approval rule applies to until it is
    approved."""
    require_approval(db, KIND, opportunity, {
        "required": _("This opportunity needs approval before it can be won: request approval first."),
        "pending": _("This opportunity is waiting for approval: it can be won once it is approved."),
        "rejected": _("The approval of this opportunity was rejected: change it and request approval again."),
    })


def changed(db: Session, opportunity: Opportunity) -> None:
    """Tell the approval engine that ``opportunity`` changed (a field the rules read asks again);
    a closed deal is not asked again."""
    if not opportunity.stage.is_closed:
        record_changed(db, KIND, opportunity)


def may_request(db: Session, opportunity: Opportunity, user=None) -> bool:
    """Whether ``user`` (default: the acting user) may ask for approval of ``opportunity`` now: a rule
    applies and it is not asked yet (or was rejected), and they may change opportunities."""
    if opportunity.stage.is_closed or not has_permission(OPPORTUNITY_WRITE, user=user):
        return False
    return approval_state(db, KIND, opportunity) in ("required", "rejected")


def ask(db: Session, opportunity: Opportunity, note: str = ""):
    """Ask for approval of ``opportunity`` as the acting user (noted on its timeline); 409 when no rule
    applies to it (it needs none) or it is closed already."""
    if opportunity.stage.is_closed:
        raise Conflict(_("This opportunity is closed: it needs no approval any more."))
    refusals = {
        "none": _("No approval rule applies to this opportunity: it needs no approval."),
        "pending": _("Approval of this opportunity is asked already: it is waiting for a decision."),
        "approved": _("This opportunity is approved already."),
    }
    state = approval_state(db, KIND, opportunity)
    if state in refusals:
        raise Conflict(refusals[state])
    asked = request_approval(db, KIND, opportunity, note=note)
    if asked is None:
        raise Conflict(refusals["none"])
    actor = current_actor()
    timeline.record(db, "approval", title=N_("Approval requested"), title_args={}, body=asked.note,
                    party_id=opportunity.party_id, opportunity_id=opportunity.id, user_id=getattr(actor, "id", None))
    return asked


#: The timeline's words for each outcome of a request (translated when shown).
OUTCOMES = {
    "approved": N_("Approved"),
    "rejected": N_("Approval rejected"),
    "reset": N_("Changed after approval was asked: asked again"),
    "recalled": N_("Request for approval recalled"),
}


def note_decision(db: Session, opportunity: Opportunity, state: str) -> None:
    """Put the outcome of the opportunity's request for approval on its timeline."""
    if state in OUTCOMES:
        actor = current_actor()
        timeline.record(db, "approval", title=OUTCOMES[state], title_args={}, party_id=opportunity.party_id,
                        opportunity_id=opportunity.id, user_id=getattr(actor, "id", None))
