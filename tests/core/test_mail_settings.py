"""Administration → Mail: the settings form, the test message, who may see it; and the migration
that moves the CRM's SMTP settings to the core's keys."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from core.company.models import SettingValue
from core.mail.settings import mail_config
from core.mail.testing import smtp_server
from core.modules.migrate import downgrade, upgrade

FORM = {"core.mail.smtp_host": "127.0.0.1", "core.mail.smtp_port": "2525", "core.mail.smtp_security": "none",
        "core.mail.smtp_username": "relay", "core.mail.smtp_password": "s3cret pass", "core.mail.sender_name": "Office",
        "core.mail.sender_address": "office@test-company.example", "core.mail.batch_size": "100",
        "core.mail.site_url": "https://kontor.example"}


@pytest.fixture
def settings(settings):
    return {**settings, "QUEUE_URL": "memory://", "JOB_RETRY_SECONDS": 0}


def test_an_admin_saves_the_settings_and_the_password_is_never_shown_back(admin_client, db):
    assert admin_client.get("/settings/mail").status_code == 200
    assert admin_client.post_form("/settings/mail", FORM).status_code == 303
    page = admin_client.get("/settings/mail").get_data(as_text=True)
    assert "s3cret pass" not in page and "A value is stored" in page
    db.expire_all()
    config = mail_config(db)
    assert (config.host, config.port, config.username, config.password) == ("127.0.0.1", 2525, "relay", "s3cret pass")
    assert config.sender == "Office <office@test-company.example>" and config.batch_size == 100
    assert admin_client.post_form("/settings/mail", {**FORM, "core.mail.smtp_password": ""}).status_code == 303
    db.expire_all()
    assert mail_config(db).password == "s3cret pass"  # left empty: kept


@pytest.mark.parametrize("key, value", [("core.mail.smtp_port", "70000"), ("core.mail.sender_address", "office"),
                                        ("core.mail.site_url", "kontor.example"), ("core.mail.batch_size", "0"),
                                        ("core.mail.smtp_security", "ssl")])
def test_a_bad_value_is_shown_beside_its_field_and_nothing_is_saved(admin_client, db, key, value):
    response = admin_client.post_form("/settings/mail", {**FORM, key: value})
    assert response.status_code == 422
    assert re.search(rf'id="e-{re.escape(key)}" class="field-error">[^<]+', response.get_data(as_text=True))
    db.expire_all()
    assert db.execute(select(SettingValue).where(SettingValue.key.like("core.mail.%"))).first() is None


def test_the_test_message_goes_through_a_job_to_the_server(admin_client, db):
    with smtp_server() as (inbox, port):
        assert admin_client.post_form("/settings/mail", {**FORM, "core.mail.smtp_port": str(port),
                                                         "core.mail.smtp_username": ""}).status_code == 303
        assert admin_client.post_form("/settings/mail/test", {"to": "admin@test-company.example"}).status_code == 303
        assert inbox.for_address("admin@test-company.example")["Subject"] == "Kontor test message"
    page = admin_client.get("/settings/mail").get_data(as_text=True)
    assert 'data-mail-status="sent"' in page
    refused = admin_client.post_form("/settings/mail/test", {"to": "nobody"})
    assert refused.status_code == 422 and 'id="e-to"' in refused.get_data(as_text=True)


def test_only_mail_managers_see_the_page(client_with):
    staff = client_with(roles=["staff"])
    assert staff.get("/settings/mail").status_code == 403
    assert staff.post_form("/settings/mail/test", {"to": "a@b.example"}).status_code == 403
    assert client_with(permissions=["core.mail.manage"]).get("/settings/mail").status_code == 200


def test_the_migration_moves_the_crm_smtp_settings_to_the_core(db):
    connection = db.connection()
    downgrade(connection, "core@core_0008")
    rows = [("crm.smtp_host", 0, "mail.example.com", False), ("crm.smtp_port", 0, "465", False),
            ("crm.smtp_security", 0, "tls", False), ("crm.smtp_username", 0, "relay", False),
            ("crm.smtp_password", 0, "s3cret", True), ("crm.campaign_batch_size", 0, "200", False),
            ("crm.site_url", 0, "https://kontor.example", False),
            ("crm.smtp_sender", 1, "Nordlys News <news@nordlys.example>", False)]
    for key, company, value, secret in rows:
        connection.execute(text("INSERT INTO core_setting (key, company_id, value, secret) VALUES (:k, :c, :v, :s)"),
                           {"k": key, "c": company, "v": value, "s": secret})
    upgrade(connection, "core@core_0009")
    stored = {(r.key, r.company_id): (r.value, r.secret) for r in connection.execute(
        text("SELECT key, company_id, value, secret FROM core_setting WHERE key LIKE 'core.mail.%' OR key LIKE 'crm.%'"))}
    assert stored == {
        ("core.mail.smtp_host", 0): ("mail.example.com", False), ("core.mail.smtp_port", 0): ("465", False),
        ("core.mail.smtp_security", 0): ("tls", False), ("core.mail.smtp_username", 0): ("relay", False),
        ("core.mail.smtp_password", 0): ("s3cret", True), ("core.mail.batch_size", 0): ("200", False),
        ("core.mail.site_url", 0): ("https://kontor.example", False),
        ("core.mail.sender_name", 1): ("Nordlys News", False),
        ("core.mail.sender_address", 1): ("news@nordlys.example", False),
    }
    downgrade(connection, "core@core_0008")  # and back: the CRM's keys again
    back = dict(connection.execute(text("SELECT key, value FROM core_setting WHERE key LIKE 'crm.%'")).all())
    assert back["crm.smtp_sender"] == "Nordlys News <news@nordlys.example>" and back["crm.smtp_password"] == "s3cret"
    upgrade(connection, "core@head")
    db.rollback()
