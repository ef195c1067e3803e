"""The Alembic environment every module's branch runs in, and the core's own revisions."""
