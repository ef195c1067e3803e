"""The reports as spreadsheet rows: (columns, rows) pairs for ``core.export_response``."""
from __future__ import annotations

from datetime import date
from itertools import chain

from core import gettext as _

from plugins.accounting.reports import (
    aged as aged_report, general_ledger as ledger_report, statements, trial_balance as trial_balance_report,
)


def trial_balance(report: trial_balance_report.TrialBalance):
    """Columns and rows of a trial balance, with a total row."""
    columns = [("code", _("Code")), ("name", _("Account")), ("opening", _("Opening balance")), ("debit", _("Debit")),
               ("credit", _("Credit")), ("closing", _("Closing balance"))]
    rows = [[row.code, "  " * row.depth + row.name, *row.values] for row in report.rows]
    rows.append(["", _("Total"), *report.totals])
    return columns, rows


def general_ledger(db, account, date_from: date, date_to: date, page_size: int = 5000):
    """Columns and rows of an account's whole ledger for the range (read page by page)."""
    columns = [("date", _("Date")), ("entry", _("Entry")), ("reference", _("Reference")),
               ("description", _("Description")), ("party", _("Party")), ("debit", _("Debit")),
               ("credit", _("Credit")), ("balance", _("Balance")), ("currency", _("Currency")),
               ("amount_currency", _("Amount in currency"))]

    def pages():
        ledger = ledger_report.general_ledger(db, account, date_from, date_to, size=page_size)
        debit, credit, closing = ledger.debit, ledger.credit, ledger.closing
        yield [[None, "", "", _("Opening balance"), "", None, None, ledger.opening, None, None]]
        while True:
            yield [[line.date, line.entry_number, line.reference, line.description, line.party_name, line.debit,
                    line.credit, line.balance, line.currency, line.amount_currency] for line in ledger.lines]
            if not ledger.next_cursor:
                break
            ledger = ledger_report.general_ledger(db, account, date_from, date_to, after=ledger.next_cursor,
                                             size=page_size, totals=False)
        yield [[None, "", "", _("Closing balance"), "", debit, credit, closing, None, None]]

    return columns, chain.from_iterable(pages())


def statement(report: statements.Statement):
    """Columns and rows of a profit and loss statement or balance sheet."""
    columns = [("section", _("Section")), ("code", _("Code")), ("name", _("Account")),
               ("amount", _("%(start)s – %(end)s", start=report.date_from, end=report.date_to))]
    if report.compare:
        columns.append(("compare", _("%(start)s – %(end)s", start=report.compare[0], end=report.compare[1])))
    rows = []
    for section in report.sections:
        rows.extend([section.title, row.code, "  " * row.depth + row.name, *row.values] for row in section.rows)
        rows.append([section.title, "", section.total_title, *section.total])
    if report.kind == "profit_and_loss":
        rows.append(["", "", _("Result"), *report.result])
    return columns, rows


def aged(report: aged_report.AgedReport):
    """Columns and rows of an aged receivables or payables report, with a total row."""
    buckets = [(key, label) for (key, _l, _h), label in zip(aged_report.AGE_BUCKETS, aged_report.bucket_labels())]
    columns = [("party", _("Party")), *buckets, ("total", _("Total"))]
    rows = [[row.party_name or _("No party"), *row.buckets, row.total] for row in report.rows]
    rows.append([_("Total"), *report.totals, report.total])
    return columns, rows


def open_items(items: list[aged_report.OpenItem]):
    """Columns and rows of a party's open items."""
    columns = [("entry", _("Entry")), ("invoice", _("Invoice")), ("description", _("Description")),
               ("date", _("Date")), ("due_date", _("Due date")), ("days_overdue", _("Days overdue")),
               ("open_amount", _("Open amount"))]
    rows = [[i.entry_number, i.invoice_number, i.description, i.date, i.due_date, i.days_overdue, i.open_amount]
            for i in items]
    return columns, rows
