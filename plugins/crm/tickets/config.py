"""The tickets' settings an admin sets on the module settings page.

They are the core's :class:`~core.Setting` (stored, validated and audited by the core, shown on the
module settings page) like every module's; this file only declares them and reads them typed for
the services (:func:`warn_percent`), so there is no second configuration mechanism. Each company of the group keeps its own value.
"""
from sqlalchemy.orm import Session

from core import lazy_gettext as _l, Setting, setting_values


SETTINGS = [
    Setting("crm.sla_warning_percent", _l("Tickets: about to breach when less than this percentage of a target is left"),
            "20", type="integer",
            help=_l("Applies to tickets created after a change: their warning times are fixed with their due times."),
            scope="company"),
]


def warn_percent(db: Session) -> int:
    """The share of an SLA target (in %) left when a ticket is flagged about to breach."""
    try:
        return max(0, min(100, int(setting_values(db, SETTINGS)["crm.sla_warning_percent"])))
    except ValueError:
        return 20
