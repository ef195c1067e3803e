"""The banking area's hooks: demo payments and statements, the lines-to-match widget, the party's
payments panel and merges."""
from core import Panel, Widget, hookimpl, lazy_gettext as _l

from plugins.accounting import permissions


@hookimpl
def load_demo_data(session, progress):
    """The demo payments and the two demo bank statements."""
    from plugins.accounting.banking import demo

    demo.load_demo_data(session, progress)


@hookimpl
def dashboard_widgets(user):
    """The bank statement lines waiting to be matched."""
    return [Widget(_l("Bank lines to match"), permissions.BANK_READ, endpoint="accounting.statements_widget",
                   order=46)]


@hookimpl
def record_panels(kind, record, user):
    """A party's balances and payments on its page (loaded lazily)."""
    if kind != "core.party":
        return []
    return [Panel(_l("Payments"), permissions.PAYMENT_READ, endpoint="accounting.party_payments_panel",
                  endpoint_args={"party_id": record.id}, order=61)]


@hookimpl
def party_merging(source, target, session):
    """Point the reconciliations of party ``source`` to ``target`` (issued payments keep theirs)."""
    from plugins.accounting.banking import services

    services.party_merging(session, source.id, target.id)


@hookimpl
def register_job_kinds():
    """Large bank statements are imported by a job."""
    from plugins.accounting.banking import jobs

    return jobs.job_kinds()
