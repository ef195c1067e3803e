"""The mail settings an admin sets on Administration → Mail.

The server, its login, the batch size and this Kontor's address are the group's (one mail relay,
one web address); the sender (name and address a message comes from) is each company's own.
"""
from __future__ import annotations

from dataclasses import dataclass
from sqlalchemy.orm import Session

from core.company.services import setting_values
from core.contrib import Setting
from core.i18n import lazy_gettext as _l
from core.mail.message import format_address
from core.mail.smtp import SECURITY

HOST = "core.mail.smtp_host"
PORT = "core.mail.smtp_port"
SECURITY_KEY = "core.mail.smtp_security"
USERNAME = "core.mail.smtp_username"
PASSWORD = "core.mail.smtp_password"
SENDER_NAME = "core.mail.sender_name"
SENDER_ADDRESS = "core.mail.sender_address"
BATCH_SIZE = "core.mail.batch_size"
SITE_URL = "core.mail.site_url"

SETTINGS = [
    Setting(HOST, _l("SMTP server"), "", help=_l("Host name of the mail server every message goes out through.")),
    Setting(PORT, _l("SMTP port"), "587", type="integer"),
    Setting(SECURITY_KEY, _l("SMTP security"), "starttls", type="choice", choices=SECURITY,
            help=_l("starttls (port 587), tls (port 465) or none (a local relay).")),
    Setting(USERNAME, _l("SMTP user name"), "", help=_l("Leave empty when the server needs no login.")),
    Setting(PASSWORD, _l("SMTP password"), "", type="secret"),
    Setting(SENDER_NAME, _l("Sender name"), "", help=_l("The name this company's mail comes from, e.g. Nordlys Handel."),
            scope="company"),
    Setting(SENDER_ADDRESS, _l("Sender address"), "",
            help=_l("The address this company's mail comes from, e.g. office@example.com."), scope="company"),
    Setting(BATCH_SIZE, _l("Messages per batch"), "50", type="integer",
            help=_l("How many messages a bulk sender (a campaign) sends over one connection before it notes its progress.")),
    Setting(SITE_URL, _l("Address of this Kontor"), "",
            help=_l("The web address links in mail point to, e.g. https://kontor.example.com "
                    "(mail sent by jobs and the command line needs it).")),
]


@dataclass(frozen=True)
class MailConfig:
    """Where mail goes out, and from whom (the current company's sender)."""

    host: str
    port: int
    security: str
    username: str
    password: str
    sender_name: str
    sender_address: str
    batch_size: int = 50
    site_url: str = ""

    @property
    def configured(self) -> bool:
        """Whether a server and a sender address are set."""
        return bool(self.host and self.sender_address)

    @property
    def sender(self) -> str:
        """The From header: ``Name <address>``."""
        return format_address(self.sender_name, self.sender_address)


def mail_config(db: Session) -> MailConfig:
    """The stored mail settings (defaults where none was chosen), with the current company's sender."""
    v = setting_values(db, SETTINGS)
    return MailConfig(host=v[HOST].strip(), port=_int(v[PORT], 587), security=v[SECURITY_KEY] or "none",
                      username=v[USERNAME], password=v[PASSWORD], sender_name=" ".join(v[SENDER_NAME].split()),
                      sender_address=v[SENDER_ADDRESS].strip(),
                      batch_size=max(1, min(1000, _int(v[BATCH_SIZE], 50))),
                      site_url=v[SITE_URL].strip().rstrip("/"))


def mail_configured(db: Session) -> bool:
    """Whether mail can be sent: a server and the current company's sender address are set."""
    return mail_config(db).configured


def site_url(db: Session) -> str:
    """The configured address of this Kontor without a trailing slash, or "" when none is set."""
    return mail_config(db).site_url


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default
