"""All of the core's models, imported together so the metadata is complete."""
from core.approvals.models import ApprovalAssignee, ApprovalAway, ApprovalRequest, ApprovalRule, ApprovalStep, ApprovalTask
from core.attachments.models import Attachment
from core.audit.models import AuditHead, AuditRecord
from core.auth.models import ApiToken, LoginThrottle, PermissionRecord, Role, RoleGrant, User, user_roles
from core.company.models import Company, SettingValue
from core.jobs.models import Job
from core.mail.models import MailAttachment, MailMessage
from core.notifications.models import Notification, NotificationChoice
from core.modules.models import ModuleRecord, ModulesRevision
from core.parties.models import Party, Tag, party_tags
from core.rules.models import LookupRow, LookupTable

__all__ = [
    "ApprovalAssignee", "ApprovalAway", "ApprovalRequest", "ApprovalRule", "ApprovalStep", "ApprovalTask",
    "ApiToken", "Attachment", "AuditHead", "AuditRecord", "Company", "Job", "LoginThrottle", "MailAttachment", "MailMessage", "ModuleRecord",
    "ModulesRevision", "Party", "PermissionRecord", "Role", "RoleGrant", "SettingValue", "Tag",
    "User", "party_tags", "user_roles",
    "LookupRow", "LookupTable",
    "Notification", "NotificationChoice",
]
