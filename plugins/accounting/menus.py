"""Accounting's place in the navigation menu."""
from core import MenuItem, lazy_gettext as _l

from plugins.accounting import permissions as p

MENU_ITEMS = [
    MenuItem("main", _l("Invoices"), "accounting.invoices", p.INVOICE_READ, order=40),
    MenuItem("main", _l("Bills"), "accounting.bills", p.INVOICE_READ, order=41),
    MenuItem("main", _l("Payments"), "accounting.payments", p.PAYMENT_READ, order=42),
    MenuItem("main", _l("Bank statements"), "accounting.statements", p.BANK_READ, order=43),
    MenuItem("main", _l("Journal entries"), "accounting.entries", p.ENTRY_READ, order=44),
    MenuItem("main", _l("Reports"), "accounting.reports", p.REPORT_READ, order=45),
    MenuItem("main", _l("Chart of accounts"), "accounting.accounts", p.ACCOUNT_READ, order=46),
    MenuItem("main", _l("Taxes and currencies"), "accounting.taxes", p.TAX_MANAGE, order=47),
]
