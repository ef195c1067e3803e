"""Accounting: the double-entry ledger, invoices and bills, payments, tax and financial reports."""
