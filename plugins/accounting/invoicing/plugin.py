"""The invoicing area's hooks: the bank details setting, demo invoices, the party panel and merges,
intercompany invoicing (:mod:`plugins.accounting.invoicing.intercompany`) and supplier bills as an
approvable kind (:mod:`plugins.accounting.invoicing.approvals`)."""
from core import Action, Panel, has_permission, hookimpl, lazy_gettext as _l, session as db

from plugins.accounting.invoicing import approvals
from plugins.accounting.permissions import INVOICE_READ, INVOICE_WRITE
# intercompany invoicing: its account roles and accounts, the mirrored bill of a posted sale, its panel
from plugins.accounting.invoicing.intercompany import (  # noqa: F401  (hook implementations)
    intercompany_account_roles, intercompany_default_accounts, intercompany_panel, mirror_posted_invoice,
)


@hookimpl
def register_settings():
    """The bank details printed on invoices."""
    from plugins.accounting.invoicing.printing import BANK_DETAILS

    return [BANK_DETAILS]


@hookimpl
def load_demo_data(session, progress):
    """A year of invoices, bills and credit notes."""
    from plugins.accounting.invoicing import demo

    demo.load(session, progress)


@hookimpl
def record_panels(kind, record, user):
    """A party's invoices and bills on its page, and the mail sent about a customer invoice on its
    page (loaded lazily)."""
    if not has_permission(INVOICE_READ):
        return []
    if kind == "core.party":
        return [Panel(_l("Invoices and bills"), INVOICE_READ, endpoint="accounting.party_invoices_panel",
                      endpoint_args={"party_id": record.id}, order=40)]
    if kind == "accounting.invoice" and record.is_customer:
        return [Panel(_l("E-mail"), INVOICE_READ, endpoint="accounting.invoice_mail_panel",
                      endpoint_args={"invoice_id": record.id}, order=50)]
    return []


@hookimpl
def party_merging(source, target, session):
    """Point invoices and bills from party ``source`` to ``target``."""
    from plugins.accounting.invoicing import services

    services.repoint_party(session, source.id, target.id)


@hookimpl
def register_approvables():
    """Supplier bills: an admin's rules may ask approval of a bill before it is posted."""
    return [approvals.APPROVABLE]


@hookimpl
def record_actions(kind, record, user):
    """"Request approval" on a draft bill an approval rule applies to (shown beside the Approval panel,
    which the bill's page asks for under the approvable kind ``accounting.bill``)."""
    if kind != approvals.KIND or not approvals.may_request(db, record, user):
        return []
    return [Action(_l("Request approval"), "accounting.bill_request_approval", INVOICE_WRITE,
                   endpoint_args={"invoice_id": record.id}, post=True, order=20)]
