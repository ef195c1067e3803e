"""Helpers of the module lifecycle tests: the fixture plugins, the settings that find them, and a
snapshot of everything a lifecycle act may change."""
from __future__ import annotations

import pytest
from sqlalchemy import func, inspect, select, text

from core.audit.models import AuditRecord
from core.auth.models import PermissionRecord, Role, RoleGrant
from core.db import get_engine
from core.modules import lifecycle
from core.modules.models import ModuleRecord, ModulesRevision

PLUGINS = (
    "kontor_hello.plugin", "lcbase.plugin", "lcdep.plugin", "lcfailmig.plugin", "lcfaildata.plugin",
    "lccyclea.plugin", "lccycleb.plugin", "lcrange.plugin", "lcnewcore.plugin", "lcmissing.plugin",
    "lcfailpurge.plugin", "lcbroken.plugin", "lcbadmanifest.plugin", "lcdangling.plugin",
)


@pytest.fixture
def settings(settings):
    """The usual settings, with the lifecycle fixture plugins found."""
    return {**settings, "EXTRA_PLUGINS": PLUGINS}


def ctx(dispatcher) -> lifecycle.ModuleContext:
    """The lifecycle context of the app the dispatcher serves now."""
    return lifecycle.context_from_app(dispatcher.app)


def snapshot(db_url: str) -> dict:
    """Everything an act may change: tables, Alembic rows, modules, permissions, grants, audit."""
    engine = get_engine(db_url)
    with engine.connect() as conn:
        return {
            "tables": sorted(inspect(conn).get_table_names()),
            "alembic": sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()),
            "modules": sorted(conn.execute(select(ModuleRecord.name, ModuleRecord.state)).all()),
            "permissions": sorted(conn.execute(select(PermissionRecord.name)).scalars()),
            "roles": sorted(conn.execute(select(Role.name)).scalars()),
            "grants": conn.execute(select(func.count()).select_from(RoleGrant)).scalar(),
            "audit": conn.execute(select(func.count()).select_from(AuditRecord)).scalar(),
            "revision": conn.execute(select(ModulesRevision.revision)).scalar(),
        }


def rows(db_url: str, sql: str) -> list:
    with get_engine(db_url).connect() as conn:
        return conn.execute(text(sql)).all()


def audit_actions(db_url: str, module: str) -> list[str]:
    with get_engine(db_url).connect() as conn:
        return list(conn.execute(select(AuditRecord.action).where(AuditRecord.module == module,
                                                                  AuditRecord.action.like("module.%"))
                                 .order_by(AuditRecord.seq)).scalars())
