"""Accounting's tax: currencies, exchange rates, taxes, the revaluation and the VAT report; its hooks are in
``plugin.py``."""
