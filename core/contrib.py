"""The small, plain values that plugins return from their hooks; the core does the wiring."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable


@dataclass(frozen=True)
class Permission:
    """A right a module contributes, named ``<module>.<object>.<action>``.

    ``default_roles`` names the roles the permission is granted to when the module is installed.
    """

    name: str
    description: str
    default_roles: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class Role:
    """A role a module creates on install (kept when it already exists)."""

    name: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class MenuItem:
    """An entry of the navigation menu, shown only to users holding ``permission``."""

    section: str
    label: str
    endpoint: str
    permission: str
    order: int = 100
    icon: str = ""


@dataclass(frozen=True)
class RecordRule:
    """A module's record rule: which rows of ``model`` (a mapped class or mixin) an actor may read.

    ``condition(user)`` returns a SQL condition on ``model``'s columns (or a function of the class
    giving one, for a mixin), or None when the rule does not restrict ``user`` (a manager who sees
    everything). The core applies it to every ORM query that reads ``model``, on every path, with
    the company scope (:mod:`core.company.scope`).
    """

    model: type
    condition: Callable[..., Any]
    name: str = ""


@dataclass(frozen=True)
class MenuSection:
    """A titled section of the navigation menu that a module's items go into (``MenuItem.section``).

    Sections are shown by ``order``; the core's own are Home (0), Contacts (800) and
    Administration (900), and a module places its section between them.
    """

    key: str
    title: str
    order: int = 100


@dataclass(frozen=True)
class Widget:
    """A dashboard widget: a template rendered in place, or an endpoint loaded lazily by htmx."""

    title: str
    permission: str
    template: str | None = None
    endpoint: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100
    width: int = 1


@dataclass(frozen=True)
class Panel:
    """A panel on a record page, contributed by any module.

    Lazy by default: a panel with ``endpoint`` is loaded by htmx after the page. A panel with
    ``template`` is rendered inside the page (with ``context`` as ``ctx``) only when it declares
    ``inline=True``; a panel that is neither is refused when it is made.
    """

    title: str
    permission: str
    template: str | None = None
    endpoint: str | None = None
    endpoint_args: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100
    inline: bool = False

    def __post_init__(self) -> None:
        if self.endpoint and self.template:
            raise ValueError(f"panel {self.title!s}: give an endpoint or a template, not both")
        if self.endpoint and self.inline:
            raise ValueError(f"panel {self.title!s}: a panel with an endpoint is loaded lazily, it is not inline")
        if not self.endpoint and not (self.template and self.inline):
            raise ValueError(f"panel {self.title!s}: give an endpoint (loaded lazily), or a template with "
                             "inline=True (rendered inside the page)")


@dataclass(frozen=True)
class Action:
    """A button on a record page that leads to ``endpoint`` (a link, or a POST when ``post``)."""

    label: str
    endpoint: str
    permission: str
    endpoint_args: dict[str, Any] = field(default_factory=dict)
    post: bool = False
    confirm: str | None = None
    order: int = 100


@dataclass(frozen=True)
class Setting:
    """A module setting an admin can change on the settings page (stored as text)."""

    key: str
    label: str
    default: str = ""
    type: str = "string"  # string | integer | boolean | choice | secret (a password: write-only)
    choices: tuple[str, ...] = ()
    help: str = ""
    #: "global" for one value the whole group shares, "company" for a value per company
    scope: str = "global"


@dataclass(frozen=True)
class Attachable:
    """A kind of record that takes attachments: ``kind`` as its page names it (``crm.ticket``), its
    ``model``, and the permissions to see (list, download) and to change (upload, delete) them.

    The core loads the record with ``session.get(model, id)``, so the company scope and the record
    rules decide who may see it: a record the user cannot read is not found, nor are its files.
    """

    kind: str
    model: type
    read_permission: str
    write_permission: str


@dataclass(frozen=True)
class JinjaExtras:
    """Filters, globals and tests a module adds to the template environment."""

    filters: dict[str, Callable] = field(default_factory=dict)
    globals: dict[str, Any] = field(default_factory=dict)
    tests: dict[str, Callable] = field(default_factory=dict)


@dataclass(frozen=True)
class JobKind:
    """A kind of background job a module runs: ``run(job, **arguments)`` in a worker.

    ``run`` gets the :class:`core.jobs.context.JobContext` (its session, the user who asked,
    ``progress``) and the arguments given to :func:`core.start_job`, and returns a JSON-able result
    or None. Only a user holding ``permission`` may start it (None: any signed-in user, and the
    system); the worker checks it again before running, as the user who asked. A job that fails is
    tried again, with a growing pause, until ``max_attempts``; it must therefore be idempotent.
    """

    name: str
    run: Callable[..., Any]
    title: str = ""
    permission: str | None = None
    max_attempts: int = 3

    @property
    def module(self) -> str:
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class Schedule:
    """A job kind started periodically by the scheduler: ``every`` a period, or at ``cron`` times.

    ``cron`` is "minute hour day month weekday" in UTC (``"0 2 * * *"``: nightly at two). With
    ``per_company`` one job runs in each active company, as the system; else one for the group.
    Each run has a key made of the schedule and its tick, so a tick fired twice (two schedulers,
    a restart) starts the job once.
    """

    name: str
    kind: str
    every: timedelta | None = None
    cron: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    per_company: bool = True
    title: str = ""

    def __post_init__(self) -> None:
        if (self.every is None) == (self.cron is None):
            raise ValueError(f"schedule {self.name}: give every or cron, one of them")
        if self.every is not None and self.every < timedelta(seconds=1):
            raise ValueError(f"schedule {self.name}: every must be at least a second")


@dataclass(frozen=True)
class RuleVariable:
    """A typed name a rule may read: ``type`` is ``"number"`` (a Decimal), ``"text"``, ``"boolean"``
    or ``"date"``. ``label`` is shown in the rule editor; ``example`` fills the "try it" panel."""

    name: str
    type: str
    label: str = ""
    example: Any = None


@dataclass(frozen=True)
class RuleKind:
    """A kind of rule a module lets an admin write (a price condition, a salary rule, …).

    A rule of this kind reads only ``variables``, calls only the named ``functions`` of the core's
    rule library (``min``, ``max``, ``abs``, ``round_money``, ``lookup``, …) and must produce a
    value of type ``result``; it is compiled and type-checked when saved. ``permission`` is needed
    to write and try rules of the kind.
    """

    name: str
    title: str
    variables: tuple[RuleVariable, ...]
    result: str = "boolean"
    functions: tuple[str, ...] = ("min", "max", "abs", "round_money", "lookup")
    permission: str = "core.rules.manage"


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notification a module sends with :func:`core.notify`.

    ``title`` names it on each user's notification settings, where the user chooses how it reaches
    them; ``channel`` is the choice until they do: ``"inapp"`` (the inbox), ``"email"`` (the inbox
    and a message at once) or ``"digest"`` (the inbox and the daily digest mail).
    """

    name: str
    title: str
    channel: str = "inapp"


@dataclass(frozen=True)
class Approvable:
    """A kind of record that may need approval: ``kind`` as its page names it (``accounting.bill``).

    ``fields`` are what an approval condition may read, ``values(record)`` gives their values for a
    record, ``amount`` names the field an approver's amount limit is compared with. ``describe``
    and ``url`` name and link the record in the inbox and the "Awaiting my approval" page. Reading
    the record needs ``read_permission`` (and the record rules); asking for approval needs
    ``request_permission``. What an approval unlocks is the module's: it is told through
    ``approval_decided``.
    """

    kind: str
    model: type
    title: str
    fields: tuple[RuleVariable, ...]
    values: Callable[[Any], dict[str, Any]]
    describe: Callable[[Any], str]
    url: Callable[[Any], str]
    read_permission: str
    request_permission: str
    amount: str | None = None
