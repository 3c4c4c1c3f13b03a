"""The size rule of the layout (docs/architecture.md): no module of the product over 500 lines,
no function over 80.  A module that grows past it is split by responsibility, not trimmed."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tasks", "flows", "edi_recruit")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "resources" not in p.parts)


def _long_functions(source: str, limit: int) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - first + 1
            if length > limit:
                out.append((node.name, length))
    return out


def test_the_rule_sees_every_package():
    names = {p.relative_to(ROOT).parts[0] for p in _modules()}
    assert names == set(PACKAGES)


def test_no_module_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in _modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_function_over_80_lines():
    long = {str(p.relative_to(ROOT)): f for p in _modules()
            if (f := _long_functions(p.read_text(encoding="utf-8"), MAX_FUNCTION_LINES))}
    assert long == {}


@pytest.mark.parametrize("body_lines, expected", [(78, []), (79, [("f", 81)])])
def test_the_function_rule_counts_from_the_decorator_to_the_last_line(body_lines, expected):
    source = "@decorator\ndef f():\n" + "    x = 1\n" * body_lines
    assert _long_functions(source, MAX_FUNCTION_LINES) == expected
