"""crm: leads, their tags, web-to-lead throttle, import uploads

Revision ID: crm_0001
Revises:
Create Date: 2026-11-24 03:30:00
"""
from alembic import op
import sqlalchemy as sa

from core import UTCDateTime

revision = "crm_0001"
down_revision = None
branch_labels = ("crm",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "crm_lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=False),
        sa.Column("vat_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("disqualify_reason", sa.String(length=500), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("converted_at", UTCDateTime(), nullable=True),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("match_key", sa.String(length=200), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["core_user.id"], name=op.f("fk_crm_lead_owner_id_core_user")),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], name=op.f("fk_crm_lead_party_id_core_party")),
        sa.ForeignKeyConstraint(["merged_into_id"], ["crm_lead.id"], name=op.f("fk_crm_lead_merged_into_id_crm_lead")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_lead")),
    )
    for column in ("vat_id", "source", "status", "owner_id", "party_id", "campaign_id", "created_at", "email_key",
                   "match_key"):
        op.create_index(op.f(f"ix_crm_lead_{column}"), "crm_lead", [column], unique=False)
    op.create_index("ix_crm_lead_name_key_id", "crm_lead", ["name_key", "id"], unique=False)
    op.create_index("ix_crm_lead_owner_status", "crm_lead", ["owner_id", "status"], unique=False)

    op.create_table(
        "crm_lead_tag",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["crm_lead.id"], name=op.f("fk_crm_lead_tag_lead_id_crm_lead"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tag_id"], ["core_tag.id"], name=op.f("fk_crm_lead_tag_tag_id_core_tag"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lead_id", "tag_id", name=op.f("pk_crm_lead_tag")),
    )
    op.create_index(op.f("ix_crm_lead_tag_tag_id"), "crm_lead_tag", ["tag_id"], unique=False)

    op.create_table(
        "crm_web_lead_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_web_lead_submission")),
    )
    op.create_index("ix_crm_web_lead_submission_address_created", "crm_web_lead_submission",
                    ["address", "created_at"], unique=False)

    op.create_table(
        "crm_lead_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("mapping", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], name=op.f("fk_crm_lead_upload_user_id_core_user"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_lead_upload")),
        sa.UniqueConstraint("token", name=op.f("uq_crm_lead_upload_token")),
    )
    op.create_index(op.f("ix_crm_lead_upload_user_id"), "crm_lead_upload", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_crm_lead_upload_user_id"), table_name="crm_lead_upload")
    op.drop_table("crm_lead_upload")
    op.drop_index("ix_crm_web_lead_submission_address_created", table_name="crm_web_lead_submission")
    op.drop_table("crm_web_lead_submission")
    op.drop_index(op.f("ix_crm_lead_tag_tag_id"), table_name="crm_lead_tag")
    op.drop_table("crm_lead_tag")
    op.drop_index("ix_crm_lead_owner_status", table_name="crm_lead")
    op.drop_index("ix_crm_lead_name_key_id", table_name="crm_lead")
    for column in ("vat_id", "source", "status", "owner_id", "party_id", "campaign_id", "created_at", "email_key",
                   "match_key"):
        op.drop_index(op.f(f"ix_crm_lead_{column}"), table_name="crm_lead")
    op.drop_table("crm_lead")
