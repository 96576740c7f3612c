"""Per-request context (request, trace, span and user ids) that every record picks up; a block's breadcrumbs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from logmonitor.handler import breadcrumbs

__all__ = ["CONTEXT_FIELDS", "current_context", "log_context"]

CONTEXT_FIELDS = ("request_id", "trace_id", "span_id", "user_id")

_VARS: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"logmonitor_{name}", default=None) for name in CONTEXT_FIELDS
}


def current_context() -> tuple[str | None, ...]:
    """The context values, in ``CONTEXT_FIELDS`` order (read in the logging thread)."""
    return tuple(var.get() for var in _VARS.values())


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Attach ``request_id``/``trace_id``/``span_id``/``user_id`` to every record logged inside.

    Works per thread and per asyncio task; ``extra=`` on a single call still wins. The block is
    also a context of breadcrumbs: an error logged inside carries the records logged inside
    before it (and those of the enclosing block before it began), not those of other requests.

    Raises:
        TypeError: a field name is not one of ``CONTEXT_FIELDS``.
    """
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise TypeError(f"log_context() got unknown fields {sorted(unknown)}; use {', '.join(CONTEXT_FIELDS)}")
    tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = [
        (_VARS[name], _VARS[name].set(None if value is None else str(value))) for name, value in fields.items()
    ]
    try:
        with breadcrumbs.block():
            yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
