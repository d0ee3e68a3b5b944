"""consent/ is a pure kernel: the standard library and cryptography, nothing else."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CONSENT = Path(__file__).resolve().parents[2] / "consent"
ALLOWED = set(sys.stdlib_module_names) | {"cryptography", "consent"}
MODULES = sorted(CONSENT.glob("*.py"))


def _top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_kernel_module_imports_only_stdlib_and_cryptography(path: Path) -> None:
    assert _top_level_imports(path) - ALLOWED == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_kernel_module_stays_small(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400
