"""The unit layer stays fast: nothing on its import path pulls in the browser, SMTP or broker harness.

Checked on the source (every import statement, also those inside functions, and ``pytest_plugins``),
followed through the project's own modules, so it holds whichever layers a run collects.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "tests" / "unit"
HEAVY = {"selenium", "aiosmtpd", "trustme"}
OWN = {"tests", "logmonitor"}


def module_file(name: str) -> Path | None:
    """The project's file of a dotted module name, or None for a module from outside the project."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def package_of(path: Path) -> str:
    """The dotted package a file belongs to."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts if path.name == "__init__.py" else parts[:-1]).removesuffix(".__init__")


def statements(tree: ast.Module) -> Iterator[ast.AST]:
    """The module's statements, also those in functions, classes and blocks, in ``ast.walk``'s order.

    Imports are statements, and a statement stands only in a module, a statement, an except handler or a match
    case: walking those alone skips the expressions, nine in ten of a module's nodes.
    """
    todo: deque[ast.AST] = deque([tree])
    while todo:
        node = todo.popleft()
        yield node
        todo.extend(child for child in ast.iter_child_nodes(node)
                    if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case))


def imported_names(path: Path) -> Iterator[str]:
    """Every module name a file may import: import statements anywhere in it and its pytest_plugins."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in statements(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = package_of(path).split(".")
                base = ".".join([*package[: len(package) - node.level + 1], *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)  # `from package import module`
        elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "pytest_plugins" for t in node.targets):
            yield from (item.value for item in ast.walk(node.value) if isinstance(item, ast.Constant))


def import_closure(starts: list[Path]) -> dict[str, Path]:
    """Each module imported from ``starts`` (following the project's own modules) -> a file importing it."""
    seen_files, found, todo = set(starts), {}, list(starts)
    while todo:
        path = todo.pop()
        for name in imported_names(path):
            found.setdefault(name, path)
            own = module_file(name) if name.split(".")[0] in OWN else None
            if own is not None and own not in seen_files:
                seen_files.add(own)
                todo.append(own)
    return found


def unit_layer_files() -> list[Path]:
    """What `pytest tests/unit` loads from the project: the conftests above it and every file in it."""
    return [ROOT / "tests" / "conftest.py", *sorted(UNIT.rglob("*.py"))]


def test_the_unit_layer_imports_no_browser_smtp_or_tls_fixture_library() -> None:
    closure = import_closure(unit_layer_files())
    heavy = {name: str(path.relative_to(ROOT)) for name, path in closure.items() if name.split(".")[0] in HEAVY}
    assert not heavy, f"the fast layer would import {heavy}: keep them in tests/integration's fixtures"


def test_the_closure_sees_what_pytest_plugins_and_fixture_imports_pull_in(tmp_path: Path) -> None:
    integration = {name.split(".")[0] for name in import_closure([ROOT / "tests" / "integration" / "conftest.py"])}
    assert integration >= HEAVY
    plugins = tmp_path / "conftest.py"
    plugins.write_text('pytest_plugins = ["tests.fixtures.receivers"]\n', encoding="utf-8")
    assert "aiosmtpd.controller" in import_closure([plugins])


def fixtures_defined(path: Path) -> set[str]:
    """Names of the functions decorated with pytest.fixture in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body if isinstance(node, ast.FunctionDef)
            and any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)}


def test_the_integration_conftest_offers_every_fixture_of_tests_fixtures() -> None:
    conftest = ast.parse((ROOT / "tests" / "integration" / "conftest.py").read_text(encoding="utf-8"))
    offered = {alias.asname or alias.name for node in conftest.body if isinstance(node, ast.ImportFrom)
               for alias in node.names}
    defined = set().union(*(fixtures_defined(path) for path in (ROOT / "tests" / "fixtures").glob("*.py")))
    assert defined and defined <= offered, f"tests/integration/conftest.py misses {sorted(defined - offered)}"
