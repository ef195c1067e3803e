"""Notifications as a built-in plugin: the core's kinds, the digest job and its schedule, the pages, API and command."""
from core.contrib import JobKind, NotificationKind, Schedule
from core.i18n import lazy_gettext as _l
from core.notifications import api, cli, jobs, routes
from core.plugins import hookimpl


@hookimpl
def register_notification_kinds():
    return [NotificationKind(jobs.JOB_DONE, _l("A job I asked for has finished")),
            NotificationKind(jobs.JOB_FAILED, _l("A job I asked for has failed"))]


@hookimpl
def register_job_kinds():
    return [JobKind(jobs.DIGEST_KIND, run=jobs.digest_job, title=_l("Send the daily notification digests"))]


@hookimpl
def register_schedules():
    return [Schedule("core.notification_digest", kind=jobs.DIGEST_KIND, cron="0 7 * * *", per_company=False,
                     title=_l("Daily notification digest"))]


@hookimpl
def job_ended(job, session):
    jobs.tell_who_asked(session, job)


@hookimpl
def register_blueprints():
    return [routes.bp]


@hookimpl
def register_api():
    return [api.create_blueprint()]


@hookimpl
def register_commands():
    return [cli.notifications_group]
