"""``kontor approvals``: list requests and tasks, approve or reject a task (as ``kontor --as USER``)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from core.actor import current_actor
from core.approvals import services
from core.approvals.models import ApprovalRequest
from core.approvals.registry import MANAGE
from core.auth.services import find_user
from core.db import session as db
from core.errors import Forbidden, KontorError
from core.i18n import gettext as _
from core.security import has_permission
from core.web.transaction import cli_refusal, transaction


@click.group("approvals")
def approvals_group():
    """List approval requests and tasks; approve or reject a task."""


def _may_see_all() -> bool:
    return current_actor() is None or has_permission(MANAGE)  # the system, or an approvals admin


@approvals_group.command("list")
@click.option("--awaiting", "username", default=None, metavar="USER",
              help="The tasks awaiting USER's decision (task id, record, title, approvers' step).")
@with_appcontext
def list_command(username):
    """The pending requests of the company (id, record, title, requester), or the tasks awaiting USER."""
    try:
        if username is not None:
            user = find_user(db, username)
            actor = current_actor()
            if not _may_see_all() and actor.id != user.id:
                raise Forbidden(_("You may list only the approvals awaiting you."))
            for task in services.awaiting(db, user):
                click.echo("\t".join([str(task.id), task.request.record, task.request.title, task.rule_name,
                                      task.approver_label]))
            return
        if not _may_see_all():
            raise Forbidden(_("Listing every request needs the permission to manage approvals."))
    except KontorError as exc:
        cli_refusal(exc)
    requests = db.scalars(select(ApprovalRequest).where(ApprovalRequest.state == "pending")
                          .order_by(ApprovalRequest.id))
    for approval in requests:
        who = approval.requested_by.username if approval.requested_by else ""
        click.echo("\t".join([str(approval.id), approval.record, approval.title, who]))


@approvals_group.command("approve")
@click.argument("task_id", type=int)
@click.option("--note", default="", help="A note kept with the decision.")
@with_appcontext
def approve_command(task_id, note):
    """Approve a task, as the user of ``kontor --as USER``."""
    with transaction():
        task = services.approve(db, task_id, note)
    click.echo(f"Task {task.id}: {task.state}; request {task.request.id}: {task.request.state}")


@approvals_group.command("reject")
@click.argument("task_id", type=int)
@click.option("--reason", default="", help="Why (required).")
@with_appcontext
def reject_command(task_id, reason):
    """Reject a task with a reason, as the user of ``kontor --as USER``."""
    with transaction():
        task = services.reject(db, task_id, reason)
    click.echo(f"Task {task.id}: {task.state}; request {task.request.id}: {task.request.state}")
