"""The mail settings an admin sets on the module settings page: the SMTP server campaigns and ticket
replies go out through, and the address links in campaign mail point to.

The server, its login, the batch size and this Kontor's address are the group's (one mail relay,
one web address); the sender (name and address a message comes from) is each company's own.
"""
from sqlalchemy.orm import Session

from core import lazy_gettext as _l, Setting, setting_values

from plugins.crm.campaigns.mailer import SECURITY, SmtpConfig

SETTINGS = [
    Setting("crm.smtp_host", _l("Mail: SMTP server"), "",
            help=_l("Host name of the mail server campaigns and ticket replies go out through.")),
    Setting("crm.smtp_port", _l("Mail: SMTP port"), "587", type="integer"),
    Setting("crm.smtp_security", _l("Mail: SMTP security"), "starttls", type="choice", choices=SECURITY,
            help=_l("starttls (port 587), tls (port 465) or none (a local relay).")),
    Setting("crm.smtp_username", _l("Mail: SMTP user name"), "",
            help=_l("Leave empty when the server needs no login.")),
    Setting("crm.smtp_password", _l("Mail: SMTP password"), "", type="secret"),
    Setting("crm.smtp_sender", _l("Mail: sender address"), "",
            help=_l("The From address of the company's campaigns and ticket replies, e.g. News <news@example.com>."),
            scope="company"),
    Setting("crm.campaign_batch_size", _l("Campaigns: messages per batch"), "50", type="integer"),
    Setting("crm.site_url", _l("Campaigns: address of this Kontor"), "",
            help=_l("The web address unsubscribe links point to, e.g. https://kontor.example.com "
                    "(sending from the command line needs it).")),
]


def values(db: Session) -> dict[str, str]:
    """The stored campaign settings (defaults where none was chosen)."""
    return setting_values(db, SETTINGS)


def smtp_config(db: Session) -> SmtpConfig:
    """The SMTP server and sender campaigns use."""
    v = values(db)
    return SmtpConfig(host=v["crm.smtp_host"].strip(), port=_int(v["crm.smtp_port"], 587),
                      username=v["crm.smtp_username"], password=v["crm.smtp_password"],
                      sender=v["crm.smtp_sender"].strip(), security=v["crm.smtp_security"] or "none",
                      batch_size=max(1, min(1000, _int(v["crm.campaign_batch_size"], 50))))


def site_url(db: Session) -> str:
    """The configured address of this Kontor, or "" when none is set."""
    return values(db)["crm.site_url"].strip().rstrip("/")


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except (TypeError, ValueError):
        return default
