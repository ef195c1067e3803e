"""Campaign mail: placeholders, the signed unsubscribe link, and the SMTP connection.

Placeholders are replaced by plain string substitution in one pass: no template engine runs on a
campaign's text, and a value that itself looks like a placeholder is left as it is.
"""
from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from itsdangerous import BadSignature, URLSafeSerializer

from core import KontorError, Unavailable, gettext as _

PLACEHOLDERS = ("name", "company", "unsubscribe_url")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
TOKEN_SALT = "kontor.crm.unsubscribe"
SECURITY = ("none", "starttls", "tls")
EMAIL_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def unknown_placeholders(text: str) -> list[str]:
    """The placeholders in ``text`` that are not one of :data:`PLACEHOLDERS`."""
    return [name for name in PLACEHOLDER.findall(text or "") if name not in PLACEHOLDERS]


def check_placeholders(text: str, field: str) -> None:
    """Refuse ``text`` when it holds a placeholder other than {{name}}, {{company}}, {{unsubscribe_url}}."""
    unknown = unknown_placeholders(text)
    if unknown:
        raise KontorError(_("Unknown placeholder {{%(name)s}}: use {{name}}, {{company}} or {{unsubscribe_url}}.",
                            name=unknown[0]), field=field, status=422)


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with each known placeholder replaced by its value (one pass, no evaluation)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text or "")


def make_token(secret: str, email_key: str, campaign_id: int | None) -> str:
    """The signed token of an unsubscribe link: it names the address and cannot be forged."""
    return URLSafeSerializer(secret, salt=TOKEN_SALT).dumps([email_key, campaign_id])


def read_token(secret: str, token: str) -> tuple[str, int | None] | None:
    """The (address, campaign id) a token names, or None when it was tampered with."""
    try:
        value = URLSafeSerializer(secret, salt=TOKEN_SALT).loads(token)
    except BadSignature:
        return None
    if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], str)
            or not (value[1] is None or isinstance(value[1], int))):
        return None
    return value[0], value[1]


@dataclass(frozen=True)
class SmtpConfig:
    """Where campaign mail goes out, from the core's mail settings."""

    host: str
    port: int
    username: str
    password: str
    sender: str
    security: str = "none"
    batch_size: int = 50

    @property
    def configured(self) -> bool:
        """Whether a server and a sender are set."""
        return bool(self.host and self.sender)

    def check(self) -> None:
        """Refuse to send before the server and the sender are configured."""
        if not self.configured:
            raise KontorError(_("Set the mail server and the sender address under Administration → Mail first."),
                              field="smtp", status=409)


@dataclass(frozen=True)
class Letter:
    """One message ready to send."""

    to_email: str
    to_name: str
    subject: str
    body: str
    unsubscribe_url: str


def build_message(config: SmtpConfig, letter: Letter) -> EmailMessage:
    """The MIME message of ``letter`` (plain text, with the one-click unsubscribe headers)."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = formataddr((_one_line(letter.to_name), letter.to_email))
    message["Subject"] = _one_line(letter.subject)
    message["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2] or None)
    for name, value in unsubscribe_headers(letter.unsubscribe_url).items():
        message[name] = value
    message.set_content(letter.body)
    return message


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers that let a mail client unsubscribe with one click (RFC 2369 and RFC 8058)."""
    if not url:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def connect(config: SmtpConfig, timeout: float = 30) -> smtplib.SMTP:
    """An open, authenticated SMTP connection; KontorError when the server cannot be reached."""
    config.check()
    try:
        if config.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
            if config.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if config.username:
            smtp.login(config.username, config.password)
    except (OSError, smtplib.SMTPException) as exc:
        raise Unavailable(_("The mail server could not be reached: %(error)s", error=_describe(exc)),
                          field="smtp") from None
    return smtp


def deliver(smtp: smtplib.SMTP, config: SmtpConfig, letter: Letter) -> str:
    """Send one letter; returns "" when the server took it, else why it was refused."""
    try:
        refused = smtp.send_message(build_message(config, letter), from_addr=config.sender,
                                    to_addrs=[letter.to_email])
    except smtplib.SMTPRecipientsRefused as exc:
        return "; ".join(_describe_reply(code, text) for code, text in exc.recipients.values())
    except (smtplib.SMTPException, OSError, ValueError) as exc:
        return _describe(exc)
    if refused:
        return "; ".join(_describe_reply(code, text) for code, text in refused.values())
    return ""


def close(smtp: smtplib.SMTP) -> None:
    """End an SMTP session politely; a server that hung up first needs nothing more."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass


def _describe_reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {text}".strip()[:500]


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _describe_reply(exc.smtp_code, exc.smtp_error)
    return (str(exc) or type(exc).__name__)[:500]
