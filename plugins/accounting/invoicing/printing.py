"""The printed invoice: what it says (one context for the HTML print view and the PDF) and the PDF.

Amounts, dates and labels are in the company's locale, the language the invoice is written in,
whoever prints it. The PDF embeds DejaVu Sans when the machine has it (Danish, German and
Polish letters all print); otherwise it falls back to a core font and spells letters that font
lacks in plain Latin (ł → l).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from flask import Response
from flask_babel import force_locale
from fpdf import FPDF
from sqlalchemy.orm import Session

from core import Party, Setting, get_company, gettext as _, lazy_gettext as _l, setting_values

from plugins.accounting.invoicing import services
from plugins.accounting.invoicing.models import Invoice

BANK_DETAILS = Setting("accounting.bank_details", _l("Bank details printed on invoices"), default="",
                       help=_l("Bank name, IBAN and BIC, as your customers should pay to."))
FONT_FOLDERS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
                Path("/usr/local/share/fonts"))
#: Letters the core fonts (Latin-1) lack, spelled as their plain Latin neighbours.
PLAIN = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ı": "i", "œ": "oe", "Œ": "OE", "–": "-",
                       "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "€": "EUR", "•": "-"})


@dataclass
class PrintedLine:
    """A line as printed: its figures already formatted."""

    description: str
    quantity: str
    unit_price: str
    discount: str
    taxes: str
    amount: str


def print_locale(db: Session, invoice: Invoice) -> str:
    """The locale the invoice is written in: the company's."""
    return get_company(db).locale or "en"


def print_context(db: Session, invoice: Invoice) -> dict[str, Any]:
    """Everything the printed invoice shows, formatted for its locale."""
    locale = print_locale(db, invoice)
    company = get_company(db)
    party = db.get(Party, invoice.party_id)
    totals = services.invoice_totals(db, invoice)

    def money(amount: Decimal) -> str:
        return format_currency(amount, invoice.currency, locale=locale)

    def day(value: date | None) -> str:
        return format_date(value, "medium", locale=locale) if value else ""

    lines = [PrintedLine(line.description, format_decimal(line.quantity.normalize(), locale=locale),
                         format_decimal(line.unit_price, format="#,##0.00##", locale=locale),
                         f"{format_decimal(line.discount_percent.normalize(), locale=locale)} %"
                         if line.discount_percent else "",
                         ", ".join(tax.name for tax in line.taxes), money(line.amount_untaxed))
             for line in invoice.lines]
    tax_summary = [(tax.name, money(base), money(amount)) for tax, base, amount in totals.by_tax]
    with force_locale(locale):
        title = services.invoice_title(invoice)
    return {
        "invoice": invoice, "locale": locale, "title": title, "number": invoice.number or _draft_label(locale),
        "company": company, "party": party, "lines": lines, "tax_summary": tax_summary,
        "invoice_date": day(invoice.invoice_date), "due_date": day(invoice.due_date),
        "untaxed": money(invoice.amount_untaxed), "tax": money(invoice.amount_tax), "total": money(invoice.amount_total),
        "residual": money(invoice.amount_residual),
        "bank_details": setting_values(db, [BANK_DETAILS])[BANK_DETAILS.key].strip(),
        "payment_reference": invoice.number or "",
        "refund_of": invoice.refund_of.number if invoice.refund_of else "",
    }


def _draft_label(locale: str) -> str:
    with force_locale(locale):
        return _("Draft")


def file_name(invoice: Invoice) -> str:
    """The download name of the PDF: the number with its slashes made safe."""
    return (invoice.number or f"draft-{invoice.id}").replace("/", "-") + ".pdf"


