"""Accounting's tax: the taxes, the amounts of a line and the VAT report; its hooks are in ``plugin.py``."""
