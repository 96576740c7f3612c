"""How every table of the app is defined: dict cells, co-partitioned with the source, bounded RocksDB memory."""

from __future__ import annotations

from typing import Any

import faust

from logmonitor.app import app, settings
from logmonitor.compact_json import CODEC

__all__ = ["ROCKSDB_LIMITS", "CellTable", "cell_table"]

_MIB = 1024 * 1024

# Faust opens one RocksDB database per table and partition with 64 MiB memtables (up to three)
# and a 2 GiB block cache each: with 5 tables x 8 partitions a worker's memory grows for hours
# before anything is flushed (P6 measured +109 % RSS in 10 minutes). Small memtables flush
# early; the data lives on disk and in the OS page cache. memory:// ignores these options.
ROCKSDB_LIMITS = {"write_buffer_size": _MIB, "max_write_buffer_number": 2, "block_cache_size": _MIB}


class CellTable(faust.Table):  # type: ignore[type-arg]
    """The app's table class (setting ``Table``): JSON keys and values in exactly-sized bytes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_serializer = self.value_serializer = CODEC  # Faust takes them from model types only

    def _maybe_set_key_ttl(self, key: Any, partition: int) -> None:
        """Faust's, except that a window's end goes on the expiry heap once, not at every write.

        Faust pushes it at every write of a windowed key and pops it only once the window has
        expired: one float per write, held for the whole retention (P6: 1.3 MB a minute at
        5,000 logs/s, nearly 2 GB over the default 24 h).
        """
        if self._should_expire_keys():
            window_keys = self._partition_timestamp_keys.get((partition, key[1][1]))
            if window_keys is not None:
                window_keys.add(key)
                return
        super()._maybe_set_key_ttl(key, partition)


def cell_table(name: str, description: str, **options: Any) -> Any:
    """A changelog-backed table named ``name`` whose missing keys read as ``{}``."""
    return app.Table(name, default=dict, partitions=settings.partitions, help=description,
                     options=ROCKSDB_LIMITS, **options)
