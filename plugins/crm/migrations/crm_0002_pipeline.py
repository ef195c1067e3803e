"""crm: pipeline stages, opportunities, activities and the timeline

Revision ID: crm_0002
Revises: crm_0001
Create Date: 2026-11-24 03:20:00
"""
from alembic import op
import sqlalchemy as sa

from core import Money, UTCDateTime

revision = "crm_0002"
down_revision = "crm_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_stage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("is_won", sa.Boolean(), nullable=False),
        sa.Column("is_lost", sa.Boolean(), nullable=False),
        sa.Column("fold", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint("probability >= 0 AND probability <= 100", name=op.f("ck_crm_stage_probability_range")),
        sa.CheckConstraint("NOT (is_won AND is_lost)", name=op.f("ck_crm_stage_won_or_lost")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_stage")),
    )
    op.create_index(op.f("ix_crm_stage_sequence"), "crm_stage", ["sequence"], unique=False)

    op.create_table(
        "crm_opportunity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("expected_revenue", Money(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("lost_reason", sa.String(length=200), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("probability >= 0 AND probability <= 100",
                           name=op.f("ck_crm_opportunity_probability_range")),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], name=op.f("fk_crm_opportunity_party_id_core_party")),
        sa.ForeignKeyConstraint(["owner_id"], ["core_user.id"], name=op.f("fk_crm_opportunity_owner_id_core_user")),
        sa.ForeignKeyConstraint(["stage_id"], ["crm_stage.id"], name=op.f("fk_crm_opportunity_stage_id_crm_stage")),
        sa.ForeignKeyConstraint(["lead_id"], ["crm_lead.id"], name=op.f("fk_crm_opportunity_lead_id_crm_lead")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_opportunity")),
    )
    for column in ("party_id", "expected_close", "owner_id", "lead_id", "campaign_id", "created_at", "closed_at"):
        op.create_index(op.f(f"ix_crm_opportunity_{column}"), "crm_opportunity", [column], unique=False)
    op.create_index("ix_crm_opportunity_stage_board", "crm_opportunity", ["stage_id", "id"])
    op.create_index("ix_crm_opportunity_owner_stage", "crm_opportunity", ["owner_id", "stage_id"])

    op.create_table(
        "crm_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["assignee_id"], ["core_user.id"], name=op.f("fk_crm_activity_assignee_id_core_user")),
        sa.ForeignKeyConstraint(["created_by_id"], ["core_user.id"],
                                name=op.f("fk_crm_activity_created_by_id_core_user")),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], name=op.f("fk_crm_activity_party_id_core_party")),
        sa.ForeignKeyConstraint(["lead_id"], ["crm_lead.id"], name=op.f("fk_crm_activity_lead_id_crm_lead")),
        sa.ForeignKeyConstraint(["opportunity_id"], ["crm_opportunity.id"],
                                name=op.f("fk_crm_activity_opportunity_id_crm_opportunity")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_activity")),
    )
    op.create_index(op.f("ix_crm_activity_lead_id"), "crm_activity", ["lead_id"], unique=False)
    op.create_index(op.f("ix_crm_activity_opportunity_id"), "crm_activity", ["opportunity_id"], unique=False)
    op.create_index("ix_crm_activity_assignee_open", "crm_activity", ["assignee_id", "done", "due_at"])
    op.create_index("ix_crm_activity_party_created", "crm_activity", ["party_id", "created_at"])

    op.create_table(
        "crm_timeline_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("title_args", sa.JSON(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["party_id"], ["core_party.id"], name=op.f("fk_crm_timeline_event_party_id_core_party")),
        sa.ForeignKeyConstraint(["lead_id"], ["crm_lead.id"], name=op.f("fk_crm_timeline_event_lead_id_crm_lead")),
        sa.ForeignKeyConstraint(["opportunity_id"], ["crm_opportunity.id"],
                                name=op.f("fk_crm_timeline_event_opportunity_id_crm_opportunity")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], name=op.f("fk_crm_timeline_event_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_timeline_event")),
    )
    for column in ("lead_id", "opportunity_id", "ticket_id", "campaign_id", "created_at"):
        op.create_index(op.f(f"ix_crm_timeline_event_{column}"), "crm_timeline_event", [column], unique=False)
    op.create_index("ix_crm_timeline_event_party_created", "crm_timeline_event", ["party_id", "created_at"])


def downgrade() -> None:
    op.drop_table("crm_timeline_event")
    op.drop_table("crm_activity")
    op.drop_table("crm_opportunity")
    op.drop_table("crm_stage")
