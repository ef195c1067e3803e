"""The tax area's hooks: the company country's taxes on install."""
from core import hookimpl


@hookimpl
def load_default_data(session):
    """The company country's taxes (after the ledger's chart, which they post to)."""
    from plugins.accounting.tax import services

    services.load_default_data(session)
