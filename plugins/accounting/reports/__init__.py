"""Accounting's reports: trial balance, general ledger, profit and loss, balance sheet, aged
receivables and payables, and the dashboard's figures; its hooks are in ``plugin.py``."""
