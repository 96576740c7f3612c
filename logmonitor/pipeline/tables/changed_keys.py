"""Which keys of a table changed lately, numbered by a generation that grows with every change.

A reader that derived something from all of a table's cells (``read/group_index.py``) keeps the
generation it read; later, :meth:`ChangedKeys.since` tells it which keys to read again, or that
it cannot know (too many changes since, or changes read back from the changelog, which carry
no key here) and must read everything.
"""

from __future__ import annotations

from collections import deque
from itertools import islice
from typing import Any

__all__ = ["KEPT", "ChangedKeys", "changed_keys"]

KEPT = 10_000
"""Changes remembered by key: a reader that looks less often than this reads everything again."""
_UNKNOWN = object()  # a change whose keys are not known (a changelog batch)


class ChangedKeys:
    """The generation of a table's contents, and the keys of its last :data:`KEPT` changes."""

    def __init__(self, kept: int = KEPT) -> None:
        self.generation = 0
        self._recent: deque[Any] = deque(maxlen=kept)

    def changed(self, key: Any) -> None:
        """Note a write or delete of ``key``."""
        self.generation += 1
        self._recent.append(key)

    def changed_unknown(self) -> None:
        """Note changes whose keys are not known (a changelog batch applied to the store)."""
        self.generation += 1
        self._recent.append(_UNKNOWN)

    def since(self, generation: int) -> set[Any] | None:
        """The keys changed after ``generation``; None when they are not all known."""
        count = self.generation - generation
        if count < 0 or count > len(self._recent):
            return None
        keys = set(islice(reversed(self._recent), count))
        return None if _UNKNOWN in keys else keys


def changed_keys(table: Any) -> ChangedKeys | None:
    """The changes ``table`` notes (``CellTable`` does), None for one that does not."""
    changes = getattr(table, "changes", None)
    return changes if isinstance(changes, ChangedKeys) else None
