"""Campaign mail: placeholders, the signed unsubscribe link and its headers. The messages themselves
go out through the core's mail service (queue_mail and deliver_mail), which keeps the log of them.

Placeholders are replaced by plain string substitution in one pass: no template engine runs on a
campaign's text, and a value that itself looks like a placeholder is left as it is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from core import KontorError, gettext as _

PLACEHOLDERS = ("name", "company", "unsubscribe_url")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
TOKEN_SALT = "kontor.crm.unsubscribe"
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
class Letter:
    """One message ready to send."""

    to_email: str
    to_name: str
    subject: str
    body: str
    unsubscribe_url: str


def unsubscribe_headers(url: str) -> dict[str, str]:
    """The headers that let a mail client unsubscribe with one click (RFC 2369 and RFC 8058)."""
    if not url:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
