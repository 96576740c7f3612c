"""One memory budget for all of a worker's RocksDB databases.

Faust opens a RocksDB database per table and partition (5 tables x 8 partitions = 40 here),
each with its own memtables and block cache. Even capped at 1 MiB each, the quiet tables'
memtables fill for many minutes before their first flush, and the caches fill as they are
read, so a worker's RSS climbed all through a soak (P6). Here every database caches blocks in
one shared cache and charges its memtables to it (RocksDB's write buffer manager): RocksDB's
memory stays within ``BUDGET`` however many databases are open, and memtables are flushed when
their total, not each one, reaches half of it.
"""

from __future__ import annotations

import rocksdict
from faust.stores.rocksdb import RocksDBOptions

__all__ = ["BUDGET", "BudgetedOptions"]

BUDGET = 16 * 1024 * 1024
_CACHE = rocksdict.Cache(BUDGET)
_MEMTABLES = rocksdict.WriteBufferManager.new_write_buffer_manager_with_cache(BUDGET // 2, False, _CACHE)


class BudgetedOptions(RocksDBOptions):
    """Faust's options for a rocksdict database, with the worker's shared block cache and memtable budget."""

    def as_options(self) -> rocksdict.Options:
        """Faust's options, the block cache and the write buffer manager replaced by the shared ones."""
        options: rocksdict.Options = super().as_options()
        options.set_write_buffer_manager(_MEMTABLES)
        blocks = rocksdict.BlockBasedOptions()
        blocks.set_bloom_filter(self.bloom_filter_size, block_based=True)
        blocks.set_block_cache(_CACHE)
        blocks.set_index_type(rocksdict.BlockBasedIndexType.binary_search())
        options.set_block_based_table_factory(blocks)
        return options
