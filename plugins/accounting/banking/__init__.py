"""Accounting's banking: what this area contributes to the module (see plugins/accounting/plugin.py)."""
from core import Panel, Widget, lazy_gettext as _l


def register_routes(bp):
    """Add this area's pages to the ``accounting`` blueprint."""
    from plugins.accounting.banking import routes

    routes.register_routes(bp)


def register_api(api):
    """Add this area's endpoints to the ``/api/v1/accounting`` blueprint."""
    from plugins.accounting.banking import api as banking_api

    banking_api.register_api(api)


def settings():
    """This area's module settings."""
    return []


def register_commands(group):
    """Add this area's commands to kontor accounting."""
    from plugins.accounting.banking import cli

    group.add_command(cli.statement_group)


def load_default_data(session):
    """Load this area's reference data on install."""


def load_demo_data(session, progress):
    """Add this area's demo records."""
    from plugins.accounting.banking import demo

    demo.load_demo_data(session, progress)


def dashboard_widgets(user):
    """This area's dashboard widgets for user: the bank statement lines waiting to be matched."""
    from plugins.accounting import permissions

    return [Widget(_l("Bank lines to match"), permissions.BANK_READ, endpoint="accounting.statements_widget",
                   order=46)]


def record_panels(kind, record, user):
    """This area's panels on a record page: the party's balances and payments (loaded lazily)."""
    if kind != "party":
        return []
    from plugins.accounting import permissions

    return [Panel(_l("Payments"), permissions.PAYMENT_READ, endpoint="accounting.party_payments_panel",
                  endpoint_args={"party_id": record.id}, order=61)]


def party_merging(source, target, session):
    """Point this area's references from party source to target."""
    from plugins.accounting.banking import services

    services.party_merging(session, source.id, target.id)
