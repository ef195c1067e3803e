"""The hooks a module offers others have the guarantees of the core's own: every hookspec of every
module that ``register_hookspecs`` (accounting's, the CRM's and any module added later) has a
docstring, a section ``### <hook>(<args>)`` with its exact signature in the module's docs page
(``docs/<module>.md``), and a test under ``tests/plugins/<module>/``: a listener implementing it (a
top-level function named after the hook, as a small plugin of the test) or a ``test_hook_<hook>``.
"""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from types import ModuleType

import pytest

from core.plugins import PluginInfo, discover

ROOT = Path(__file__).resolve().parents[2]
HEADING = re.compile(r"^### (\w+)\((.*)\)$", re.MULTILINE)


def offered_hooks(info: PluginInfo) -> dict[str, object]:
    """The hookspecs module ``info`` offers others, by name (from any of its parts' ``register_hookspecs``)."""
    found = {}
    for part in info.parts:
        register = getattr(part, "register_hookspecs", None)
        specs = register() if register is not None else None
        if specs is None:
            continue
        members = inspect.getmembers(specs, inspect.isfunction) if isinstance(specs, ModuleType) else \
            inspect.getmembers(specs, predicate=callable)
        found.update({name: func for name, func in members if hasattr(func, "kontor_spec")})
    return found


def bundled_modules() -> dict[str, PluginInfo]:
    """The modules of this repository (under ``plugins/``), found as the platform finds them."""
    return {name: info for name, info in discover().plugins.items() if info.module.__name__.startswith("plugins.")}


MODULES = bundled_modules()
HOOKS = sorted((name, hook) for name, info in MODULES.items() for hook in offered_hooks(info))


def signature(func) -> str:
    return f"{func.__name__}{inspect.signature(func)}"


def documented(module: str) -> dict[str, str]:
    page = ROOT / "docs" / f"{module}.md"
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    return {name: f"{name}({args})" for name, args in HEADING.findall(text)}


def covered(module: str) -> set[str]:
    """The hooks a test file of ``module`` implements (a top-level function of that name) or names
    in a test function (``test_hook_<hook>``)."""
    names: set[str] = set()
    for path in sorted((ROOT / "tests" / "plugins" / module).glob("test_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef):
                names.add(node.name.removeprefix("test_hook_"))
    return names


def test_the_bundled_modules_offer_hooks():
    offered = {module for module, _ in HOOKS}
    assert {"accounting", "crm"} <= offered


@pytest.mark.parametrize(("module", "hook"), HOOKS, ids=[f"{m}.{h}" for m, h in HOOKS])
def test_every_module_hook_is_prefixed_and_has_a_docstring(module, hook):
    func = offered_hooks(MODULES[module])[hook]
    assert hook.startswith(f"{module}_"), f"{module} offers {hook}: a module's hooks are named {module}_…"
    assert (func.__doc__ or "").strip(), f"{module}'s hookspec {hook} has no docstring"


@pytest.mark.parametrize(("module", "hook"), HOOKS, ids=[f"{m}.{h}" for m, h in HOOKS])
def test_every_module_hook_has_a_docs_section_with_its_exact_signature(module, hook):
    expected = signature(offered_hooks(MODULES[module])[hook])
    sections = documented(module)
    assert hook in sections, f"docs/{module}.md has no section '### {expected}'"
    assert sections[hook] == expected, f"docs/{module}.md says {sections[hook]}, the hookspec is {expected}"


@pytest.mark.parametrize(("module", "hook"), HOOKS, ids=[f"{m}.{h}" for m, h in HOOKS])
def test_every_module_hook_is_tested(module, hook):
    assert hook in covered(module), (
        f"no test under tests/plugins/{module}/ implements {hook} (a listener function of that name) "
        f"nor is named test_hook_{hook}")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_docs_section_for_a_module_hook_that_does_not_exist(module):
    hooks = set(offered_hooks(MODULES[module]))
    claimed = {name for name in documented(module) if name.startswith(f"{module}_")}
    assert claimed - hooks == set()


def test_the_check_catches_an_undocumented_untested_hook(tmp_path, monkeypatch):
    """A module offering a hook nobody documented or tested fails: the check is not vacuous."""
    import pluggy

    spec = pluggy.HookspecMarker("kontor")

    def crm_quote_sent(quote, session):
        """A quote went out."""

    hooks = ModuleType("fake_hookspecs")
    hooks.crm_quote_sent = spec(crm_quote_sent)
    part = ModuleType("fake_plugin")
    part.register_hookspecs = lambda: hooks
    info = PluginInfo(manifest=MODULES["crm"].manifest, module=part, source="test")
    assert set(offered_hooks(info)) == {"crm_quote_sent"}
    assert "crm_quote_sent" not in documented("crm")
    assert "crm_quote_sent" not in covered("crm")
