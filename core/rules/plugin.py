"""Rules as a built-in plugin: the permission, Administration → Lookup tables and Rule kinds, the
rule editor's Jinja helper, the API and the ``kontor rules`` commands."""
from core.contrib import JinjaExtras, MenuItem
from core.i18n import lazy_gettext as _l
from core.plugins import hookimpl
from core.rules import api, cli, routes
from core.rules.permissions import MANAGE, PERMISSIONS
from core.rules.services import plain
from core.rules.trying import display_value, editor_for


@hookimpl
def register_permissions():
    return PERMISSIONS


@hookimpl
def register_blueprints():
    return [routes.bp]


@hookimpl
def register_api():
    return [api.bp]


@hookimpl
def register_menu_items():
    return [MenuItem("admin", _l("Lookup tables"), "rules.table_list", MANAGE, order=46),
            MenuItem("admin", _l("Rule kinds"), "rules.kind_list", MANAGE, order=47)]


@hookimpl
def register_jinja():
    return JinjaExtras(globals={"rule_editor": editor_for}, filters={"rule_value": display_value, "plain_number": plain})


@hookimpl
def register_commands():
    return [cli.rules_group]
