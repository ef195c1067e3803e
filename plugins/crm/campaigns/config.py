"""Where campaign mail goes out: the core's mail settings (Administration → Mail), read for the CRM.

The server, its login, the batch size and this Kontor's address (which unsubscribe links point to)
are the group's; the sender is each company's own. The CRM keeps no mail settings of its own.
"""
from sqlalchemy.orm import Session

from core import KontorError, gettext as _, mail_config


def mail_settings(db: Session):
    """The core's mail settings with the current company's sender; refused (409, field ``smtp``)
    before the server and the sender address are set."""
    mail = mail_config(db)
    if not mail.configured:
        raise KontorError(_("Set the mail server and the sender address under Administration → Mail first."),
                          field="smtp", status=409)
    return mail


def site_url(db: Session) -> str:
    """The configured address of this Kontor, or "" when none is set."""
    return mail_config(db).site_url
