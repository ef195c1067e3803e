"""The audit chain's head only moves forward: it cannot be rewound or deleted

A rewound head would let someone cut records off the end of the log unnoticed.

Revision ID: core_0003
Revises: core_0002
"""
from alembic import op

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None

MESSAGE = "the audit chain head only moves forward"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER core_audit_head_forward BEFORE UPDATE ON core_audit_head FOR EACH ROW "
            f"WHEN NEW.seq < OLD.seq OR NEW.id <> OLD.id BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        op.execute(
            "CREATE TRIGGER core_audit_head_kept BEFORE DELETE ON core_audit_head FOR EACH ROW "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
        )
        return
    op.execute(
        "CREATE FUNCTION core_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'DELETE' OR NEW.seq < OLD.seq OR NEW.id <> OLD.id THEN "
        f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation'; END IF; "
        "RETURN NEW; END $$"
    )
    op.execute(
        "CREATE TRIGGER core_audit_head_forward BEFORE UPDATE OR DELETE ON core_audit_head "
        "FOR EACH ROW EXECUTE FUNCTION core_audit_head_forward()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS core_audit_head_forward")
        op.execute("DROP TRIGGER IF EXISTS core_audit_head_kept")
        return
    op.execute("DROP TRIGGER IF EXISTS core_audit_head_forward ON core_audit_head")
    op.execute("DROP FUNCTION IF EXISTS core_audit_head_forward()")
