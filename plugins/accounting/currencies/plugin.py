"""The currencies area's hooks: the currencies on install, demo exchange rates."""
from core import hookimpl

from plugins.accounting.currencies import models  # noqa: F401  (the tables, for the metadata)


@hookimpl
def load_default_data(session):
    """The currencies of ``data/currencies.csv`` and the company currency (before the documents that use them)."""
    from plugins.accounting.currencies import services

    services.load_default_currencies(session)


@hookimpl
def load_demo_data(session, progress):
    """A year of monthly exchange rates for the active currencies."""
    from plugins.accounting.currencies import demo

    demo.load(session, progress)


@hookimpl
def register_job_kinds():
    """The exchange-rate revaluation runs as a job."""
    from plugins.accounting.currencies import jobs

    return jobs.job_kinds()
