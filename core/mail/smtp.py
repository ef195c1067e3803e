"""The SMTP conversation: connect, send one message, hang up, and say what went wrong.

A failure is *transient* (the server could not be reached, or answered 4xx: try again later) or
*permanent* (a 5xx answer: the message will never go through as it is). :class:`SendError` says
which, with the server's reply.
"""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from core.i18n import gettext as _

#: How the connection to the server is secured.
SECURITY = ("none", "starttls", "tls")


class SendError(Exception):
    """The server did not take a message: ``reply`` says why, ``transient`` whether to try again."""

    def __init__(self, reply: str, *, transient: bool):
        super().__init__(reply)
        self.reply = reply
        self.transient = transient


def connect(host: str, port: int, *, security: str = "none", username: str = "", password: str = "",
            timeout: float = 30) -> smtplib.SMTP:
    """An open (and, with ``username``, authenticated) SMTP connection; SendError when there is none."""
    try:
        if security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            if security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if username:
            smtp.login(username, password)
    except smtplib.SMTPResponseException as exc:
        raise SendError(describe(exc), transient=not 500 <= exc.smtp_code < 600) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(describe(exc), transient=True) from None
    return smtp


def deliver(smtp: smtplib.SMTP, message: EmailMessage, sender: str, recipient: str) -> None:
    """Hand ``message`` to the server for ``recipient``; SendError when it is refused.

    An address with a non-ASCII local part goes out with SMTPUTF8 (RFC 6531) when the server
    offers it; a server that does not cannot take it, and trying again would not help.
    """
    try:
        international = not (sender + recipient).isascii()
        if international:
            smtp.ehlo_or_helo_if_needed()
            if not smtp.has_extn("smtputf8"):
                raise SendError(_("The mail server does not accept internationalised addresses (SMTPUTF8), "
                                  "which %(address)s needs.",
                                  address=recipient if not recipient.isascii() else sender), transient=False)
        refused = smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
    except smtplib.SMTPRecipientsRefused as exc:
        raise _refusal(exc.recipients.values()) from None
    except smtplib.SMTPResponseException as exc:
        raise SendError(describe(exc), transient=not 500 <= exc.smtp_code < 600) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise SendError(describe(exc), transient=False) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(describe(exc), transient=True) from None
    except ValueError as exc:  # a header or address the message cannot be written with
        raise SendError(describe(exc), transient=False) from None
    if refused:
        raise _refusal(refused.values())


def close(smtp: smtplib.SMTP) -> None:
    """End an SMTP session politely; a server that hung up first needs nothing more."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass


def _refusal(replies) -> SendError:
    replies = list(replies)
    transient = all(not 500 <= code < 600 for code, _text in replies)
    return SendError("; ".join(_reply(code, text) for code, text in replies), transient=transient)


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip()[:500]


def describe(exc: Exception) -> str:
    """A short text of an SMTP or network error: the server's code and reply when it gave one."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    return (str(exc) or type(exc).__name__)[:500]
