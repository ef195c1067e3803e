"""The tax area's hooks: currencies and the company country's taxes on install, demo exchange rates."""
from core import hookimpl


@hookimpl
def load_default_data(session):
    """The currencies and the company country's taxes (after the ledger's chart, which they post to)."""
    from plugins.accounting.tax import services

    services.load_default_data(session)


@hookimpl
def load_demo_data(session, progress):
    """A year of monthly exchange rates for the active currencies."""
    from plugins.accounting.tax import demo

    demo.load(session, progress)
