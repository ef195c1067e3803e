"""Accounting's reports: what this area contributes to the module (see plugins/accounting/plugin.py)."""
from core import Widget, lazy_gettext as _l

from plugins.accounting.permissions import REPORT_READ


def register_routes(bp):
    """Add this area's pages to the ``accounting`` blueprint."""
    from plugins.accounting.reports import routes

    routes.register(bp)


def register_api(api):
    """Add this area's endpoints to the ``/api/v1/accounting`` blueprint."""
    from plugins.accounting.reports import api as reports_api

    reports_api.register(api)


def settings():
    """This area's module settings."""
    return []


def register_commands(group):
    """Add this area's commands to kontor accounting."""
    from plugins.accounting.reports import cli

    cli.register(group)


def load_default_data(session):
    """Load this area's reference data on install."""


def load_demo_data(session, progress):
    """Add this area's demo records."""


def dashboard_widgets(user):
    """This area's dashboard widgets for user: charts and figures, each loaded lazily by htmx."""
    return [
        Widget(_l("Profit and loss by month"), REPORT_READ, endpoint="accounting.widget_monthly_result", order=60,
               width=2),
        Widget(_l("Cash position"), REPORT_READ, endpoint="accounting.widget_cash_position", order=61, width=2),
        Widget(_l("Receivables due"), REPORT_READ, endpoint="accounting.widget_receivables", order=62),
        Widget(_l("Payables due"), REPORT_READ, endpoint="accounting.widget_payables", order=63),
        Widget(_l("Cash"), REPORT_READ, endpoint="accounting.widget_cash", order=64),
    ]


def record_panels(kind, record, user):
    """This area's panels on a record page."""
    return []


def party_merging(source, target, session):
    """Point this area's references from party source to target."""
