"""Dependency direction: the kernels stay pure, so they can be tested and reasoned about alone."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "workflows": {"flask", "flask_sqlalchemy", "sqlalchemy", "praevcase", "consent"},
    "consent": {"flask", "flask_sqlalchemy", "sqlalchemy", "praevcase", "workflows"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_kernel_imports_neither_flask_sqlalchemy_nor_praevcase(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = {str(f.relative_to(ROOT)): sorted(_imports(f) & FORBIDDEN[package]) for f in files}
    assert {f: bad for f, bad in offenders.items() if bad} == {}


def test_operations_do_not_read_request_state():
    """Operations take actor and clock as arguments; only the boundary touches flask.request/g."""
    bad = {}
    for path in sorted((ROOT / "praevcase").rglob("operations.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                names = {a.name for a in node.names} & {"request", "g", "session", "flash"}
                if names:
                    bad[str(path.relative_to(ROOT))] = sorted(names)
    assert bad == {}


def test_operations_never_commit():
    """Boundaries commit (praevcase.web.run_view, CLI); operations only flush."""
    bad = [str(p.relative_to(ROOT)) for p in (ROOT / "praevcase").rglob("operations.py")
           if ".commit()" in p.read_text()]
    assert bad == []
