"""The README stays true: diagrams match the code, every variable is documented, commands match CI."""
from __future__ import annotations

from pathlib import Path

from praevcase.cli import readme_with_diagrams
from praevcase.config import VARIABLES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_workflow_diagrams_match_the_code():
    assert README == readme_with_diagrams(README), "run: flask --app wsgi workflows diagrams --write"


def test_every_configuration_variable_is_documented():
    assert [v for v in VARIABLES if f"`PRAEVCASE_{v}`" not in README] == []


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert f"```bash\n{ci}\n```" in README
