"""Accounting's ledger: the chart of accounts, journals, fiscal years and the lock date, and journal
entries (drafts, posting, reversal, the hash chain); its hooks are in ``plugin.py``."""
