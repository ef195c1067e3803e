"""crm: service tickets, SLA policies, segments, campaigns and opt-outs

Revision ID: crm_0003
Revises: crm_0002
Create Date: 2026-11-24 03:20:00
"""
import sqlalchemy as sa
from alembic import op

from core import UTCDateTime

revision = "crm_0003"
down_revision = "crm_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("response_hours", sa.Integer(), nullable=False),
        sa.Column("resolution_hours", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_sla_policy")),
        sa.UniqueConstraint("priority", name=op.f("uq_crm_sla_policy_priority")),
    )
    op.create_table(
        "crm_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=True),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("response_due", UTCDateTime(), nullable=True),
        sa.Column("resolution_due", UTCDateTime(), nullable=True),
        sa.Column("response_warn_at", UTCDateTime(), nullable=True),
        sa.Column("resolution_warn_at", UTCDateTime(), nullable=True),
        sa.Column("first_response_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], name=op.f("fk_crm_ticket_party_id_core_party")),
        sa.ForeignKeyConstraint(["contact_id"], ["core_party.id"], name=op.f("fk_crm_ticket_contact_id_core_party")),
        sa.ForeignKeyConstraint(["assignee_id"], ["core_user.id"], name=op.f("fk_crm_ticket_assignee_id_core_user")),
        sa.ForeignKeyConstraint(["created_by_id"], ["core_user.id"],
                                name=op.f("fk_crm_ticket_created_by_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_ticket")),
        sa.UniqueConstraint("number", name=op.f("uq_crm_ticket_number")),
    )
    for column in ("party_id", "contact_id", "priority", "status", "assignee_id", "created_at", "response_due",
                   "resolution_due"):
        op.create_index(op.f(f"ix_crm_ticket_{column}"), "crm_ticket", [column], unique=False)
    op.create_index("ix_crm_ticket_status_created", "crm_ticket", ["status", "created_at", "id"], unique=False)
    op.create_table(
        "crm_ticket_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("emailed_to", sa.String(length=254), nullable=False),
        sa.Column("email_error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["crm_ticket.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_ticket_message_ticket_id_crm_ticket")),
        sa.ForeignKeyConstraint(["author_id"], ["core_user.id"],
                                name=op.f("fk_crm_ticket_message_author_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_ticket_message")),
    )
    op.create_index(op.f("ix_crm_ticket_message_ticket_id"), "crm_ticket_message", ["ticket_id"], unique=False)
    op.create_table(
        "crm_segment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("include_parties", sa.Boolean(), nullable=False),
        sa.Column("include_leads", sa.Boolean(), nullable=False),
        sa.Column("tags", sa.String(length=500), nullable=False),
        sa.Column("countries", sa.String(length=200), nullable=False),
        sa.Column("party_kind", sa.String(length=10), nullable=False),
        sa.Column("lead_statuses", sa.String(length=200), nullable=False),
        sa.Column("lead_sources", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_segment")),
        sa.UniqueConstraint("name", name=op.f("uq_crm_segment_name")),
    )
    op.create_table(
        "crm_campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("segment_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["segment_id"], ["crm_segment.id"],
                                name=op.f("fk_crm_campaign_segment_id_crm_segment")),
        sa.ForeignKeyConstraint(["created_by_id"], ["core_user.id"],
                                name=op.f("fk_crm_campaign_created_by_id_core_user")),
        sa.ForeignKeyConstraint(["sent_by_id"], ["core_user.id"], name=op.f("fk_crm_campaign_sent_by_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_campaign")),
    )
    op.create_index(op.f("ix_crm_campaign_segment_id"), "crm_campaign", ["segment_id"], unique=False)
    op.create_index(op.f("ix_crm_campaign_status"), "crm_campaign", ["status"], unique=False)
    op.create_index(op.f("ix_crm_campaign_created_at"), "crm_campaign", ["created_at"], unique=False)
    op.create_table(
        "crm_campaign_recipient",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["crm_campaign.id"], ondelete="CASCADE",
                                name=op.f("fk_crm_campaign_recipient_campaign_id_crm_campaign")),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"],
                                name=op.f("fk_crm_campaign_recipient_party_id_core_party")),
        sa.ForeignKeyConstraint(["lead_id"], ["crm_lead.id"], ondelete="SET NULL",
                                name=op.f("fk_crm_campaign_recipient_lead_id_crm_lead")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_campaign_recipient")),
        sa.UniqueConstraint("campaign_id", "email_key", name=op.f("uq_crm_campaign_recipient_campaign_id")),
    )
    op.create_index(op.f("ix_crm_campaign_recipient_party_id"), "crm_campaign_recipient", ["party_id"], unique=False)
    op.create_index(op.f("ix_crm_campaign_recipient_lead_id"), "crm_campaign_recipient", ["lead_id"], unique=False)
    op.create_index("ix_crm_campaign_recipient_campaign_status", "crm_campaign_recipient",
                    ["campaign_id", "status", "id"], unique=False)
    op.create_table(
        "crm_opt_out",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_key", sa.String(length=254), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["crm_campaign.id"], ondelete="SET NULL",
                                name=op.f("fk_crm_opt_out_campaign_id_crm_campaign")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_opt_out")),
        sa.UniqueConstraint("email_key", name=op.f("uq_crm_opt_out_email_key")),
    )
    # leads and opportunities attributed to a campaign (their columns exist since crm_0001/crm_0002)
    with op.batch_alter_table("crm_lead") as batch:
        batch.create_foreign_key(op.f("fk_crm_lead_campaign_id_crm_campaign"), "crm_campaign", ["campaign_id"],
                                 ["id"], ondelete="SET NULL")
    with op.batch_alter_table("crm_opportunity") as batch:
        batch.create_foreign_key(op.f("fk_crm_opportunity_campaign_id_crm_campaign"), "crm_campaign",
                                 ["campaign_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("crm_opportunity") as batch:
        batch.drop_constraint(op.f("fk_crm_opportunity_campaign_id_crm_campaign"), type_="foreignkey")
    with op.batch_alter_table("crm_lead") as batch:
        batch.drop_constraint(op.f("fk_crm_lead_campaign_id_crm_campaign"), type_="foreignkey")
    op.drop_table("crm_opt_out")
    op.drop_index("ix_crm_campaign_recipient_campaign_status", table_name="crm_campaign_recipient")
    op.drop_index(op.f("ix_crm_campaign_recipient_lead_id"), table_name="crm_campaign_recipient")
    op.drop_index(op.f("ix_crm_campaign_recipient_party_id"), table_name="crm_campaign_recipient")
    op.drop_table("crm_campaign_recipient")
    op.drop_index(op.f("ix_crm_campaign_created_at"), table_name="crm_campaign")
    op.drop_index(op.f("ix_crm_campaign_status"), table_name="crm_campaign")
    op.drop_index(op.f("ix_crm_campaign_segment_id"), table_name="crm_campaign")
    op.drop_table("crm_campaign")
    op.drop_table("crm_segment")
    op.drop_index(op.f("ix_crm_ticket_message_ticket_id"), table_name="crm_ticket_message")
    op.drop_table("crm_ticket_message")
    op.drop_index("ix_crm_ticket_status_created", table_name="crm_ticket")
    for column in ("party_id", "contact_id", "priority", "status", "assignee_id", "created_at", "response_due",
                   "resolution_due"):
        op.drop_index(op.f(f"ix_crm_ticket_{column}"), table_name="crm_ticket")
    op.drop_table("crm_ticket")
    op.drop_table("crm_sla_policy")