def pdf_response(db: Session, invoice: Invoice) -> Response:
    """The invoice's PDF as a download."""
    response = Response(invoice_pdf(db, invoice), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{file_name(invoice)}"'
    return response


# -- The PDF --


def _font_files() -> tuple[Path, Path] | None:
    for folder in FONT_FOLDERS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def plain_latin(text: str) -> str:
    """``text`` in the letters a core PDF font has (Latin-1), others spelled without accents."""
    text = str(text).translate(PLAIN)
    out = []
    for char in text:
        if ord(char) < 256:
            out.append(char)
            continue
        decomposed = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
        out.append(decomposed or "?")
    return "".join(out)


class InvoicePdf(FPDF):
    """An A4 invoice: letterhead, addresses, lines, tax summary, totals, payment details."""

    def __init__(self, ctx: dict[str, Any]):
        super().__init__(format="A4", unit="mm")
        self.ctx = ctx
        fonts = _font_files()
        if fonts:
            self.add_font("DejaVu", "", str(fonts[0]))
            self.add_font("DejaVu", "B", str(fonts[1]))
            self.family_name, self.clean = "DejaVu", str
        else:
            self.family_name, self.clean = "Helvetica", plain_latin
        self.set_auto_page_break(auto=True, margin=20)
        self.set_margins(18, 18, 18)

    def text_font(self, size: float = 9.5, bold: bool = False) -> None:
        """Switch to the body font."""
        self.set_font(self.family_name, "B" if bold else "", size)

    def put(self, width: float, text: Any, *, bold: bool = False, align: str = "L", size: float = 9.5,
            border: Any = 0, height: float = 5.5) -> None:
        """A cell of text on the current line."""
        self.text_font(size, bold)
        self.cell(width, height, self.clean(str(text)), border=border, align=align)

    def footer(self) -> None:
        self.set_y(-14)
        self.text_font(7.5)
        company = self.ctx["company"]
        parts = [company.legal_name, company.vat_id, company.email, company.phone]
        self.cell(0, 5, self.clean(" · ".join(p for p in parts if p)), align="C")


def invoice_pdf(db: Session, invoice: Invoice) -> bytes:
    """The invoice as PDF bytes."""
    ctx = print_context(db, invoice)
    with force_locale(ctx["locale"]):
        return bytes(_draw(ctx).output())


def _draw(ctx: dict[str, Any]) -> InvoicePdf:
    pdf = InvoicePdf(ctx)
    company, party, invoice = ctx["company"], ctx["party"], ctx["invoice"]
    pdf.set_title(f"{ctx['title']} {ctx['number']}")
    pdf.set_author(company.legal_name)
    pdf.set_subject(ctx["number"])
    pdf.set_creator("Kontor")
    pdf.add_page()
    width = pdf.epw
    # Letterhead: the company left, the document's title and number right.
    top = pdf.get_y()
    _address_block(pdf, company.legal_name, _company_lines(company), width / 2)
    pdf.set_xy(pdf.l_margin + width / 2, top)
    pdf.put(width / 2, ctx["title"], bold=True, size=16, align="R", height=8)
    pdf.set_xy(pdf.l_margin + width / 2, top + 9)
    pdf.put(width / 2, ctx["number"], bold=True, size=11, align="R")
    meta = [(_("Invoice date"), ctx["invoice_date"]), (_("Due date"), ctx["due_date"])]
    if invoice.reference:
        meta.append((_("Reference"), invoice.reference))
    if ctx["refund_of"]:
        meta.append((_("Credits invoice"), ctx["refund_of"]))
    for offset, (label, value) in enumerate(meta):
        pdf.set_xy(pdf.l_margin + width / 2, top + 16 + offset * 5.5)
        pdf.put(width / 4, label, align="R")
        pdf.put(width / 4, value, align="R", bold=True)
    pdf.set_y(max(pdf.get_y(), top + 16 + len(meta) * 5.5) + 8)
    pdf.put(width, _("Bill to") if invoice.is_customer else _("From"), bold=True, size=8)
    pdf.ln(5)
    _address_block(pdf, party.name, _party_lines(party), width / 2)
    pdf.ln(6)
    _lines_table(pdf, ctx, width)
    _totals(pdf, ctx, width)
    _payment(pdf, ctx, width)
    return pdf


def _company_lines(company) -> list[str]:
    lines = [company.street, " ".join(p for p in (company.postal_code, company.city) if p), company.country]
    if company.vat_id:
        lines.append(f"{_('VAT id')}: {company.vat_id}")
    return [line for line in lines if line]


def _party_lines(party) -> list[str]:
    lines = [party.street, " ".join(p for p in (party.postal_code, party.city) if p), party.country]
    if party.vat_id:
        lines.append(f"{_('VAT id')}: {party.vat_id}")
    return [line for line in lines if line]


def _address_block(pdf: InvoicePdf, name: str, lines: list[str], width: float) -> None:
    x = pdf.get_x()
    pdf.put(width, name, bold=True, size=11, height=6)
    pdf.ln(6)
    for line in lines:
        pdf.set_x(x)
        pdf.put(width, line)
        pdf.ln(5)


def _lines_table(pdf: InvoicePdf, ctx: dict[str, Any], width: float) -> None:
    columns = [(_("Description"), 0.40, "L"), (_("Quantity"), 0.10, "R"), (_("Unit price"), 0.14, "R"),
               (_("Discount"), 0.09, "R"), (_("Tax"), 0.11, "L"), (_("Amount"), 0.16, "R")]
    pdf.set_fill_color(235, 235, 235)
    for label, share, align in columns:
        pdf.text_font(8.5, True)
        pdf.cell(width * share, 7, pdf.clean(label), border="B", align=align, fill=True)
    pdf.ln(7)
    for line in ctx["lines"]:
        values = [line.description, line.quantity, line.unit_price, line.discount, line.taxes, line.amount]
        pdf.text_font(9)
        # The description may wrap; the row is as tall as its wrapped text.
        lines = pdf.multi_cell(width * columns[0][1], 5, pdf.clean(values[0]), dry_run=True, output="LINES")
        height = max(1, len(lines)) * 5 + 1.5
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        y = pdf.get_y()
        x = pdf.l_margin
        pdf.multi_cell(width * columns[0][1], 5, pdf.clean(values[0]), align="L", new_x="RIGHT", new_y="TOP")
        x += width * columns[0][1]
        for (label, share, align), value in zip(columns[1:], values[1:]):
            pdf.set_xy(x, y)
            pdf.cell(width * share, 5, pdf.clean(value), align=align)
            x += width * share
        pdf.set_y(y + height)
        pdf.set_draw_color(220, 220, 220)
        pdf.line(pdf.l_margin, pdf.get_y() - 0.75, pdf.l_margin + width, pdf.get_y() - 0.75)
    pdf.ln(3)


def _totals(pdf: InvoicePdf, ctx: dict[str, Any], width: float) -> None:
    label_w, value_w = width * 0.30, width * 0.20
    left = pdf.l_margin + width - label_w - value_w
    rows = [(_("Net amount"), ctx["untaxed"], False)]
    rows += [(f"{name} ({_('base')} {base})", amount, False) for name, base, amount in ctx["tax_summary"]]
    rows.append((_("Total"), ctx["total"], True))
    for label, value, bold in rows:
        pdf.set_x(left)
        pdf.put(label_w, label, bold=bold, align="R", size=10 if bold else 9)
        pdf.put(value_w, value, bold=bold, align="R", size=10 if bold else 9, border="T" if bold else 0)
        pdf.ln(6)
    pdf.ln(4)


def _payment(pdf: InvoicePdf, ctx: dict[str, Any], width: float) -> None:
    invoice = ctx["invoice"]
    if invoice.notes:
        pdf.text_font(9)
        pdf.multi_cell(width, 5, pdf.clean(invoice.notes), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    if not invoice.is_customer or invoice.is_refund:
        return
    pdf.put(width, _("Payment"), bold=True, size=10)
    pdf.ln(6)
    lines = [_("Please pay %(total)s by %(due)s.", total=ctx["total"], due=ctx["due_date"])]
    if ctx["payment_reference"]:
        lines.append(f"{_('Payment reference')}: {ctx['payment_reference']}")
    lines += [line for line in ctx["bank_details"].splitlines() if line.strip()]
    for line in lines:
        pdf.text_font(9)
        pdf.multi_cell(width, 5, pdf.clean(line), align="L", new_x="LMARGIN", new_y="NEXT")
