"""The CRM's pages and commands state their transaction through the core, as every module does."""
import ast
from pathlib import Path

import pytest

CRM = Path(__file__).resolve().parents[3] / "plugins" / "crm"
VIEWS = sorted([*CRM.glob("*/routes.py"), *CRM.glob("*/cli.py"), CRM / "web.py"])
#: The core's helpers these modules must not copy.
COPIES = {"wants_htmx", "_partial", "_go", "_hx", "_back_to", "_refused", "api_refusal", "_body"}


@pytest.mark.parametrize("path", VIEWS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_views_commit_only_through_core_transaction(path):
    tree = ast.parse(path.read_text())
    calls = {node.func.attr for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    assert not calls & {"commit", "rollback"}, f"{path}: a view commits through `with transaction(...)`"
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert not defined & COPIES, f"{path}: use core.is_partial_request / core.redirect_to instead"
    assert "_record_id" not in defined or "record_id_field" in path.read_text(), \
        f"{path}: read record ids with core.record_id_field"


def _crm_modules_imported(tree: ast.Module) -> set[str]:
    """The local names bound to CRM modules (``from plugins.crm.x import services``, ``import plugins.crm.x``)."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("plugins.crm"):
            bound |= {alias.asname or alias.name for alias in node.names}
    return bound


@pytest.mark.parametrize("path", sorted(CRM.rglob("*.py")), ids=lambda p: str(p.relative_to(CRM)))
def test_no_private_name_crosses_a_module(path):
    """A CRM file uses another CRM module only through its public names (no ``_private`` ones)."""
    tree = ast.parse(path.read_text())
    crossing = [f"{node.module}.{alias.name}" for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("plugins.crm")
                for alias in node.names if alias.name.startswith("_")]
    modules = _crm_modules_imported(tree)
    crossing += [f"{node.value.id}.{node.attr}" for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                 and node.value.id in modules and node.attr.startswith("_") and not node.attr.startswith("__")]
    assert not crossing, f"{path}: private names of other modules: {crossing}"


def test_the_public_api_is_documented():
    import plugins.crm as crm

    docs = (CRM.parents[1] / "docs" / "crm.md").read_text()
    section = docs.split("## Public API for other modules", 1)[1].split("\n## ", 1)[0]
    assert {"get_opportunity", "opportunities_of_party", "opportunity_owners", "owner_of"} <= set(crm.__all__)
    for name in crm.__all__:
        assert callable(getattr(crm, name)) and getattr(crm, name).__doc__, name
        assert f"`{name}(" in section, f"{name} is not in docs/crm.md's public API"
    for hook in ("crm_opportunity_won", "crm_opportunity_lost"):
        assert hook in section


def test_the_factories_make_what_they_document(db):
    """plugins.crm.testing, for the CRM's tests and those of modules that depend on it."""
    from plugins.crm import testing

    mads = testing.crm_user(db, "mads")
    assert {role.name for role in mads.roles} == {"salesperson"}
    firm = testing.company(db)
    mette = testing.person(db, firm)
    assert (firm.kind, mette.kind, mette.company_id) == ("company", "person", firm.id)
    deal = testing.opportunity(db, mads, customer=firm, stage="Won")
    assert deal.stage.is_won and deal.closed_at is not None and deal.party_id == firm.id
    call = testing.activity(db, mads, opportunity_id=deal.id)
    assert (call.assignee_id, call.opportunity_id) == (mads.id, deal.id)
    case = testing.ticket(db, party=firm, contact_id=mette.id)
    assert case.number.startswith("T-") and case.contact_id == mette.id
    news, members = testing.campaign_with_recipients(db)
    assert news.status == "draft" and len(members) == 4
    from plugins.crm.campaigns import services as campaigns

    assert campaigns.count(db, news.segment).total == 4
    db.commit()
