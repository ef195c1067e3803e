"""expenses: an approvable expense claim with a page (its Approval panel), and what approval unlocks."""
from pathlib import Path

from flask import Blueprint, abort

from core import (Approvable, Manifest, Permission, RuleVariable, hookimpl, record_changed, render, require,
                  require_approval, session)

manifest = Manifest(name="expenses", version="1.0.0", title="Expenses", summary="Expense claims that need approval.")
bp = Blueprint("expenses", __name__, url_prefix="/expenses", template_folder="templates")

#: Every approval_decided call the module heard, as (kind, record id, state), for the tests.
decided: list[tuple[str, int, str]] = []

FIELDS = (RuleVariable("amount", "number", "Amount", "1200.00"), RuleVariable("discount", "number", "Discount %", "5"),
          RuleVariable("category", "text", "Category", "travel"), RuleVariable("urgent", "boolean", "Urgent", False))


def claim_values(claim) -> dict:
    return {"amount": claim.amount, "discount": claim.discount, "category": claim.category, "urgent": claim.urgent}


@bp.get("/<int:claim_id>")
@require("expenses.claim.read")
def claim_page(claim_id: int):
    from expenses.models import Claim

    claim = session.get(Claim, claim_id)
    if claim is None:
        abort(404)
    return render("expenses/claim.html", claim=claim, title=claim.title)


def pay(claim) -> None:
    """Pay a claim: refused (409) unless it needs no approval or is approved."""
    require_approval(session, "expenses.claim", claim, "This claim needs approval before it can be paid.")
    claim.state = "paid"


def change(claim, **values) -> None:
    """Change a claim's fields and tell the approval engine."""
    for name, value in values.items():
        setattr(claim, name, value)
    session.flush()
    record_changed(session, "expenses.claim", claim)


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def register_permissions():
    return [Permission("expenses.claim.read", "See expense claims", ("staff",)),
            Permission("expenses.claim.request", "Ask for approval of expense claims", ("staff",))]


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def register_approvables():
    from expenses.models import Claim

    return [Approvable("expenses.claim", Claim, "Expense claim", FIELDS, claim_values,
                       describe=lambda claim: f"Claim {claim.title}",
                       url=lambda claim: f"/expenses/{claim.id}",
                       read_permission="expenses.claim.read", request_permission="expenses.claim.request",
                       amount="amount")]


@hookimpl
def approval_decided(kind, record, state, session):
    if kind != "expenses.claim":
        return
    decided.append((kind, record.id, state))
    if state == "approved":
        record.state = "approved"
    elif state in ("rejected", "reset", "recalled"):
        record.state = "draft"
