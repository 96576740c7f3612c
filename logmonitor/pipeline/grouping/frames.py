"""Stack frames read from a stack trace's text (grouping v2): Python, JVM and .NET, Node.js and Go.

Records bring their stack as text (``exception.stacktrace``: a native record's, ECS's
``error.stack_trace``, OpenTelemetry's ``exception.stacktrace``), in the format of the language
that wrote it. Each frame gives its module (a Python or Node file's name without directory and
extension, a JVM or .NET class, a Go package) and function, never its line; and whether it is a
library's (the standard library, site-packages, ``node_modules``, ``java.``..., GOROOT,
the Go module cache). Read line by line with string operations and anchored regexes on the
first :data:`MAX_STACK` characters, so linear in the text.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from logmonitor.pipeline.grouping.v1 import PYTHON_LIBRARY_PATH

__all__ = ["MAX_STACK", "Frame", "frames"]

MAX_STACK = 64 * 1024  # characters of a stack trace read: what the redactor keeps (handler/redaction.py)

_PYTHON = re.compile(r'File "([^"]*+)", line \d++, in (\S++)')
_GO_LOCATION = re.compile(r"(\S+?\.go):\d++(?: \+0x[0-9a-f]++)?+")
_JVM_LIBRARY = (  # class name prefixes of the JVM's and .NET's platforms and the most common frameworks
    "java.", "javax.", "jakarta.", "jdk.", "sun.", "com.sun.", "kotlin.", "kotlinx.", "scala.", "groovy.",
    "org.springframework.", "org.apache.", "org.hibernate.", "io.netty.", "reactor.", "com.fasterxml.",
    "org.eclipse.jetty.", "System.", "Microsoft.",
)
_GO_LIBRARY_PATHS = ("/pkg/mod/", "/vendor/", "@v")  # the module cache, vendored code, -trimpath's module@version


class Frame(NamedTuple):
    """One stack frame: where (module) and what (function), and whether a library's."""

    module: str
    function: str
    library: bool


def frames(stacktrace: str) -> list[Frame]:
    """The frames of ``stacktrace``, in its order; Go's of the first goroutine only (the one that failed)."""
    found: list[Frame] = []
    previous = ""
    goroutines = 0
    for line in stacktrace[:MAX_STACK].splitlines():
        text = line.strip()
        if not text:
            previous = text
            continue
        if text.startswith("goroutine "):
            goroutines += 1
            if goroutines > 1:
                break
        frame = _python(text) or _at(text) or (_go(previous, text) if line[:1].isspace() else None)
        if frame:
            found.append(frame)
        previous = text
    return found


def _python(text: str) -> Frame | None:
    """``File "/app/orders.py", line 12, in load``."""
    match = _PYTHON.match(text)
    if not match:
        return None
    path, function = match.groups()
    return Frame(_file_name(path), function, bool(PYTHON_LIBRARY_PATH.search(path)))


def _at(text: str) -> Frame | None:
    """A JVM or .NET frame (``at com.x.Y.m(Y.java:12)``) or a Node.js one (``at fn (/app/x.js:1:2)``)."""
    if not text.startswith("at "):
        return None
    head, parenthesis, tail = text[3:].partition("(")
    if not parenthesis:  # Node's anonymous function: at /app/x.js:1:2
        return _node("<anonymous>", text[3:])
    if head.endswith(" "):  # Node: at [async] [new] fn (location)
        function = head.strip().removeprefix("async ").removeprefix("new ")
        return _node(function, tail[:tail.rfind(")")])
    owner, _dot, method = head.rpartition(".")
    owner = owner.partition("$$")[0]  # generated classes: Y$$Lambda$14/0x..., Y$$EnhancerBySpringCGLIB$$1f2e
    owner = owner.rpartition("/")[2]  # without a JVM module (java.base/) or class loader (app//)
    return Frame(owner, method, owner.startswith(_JVM_LIBRARY)) if owner else None


def _node(function: str, location: str) -> Frame | None:
    path = location.rsplit(":", 2)[0] if location.count(":") >= 2 else location
    if not path:
        return None
    library = ("node_modules" in path or path.startswith(("node:", "internal/"))
               or ("/" not in path and "\\" not in path))  # Node's own modules: events.js, <anonymous>, index 0
    return Frame(_file_name(path), function, library)


def _go(function_line: str, text: str) -> Frame | None:
    """A Go frame: ``main.(*Server).handle(0xc000010000)`` then, indented, ``/app/main.go:12 +0x1d``."""
    match = _GO_LOCATION.fullmatch(text)
    if not match or not function_line:
        return None
    path = match[1]
    name = function_line.removeprefix("created by ").partition(" in goroutine ")[0]
    if name.endswith(")"):
        name = name[:name.rfind("(")]
    package_end = name.find(".", name.rfind("/") + 1)
    package, function = (name[:package_end], name[package_end + 1:]) if package_end > 0 else ("", name)
    # The standard library's import paths have no dot in their first element and live in GOROOT/src;
    # a function without a package is a builtin (panic).
    standard = not package or ("." not in package.partition("/")[0] and package != "main"
                               and (f"/src/{package}/" in path or path.startswith(f"{package}/")))
    return Frame(package, function, standard or any(part in path for part in _GO_LIBRARY_PATHS))


def _file_name(path: str) -> str:
    """A file's name without directory, extension or query: the module of a Python or Node frame."""
    path = path.partition("?")[0]
    name = path[max(path.rfind("/"), path.rfind("\\")) + 1:]
    return name.rpartition(".")[0] or name
