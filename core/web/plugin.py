"""The shell as a built-in plugin: its pages and the widgets every dashboard has."""
from core.contrib import JinjaExtras
from core.plugins import hookimpl
from core.web import routes
from core.web.format import format_value


@hookimpl
def register_blueprints():
    return [routes.create_blueprint()]


@hookimpl
def register_jinja():
    return JinjaExtras(globals={"format_value": format_value})
