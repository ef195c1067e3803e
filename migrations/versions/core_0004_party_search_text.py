"""Parties keep their searchable text in one column

A search then reads one column per row instead of four.

Revision ID: core_0004
Revises: core_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("core_party") as batch:
        batch.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
    party = sa.table("core_party", sa.column("id"), sa.column("name"), sa.column("email"), sa.column("vat_id"),
                     sa.column("city"), sa.column("search_text"))
    conn = op.get_bind()
    rows = conn.execute(sa.select(party.c.id, party.c.name, party.c.email, party.c.vat_id, party.c.city)).all()
    if rows:  # casefolded in Python: SQL's lower() leaves most non-ASCII letters alone
        conn.execute(
            party.update().where(party.c.id == sa.bindparam("pk")).values(search_text=sa.bindparam("text")),
            [{"pk": r.id, "text": " ".join(p for p in (r.name, r.email, r.vat_id, r.city) if p).casefold()}
             for r in rows],
        )


def downgrade() -> None:
    with op.batch_alter_table("core_party") as batch:
        batch.drop_column("search_text")
