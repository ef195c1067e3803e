"""Accounting's place in the navigation menu."""
from core import MenuItem, MenuSection, lazy_gettext as _l

from plugins.accounting import permissions as p

MENU_ITEMS = [
    MenuSection("accounting", _l("Accounting"), order=400),
    MenuItem("accounting", _l("Invoices"), "accounting.invoices", p.INVOICE_READ, order=40),
    MenuItem("accounting", _l("Bills"), "accounting.bills", p.INVOICE_READ, order=41),
    MenuItem("accounting", _l("Payments"), "accounting.payments", p.PAYMENT_READ, order=42),
    MenuItem("accounting", _l("Bank statements"), "accounting.statements", p.BANK_READ, order=43),
    MenuItem("accounting", _l("Journal entries"), "accounting.entries", p.ENTRY_READ, order=44),
    MenuItem("accounting", _l("Reports"), "accounting.reports", p.REPORT_READ, order=45),
    MenuItem("accounting", _l("Chart of accounts"), "accounting.accounts", p.ACCOUNT_READ, order=46),
    MenuItem("accounting", _l("Taxes and currencies"), "accounting.taxes", p.TAX_MANAGE, order=47),
    MenuItem("accounting", _l("Settings"), "accounting.account_roles", p.ACCOUNT_READ, order=48),
]
