"""Accounting's invoicing: what this area contributes to the module (see plugins/accounting/plugin.py)."""
from core import Panel, has_permission, lazy_gettext as _l


def register_routes(bp):
    """Add this area's pages to the ``accounting`` blueprint."""
    from plugins.accounting.invoicing import routes

    routes.register(bp)


def register_api(api):
    """Add this area's endpoints to the ``/api/v1/accounting`` blueprint."""
    from plugins.accounting.invoicing import api as invoice_api

    invoice_api.register(api)


def settings():
    """This area's module settings."""
    from plugins.accounting.invoicing.printing import BANK_DETAILS
    from plugins.accounting.retention import RETENTION_YEARS

    return [BANK_DETAILS, RETENTION_YEARS]


def register_commands(group):
    """Add this area's commands to kontor accounting."""


def load_default_data(session):
    """Load this area's reference data on install."""


def load_demo_data(session, progress):
    """Add this area's demo records."""
    from plugins.accounting.invoicing import demo

    demo.load(session, progress)


def dashboard_widgets(user):
    """This area's dashboard widgets for user."""
    return []


def record_panels(kind, record, user):
    """This area's panels on a record page."""
    from plugins.accounting.permissions import INVOICE_READ

    if kind != "party" or not has_permission(INVOICE_READ):
        return []
    return [Panel(_l("Invoices and bills"), INVOICE_READ, endpoint="accounting.party_invoices_panel",
                  endpoint_args={"party_id": record.id}, order=40)]


def party_merging(source, target, session):
    """Point this area's references from party source to target."""
    from plugins.accounting.invoicing import services

    services.repoint_party(session, source.id, target.id)
