"""``kontor init`` creates the core's tables once and is safe to run again at any time."""
from sqlalchemy import func, select

from core.auth.models import PermissionRecord


def test_init_again_with_a_module_installed_is_up_to_date(kontor, app):
    assert kontor("modules", "install", "hello").exit_code == 0
    result = kontor("init")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    with app.extensions["kontor"].engine.connect() as conn:
        hello = conn.execute(select(func.count()).where(PermissionRecord.module == "hello")).scalar()
    assert hello > 0
