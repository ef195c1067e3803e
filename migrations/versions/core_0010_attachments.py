"""Attachments: the files of records, kept in the storage service (core_attachment)

Revision ID: core_0010
Revises: core_0009
"""
import sqlalchemy as sa
from alembic import op

from core.orm import UTCDateTime

revision = "core_0010"
down_revision = "core_0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "core_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("record_kind", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=120), nullable=False),
        sa.Column("size", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"],
                                name=op.f("fk_core_attachment_company_id_core_company")),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["core_user.id"], ondelete="SET NULL",
                                name=op.f("fk_core_attachment_uploaded_by_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_attachment")),
        sa.UniqueConstraint("key", name=op.f("uq_core_attachment_key")),
    )
    op.create_index(op.f("ix_core_attachment_company_id"), "core_attachment", ["company_id"])
    op.create_index("ix_core_attachment_record", "core_attachment", ["record_kind", "record_id"])


def downgrade() -> None:
    op.drop_table("core_attachment")
