"""Accounting's banking: payments and their allocation to invoices, reconciliation, bank statements
and their matching; its hooks are in ``plugin.py``."""
