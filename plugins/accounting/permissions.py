"""Accounting's permissions and the roles it installs.

A bookkeeper does everything but move the lock date and close the year; an accountant does all;
an accounting viewer sees the reports only.
"""
from core import Permission, Role, lazy_gettext as _l

ACCOUNT_READ = "accounting.account.read"
ACCOUNT_WRITE = "accounting.account.write"
ENTRY_READ = "accounting.entry.read"
ENTRY_WRITE = "accounting.entry.write"
ENTRY_POST = "accounting.entry.post"
INVOICE_READ = "accounting.invoice.read"
INVOICE_WRITE = "accounting.invoice.write"
INVOICE_POST = "accounting.invoice.post"
INVOICE_SEND = "accounting.invoice.send"
PAYMENT_READ = "accounting.payment.read"
PAYMENT_WRITE = "accounting.payment.write"
BANK_READ = "accounting.bank.read"
BANK_WRITE = "accounting.bank.write"
TAX_MANAGE = "accounting.tax.manage"
CURRENCY_MANAGE = "accounting.currency.manage"
REPORT_READ = "accounting.report.read"
LOCK_MANAGE = "accounting.lock.manage"
YEAR_CLOSE = "accounting.year.close"

BOOKKEEPER = "bookkeeper"
ACCOUNTANT = "accountant"
ACCOUNTING_VIEWER = "accounting_viewer"

ROLES = [
    Role(BOOKKEEPER, _l("Bookkeeper"), _l("Keeps the books: entries, invoices, bills, payments and bank statements.")),
    Role(ACCOUNTANT, _l("Accountant"), _l("Everything a bookkeeper does, plus lock dates and the year-end close.")),
    Role(ACCOUNTING_VIEWER, _l("Accounting viewer"), _l("Reads the financial reports.")),
]

_KEEPERS = (BOOKKEEPER, ACCOUNTANT)
_READERS = (BOOKKEEPER, ACCOUNTANT, ACCOUNTING_VIEWER)
PERMISSIONS = [
    Permission(ACCOUNT_READ, _l("See the chart of accounts and journals"), _KEEPERS),
    Permission(ACCOUNT_WRITE, _l("Change the chart of accounts, journals and fiscal years"), _KEEPERS),
    Permission(ENTRY_READ, _l("See journal entries"), _KEEPERS),
    Permission(ENTRY_WRITE, _l("Write draft journal entries"), _KEEPERS),
    Permission(ENTRY_POST, _l("Post and reverse journal entries"), _KEEPERS),
    Permission(INVOICE_READ, _l("See invoices and bills"), (*_KEEPERS, "staff")),
    Permission(INVOICE_WRITE, _l("Write invoices and bills"), _KEEPERS),
    Permission(INVOICE_POST, _l("Post invoices and bills, and issue credit notes"), _KEEPERS),
    Permission(INVOICE_SEND, _l("E-mail invoices and credit notes to customers"), _KEEPERS),
    Permission(PAYMENT_READ, _l("See payments"), _KEEPERS),
    Permission(PAYMENT_WRITE, _l("Register and reconcile payments"), _KEEPERS),
    Permission(BANK_READ, _l("See bank statements"), _KEEPERS),
    Permission(BANK_WRITE, _l("Import and match bank statements"), _KEEPERS),
    Permission(TAX_MANAGE, _l("Configure taxes"), _KEEPERS),
    Permission(CURRENCY_MANAGE, _l("Maintain currencies and exchange rates"), _KEEPERS),
    Permission(REPORT_READ, _l("See financial reports"), _READERS),
    Permission(LOCK_MANAGE, _l("Move the lock date"), (ACCOUNTANT,)),
    Permission(YEAR_CLOSE, _l("Close and reopen fiscal years"), (ACCOUNTANT,)),
]
