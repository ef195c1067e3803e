"""Marshmallow schemas of approval rules, requests and decisions for the JSON API."""
from __future__ import annotations

from marshmallow import fields, validate

from core.api.base import record_id_field
from core.api.schema import BoundedList, MoneyField, Schema
from core.approvals.models import APPROVER_TYPES


def _user_name(user) -> str | None:
    return user.username if user is not None else None


class ApprovalStepSchema(Schema):
    """One step of a rule's chain: who approves, in parallel with the previous step or after it, and
    up to which amount (a limit that covers the record's amount completes the chain)."""

    approver = fields.String(required=True, validate=validate.OneOf(APPROVER_TYPES),
                             metadata={"description": "role, user or manager (the requester's manager)"})
    role = fields.String(load_default=None, allow_none=True, metadata={"description": "The role's name (approver role)."})
    user = fields.String(load_default=None, allow_none=True, metadata={"description": "The user name (approver user)."})
    parallel = fields.Boolean(load_default=False, metadata={"description": "Asked together with the previous step."})
    amount_limit = MoneyField(load_default=None, allow_none=True)


class ApprovalStepOutSchema(Schema):
    """A step as the API shows it."""

    approver = fields.String(attribute="approver_type")
    role = fields.Function(lambda step: step.role.name if step.role else None)
    user = fields.Function(lambda step: _user_name(step.user))
    parallel = fields.Boolean()
    amount_limit = MoneyField(allow_none=True)


class ApprovalRuleSchema(Schema):
    """An approval rule: when records of ``kind`` need approval (``condition`` in the rule language,
    empty: always) and the chain of ``steps``."""

    id = fields.Integer(dump_only=True)
    kind = fields.String(required=True, validate=validate.Length(max=64))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    condition = fields.String(load_default="", validate=validate.Length(max=4000))
    active = fields.Boolean(load_default=True)
    sequence = fields.Integer(load_default=10, validate=validate.Range(min=0, max=100000))
    steps = BoundedList(fields.Nested(ApprovalStepSchema), max_items=20, required=True)


class ApprovalRuleOutSchema(ApprovalRuleSchema):
    """An approval rule as the API shows it."""

    steps = fields.List(fields.Nested(ApprovalStepOutSchema))


class ApprovalRulePatchSchema(Schema):
    """The body of ``PATCH /api/v1/approval-rules/<id>``: any of these fields (``steps`` replaces the chain)."""

    name = fields.String(validate=validate.Length(min=1, max=120))
    condition = fields.String(validate=validate.Length(max=4000))
    active = fields.Boolean()
    sequence = fields.Integer(validate=validate.Range(min=0, max=100000))
    steps = BoundedList(fields.Nested(ApprovalStepSchema), max_items=20)


class ApprovalRuleQuerySchema(Schema):
    """Filter approval rules by kind."""

    kind = fields.String(load_default=None, validate=validate.Length(max=64))


class ApprovalTaskSchema(Schema):
    """A step asked of its approvers for one request."""

    id = fields.Integer()
    rule = fields.String(attribute="rule_name")
    stage = fields.Integer()
    approver = fields.String(attribute="approver_type")
    approvers = fields.Function(lambda task: [a.user.username for a in task.assignees])
    approver_label = fields.String()
    amount_limit = MoneyField(allow_none=True)
    state = fields.String()
    decided_by = fields.Function(lambda task: _user_name(task.decided_by))
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String()


class ApprovalRequestSchema(Schema):
    """A record's request for approval, its state and its tasks."""

    id = fields.Integer()
    record = fields.String(metadata={"description": "kind:id"})
    title = fields.String()
    state = fields.String(metadata={"description": "pending, approved, rejected, recalled or none"})
    note = fields.String()
    values = fields.Dict(attribute="snapshot", metadata={"description": "The values of the fields the rules read."})
    requested_by = fields.Function(lambda request: _user_name(request.requested_by))
    requested_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    tasks = fields.List(fields.Nested(ApprovalTaskSchema))


class ApprovalRequestSummarySchema(Schema):
    """A request without its tasks."""

    id = fields.Integer()
    record = fields.String(metadata={"description": "kind:id"})
    title = fields.String()
    note = fields.String()
    values = fields.Dict(attribute="snapshot")
    requested_by = fields.Function(lambda request: _user_name(request.requested_by))
    requested_at = fields.DateTime()


class AwaitingApprovalSchema(ApprovalTaskSchema):
    """A task awaiting the caller's decision, with its request."""

    request = fields.Nested(ApprovalRequestSummarySchema)


class AwaitingQuerySchema(Schema):
    """``awaiting=1``: the tasks awaiting the caller's decision (the only listing there is)."""

    awaiting = fields.Boolean(load_default=True)


class ApprovalAskSchema(Schema):
    """The body of ``POST /api/v1/approvals/request``."""

    record = fields.String(required=True, metadata={"description": "kind:id, e.g. accounting.bill:5"})
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class ApproveBodySchema(Schema):
    """The body of an approval: an optional note."""

    note = fields.String(load_default="", validate=validate.Length(max=2000))


class RejectBodySchema(Schema):
    """The body of a rejection: the reason, required."""

    reason = fields.String(required=True, validate=validate.Length(max=2000))


class DelegateBodySchema(Schema):
    """The body of a delegation: the user who decides the task instead."""

    to_user = fields.String(required=True, validate=validate.Length(min=1, max=80),
                            metadata={"description": "The user name of the delegate."})


class BulkApproveSchema(Schema):
    """The body of a bulk approval: the tasks, all approved or none."""

    tasks = BoundedList(record_id_field(), max_items=200, required=True, validate=validate.Length(min=1))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class BulkResultSchema(Schema):
    """The tasks a bulk approval approved."""

    approved = fields.List(fields.Integer())
