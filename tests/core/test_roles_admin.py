"""Roles and the permission matrix: create, edit, delete, and grant or revoke cell by cell."""
from sqlalchemy import select

from core.audit.models import AuditRecord
from core.auth import services
from core.auth.models import Role


def _role(app, name):
    from core.db import session

    with app.app_context():
        return session.execute(select(Role).where(Role.name == name)).scalar_one_or_none()


def test_create_edit_and_delete_a_role(app, admin_client):
    response = admin_client.post_form("/admin/roles/new", {"name": "sales", "title": "Sales", "description": "Sells"})
    assert response.status_code == 302
    role = _role(app, "sales")
    assert (role.title, role.description) == ("Sales", "Sells")
    assert "Sales" in admin_client.get("/admin/roles").get_data(as_text=True)
    response = admin_client.post_form(f"/admin/roles/{role.id}/edit", {"title": "Sales team", "description": ""})
    assert response.status_code == 302
    assert _role(app, "sales").title == "Sales team"
    admin_client.post_form(f"/admin/roles/{role.id}/delete", {})
    assert _role(app, "sales") is None


def test_a_bad_role_name_is_named_and_changes_nothing(app, admin_client):
    response = admin_client.post_form("/admin/roles/new", {"name": "Sales Team"})
    assert response.status_code == 422
    assert 'id="e-name"' in response.get_data(as_text=True)
    assert _role(app, "Sales Team") is None


def test_the_admin_role_cannot_be_deleted(app, admin_client):
    admin_role = _role(app, "admin")
    response = admin_client.post_form(f"/admin/roles/{admin_role.id}/delete", {}, follow_redirects=True)
    assert "The admin role cannot be deleted." in response.get_data(as_text=True)
    assert _role(app, "admin") is not None


def test_matrix_lists_permissions_by_module_with_their_descriptions(app, admin_client):
    page = admin_client.get("/admin/permissions").get_data(as_text=True)
    assert "core.user.manage" in page and "Create, change and deactivate users" in page
    admin_role = _role(app, "admin")
    cell = page[page.index(f'id="cell-{admin_role.id}-core-user-manage"'):]
    assert cell[:cell.index("</td>")].count("disabled") == 1  # the admin column cannot be changed


def test_htmx_toggle_grants_and_revokes_and_is_audited(app, admin_client):
    from core.db import session

    with app.app_context():
        role = services.create_role(session, "sales")
        session.commit()
    cell = f"{role.id}:core.user.read"
    response = admin_client.htmx("POST", "/admin/permissions/toggle",
                                 data={"role": role.id, "permission": "core.user.read", "grant": [cell]})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<td") and "checked" in body
    assert _role(app, "sales").permission_names == {"core.user.read"}
    response = admin_client.htmx("POST", "/admin/permissions/toggle",
                                 data={"role": role.id, "permission": "core.user.read"})
    assert "checked" not in response.get_data(as_text=True)
    assert _role(app, "sales").permission_names == set()
    with app.app_context():
        actions = session.execute(
            select(AuditRecord.action).where(AuditRecord.action.like("permission.%"), AuditRecord.record_id == str(role.id))
        ).scalars().all()
    assert actions == ["permission.grant", "permission.revoke"]


def test_admin_keeps_every_permission(app, admin_client):
    admin_role = _role(app, "admin")
    response = admin_client.htmx("POST", "/admin/permissions/toggle",
                                 data={"role": admin_role.id, "permission": "core.user.read"})
    assert response.status_code == 422
    assert "core.user.read" in _role(app, "admin").permission_names


def test_the_matrix_works_as_a_plain_form(app, admin_client):
    from core.db import session

    with app.app_context():
        sales = services.create_role(session, "sales", permissions=["core.audit.read"])
        session.commit()
    response = admin_client.post_form("/admin/permissions", {"grant": [f"{sales.id}:core.user.read",
                                                                       f"{sales.id}:core.role.manage"]})
    assert response.status_code == 302
    assert _role(app, "sales").permission_names == {"core.user.read", "core.role.manage"}
    assert len(_role(app, "admin").permission_names) > 3  # untouched
    response = admin_client.post_form("/admin/permissions/toggle", {"role": sales.id, "permission": "core.user.read"})
    assert response.status_code == 302
    assert _role(app, "sales").permission_names == {"core.role.manage"}
