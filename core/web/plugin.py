"""The shell as a built-in plugin: its pages, the menu's Home and Administration sections, and the
widgets every dashboard has."""
from core.contrib import JinjaExtras, MenuSection
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl
from core.web import routes
from core.web.format import format_value


@hookimpl
def register_blueprints():
    return [routes.create_blueprint()]


@hookimpl
def register_menu_items():
    return [MenuSection("main", _l("Home"), order=0), MenuSection("admin", _l("Administration"), order=900)]


@hookimpl
def register_jinja():
    return JinjaExtras(globals={"format_value": format_value})
