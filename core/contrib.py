"""The small, plain values that plugins return from their hooks; the core does the wiring."""
from __future__ import annotations

from dataclasses import dataclass, field
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
class JinjaExtras:
    """Filters, globals and tests a module adds to the template environment."""

    filters: dict[str, Callable] = field(default_factory=dict)
    globals: dict[str, Any] = field(default_factory=dict)
    tests: dict[str, Callable] = field(default_factory=dict)
