"""The CRM's pipeline: what this area contributes to the module (see plugins/crm/plugin.py)."""


def register_routes(bp):
    """Add this area's pages to the crm blueprint."""


def register_api(api):
    """Add this area's endpoints to the /api/v1/crm blueprint."""


def settings():
    """This area's module settings."""
    return []


def register_commands(group):
    """Add this area's commands to kontor crm."""


def load_default_data(session):
    """Load this area's reference data on install."""


def load_demo_data(session, progress):
    """Add this area's demo records."""


def dashboard_widgets(user):
    """This area's dashboard widgets for user."""
    return []


def record_panels(kind, record, user):
    """This area's panels on a record page."""
    return []


def party_merging(source, target, session):
    """Point this area's references from party source to target."""
