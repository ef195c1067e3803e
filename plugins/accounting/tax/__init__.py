"""Accounting's tax: currencies, exchange rates, taxes, the revaluation and the VAT report."""


def register_routes(bp):
    """Add this area's pages to the ``accounting`` blueprint."""
    from plugins.accounting.tax import routes

    routes.register(bp)


def register_api(api):
    """Add this area's endpoints to the ``/api/v1/accounting`` blueprint."""
    from plugins.accounting.tax import api as tax_api

    tax_api.register(api)


def settings():
    """This area's module settings."""
    return []


def register_commands(group):
    """Add this area's commands to kontor accounting."""
    from plugins.accounting.tax import cli

    cli.register(group)


def load_default_data(session):
    """Load this area's reference data on install: currencies and the company country's taxes."""
    from plugins.accounting.tax import services

    services.load_default_data(session)


def load_demo_data(session, progress):
    """Add this area's demo records: a year of monthly exchange rates for the active currencies."""
    from plugins.accounting.tax import demo

    demo.load(session, progress)


def dashboard_widgets(user):
    """This area's dashboard widgets for user."""
    return []


def record_panels(kind, record, user):
    """This area's panels on a record page."""
    return []


def party_merging(source, target, session):
    """Point this area's references from party source to target (taxes and rates name no party)."""
