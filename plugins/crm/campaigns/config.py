"""Where campaign mail goes out: the core's mail settings (Administration → Mail), read for the CRM.

The server, its login, the batch size and this Kontor's address (which unsubscribe links point to)
are the group's; the sender is each company's own. The CRM keeps no mail settings of its own.
"""
from sqlalchemy.orm import Session

from core import mail_config

from plugins.crm.campaigns.mailer import SmtpConfig


def smtp_config(db: Session) -> SmtpConfig:
    """The SMTP server, the current company's sender and the batch size campaigns use."""
    mail = mail_config(db)
    return SmtpConfig(host=mail.host, port=mail.port, username=mail.username, password=mail.password,
                      sender=mail.sender if mail.sender_address else "", security=mail.security,
                      batch_size=mail.batch_size)


def site_url(db: Session) -> str:
    """The configured address of this Kontor, or "" when none is set."""
    return mail_config(db).site_url
