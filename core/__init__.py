"""Kontor's core: the public API that plugins import.

A plugin imports from ``core`` alone, never from the core's submodules::

    from core import hookimpl, Manifest, Permission, MenuItem, Base, Money, require, render
"""
from core.version import __version__

from core.actor import Actor, acting, acting_as, current_actor
from core.api.base import (ApiBlueprint, ApiError, documented, json_object, json_response, load_body, load_query, paged,
                           problem, problem_for, record_id_field, refusal)
from core.api.schema import BoundedList, MoneyField, Schema, validate_country, validate_currency
from core.audit.recorder import lock_audit_chain, record_event, write_records
from core.contrib import Action, JinjaExtras, JobKind, MenuItem, MenuSection, Panel, Permission, RecordRule, Role, Schedule, Setting, Widget
from core.db import Base, Money, Percent, Quantity, UTCDateTime, session, utcnow
from core.errors import Conflict, Forbidden, InvalidInput, KontorError, ModuleError, NotFound, Unavailable
from core.i18n import N_, gettext, lazy_gettext, ngettext
from core.jobs.context import JobCancelled, JobContext
from core.jobs.models import Job
from core.jobs.services import latest_job, start_job
from core.invariants import Changes, InvariantCheck, InvariantError, note_changed
from core.plugins import Manifest, NoApplication, hookimpl, hooks, import_areas
from core.security import PUBLIC, SIGNED_IN, cross_site, has_permission, public, require, signed_in
from core.imports import CsvFile, map_rows, read_csv
from core.web import charts
from core.web.export import export_response
from core.web.format import parse_amount
from core.web.listing import Column, Page, keyset_page
from core.web.shell import contributions, is_partial_request, render
from core.web.transaction import cli_refusal, redirect_to, transaction

# The platform's master data that modules build on: users, the company, parties and tags.
from core.auth.models import User
from core.auth.services import create_user
from core.company.models import Company
from core.company.scope import CompanyScoped, all_companies, current_company_id, in_company, scope_companies
from core.company.services import company_member_ids, get_company, list_companies, setting_values, update_settings
from core.parties.models import Party, Tag, tag_key
from core.mail.message import MailFile
from core.mail.models import MailMessage
from core.mail.services import deliver_mail, mail_messages, queue_mail, send_mail
from core.mail.services import save_settings as save_mail_settings
from core.mail.settings import mail_config, mail_configured
from core.parties.schemas import TagList, normalise_vat_id, validate_email, validate_vat_id
from core.parties.schemas import load as load_input
from core.parties.services import create_party, get_party, search_parties, tags_named, update_party
# files: the storage service, and the kinds of record that take attachments
from core.contrib import Attachable
from core.filestore import storage
# rules, approvals and notifications: what a module declares (the services are exported beside them)
from core.contrib import Approvable, NotificationKind, RuleKind, RuleVariable
from core.approvals.services import (approval_state, approve, awaiting, delegate, recall, record_changed, reject,
                                     request_approval, require_approval)
# a module's demo or default data may hold approval rules (written as an admin would, with the permission)
from core.approvals.chains import save_rule as save_approval_rule
from core.rules.engine import CompiledRule, Explanation, RuleEvaluationError, compile_rule
from core.rules.registry import rule_kinds
from core.notifications.models import Notification
from core.notifications.services import notify

__all__ = [
    "Attachable", "storage",
    "Approvable", "NotificationKind", "RuleKind", "RuleVariable",
    "approval_state", "approve", "awaiting", "delegate", "recall", "record_changed", "reject", "request_approval",
    "require_approval", "save_approval_rule",
    "CompiledRule", "Explanation", "RuleEvaluationError", "compile_rule", "rule_kinds",
    "Notification", "notify",
    "__version__", "Action", "Job", "JobCancelled", "JobContext", "JobKind", "Schedule", "latest_job", "start_job", "CompanyScoped", "RecordRule", "all_companies", "current_company_id", "in_company",
    "list_companies", "company_member_ids", "scope_companies", "import_areas", "Actor", "ApiBlueprint", "acting", "acting_as", "current_actor", "ApiError", "Base", "BoundedList", "Changes", "InvariantCheck",
    "InvariantError", "NoApplication", "note_changed", "MoneyField", "Schema",
    "validate_country", "validate_currency", "Column", "Company", "CsvFile",
    "JinjaExtras", "KontorError", "Manifest", "MenuItem", "ModuleError", "Money", "N_", "NotFound",
    "MenuSection", "PUBLIC", "Page", "Panel", "Party", "Percent", "Permission", "Quantity", "Role", "SIGNED_IN", "Setting", "Tag", "UTCDateTime",
    "User", "Widget", "charts", "contributions", "create_party", "create_user", "cross_site", "documented",
    "export_response", "get_company", "get_party", "gettext", "has_permission", "hookimpl", "hooks",
    "json_response", "keyset_page", "lazy_gettext", "lock_audit_chain", "load_body", "load_query", "map_rows", "ngettext",
    "paged", "parse_amount", "problem", "public", "read_csv", "record_event", "render", "require", "search_parties",
    "session", "setting_values", "signed_in", "tag_key", "tags_named", "update_party", "update_settings", "utcnow", "write_records",
    # errors and transactions: the typed refusals, their one mapping, and the unit of work
    "Conflict", "Forbidden", "InvalidInput", "Unavailable", "cli_refusal", "is_partial_request", "json_object",
    "load_input", "normalise_vat_id", "problem_for", "record_id_field", "redirect_to", "refusal", "TagList",
    "transaction", "validate_email", "validate_vat_id",
    # outgoing mail: one message through a job, or many queued and delivered by the caller's job
    "MailFile", "MailMessage", "deliver_mail", "mail_config", "mail_configured", "mail_messages", "queue_mail",
    "save_mail_settings", "send_mail",
]
