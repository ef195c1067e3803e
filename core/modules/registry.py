"""What the database says about modules, and the dependency order derived from manifests."""
from __future__ import annotations

from dataclasses import dataclass

from packaging.requirements import Requirement
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from core.modules.models import ModuleRecord, ModulesRevision
from core.plugins import PluginInfo, Quarantined


class DependencyError(ValueError):
    """Modules cannot be ordered: one is missing, incompatible or part of a cycle."""


@dataclass(frozen=True)
class InstalledModule:
    """A snapshot of one ``core_module`` row."""

    name: str
    version: str
    state: str


def is_initialised(conn: Connection | Engine) -> bool:
    """Whether the core's tables exist (``kontor init`` has run)."""
    return sa_inspect(conn).has_table(ModulesRevision.__tablename__)


def read_state(engine: Engine) -> tuple[int, dict[str, InstalledModule]]:
    """The modules revision and the installed modules, or ``(-1, {})`` before ``kontor init``."""
    with engine.connect() as conn:
        if not is_initialised(conn):
            return -1, {}
        revision = conn.execute(select(ModulesRevision.revision).where(ModulesRevision.id == 1)).scalar() or 0
        rows = conn.execute(select(ModuleRecord.name, ModuleRecord.version, ModuleRecord.state)).all()
    return revision, {r.name: InstalledModule(r.name, r.version, r.state) for r in rows}


def dependency_order(
    names: list[str], plugins: dict[str, PluginInfo], *, available: set[str] | None = None
) -> list[str]:
    """``names`` and everything they depend on, dependencies first.

    Raises :class:`DependencyError` naming the culprit for a missing module, a version outside the
    required range, or a cycle. ``available`` limits which modules may satisfy a dependency.
    """
    order: list[str] = []
    visiting: list[str] = []

    def visit(name: str, wanted_by: str | None) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = visiting[visiting.index(name):] + [name]
            raise DependencyError(f"dependency cycle: {' -> '.join(cycle)}")
        info = plugins.get(name)
        if info is None or (available is not None and name not in available):
            who = f" (required by {wanted_by})" if wanted_by else ""
            raise DependencyError(f"module {name!r} is not available{who}")
        if not info.manifest.core_compatible():
            raise DependencyError(
                f"module {name!r} requires core {info.manifest.requires_core}, which this core does not satisfy"
            )
        visiting.append(name)
        for req in info.manifest.requirements():
            dep = plugins.get(req.name)
            if dep is not None and not _satisfies(req, dep):
                raise DependencyError(
                    f"module {name!r} requires {req}, but {req.name} {dep.manifest.version} is available"
                )
            visit(req.name, name)
        visiting.pop()
        order.append(name)

    for name in names:
        visit(name, None)
    return order


def _satisfies(req: Requirement, info: PluginInfo) -> bool:
    return req.specifier.contains(info.manifest.version, prereleases=True)


def dependents(name: str, plugins: dict[str, PluginInfo], among: set[str]) -> list[str]:
    """The modules in ``among`` that depend on ``name``, directly or not."""
    found: list[str] = []
    frontier = [name]
    while frontier:
        current = frontier.pop()
        for other in sorted(among):
            info = plugins.get(other)
            if info and other not in found and any(r.name == current for r in info.manifest.requirements()):
                found.append(other)
                frontier.append(other)
    return found


def active_plugins(
    plugins: dict[str, PluginInfo], installed: dict[str, InstalledModule], quarantined: dict[str, Quarantined]
) -> list[PluginInfo]:
    """The installed, enabled and loadable modules, dependencies first.

    An enabled module whose code is missing, or whose dependency is not active, is quarantined.
    """
    enabled = {n for n, m in installed.items() if m.state == "installed"}
    for name in sorted(enabled - plugins.keys()):
        if name not in quarantined:
            quarantined[name] = Quarantined(name, "?", "installed, but its code is not found")
    active: list[str] = []
    for name in sorted(enabled & plugins.keys()):
        try:
            chain = dependency_order([name], plugins, available=enabled & plugins.keys())
        except DependencyError as exc:
            quarantined[name] = Quarantined(name, plugins[name].source, str(exc))
            continue
        for dep in chain:
            if dep not in active:
                active.append(dep)
    return [plugins[n] for n in active]
