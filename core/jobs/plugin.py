"""Background jobs as a built-in plugin: the permission, the pages, the API, the menu item, the commands."""
from sqlalchemy import select

from core.contrib import JinjaExtras, MenuItem, Permission
from core.i18n import lazy_gettext as _l
from core.jobs import api, cli, routes
from core.jobs.services import MANAGE
from core.plugins import hookimpl


@hookimpl
def register_permissions():
    return [Permission(MANAGE, _l("See and handle everyone's background jobs (retry, cancel)"))]


@hookimpl
def register_blueprints():
    return [routes.create_blueprint()]


@hookimpl
def register_api():
    return [api.create_blueprint()]


@hookimpl
def register_menu_items():
    return [MenuItem("admin", _l("Jobs"), "jobs.job_list", MANAGE, order=95)]


@hookimpl
def register_commands():
    return [cli.worker_command, cli.jobs_group]


def _user_name(user_id):
    """The name of the user who asked for a job ("system" for a scheduled one)."""
    from core.auth.models import User
    from core.db import session
    from core.i18n import gettext

    if user_id is None:
        return gettext("System")
    return session.execute(select(User.username).where(User.id == user_id)).scalar() or f"#{user_id}"


@hookimpl
def register_jinja():
    from core.jobs.services import job_title, show_result

    return JinjaExtras(globals={"job_status_label": routes.status_label, "job_user_name": _user_name,
                                "job_title": job_title}, filters={"job_value": show_result})
