"""The house rules, read from the source: one direction of dependency between the packages,
and modules small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LAYERS = ("providers", "components", "stacks", "tenantguard")
"""Each package may import only the packages before it: providers <- components <- stacks
<- tenantguard."""
MAX_MODULE_LINES = 400


def modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def imported_packages(path: Path) -> set[str]:
    """The top-level packages `path` imports anywhere, lazy imports inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value).split(".")[0])
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_a_package_imports_only_the_layers_below_it(package):
    later = set(LAYERS[LAYERS.index(package) + 1 :])
    offenders = {
        str(path.relative_to(REPO)): sorted(imported_packages(path) & later)
        for path in modules(package)
        if imported_packages(path) & later
    }
    assert offenders == {}


def test_the_layer_check_sees_lazy_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import importlib\n"
        "def f():\n"
        "    from stacks.spec import PlatformSpec\n"
        "    return importlib.import_module('tenantguard.cli')\n"
    )
    assert imported_packages(sample) >= {"stacks", "tenantguard"}


@pytest.mark.parametrize("package", LAYERS)
def test_no_module_is_longer_than_the_house_allows(package):
    long = {
        str(path.relative_to(REPO)): lines
        for path in modules(package)
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}
