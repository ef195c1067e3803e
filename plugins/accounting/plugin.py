"""The accounting module's manifest and its contributions to Kontor.

The module is made of areas (ledger, tax, invoicing, banking, reports); each area package exposes
the same small set of functions, and :class:`plugins.areas.AreaHooks` hands the core's hooks to
each in turn.
"""
from core import Manifest, hookimpl

from plugins.accounting import banking, hookspecs, invoicing, ledger, menus, permissions, reports, tax
from plugins.areas import AreaHooks

manifest = Manifest(
    name="accounting",
    title="Accounting",
    version="1.0.0",
    summary="Double-entry ledger, invoices and bills, payments, bank statements, VAT and financial reports.",
    requires_core=">=0.1,<1",
    author="Kontor",
    license="AGPL-3.0-or-later",
    category="Finance",
)

#: The areas, in the order their contributions appear.
AREAS = (ledger, tax, invoicing, banking, reports)

_hooks = AreaHooks(manifest.name, __name__, AREAS, hookspecs=hookspecs, permissions=permissions, menus=menus,
                   command_help="The books: entries, verification, rates, statements and reports.")
globals().update(_hooks.implementations())  # register_blueprints, load_default_data, … as module-level hooks


@hookimpl
def company_locked_fields(session):
    """The company settings the books need kept: the base currency once the ledger holds an entry."""
    return ledger.company_locked_fields(session)


@hookimpl
def register_invariant_checks():
    """Checked by the core at every commit: each posted entry the transaction touched is balanced."""
    from plugins.accounting.ledger.invariants import BALANCED_ENTRIES

    return [BALANCED_ENTRIES]


@hookimpl
def module_uninstalling(name, session, force):
    """Refuse to purge accounting while its posted books are within their retention period, unless forced."""
    if name == manifest.name:
        from plugins.accounting import retention

        retention.check_purge(session, force=force)
