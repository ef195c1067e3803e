"""Every hook the core offers to plugins, grouped by the phase in which it is called.

A hook returns plain data (lists of the small dataclasses in :mod:`core.contrib`); the core does
the wiring. An implementation may take any subset of a hook's arguments.
"""
import pluggy

hookspec = pluggy.HookspecMarker("kontor")


# -- Registration: called each time the app is built for the current set of enabled modules --


@hookspec
def register_blueprints():
    """Return a list of Flask Blueprints with the module's pages (created anew on each call)."""


@hookspec
def register_api():
    """Return a list of Blueprints holding the module's JSON endpoints under /api/v1/<module>."""


@hookspec
def register_permissions():
    """Return a list of :class:`~core.contrib.Permission` the module's routes and data need."""


@hookspec
def register_roles():
    """Return a list of :class:`~core.contrib.Role` the module creates when installed."""


@hookspec
def register_menu_items():
    """Return a list of :class:`~core.contrib.MenuItem` for the navigation menu, and the
    :class:`~core.contrib.MenuSection` they go into when the module has a section of its own."""


@hookspec
def register_migrations():
    """Return the folder holding the module's Alembic revisions (its own branch)."""


@hookspec
def register_settings():
    """Return a list of :class:`~core.contrib.Setting` an admin can change."""


@hookspec
def register_commands():
    """Return a list of click commands or groups added to the ``kontor`` CLI."""


@hookspec
def register_jinja():
    """Return a :class:`~core.contrib.JinjaExtras` with template filters, globals and tests."""


@hookspec
def register_invariant_checks():
    """Return a list of :class:`~core.InvariantCheck` that must hold whenever a transaction commits.

    Each check runs at the commit of every business operation that changed something it
    ``watches``, after the operation's services and hooks, before anything is committed; it gets
    the session and the transaction's :class:`~core.invariants.Changes` and returns ``None`` when
    its rule holds, else a translated sentence. A failing check refuses the commit with
    :class:`~core.InvariantError` (409): the whole operation is rolled back, the API answers
    problem+json and a page shows the sentence.
    """


@hookspec
def register_record_rules():
    """Return :class:`core.RecordRule` values: which rows of a model an actor may read.

    The core applies every rule to every ORM query that reads the model (lists, search, detail,
    exports, reports, panels, the API, jobs), with the company scope, so no path can skip it.
    """


@hookspec
def register_job_kinds():
    """Return a list of :class:`core.JobKind`: the background jobs the module runs.

    A job is started with :func:`core.start_job` in a business transaction and runs in a worker
    (``kontor worker``) after the commit, as the user who asked, in their company; the job's
    ``run`` reports progress with ``job.progress(done, total, message)``.
    """


@hookspec
def register_schedules():
    """Return a list of :class:`core.Schedule`: job kinds the scheduler starts periodically.

    Exactly one job is started per tick of a schedule (and per company for a per-company schedule),
    however many schedulers run; its kind must be registered with :func:`register_job_kinds`.
    """


@hookspec
def register_attachables():
    """Return :class:`core.Attachable` values: the kinds of record whose pages take attachments.

    The core adds an Attachments panel to the page of each such record (list, upload, download,
    delete) and the ``/api/v1/attachments`` endpoints, guarded by the record's own permissions.
    """


@hookspec
def register_rule_kinds():
    """Return :class:`core.RuleKind` values: the kinds of rule the module lets an admin write.

    A rule is text in the core's rule language, compiled and type-checked against its kind's
    variables when saved (:func:`core.compile_rule`), evaluated with exact decimals, never Python.
    """


@hookspec
def register_notification_kinds():
    """Return :class:`core.NotificationKind` values: the notifications the module sends.

    Each user chooses per kind how it reaches them (inbox, e-mail at once, daily digest); the module
    sends with :func:`core.notify`, which skips recipients who may not read the record.
    """


@hookspec
def register_approvables():
    """Return :class:`core.Approvable` values: the kinds of record that may need approval.

    An admin writes approval rules for a kind (a condition over its ``fields`` and a chain of
    steps); the module asks with :func:`core.request_approval` and learns the outcome through
    :func:`approval_decided`.
    """


@hookspec
def register_hookspecs():
    """Return a module (or class) of hookspecs the plugin offers to others, prefixed <module>_."""


# -- Lifecycle: called by install, upgrade and purge, inside their transaction --


@hookspec
def load_default_data(session):
    """Load the module's reference data into ``session`` for the current company.

    Called once per company when the module is installed (inside that company's scope:
    ``core.get_company(session)`` is the company to load for, and new per-company records belong
    to it), and for every enabled module when a company is created. Load in the company's language
    and for its country. Raising aborts the whole install (or the company's creation).
    """


@hookspec
def module_installed(name, session):
    """React to module ``name`` having been installed (called on every enabled module)."""


@hookspec
def module_uninstalling(name, session, force):
    """Veto or prepare the purge of module ``name``: raise :class:`core.ModuleError` to refuse.

    ``force`` is True when the admin explicitly asked to purge even though records would be lost
    (audited); a module may then let a veto it allows overriding pass.
    """


@hookspec
def load_demo_data(session, progress):
    """Add the module's demo records; call ``progress(n)`` as work advances (``kontor demo``)."""


# -- Master data: called while the core changes or shows its shared records --


@hookspec
def company_locked_fields(session):
    """Return ``{field: reason}`` for the current company's settings the module needs kept as they are.

    Called by the company settings page (a locked field is shown read-only with its reason) and
    by every change of the company (a change to a locked field is refused: 409 naming the field
    in the API, an error beside it in the form). ``reason`` is a translated sentence. Return an
    empty dict when nothing is locked; the reasons of all modules are merged.
    """


# -- Request and UI: called while a page is rendered --


@hookspec
def dashboard_widgets(user):
    """Return a list of :class:`~core.contrib.Widget` for ``user``'s dashboard."""


@hookspec
def record_panels(kind, record, user):
    """Return a list of :class:`~core.contrib.Panel` for the page of ``record`` of ``kind``.

    ``kind`` is namespaced by the module owning the page (``core.party``, ``accounting.invoice``,
    ``crm.opportunity``). The core keeps the panels the user may see and renders them, lazily
    (an ``endpoint``) unless a template panel declares ``inline=True``.
    """


@hookspec
def record_actions(kind, record, user):
    """Return a list of :class:`~core.contrib.Action` buttons for the page of ``record`` of ``kind``
    (the kinds of :func:`record_panels`); the core keeps those the user may use."""


# -- Domain events: called inside the transaction of the change they announce --


@hookspec
def party_merging(source, target, session):
    """Point the module's references from party ``source`` to ``target`` before ``source`` is retired."""


@hookspec
def job_ended(job, session):
    """React to background ``job`` (a :class:`core.Job`) having finished or failed for good.

    Called by the worker after the outcome is committed, in a transaction of its own: what the
    hook does cannot change the outcome, and raising only rolls back the hook's own work (logged).
    ``job.status`` is ``"done"`` or ``"failed"``; ``job.user_id`` is None for the system's jobs.
    """


@hookspec
def approval_decided(kind, record, state, session):
    """React to the approval of ``record`` of ``kind`` reaching ``state``, in the same transaction.

    ``state`` is ``"approved"``, ``"rejected"``, ``"reset"`` (a field a condition reads changed:
    asked again) or ``"recalled"`` (withdrawn by the requester). The module decides what this
    unlocks (post the bill, confirm the order); raising refuses the decision and rolls it back.
    """
