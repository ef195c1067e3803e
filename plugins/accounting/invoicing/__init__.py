"""Accounting's invoicing: customer invoices, supplier bills and credit notes, their posting and
printing; its hooks are in ``plugin.py``."""
