"""Signatures without annotations: what a hook relies on (names, kinds, defaults), compared as text."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def bare_signature(function: Callable[..., Any]) -> str:
    """``function``'s signature without annotations, e.g. ``(self, tp)``."""
    signature = inspect.signature(function)
    parameters = [parameter.replace(annotation=inspect.Parameter.empty) for parameter in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


def calls(function: Callable[..., Any], *snippets: str) -> bool:
    """Whether ``function``'s source contains every snippet (an upstream call a hook relies on).

    A ``@Service.task`` is mode's ``ServiceTask``; its function is ``fun``.
    """
    source = inspect.getsource(getattr(function, "fun", function))
    return all(snippet in source for snippet in snippets)
