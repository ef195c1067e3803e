"""Checking what goes into a message (addresses, one-line headers, attachments) and building its MIME form."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr

from core.errors import InvalidInput
from core.i18n import gettext as _

ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\]+$")
HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,75}$")
CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
#: Headers Kontor writes itself; a caller cannot set them.
RESERVED = frozenset({"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "sender",
                      "reply-to-all", "content-type", "content-transfer-encoding", "content-disposition",
                      "return-path", "received"})


@dataclass(frozen=True)
class MailFile:
    """A file to send with a message."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def one_line(text: str | None) -> str:
    """``text`` with every run of whitespace (line breaks included) made one space."""
    return " ".join((text or "").split())


def check_address(address: str | None, field: str = "to") -> str:
    """``address`` trimmed when it is one plain e-mail address; InvalidInput naming ``field`` otherwise."""
    address = (address or "").strip()
    if not address or len(address) > 254 or not ADDRESS.match(address):
        raise InvalidInput(_("Enter one valid e-mail address."), field=field)
    return address


def check_sender(sender: str, field: str = "sender") -> str:
    """A From header ``Name <address>`` (or a bare address) with a valid address, on one line."""
    name, address = parseaddr(one_line(sender))
    return format_address(one_line(name), check_address(address, field))


def format_address(name: str, address: str) -> str:
    """``Name <address>`` as a header holds it: what :func:`email.utils.formataddr` writes for an
    ASCII address (which refuses any other), the address as it is for an internationalised one."""
    if address.isascii():
        return formataddr((name, address))
    local, _at, domain = address.rpartition("@")
    return str(Address(name, username=local, domain=domain))


def ascii_domain(domain: str) -> str:
    """``domain`` with each non-ASCII label IDNA-encoded (``müller.example`` → ``xn--mller-kva.example``).

    Each label is normalised (NFC, lower case) and Punycode-encoded as IDNA 2008 does; the
    standard library's ``idna`` codec follows IDNA 2003, which would turn ``ß`` into ``ss`` and
    name another domain. ValueError when a label cannot be one."""
    labels = []
    for label in domain.split("."):
        if not label.isascii():
            label = "xn--" + unicodedata.normalize("NFC", label).lower().encode("punycode").decode("ascii")
        if not label or len(label) > 63:
            raise ValueError(_("%(domain)s is not a domain mail can be sent to.", domain=domain))
        labels.append(label)
    return ".".join(labels)


def wire_address(address: str) -> str:
    """``address`` as it goes to the server and into the headers.

    With an ASCII local part, a non-ASCII domain is IDNA-encoded, so any server takes it; a
    non-ASCII local part cannot be encoded and stays as it is (NFC): only a server that offers
    SMTPUTF8 (RFC 6531) takes it."""
    local, _at, domain = address.rpartition("@")
    if address.isascii():
        return address
    if local.isascii():
        return f"{local}@{ascii_domain(domain)}"
    return unicodedata.normalize("NFC", address)


def header_address(name: str, address: str) -> Address | str:
    """The value of a From or To header for ``name`` and ``address`` in its wire form."""
    address = wire_address(address)
    if address.isascii():
        return formataddr((name, address))
    local, _at, domain = address.rpartition("@")
    return Address(name, username=local, domain=domain)


def check_headers(headers: dict[str, str] | None) -> dict[str, str]:
    """The caller's extra headers, each name plain and each value one line; InvalidInput on ``headers`` else."""
    clean: dict[str, str] = {}
    for name, value in (headers or {}).items():
        name = str(name)
        if not HEADER_NAME.match(name) or name.lower() in RESERVED:
            raise InvalidInput(_("%(name)s cannot be set as a mail header.", name=name[:80]), field="headers")
        value = str(value)
        if "\r" in value or "\n" in value or len(value) > 2000:
            raise InvalidInput(_("The mail header %(name)s must be one line.", name=name), field="headers")
        clean[name] = value.strip()
    return clean


def check_attachment(item) -> MailFile:
    """An :class:`MailFile` (or a ``(filename, content, content_type)`` tuple) with a safe name and type."""
    attachment = item if isinstance(item, MailFile) else MailFile(*item)
    filename = one_line(attachment.filename).replace("/", "-").replace("\\", "-")
    if not filename or len(filename) > 255:
        raise InvalidInput(_("An attachment needs a file name."), field="attachments")
    if not CONTENT_TYPE.match(attachment.content_type or ""):
        raise InvalidInput(_("%(type)s is not a content type.", type=str(attachment.content_type)[:100]),
                           field="attachments")
    if not isinstance(attachment.content, (bytes, bytearray)):
        raise InvalidInput(_("An attachment's content must be bytes."), field="attachments")
    return MailFile(filename, bytes(attachment.content), attachment.content_type)


def new_message_id(sender: str) -> str:
    """A Message-ID in the sender's domain: the same on every attempt to send the message."""
    domain = parseaddr(sender)[1].rpartition("@")[2]
    try:
        return make_msgid(domain=ascii_domain(domain) if domain else None)
    except ValueError:
        return make_msgid()


def envelope_sender(sender: str) -> str:
    """The bare address of a From header (the SMTP envelope's sender)."""
    return parseaddr(sender)[1]


def build(row) -> EmailMessage:
    """The MIME message of a logged message (a :class:`~core.mail.models.MailMessage`): text, an
    optional HTML alternative, the caller's headers and the attachments.

    The addresses are written as :func:`wire_address` sends them. ValueError when one cannot be."""
    message = EmailMessage()
    name, sender = parseaddr(row.sender)
    message["From"] = row.sender if row.sender.isascii() else header_address(name, sender)
    message["To"] = header_address(one_line(row.to_name), row.to_address)
    message["Subject"] = one_line(row.subject)
    message["Date"] = format_datetime(row.created_at)
    message["Message-ID"] = row.message_id
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.body or "")
    if row.html:
        message.add_alternative(row.html, subtype="html")
    for attachment in row.attachments:
        maintype, _slash, subtype = attachment.content_type.partition("/")
        message.add_attachment(bytes(attachment.content), maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message
