"""Every table: JSON keys and values in exactly-sized bytes, RocksDB within one shared memory budget."""

from pathlib import Path

import pytest
import rocksdict

import logmonitor.tables.every  # noqa: F401  (defines every table)
from logmonitor.app import app
from logmonitor.compact_json import CODEC
from logmonitor.tables.define import ROCKSDB_LIMITS, CellTable
from logmonitor.tables.rocksdb_budget import BudgetedOptions


def test_every_table_is_a_cell_table_with_the_compact_codec() -> None:
    assert len(app.tables) >= 5
    for table in app.tables.values():
        assert isinstance(table, CellTable), table.name
        assert (table.key_serializer, table.value_serializer) == (CODEC, CODEC)
        assert (table.changelog_topic.key_serializer, table.changelog_topic.value_serializer) == (CODEC, CODEC)


def test_a_rocksdb_store_gets_the_budgeted_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the store makes its backup directory under the app's table directory
    table = app.tables["log-counts"]
    store = table._new_store_by_url("rocksdb://")
    assert isinstance(store.rocksdb_options, BudgetedOptions)
    assert store.rocksdb_options.write_buffer_size == ROCKSDB_LIMITS["write_buffer_size"]
    assert isinstance(table._new_store_by_url("memory://"), type(table.data))  # memory:// as Faust makes it


def test_budgeted_databases_open_and_keep_data(tmp_path: Path) -> None:
    options = BudgetedOptions(**ROCKSDB_LIMITS, use_rocksdict=True)
    databases = [options.open(tmp_path / f"db{i}") for i in range(3)]  # one budget, several databases
    for i, db in enumerate(databases):
        for key in range(2_000):
            db[f"{i}-{key}".encode()] = b"x" * 600
    for i, db in enumerate(databases):
        assert db[f"{i}-1999".encode()] == b"x" * 600
        db.close()
    reopened = rocksdict.Rdict(str(tmp_path / "db1"), options=options.as_options())
    assert reopened[b"1-0"] == b"x" * 600
    reopened.close()
