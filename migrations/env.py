"""Alembic environment shared by the core and every module branch.

Kontor drives Alembic from code (see ``core.modules.migrate``): the connection arrives in the
config's attributes, already inside the caller's transaction, so a failed step rolls back with
everything else the install or upgrade did.
"""
from alembic import context

import core.models  # noqa: F401  (the core's tables on the shared metadata)
from core.db import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
