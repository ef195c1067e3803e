"""Accounting's currencies: the currencies, their exchange rates, conversion to the company currency and the
unrealised revaluation at period end; its hooks are in ``plugin.py``."""
