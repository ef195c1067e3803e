"""crm: leads, pipelines, tickets and campaigns per company

Every per-company table of the CRM gains ``company_id`` (the company the row belongs to): the
pipeline's stages and opportunities, leads and their import uploads, activities, timeline events,
service level policies and tickets, segments and campaigns. The rows of an existing instance belong
to its one company, the default company (id 1 on an instance from before companies).

Shared by the group, without a company: the addresses that opted out (an unsubscribe holds for
every company), the web-to-lead throttle (per client address), and the children reached through
their parent (a ticket's messages, a campaign's recipients, a lead's tags).

A timeline event belongs to a company even when it is only about a customer: it tells of that
company's tickets, deals and campaigns.

Names and numbers that were unique in the instance (an SLA policy's priority, a ticket's number, a
segment's name, an upload's token) become unique per company.

The downgrade keeps the default company's rows and removes the other companies' (a purge archived
them first).

Revision ID: crm_0004
Revises: crm_0003
Create Date: 2026-12-07 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "crm_0004"
down_revision = "crm_0003"
branch_labels = None
depends_on = "core_0007"


#: table → its unique constraints that become per company (column lists, without company_id)
UNIQUES: dict[str, list[tuple[str, ...]]] = {
    "crm_stage": [],
    "crm_lead": [],
    "crm_lead_upload": [("token",)],
    "crm_opportunity": [],
    "crm_activity": [],
    "crm_timeline_event": [],
    "crm_sla_policy": [("priority",)],
    "crm_ticket": [("number",)],
    "crm_segment": [("name",)],
    "crm_campaign": [],
}
TABLES = tuple(UNIQUES)


def _default_company() -> int:
    """The id of the default company (the one company of an instance that existed before companies)."""
    found = op.get_bind().execute(sa.text(
        "SELECT id FROM core_company ORDER BY is_default DESC, id LIMIT 1")).scalar()
    return int(found) if found is not None else 1


def _uq(table: str, columns: tuple[str, ...]) -> str:
    return f"uq_{table}_{'_'.join(columns)}"


def _defer_foreign_keys() -> None:
    """On SQLite, check foreign keys at commit: a batch rebuild drops and recreates a table that
    other tables reference (the pragma ends with the transaction)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


def upgrade() -> None:
    _defer_foreign_keys()
    default = _default_company()
    for table, uniques in UNIQUES.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("company_id", sa.Integer(), nullable=False,
                                       server_default=str(default)))
            batch.create_foreign_key(op.f(f"fk_{table}_company_id_core_company"), "core_company",
                                     ["company_id"], ["id"])
            batch.create_index(op.f(f"ix_{table}_company_id"), ["company_id"])
            for columns in uniques:
                batch.drop_constraint(op.f(_uq(table, columns)), type_="unique")
                batch.create_unique_constraint(op.f(_uq(table, ("company_id", *columns))), ["company_id", *columns])
    # every existing row now belongs to the default company; a new row names its company
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("company_id", existing_type=sa.Integer(), existing_nullable=False, server_default=None)


def _delete_other_companies(default: int) -> None:
    """Remove the rows of every company but the default one, children first."""
    other = f"company_id <> {default}"
    leads = f"(SELECT id FROM crm_lead WHERE {other})"
    opportunities = f"(SELECT id FROM crm_opportunity WHERE {other})"
    campaigns = f"(SELECT id FROM crm_campaign WHERE {other})"
    statements = [
        f"DELETE FROM crm_ticket_message WHERE ticket_id IN (SELECT id FROM crm_ticket WHERE {other})",
        f"DELETE FROM crm_campaign_recipient WHERE campaign_id IN {campaigns}",
        f"UPDATE crm_campaign_recipient SET lead_id = NULL WHERE lead_id IN {leads}",
        f"UPDATE crm_opt_out SET campaign_id = NULL WHERE campaign_id IN {campaigns}",
        f"DELETE FROM crm_timeline_event WHERE {other} OR lead_id IN {leads} OR opportunity_id IN {opportunities}",
        f"DELETE FROM crm_activity WHERE {other} OR lead_id IN {leads} OR opportunity_id IN {opportunities}",
        f"DELETE FROM crm_opportunity WHERE {other}",
        f"DELETE FROM crm_lead_tag WHERE lead_id IN {leads}",
        f"UPDATE crm_lead SET merged_into_id = NULL WHERE merged_into_id IN {leads}",
        f"DELETE FROM crm_lead WHERE {other}",
        f"DELETE FROM crm_lead_upload WHERE {other}",
        f"DELETE FROM crm_ticket WHERE {other}",
        f"DELETE FROM crm_campaign WHERE {other}",
        f"DELETE FROM crm_segment WHERE {other}",
        f"DELETE FROM crm_sla_policy WHERE {other}",
        f"DELETE FROM crm_stage WHERE {other}",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    _defer_foreign_keys()
    bind = op.get_bind()
    default = _default_company()
    if any(bind.execute(sa.text(f"SELECT 1 FROM {table} WHERE company_id <> {default}")).first()
           for table in TABLES):
        _delete_other_companies(default)
    for table, uniques in reversed(list(UNIQUES.items())):
        with op.batch_alter_table(table) as batch:
            for columns in uniques:
                batch.drop_constraint(op.f(_uq(table, ("company_id", *columns))), type_="unique")
                batch.create_unique_constraint(op.f(_uq(table, columns)), list(columns))
            batch.drop_index(op.f(f"ix_{table}_company_id"))
            batch.drop_constraint(op.f(f"fk_{table}_company_id_core_company"), type_="foreignkey")
            batch.drop_column("company_id")
