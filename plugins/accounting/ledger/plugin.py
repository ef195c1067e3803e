"""The ledger's hooks: the default chart and journals, demo entries, party merges, the company
fields the books keep, and the balanced-entry check at every commit."""
from core import hookimpl

from plugins.accounting.ledger import guards
from plugins.accounting.tax import models as _tax_models  # noqa: F401  (ledger lines refer to accounting_tax)

guards.install()


@hookimpl(tryfirst=True)
def load_default_data(session):
    """The generic chart, the journals, two fiscal years and the default accounts: the other areas'
    reference data posts to these accounts, so they come first."""
    from plugins.accounting.ledger import setup

    setup.load_default_data(session)


@hookimpl
def accounting_account_roles():
    """The accounts accounting itself posts to: receivable, payable, retained earnings, exchange
    gains and losses, rounding, VAT, and sales and purchases lines without an account."""
    from plugins.accounting.ledger.roles import ACCOUNTING_ROLES

    return list(ACCOUNTING_ROLES)


@hookimpl
def load_demo_data(session, progress):
    """The demo's general entries."""
    from plugins.accounting.ledger import demo

    demo.load(session, progress)


@hookimpl
def party_merging(source, target, session):
    """Move the draft lines of party ``source`` to ``target`` (posted lines keep theirs)."""
    from plugins.accounting.ledger import merging

    merging.party_merging(source, target, session)


@hookimpl
def company_locked_fields(session):
    """The company settings the books need kept: the base currency once the ledger holds an entry."""
    from plugins.accounting.ledger import services

    return services.locked_company_fields(session)


@hookimpl
def register_invariant_checks():
    """Checked by the core at every commit: each posted entry the transaction touched is balanced."""
    from plugins.accounting.ledger.invariants import BALANCED_ENTRIES

    return [BALANCED_ENTRIES]
