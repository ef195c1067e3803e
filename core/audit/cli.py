"""``kontor audit verify``: recompute the audit log's hash chain and report the first broken link."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from core.audit import services
from core.cli import fail
from core.db import reading_transactions
from core.db import session as db

#: From this many records on, verify shows a progress bar.
PROGRESS_FROM = 20000


@click.group("audit")
def audit_group():
    """Check the audit log."""


@audit_group.command("verify")
@with_appcontext
def verify_command():
    """Verify the hash chain; exit non-zero and name the first broken link if it is broken."""
    with reading_transactions():
        total = services.chain_length(db)
        if total >= PROGRESS_FROM:
            with click.progressbar(length=total, label="Verifying", file=sys.stderr) as bar:
                result = services.verify_chain(db, progress=bar.update)
        else:
            result = services.verify_chain(db)
        db.rollback()
    if not result.intact:
        fail(result.describe())
    click.echo(result.describe())
