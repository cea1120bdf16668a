"""The tariff engine is pure: standard library and msgspec only, no I/O, no clock."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import chargegrid.tariffs

PACKAGE = Path(chargegrid.tariffs.__file__).parent
ENGINE_IMPORTS = {
    "__future__",
    "collections",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "itertools",
    "math",
    "msgspec",
    "re",
    "typing",
    "zoneinfo",
}
CLI_IMPORTS = ENGINE_IMPORTS | {"argparse", "pathlib", "sys"}
CLOCK = {"now", "utcnow", "today"}  # the time module is not importable at all


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_modules_import_only_the_standard_library_msgspec_and_the_package() -> None:
    modules = sorted(PACKAGE.glob("*.py"))
    assert {m.stem for m in modules} >= {"model", "cdr", "restrictions", "periods", "pricing"}
    for module in modules:
        allowed = CLI_IMPORTS if module.stem == "cli" else ENGINE_IMPORTS
        for name in imports(module):
            if not name.startswith("chargegrid.tariffs"):
                assert name.split(".")[0] in allowed, f"{module.name} imports {name}"


def test_no_module_reads_the_clock() -> None:
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in CLOCK, f"{module.name}:{node.lineno}"


def test_importing_the_package_loads_nothing_of_the_platform() -> None:
    code = (
        "import sys, chargegrid.tariffs, chargegrid.tariffs.cli\n"
        "print(sorted(m for m in sys.modules if m.startswith('chargegrid') and "
        "not m.startswith('chargegrid.tariffs')))\n"
        "print(sorted(m for m in ('socket', 'asyncio', 'sqlalchemy', 'ssl') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == ["['chargegrid']", "[]"]
