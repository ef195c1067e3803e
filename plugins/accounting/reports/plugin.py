"""The reports area's hooks: its dashboard charts and figures, each loaded lazily by htmx."""
from core import Widget, hookimpl, lazy_gettext as _l

from plugins.accounting.permissions import REPORT_READ


@hookimpl
def dashboard_widgets(user):
    """Profit and loss by month, the cash position, receivables and payables due, and cash."""
    return [
        Widget(_l("Profit and loss by month"), REPORT_READ, endpoint="accounting.widget_monthly_result", order=60,
               width=2),
        Widget(_l("Cash position"), REPORT_READ, endpoint="accounting.widget_cash_position", order=61, width=2),
        Widget(_l("Receivables due"), REPORT_READ, endpoint="accounting.widget_receivables", order=62),
        Widget(_l("Payables due"), REPORT_READ, endpoint="accounting.widget_payables", order=63),
        Widget(_l("Cash"), REPORT_READ, endpoint="accounting.widget_cash", order=64),
    ]
