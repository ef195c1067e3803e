"""Accounting's ledger: what this area contributes to the module (see plugins/accounting/plugin.py)."""
from plugins.accounting.ledger import guards
from plugins.accounting.tax import models as _tax_models  # noqa: F401  (lines refer to accounting_tax)

guards.install()


def register_routes(bp):
    """Add this area's pages to the ``accounting`` blueprint."""
    from plugins.accounting.ledger import routes
    routes.register(bp)


def register_api(api):
    """Add this area's endpoints to the ``/api/v1/accounting`` blueprint."""
    from plugins.accounting.ledger import api as ledger_api
    ledger_api.register(api)


def settings():
    """This area's module settings."""
    return []


def register_commands(group):
    """Add this area's commands to kontor accounting."""
    from plugins.accounting.ledger import cli
    cli.register(group)


def load_default_data(session):
    """Load this area's reference data on install."""
    from plugins.accounting.ledger import setup
    setup.load_default_data(session)


def load_demo_data(session, progress):
    """Add this area's demo records."""
    from plugins.accounting.ledger import demo
    demo.load(session, progress)


def dashboard_widgets(user):
    """This area's dashboard widgets for user."""
    return []


def record_panels(kind, record, user):
    """This area's panels on a record page."""
    return []


def party_merging(source, target, session):
    """Point this area's references from party source to target."""
    from plugins.accounting.ledger import merging
    merging.party_merging(source, target, session)


def company_locked_fields(session):
    """The company settings the ledger needs kept as they are (the core's ``company_locked_fields``)."""
    from plugins.accounting.ledger import services
    return services.locked_company_fields(session)
