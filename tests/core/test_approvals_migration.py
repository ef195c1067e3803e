"""The core's approvals revision (core_0013): the tables the models describe, and a way back."""
from __future__ import annotations

from sqlalchemy import inspect, text

from core.modules.migrate import downgrade, upgrade


def test_the_migration_makes_the_tables_the_models_describe(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.db import Base

    def ours(obj, name, type_, *_):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        table_name = table.name if table is not None else name
        return table_name.startswith("core_approval_") or table_name == "core_user"

    context = MigrationContext.configure(db.connection(), opts={"include_object": ours, "compare_type": True})
    assert compare_metadata(context, Base.metadata) == []


def test_the_migration_goes_down_and_up_again_keeping_the_users(db):
    connection = db.connection()
    connection.execute(text("INSERT INTO core_user (username, full_name, email, password_hash, active, locale, "
                            "session_nonce, created_at) VALUES ('anna', 'Anna', '', 'x', true, '', 'n', "
                            "'2026-12-07 10:00:00.000000')"))
    downgrade(connection, "core@core_0012")
    found = inspect(connection)
    assert not [t for t in found.get_table_names() if t.startswith("core_approval_")]
    assert "manager_id" not in {c["name"] for c in found.get_columns("core_user")}
    upgrade(connection, "core@head")
    found = inspect(connection)
    assert {"core_approval_rule", "core_approval_step", "core_approval_request", "core_approval_task",
            "core_approval_assignee", "core_approval_away"} <= set(found.get_table_names())
    assert connection.execute(text("SELECT manager_id FROM core_user WHERE username = 'anna'")).all() == [(None,)]
    db.rollback()
