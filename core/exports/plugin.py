"""Large exports as a built-in plugin: the ``core.export`` job kind, the export's page and its download."""
from core.contrib import JobKind
from core.exports import jobs, routes
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl


@hookimpl
def register_blueprints():
    return [routes.create_blueprint()]


@hookimpl
def register_job_kinds():
    # no permission of its own: the replayed page checks the list's, as the user who asked
    return [JobKind(jobs.EXPORT_KIND, run=jobs.export_job, title=_l("Export a list"), max_attempts=2)]
