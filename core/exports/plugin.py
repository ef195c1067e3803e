"""Large exports as a built-in plugin: the ``core.export`` job kind, the export's page and its download."""
from core.contrib import JobKind, Schedule
from core.exports import jobs, routes
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_blueprints():
    return [routes.create_blueprint()]


@hookimpl
def register_job_kinds():
    # no permission of its own: the replayed page checks the list's, as the user who asked
    return [JobKind(jobs.EXPORT_KIND, run=jobs.export_job, title=_l("Export a list"), max_attempts=2),
            JobKind(jobs.PRUNE_KIND, run=jobs.prune_exports, title=_l("Delete old export files"))]


@hookimpl
def register_schedules():
    return [Schedule("core.prune_exports", kind=jobs.PRUNE_KIND, cron="30 3 * * *", per_company=False)]
