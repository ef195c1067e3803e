"""Several companies: bank details, a logo, a default, who works where, per-company settings

The one company row becomes the default company; every user works in it and has it as their
current company. Settings gain a company (0: the whole group), so a module may keep a value per
company; existing values stay the group's.

Revision ID: core_0007
Revises: core_0006
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0007"
down_revision = "core_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core_company") as batch:
        batch.add_column(sa.Column("bank_name", sa.String(length=100), nullable=False, server_default=""))
        batch.add_column(sa.Column("iban", sa.String(length=34), nullable=False, server_default=""))
        batch.add_column(sa.Column("bic", sa.String(length=11), nullable=False, server_default=""))
        batch.add_column(sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("party_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("logo", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("logo_type", sa.String(length=20), nullable=False, server_default=""))
        batch.create_foreign_key(op.f("fk_core_company_party_id_core_party"), "core_party", ["party_id"], ["id"])
        batch.create_unique_constraint(op.f("uq_core_company_party_id"), ["party_id"])
    op.execute("UPDATE core_company SET is_default = (id = (SELECT MIN(id) FROM core_company))")
    if op.get_bind().dialect.name == "postgresql":  # the first company was written with an explicit id
        # (on an empty table the next id stays 1: is_called is false then)
        op.execute("SELECT setval(pg_get_serial_sequence('core_company', 'id'), "
                   "COALESCE((SELECT MAX(id) FROM core_company), 1), "
                   "(SELECT MAX(id) FROM core_company) IS NOT NULL)")

    op.create_table(
        "core_company_user",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"], ondelete="CASCADE",
                                name=op.f("fk_core_company_user_company_id_core_company")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_company_user_user_id_core_user")),
        sa.PrimaryKeyConstraint("company_id", "user_id", name=op.f("pk_core_company_user")),
    )
    op.create_index(op.f("ix_core_company_user_user_id"), "core_company_user", ["user_id"])
    op.create_table(
        "core_company_user_role",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"], ondelete="CASCADE",
                                name=op.f("fk_core_company_user_role_company_id_core_company")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="CASCADE",
                                name=op.f("fk_core_company_user_role_user_id_core_user")),
        sa.ForeignKeyConstraint(["role_id"], ["core_role.id"], ondelete="CASCADE",
                                name=op.f("fk_core_company_user_role_role_id_core_role")),
        sa.PrimaryKeyConstraint("company_id", "user_id", "role_id", name=op.f("pk_core_company_user_role")),
    )
    op.create_index(op.f("ix_core_company_user_role_user_id"), "core_company_user_role", ["user_id"])
    op.create_table(
        "core_party_company",
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], ondelete="CASCADE",
                                name=op.f("fk_core_party_company_party_id_core_party")),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"], ondelete="CASCADE",
                                name=op.f("fk_core_party_company_company_id_core_company")),
        sa.PrimaryKeyConstraint("party_id", "company_id", name=op.f("pk_core_party_company")),
    )
    op.create_index(op.f("ix_core_party_company_company_id"), "core_party_company", ["company_id"])

    with op.batch_alter_table("core_user") as batch:
        batch.add_column(sa.Column("current_company_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_core_user_current_company_id_core_company"), "core_company",
                                 ["current_company_id"], ["id"], ondelete="SET NULL")
    op.execute("INSERT INTO core_company_user (company_id, user_id) "
               "SELECT c.id, u.id FROM core_company c CROSS JOIN core_user u WHERE c.is_default")
    op.execute("UPDATE core_user SET current_company_id = (SELECT id FROM core_company WHERE is_default)")

    # the audit log is append-only (triggers refuse changes): a plain ADD COLUMN, never a rebuild
    op.add_column("core_audit", sa.Column("company_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_core_audit_company_id"), "core_audit", ["company_id"])

    with op.batch_alter_table("core_setting", recreate="always") as batch:
        batch.add_column(sa.Column("company_id", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint(op.f("pk_core_setting"), type_="primary")
        batch.create_primary_key(op.f("pk_core_setting"), ["key", "company_id"])


def downgrade() -> None:
    op.execute("DELETE FROM core_setting WHERE company_id <> 0")
    with op.batch_alter_table("core_setting", recreate="always") as batch:
        batch.drop_constraint(op.f("pk_core_setting"), type_="primary")
        batch.drop_column("company_id")
        batch.create_primary_key(op.f("pk_core_setting"), ["key"])
    with op.batch_alter_table("core_user") as batch:
        batch.drop_constraint(op.f("fk_core_user_current_company_id_core_company"), type_="foreignkey")
        batch.drop_column("current_company_id")
    op.drop_index(op.f("ix_core_audit_company_id"), table_name="core_audit")
    op.execute("ALTER TABLE core_audit DROP COLUMN company_id")  # no rebuild of the append-only log
    op.drop_table("core_party_company")
    op.drop_table("core_company_user_role")
    op.drop_table("core_company_user")
    with op.batch_alter_table("core_company") as batch:
        batch.drop_constraint(op.f("uq_core_company_party_id"), type_="unique")
        batch.drop_constraint(op.f("fk_core_company_party_id_core_party"), type_="foreignkey")
        for column in ("logo_type", "logo", "party_id", "active", "is_default", "bic", "iban", "bank_name"):
            batch.drop_column(column)
