"""everyhook things

Revision ID: everyhook_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "everyhook_0001"
down_revision = None
branch_labels = ("everyhook",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "everyhook_thing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], name=op.f("fk_everyhook_thing_party_id_core_party")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_everyhook_thing")),
    )
    op.create_index(op.f("ix_everyhook_thing_party_id"), "everyhook_thing", ["party_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_everyhook_thing_party_id"), table_name="everyhook_thing")
    op.drop_table("everyhook_thing")
