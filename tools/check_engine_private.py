"""Fail when code outside the engine seam touches an underscore name of faust, mode or aiokafka (DESIGN section 9).

``python -m tools.check_engine_private [PATH ...]`` (``make lint``; default: logmonitor bench tests tools)
reads each file outside ``SEAM`` and reports, with file and line:

- an import of an underscore module or name from the engine (``from faust.streams import _current_event``);
- an underscore attribute of an engine module or class (``faust_aiokafka.Consumer._drain_messages``);
- in a class deriving from an engine class (directly, or through a class of the seam), a method
  overriding, or a ``self._x``/``super()._x`` naming, an underscore attribute that the engine
  classes of its ancestry define;
- on any other object, an underscore attribute that some class of the engine defines
  (``buffer._send_pending``): the checker cannot know the object's type, so it goes by the name.

Bases are resolved by importing only engine modules and the seam, never the rest of the project.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import inspect
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["ENGINE", "SEAM", "Finding", "check_source", "main"]

ENGINE = ("faust", "mode", "aiokafka")
SEAM = ("logmonitor/engine/", "tests/unit/engine/")
DEFAULT_PATHS = ("logmonitor", "bench", "tests", "tools")
# (file, name): why it is not the engine's. Only the name-based rule can be wrong this way.
ALLOWED = {
    ("tests/fixtures/receivers.py", "_lock"): "the fixture's own receiver's lock",
    ("tests/unit/test_delivery.py", "_value"): "prometheus_client's sample value",
}


@dataclass(frozen=True)
class Finding:
    """One touch of an engine internal: where, and what."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} (engine internals belong in logmonitor/engine/)"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _engine_module(module: str) -> bool:
    return module.split(".")[0] in ENGINE


def _resolvable(module: str) -> bool:
    return _engine_module(module) or module.startswith("logmonitor.engine")


def _names_defined(tree: ast.AST) -> set[str]:
    """Underscore names a source defines: methods and class attributes, and ``self._x`` attributes."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
            names.add(node.attr)
    return {name for name in names if _private(name)}


@cache
def _engine_sources() -> tuple[bytes, ...]:
    """The source of every module of faust, mode and aiokafka."""
    folders = [Path(str(importlib.import_module(package).__file__)).parent for package in ENGINE]  # faust: no __spec__
    return tuple(source.read_bytes() for folder in folders for source in folder.rglob("*.py"))


@cache
def _names_defined_in(source: bytes) -> frozenset[str]:
    """``_names_defined`` of a module's source."""
    return frozenset(_names_defined(ast.parse(source)))


@cache
def _engine_defines(name: str) -> bool:
    """Whether some module of faust, mode or aiokafka defines the underscore ``name`` (parsed, not imported).

    Only the modules that spell the name are parsed (parsing all of them was most of a check's time), and those
    that are not ASCII, which could spell it in other characters that the parser reads as the same (PEP 3131).
    """
    spelling = name.encode()
    word = re.compile(rb"\b%b\b" % re.escape(spelling))

    def may_define(source: bytes) -> bool:
        # `in` first: it skips most modules many times faster than the search for the whole word
        return not source.isascii() or (spelling in source and word.search(source) is not None)

    return any(name in _names_defined_in(source) for source in _engine_sources() if may_define(source))


@cache
def _ancestry_private_names(cls: type) -> frozenset[str]:
    """The underscore names the engine classes among ``cls``'s ancestors define."""
    return frozenset().union(*(_class_private_names(ancestor) for ancestor in cls.__mro__
                               if _engine_module(ancestor.__module__)))


@cache
def _class_private_names(cls: type) -> frozenset[str]:
    """The underscore names an engine class defines: its attributes, and those of its source (``_names_defined``)."""
    names = {name for name in vars(cls) if _private(name)}
    with contextlib.suppress(OSError, TypeError):  # no source (a builtin or C class)
        names |= _names_defined(ast.parse(inspect.getsource(cls)))
    return frozenset(names)


def _resolve(node: ast.expr, imported: dict[str, str]) -> Any:
    """The engine (or seam) object a base-class expression names, or None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in imported:
        return None
    target = imported[node.id]
    if not _resolvable(target):
        return None
    module_name, _, attribute = target.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        if attribute:  # a name, or a submodule, imported from the module
            found = getattr(found, attribute, None) or importlib.import_module(f"{module_name}.{attribute}")
        for part in parts:
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []
        self.imported: dict[str, str] = {}  # local name: "module" or "module:attribute"
        self.classes: list[frozenset[str]] = []  # the enclosing classes' engine underscore names

    def report(self, node: ast.AST, what: str) -> None:
        self.findings.append(Finding(self.path, getattr(node, "lineno", 0), what))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _engine_module(alias.name) and any(_private(part) for part in alias.name.split(".")):
                self.report(node, f"imports {alias.name}")
            bound = alias.asname or alias.name.split(".")[0]  # `import a.b` binds a; `import a.b as c`, a.b
            self.imported[bound] = alias.name if alias.asname else bound

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            if _engine_module(module) and (_private(alias.name) or any(_private(p) for p in module.split("."))):
                self.report(node, f"imports {alias.name} from {module}")
            self.imported[alias.asname or alias.name] = f"{module}:{alias.name}"

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        names: set[str] = set()
        for base in node.bases:
            resolved = _resolve(base, self.imported)
            if isinstance(resolved, type):
                names |= _ancestry_private_names(resolved)
        for statement in node.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) and statement.name in names:
                self.report(statement, f"{node.name} overrides the engine's {statement.name}")
        self.classes.append(frozenset(names))
        self.generic_visit(node)
        self.classes.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name, owner = node.attr, node.value
        if _private(name):
            if (isinstance(owner, ast.Name) and owner.id in ("self", "cls")) or _is_super(owner):
                if self.classes and name in self.classes[-1]:
                    self.report(node, f"uses the engine's {name}")
            elif isinstance(owner, ast.Name) and owner.id in self.imported and _engine_module(self.imported[owner.id]):
                self.report(node, f"uses {owner.id}.{name}")
            elif _engine_defines(name) and (self.path, name) not in ALLOWED:
                self.report(node, f"uses {name}, an underscore name of the engine")
        self.generic_visit(node)


def _is_super(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def check_source(source: str, path: str = "<source>") -> list[Finding]:
    """Every touch of an engine internal in ``source`` (a file outside the seam)."""
    checker = _Checker(path)
    checker.visit(ast.parse(source, path))
    return checker.findings


def _files(paths: Iterable[str]) -> Iterator[Path]:
    for path in map(Path, paths):
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if not any(file.as_posix().startswith(seam) for seam in SEAM):
                yield file


def main(argv: list[str] | None = None) -> int:
    """Check the given paths (or the defaults); print each finding; 1 if there was one."""
    findings = [finding for file in _files(argv or DEFAULT_PATHS)
                for finding in check_source(file.read_text(), file.as_posix())]
    for finding in findings:
        print(finding, file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
