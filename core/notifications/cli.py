"""``kontor notifications digest``: send the daily digests now (as the schedule does each morning)."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from core.db import session as db
from core.notifications.services import send_digests
from core.web.transaction import transaction


@click.group("notifications")
def notifications_group():
    """Notifications: send the daily digests."""


@notifications_group.command("digest")
@with_appcontext
def digest_command():
    """Mail each user their digest of notifications not yet sent in one (a second run sends nothing)."""
    with transaction():
        sent = send_digests(db)
    click.echo(f"Digests sent: {sent}")
