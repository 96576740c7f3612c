"""How every table of the app is defined: dict cells, co-partitioned with the source, bounded RocksDB memory."""

from __future__ import annotations

from typing import Any

import faust

from logmonitor.engine.json_codec import CODEC
from logmonitor.engine.table_expiry import OnceExpiringTable

__all__ = ["ROCKSDB_LIMITS", "CellTable", "cell_table", "write_generation"]

_MIB = 1024 * 1024

# Faust opens one RocksDB database per table and partition with 64 MiB memtables (up to three)
# and a 2 GiB block cache each: with 5 tables x 8 partitions a worker's memory grows for hours
# before anything is flushed (P6 measured +109 % RSS in 10 minutes). Small memtables flush
# early; the data lives on disk and in the OS page cache. memory:// ignores these options.
ROCKSDB_LIMITS = {"write_buffer_size": _MIB, "max_write_buffer_number": 2, "block_cache_size": _MIB}


class CellTable(OnceExpiringTable):
    """The app's table class (setting ``Table``): JSON keys and values in exactly-sized bytes, windows expired once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_serializer = self.value_serializer = CODEC  # Faust takes them from model types only
        self.generation = 0

    # The generation counts every change of the table's contents, so a reader that derived something
    # from all its cells (read/group_index.py) knows when that is out of date without reading them again.
    # Writes and deletes go through on_key_set/on_key_del; recovery and standbys through the changelog batch.

    def on_key_set(self, key: Any, value: Any) -> None:
        """Count the write, then Faust's own (the changelog)."""
        self.generation += 1
        super().on_key_set(key, value)

    def on_key_del(self, key: Any) -> None:
        """Count the delete, then Faust's own (the tombstone)."""
        self.generation += 1
        super().on_key_del(key)

    def apply_changelog_batch(self, *args: Any, **kwargs: Any) -> None:
        """Count the changes read back from the changelog (recovery, standby copies), then apply them."""
        self.generation += 1
        super().apply_changelog_batch(*args, **kwargs)


def write_generation(table: Any) -> int | None:
    """How many times ``table``'s contents changed so far; None for a table that does not count (always changed)."""
    generation = getattr(table, "generation", None)
    return generation if isinstance(generation, int) else None


def cell_table(app: faust.App, partitions: int, name: str, description: str, **options: Any) -> Any:
    """A changelog-backed table of ``app`` named ``name`` (``partitions`` of them); missing keys read as ``{}``."""
    return app.Table(name, default=dict, partitions=partitions, help=description, options=ROCKSDB_LIMITS, **options)
