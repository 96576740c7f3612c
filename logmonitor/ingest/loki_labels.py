"""Loki's label text, ``{name="value", other="va\\"lue"}``, read in one pass.

Names are matched by an anchored character class (linear: no alternation, nothing to backtrack
into); quoted values are cut with ``str.find`` from a position that only moves forward, so the
work is linear in the text however hostile it is (unterminated quotes, runs of escapes).
"""

from __future__ import annotations

import re

__all__ = ["MAX_LABELS", "MAX_LABELS_TEXT", "LabelsError", "parse_labels"]

MAX_LABELS = 128
"""The most labels (or structured metadata pairs) an entry may carry; Loki's default allows 15 names a stream."""
MAX_LABELS_TEXT = 64 * 1024
"""The longest label text read; Loki's defaults allow names of 1,024 and values of 2,048 characters."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"[ \t\r\n]*")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}


class LabelsError(ValueError):
    """The label text is not ``{name="value", ...}``; the message says where."""


def parse_labels(text: str) -> dict[str, str]:
    """The labels of ``text``; :class:`LabelsError` if it is malformed, longer than the bounds, or has too many."""
    if len(text) > MAX_LABELS_TEXT:
        raise LabelsError(f"the label text is longer than {MAX_LABELS_TEXT} characters")
    position = _skip_space(text, 0)
    position = _expect(text, position, "{")
    labels: dict[str, str] = {}
    while True:
        position = _skip_space(text, position)
        if text.startswith("}", position):  # no labels, or after a trailing comma (PromQL allows one)
            return _end(text, position + 1, labels)
        name = _NAME.match(text, position)
        if name is None:
            raise LabelsError(f"a label name was expected at character {position}")
        position = _expect(text, _skip_space(text, name.end()), "=")
        position = _expect(text, _skip_space(text, position), '"')
        value, position = _quoted(text, position)
        labels[name.group()] = value
        if len(labels) > MAX_LABELS:
            raise LabelsError(f"more than {MAX_LABELS} labels")
        position = _skip_space(text, position)
        if text.startswith("}", position):
            return _end(text, position + 1, labels)
        position = _expect(text, position, ",")


def _skip_space(text: str, position: int) -> int:
    return _SPACE.match(text, position).end()  # type: ignore[union-attr]  # matches the empty string too


def _expect(text: str, position: int, token: str) -> int:
    if not text.startswith(token, position):
        raise LabelsError(f"{token!r} was expected at character {position}")
    return position + 1


def _end(text: str, position: int, labels: dict[str, str]) -> dict[str, str]:
    if _skip_space(text, position) != len(text):
        raise LabelsError(f"nothing may follow '}}' (character {position})")
    return labels


def _quoted(text: str, position: int) -> tuple[str, int]:
    """The value of the quoted text starting at ``position`` (after its opening quote) and where it ends."""
    parts: list[str] = []
    quote = text.find('"', position)
    while quote >= 0:
        escape = text.find("\\", position, quote)
        if escape < 0:
            parts.append(text[position:quote])
            return "".join(parts), quote + 1
        escaped = text[escape + 1:escape + 2]
        parts.append(text[position:escape])
        parts.append(_ESCAPES.get(escaped, "\\" + escaped))
        position = escape + 2
        if position > quote:  # the quote found was escaped: the next one, searched from here on only
            quote = text.find('"', position)
    raise LabelsError("a label value's quote is not closed")
