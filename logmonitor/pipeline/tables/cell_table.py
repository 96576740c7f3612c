"""How every table of the app is defined: dict cells, co-partitioned with the source, bounded RocksDB memory."""

from __future__ import annotations

from typing import Any

import faust

from logmonitor.engine.json_codec import CODEC
from logmonitor.engine.table_expiry import OnceExpiringTable
from logmonitor.pipeline.tables.changed_keys import ChangedKeys

__all__ = ["ROCKSDB_LIMITS", "CellTable", "cell_table", "discard"]

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
        self.changes = ChangedKeys()

    # Every change of the table's contents is noted (changed_keys.py), so a reader that derived something
    # from all its cells (read/group_index.py) knows what is out of date without reading them all again.
    # Writes and deletes go through on_key_set/on_key_del; recovery and standbys through the changelog batch.

    def on_key_set(self, key: Any, value: Any) -> None:
        """Note the write, then Faust's own (the changelog)."""
        self.changes.changed(key)
        super().on_key_set(key, value)

    def on_key_del(self, key: Any) -> None:
        """Note the delete, then Faust's own (the tombstone)."""
        self.changes.changed(key)
        super().on_key_del(key)

    def apply_changelog_batch(self, *args: Any, **kwargs: Any) -> None:
        """Note changes read back from the changelog (recovery, standby copies), then apply them."""
        self.changes.changed_unknown()
        super().apply_changelog_batch(*args, **kwargs)


def cell_table(app: faust.App, partitions: int, name: str, description: str, **options: Any) -> Any:
    """A changelog-backed table of ``app`` named ``name`` (``partitions`` of them); missing keys read as ``{}``."""
    return app.Table(name, default=dict, partitions=partitions, help=description, options=ROCKSDB_LIMITS, **options)


def discard(table: Any, key: Any) -> None:
    """Delete ``key`` from ``table`` if it is there (a tombstone then); nothing if not.

    Not ``table.pop(key, None)``: a table made with ``default=dict`` reads a missing key as ``{}``,
    so ``pop`` goes on to delete it and raises KeyError.
    """
    if key in table:
        del table[key]
