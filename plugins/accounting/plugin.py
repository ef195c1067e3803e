"""The accounting module's manifest and its module-wide hooks.

The module is made of areas (ledger, currencies, tax, invoicing, banking, reports), each an ordinary plugin of
the module in its ``<area>/plugin.py``. Here: the permissions, roles and menu, the migrations, the
hooks it offers other modules, the one blueprint of pages and of endpoints and the one command
group the areas share, the retention setting and the purge guard.
"""
from pathlib import Path

from core import Manifest, hookimpl, import_areas

from plugins.accounting import cli, hookspecs, menus, permissions, web

manifest = Manifest(
    name="accounting",
    title="Accounting",
    version="1.0.0",
    summary="Double-entry ledger, invoices and bills, payments, bank statements, VAT and financial reports.",
    requires_core=">=0.1,<1",
    author="Kontor",
    license="AGPL-3.0-or-later",
    category="Finance",
    areas=("ledger", "currencies", "tax", "invoicing", "banking", "reports"),
)


@hookimpl
def register_hookspecs():
    """The hooks accounting offers other modules (an entry or invoice posted, an invoice paid …)."""
    return hookspecs


@hookimpl
def register_permissions():
    return permissions.PERMISSIONS


@hookimpl
def register_roles():
    return permissions.ROLES


@hookimpl
def register_menu_items():
    return menus.MENU_ITEMS


@hookimpl
def register_migrations():
    return Path(__file__).parent / "migrations"


@hookimpl
def register_blueprints():
    """The pages of every area, declared on the one ``accounting`` blueprint."""
    import_areas(__package__, manifest, "routes")
    return [web.bp]


@hookimpl
def register_api():
    """The endpoints of every area, declared on the one ``api_accounting`` blueprint under /api/v1/accounting."""
    import_areas(__package__, manifest, "api")
    return [web.api]


@hookimpl
def register_commands():
    """``kontor accounting``: the commands of every area, declared on one group."""
    import_areas(__package__, manifest, "cli")
    return [cli.group]


@hookimpl
def register_settings():
    """How many years posted books are kept (the purge refuses to drop them sooner)."""
    from plugins.accounting.retention import RETENTION_YEARS

    return [RETENTION_YEARS]


@hookimpl
def module_uninstalling(name, session, force):
    """Refuse to purge accounting while its posted books are within their retention period, unless forced."""
    if name == manifest.name:
        from plugins.accounting import retention

        retention.check_purge(session, force=force)


@hookimpl
def register_attachables():
    """Invoices and supplier bills take attachments (a scanned bill, a signed delivery note)."""
    from core import Attachable
    from plugins.accounting.invoicing.models import Invoice

    return [Attachable("accounting.invoice", Invoice, permissions.INVOICE_READ, permissions.INVOICE_WRITE)]
