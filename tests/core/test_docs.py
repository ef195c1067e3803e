"""The documentation keeps up with the code: every hook, CLI command and API name is documented."""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from core import hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs"
HOOKS = {name: func for name, func in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(func, "kontor_spec")}
HEADING = re.compile(r"^### (\w+)\((.*)\)$", re.MULTILINE)


def documented_hooks() -> dict[str, str]:
    text = (DOCS / "plugins.md").read_text()
    return {name: f"{name}({args})" for name, args in HEADING.findall(text)}


def signature(name: str) -> str:
    return f"{name}{inspect.signature(HOOKS[name])}"


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_every_hook_has_a_docs_section_with_its_exact_signature(name):
    sections = documented_hooks()
    assert name in sections, f"docs/plugins.md has no section '### {signature(name)}'"
    assert sections[name] == signature(name), f"docs say {sections[name]}, the hookspec is {signature(name)}"


def test_no_docs_section_for_a_hook_that_does_not_exist():
    assert set(documented_hooks()) - set(HOOKS) == set()


def test_every_hookspec_has_a_docstring():
    assert [name for name, func in HOOKS.items() if not (func.__doc__ or "").strip()] == []


@pytest.mark.parametrize("page", ["plugins.md", "cli.md", "api.md"])
def test_python_examples_are_valid_python(page):
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), re.DOTALL)
    for block in blocks:
        ast.parse(block)


def test_the_stable_cli_names_are_documented():
    text = (DOCS / "cli.md").read_text()
    for name in ("kontor init", "kontor run", "kontor serve", "kontor demo", "kontor modules list",
                 "kontor users create", "kontor users token", "kontor audit verify", "--bind", "--workers",
                 "--host", "--port", "--admin", "--role", "KONTOR_DATABASE_URL", "KONTOR_INSTANCE",
                 "KONTOR_SECRET_KEY", "KONTOR_MARKETPLACE"):
        assert name in text, f"docs/cli.md does not mention {name}"
    for action in ("install", "disable", "enable", "purge", "upgrade"):
        assert f"kontor modules {action}" in text


def test_the_stable_api_names_are_documented():
    text = (DOCS / "api.md").read_text()
    for name in ("Authorization: Bearer", "/api/v1/modules", "/api/v1/parties", "/api/v1/parties/<id>",
                 "/api/v1/openapi.json", "application/problem+json"):
        assert name in text, f"docs/api.md does not mention {name}"
