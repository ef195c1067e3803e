"""DDL that migrations share: triggers that make rows immutable on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic import op


def create_immutable_trigger(table: str, *, when: str | None = None, message: str | None = None) -> None:
    """Refuse UPDATE and DELETE of rows of ``table`` (those matching ``when``, about ``OLD``).

    ``when`` is an SQL condition over ``OLD`` valid on both backends, e.g. ``"OLD.state = 'posted'"``.
    """
    message = (message or f"{table} rows are immutable").replace("'", "''")
    name = f"{table}_immutable"
    if op.get_bind().dialect.name == "sqlite":
        condition = f" WHEN {when}" if when else ""
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {name}_{verb.lower()} BEFORE {verb} ON {table} FOR EACH ROW{condition} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        return
    test = f"IF {when} THEN " if when else ""
    end = " END IF;" if when else ""
    op.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{test}RAISE EXCEPTION '{message}' USING ERRCODE = 'integrity_constraint_violation';{end} "
        f"IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END $$"
    )
    op.execute(f"CREATE TRIGGER {name} BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()")


def drop_immutable_trigger(table: str) -> None:
    """Remove what :func:`create_immutable_trigger` created."""
    name = f"{table}_immutable"
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {name}_update")
        op.execute(f"DROP TRIGGER IF EXISTS {name}_delete")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {name}()")
