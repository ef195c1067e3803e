"""Outgoing mail in the core: the mail log (core_mail, core_mail_attachment) and the SMTP settings
moved from the CRM's keys (crm.smtp_*) to the core's (core.mail.*)

Revision ID: core_0009
Revises: core_0008
"""
from email.utils import formataddr, parseaddr

import sqlalchemy as sa
from alembic import op

from core.orm import UTCDateTime

revision = "core_0009"
down_revision = "core_0008"
branch_labels = None
depends_on = None

#: The CRM's keys and the core's that take their values over (the sender is split in two).
MOVED = {
    "crm.smtp_host": "core.mail.smtp_host",
    "crm.smtp_port": "core.mail.smtp_port",
    "crm.smtp_security": "core.mail.smtp_security",
    "crm.smtp_username": "core.mail.smtp_username",
    "crm.smtp_password": "core.mail.smtp_password",
    "crm.campaign_batch_size": "core.mail.batch_size",
    "crm.site_url": "core.mail.site_url",
}
SENDER = "crm.smtp_sender"
SENDER_NAME, SENDER_ADDRESS = "core.mail.sender_name", "core.mail.sender_address"

settings = sa.table("core_setting", sa.column("key", sa.String), sa.column("company_id", sa.Integer),
                    sa.column("value", sa.Text), sa.column("secret", sa.Boolean))


def upgrade() -> None:
    op.create_table(
        "core_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("to_name", sa.String(length=200), nullable=False),
        sa.Column("sender", sa.String(length=300), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("record", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["core_company.id"], name=op.f("fk_core_mail_company_id_core_company")),
        sa.ForeignKeyConstraint(["user_id"], ["core_user.id"], ondelete="SET NULL",
                                name=op.f("fk_core_mail_user_id_core_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_mail")),
    )
    op.create_index(op.f("ix_core_mail_company_id"), "core_mail", ["company_id"])
    op.create_index("ix_core_mail_record", "core_mail", ["record"])
    op.create_index("ix_core_mail_status_id", "core_mail", ["status", "id"])
    op.create_table(
        "core_mail_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["mail_id"], ["core_mail.id"], ondelete="CASCADE",
                                name=op.f("fk_core_mail_attachment_mail_id_core_mail")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_mail_attachment")),
    )
    op.create_index(op.f("ix_core_mail_attachment_mail_id"), "core_mail_attachment", ["mail_id"])
    _move_settings({**MOVED}, split_sender=True)


def downgrade() -> None:
    _move_settings({new: old for old, new in MOVED.items()}, split_sender=False)
    op.drop_table("core_mail_attachment")
    op.drop_table("core_mail")


def _move_settings(keys: dict[str, str], *, split_sender: bool) -> None:
    """Give each stored value of the keys in ``keys`` to its new key (per company as it was stored),
    and join or split the sender; the old rows go."""
    bind = op.get_bind()
    old_keys = [*keys, SENDER] if split_sender else [*keys, SENDER_NAME, SENDER_ADDRESS]
    rows = bind.execute(sa.select(settings.c.key, settings.c.company_id, settings.c.value, settings.c.secret)
                        .where(settings.c.key.in_(old_keys))).all()
    new_rows = [{"key": keys[row.key], "company_id": row.company_id, "value": row.value, "secret": row.secret}
                for row in rows if row.key in keys]
    if split_sender:
        for row in rows:
            if row.key == SENDER:
                name, address = parseaddr(row.value or "")
                new_rows += [{"key": SENDER_NAME, "company_id": row.company_id, "value": name, "secret": False},
                             {"key": SENDER_ADDRESS, "company_id": row.company_id, "value": address, "secret": False}]
    else:
        senders: dict[int, dict[str, str]] = {}
        for row in rows:
            if row.key in (SENDER_NAME, SENDER_ADDRESS):
                senders.setdefault(row.company_id, {})[row.key] = row.value
        new_rows += [{"key": SENDER, "company_id": company_id,
                      "value": formataddr((parts.get(SENDER_NAME, ""), parts.get(SENDER_ADDRESS, ""))), "secret": False}
                     for company_id, parts in senders.items() if parts.get(SENDER_ADDRESS)]
    targets = sorted({row["key"] for row in new_rows})
    if targets:
        bind.execute(settings.delete().where(settings.c.key.in_(targets)))
    bind.execute(settings.delete().where(settings.c.key.in_(old_keys)))
    if new_rows:
        bind.execute(settings.insert(), new_rows)
