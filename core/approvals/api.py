"""JSON endpoints of approvals under /api/v1: ``/approvals`` (ask, decide, recall, read) and
``/approval-rules`` (the admin's rules). The same services as the pages.

A bulk approval (``POST /api/v1/approvals/tasks/approve``) is all or nothing: the first task that
may not be approved refuses the whole call with its own status, naming it as ``tasks.<n>``.
"""
from __future__ import annotations

from flask import Blueprint, request
from marshmallow import ValidationError
from sqlalchemy import select

from core.api.base import API_PREFIX, ApiError, documented, json_response, load_body, load_query
from core.approvals import chains, schemas, services
from core.approvals.registry import MANAGE
from core.attachments.services import parse_reference
from core.actor import current_actor
from core.auth.models import User
from core.db import session as db
from core.errors import InvalidInput
from core.i18n import gettext as _
from core.security import require, signed_in
from core.web.transaction import transaction

bp = Blueprint("api_approvals", __name__, url_prefix=API_PREFIX)

request_schema = schemas.ApprovalRequestSchema()
task_schema = schemas.ApprovalTaskSchema()
rule_schema = schemas.ApprovalRuleOutSchema()


def _body(schema) -> dict:
    """The JSON body loaded with ``schema``; no body at all is an empty object (its required fields
    are then named as missing)."""
    if not request.get_data():
        try:
            return schema.load({})
        except ValidationError as exc:
            raise ApiError(422, "Validation failed", "Some fields are invalid.", exc.messages) from None
    return load_body(schema)


@bp.get("/approvals")
@signed_in
@documented("List the approval tasks awaiting the caller's decision (awaiting=1)", query=schemas.AwaitingQuerySchema,
            response=schemas.AwaitingApprovalSchema, many=True)
def list_awaiting():
    load_query(schemas.AwaitingQuerySchema())
    tasks = services.awaiting(db, current_actor())
    return json_response({"items": schemas.AwaitingApprovalSchema(many=True).dump(tasks), "next": None})


@bp.get("/approvals/<int:request_id>")
@signed_in
@documented("Read an approval request and its tasks (needs the record's read permission)",
            response=schemas.ApprovalRequestSchema)
def get_request(request_id: int):
    approval, _record = services.get_request(db, request_id)
    return json_response(request_schema.dump(approval))


@bp.post("/approvals/request")
@signed_in
@documented("Ask for approval of a record (needs its kind's request permission); 200 with the request "
            "already pending, 201 with a new one, 200 with state none when no rule applies",
            body=schemas.ApprovalAskSchema, response=schemas.ApprovalRequestSchema, status=201)
def ask():
    data = _body(schemas.ApprovalAskSchema())
    kind, record_id = parse_reference(data["record"])
    with transaction():
        record = services.load_record(db, kind, record_id)
        before = services.latest_request(db, kind, record_id)
        approval = services.request_approval(db, kind, record, note=data["note"])
    if approval is None:
        return json_response({"record": data["record"], "state": "none"})
    return json_response(request_schema.dump(approval), 200 if approval is before else 201)


def _decided(task_id: int, schema, decide):
    task = services.get_task(db, task_id)  # a task of another company, or none: 404 before anything else
    data = _body(schema)
    with transaction():
        decide(data)
    return json_response(request_schema.dump(task.request))


@bp.post("/approvals/tasks/<int:task_id>/approve")
@signed_in
@documented("Approve a task (an approver of it, never the requester)", body=schemas.ApproveBodySchema,
            response=schemas.ApprovalRequestSchema)
def approve(task_id: int):
    return _decided(task_id, schemas.ApproveBodySchema(), lambda data: services.approve(db, task_id, data["note"]))


@bp.post("/approvals/tasks/<int:task_id>/reject")
@signed_in
@documented("Reject a task with a reason: the request is rejected", body=schemas.RejectBodySchema,
            response=schemas.ApprovalRequestSchema)
def reject(task_id: int):
    return _decided(task_id, schemas.RejectBodySchema(), lambda data: services.reject(db, task_id, data["reason"]))


def _delegate(task_id: int, data: dict):
    to_user = db.scalar(select(User).where(User.username == data["to_user"]))
    if to_user is None:
        raise InvalidInput(_("There is no such user."), field="to_user")
    services.delegate(db, task_id, to_user)


@bp.post("/approvals/tasks/<int:task_id>/delegate")
@signed_in
@documented("Hand a task over to another user, who decides it instead", body=schemas.DelegateBodySchema,
            response=schemas.ApprovalRequestSchema)
def delegate(task_id: int):
    return _decided(task_id, schemas.DelegateBodySchema(), lambda data: _delegate(task_id, data))


@bp.post("/approvals/tasks/approve")
@signed_in
@documented("Approve several tasks at once: all of them, or none (the first refusal names tasks.<n>)",
            body=schemas.BulkApproveSchema, response=schemas.BulkResultSchema)
def approve_many():
    data = _body(schemas.BulkApproveSchema())
    with transaction():
        approved = services.approve_many(db, data["tasks"], data["note"])
    return json_response({"approved": [task.id for task in approved]})


@bp.post("/approvals/<int:request_id>/recall")
@signed_in
@documented("Recall a pending request (only the one who asked)", response=schemas.ApprovalRequestSchema)
def recall(request_id: int):
    with transaction():
        approval = services.recall(db, request_id)
    return json_response(request_schema.dump(approval))


# -- the admin's rules --


@bp.get("/approval-rules")
@require(MANAGE)
@documented("List the approval rules of the current company", query=schemas.ApprovalRuleQuerySchema,
            response=schemas.ApprovalRuleOutSchema, many=True)
def list_rules():
    args = load_query(schemas.ApprovalRuleQuerySchema())
    return json_response({"items": rule_schema.dump(chains.list_rules(db, args["kind"]), many=True), "next": None})


@bp.post("/approval-rules")
@require(MANAGE)
@documented("Create an approval rule (its condition is compiled and type-checked)", body=schemas.ApprovalRuleSchema,
            response=schemas.ApprovalRuleOutSchema, status=201)
def create_rule():
    data = load_body(schemas.ApprovalRuleSchema())
    with transaction():
        rule = chains.save_rule(db, None, data)
    return json_response(rule_schema.dump(rule), 201)


@bp.get("/approval-rules/<int:rule_id>")
@require(MANAGE)
@documented("Read an approval rule", response=schemas.ApprovalRuleOutSchema)
def get_rule(rule_id: int):
    return json_response(rule_schema.dump(chains.get_rule(db, rule_id)))


@bp.patch("/approval-rules/<int:rule_id>")
@require(MANAGE)
@documented("Change an approval rule; steps replaces its chain", body=schemas.ApprovalRulePatchSchema,
            response=schemas.ApprovalRuleOutSchema)
def patch_rule(rule_id: int):
    rule = chains.get_rule(db, rule_id)
    data = load_body(schemas.ApprovalRulePatchSchema(), partial=True)
    current = rule_schema.dump(rule)
    merged = {"kind": rule.kind, "name": rule.name, "condition": rule.condition, "active": rule.active,
              "sequence": rule.sequence, "steps": current["steps"], **data}
    with transaction():
        chains.save_rule(db, rule, merged)
    return json_response(rule_schema.dump(rule))


@bp.delete("/approval-rules/<int:rule_id>")
@require(MANAGE)
@documented("Deactivate an approval rule (kept for the requests that named it)", status=204)
def deactivate_rule(rule_id: int):
    rule = chains.get_rule(db, rule_id)
    with transaction():
        chains.set_active(db, rule, False)
    return "", 204
