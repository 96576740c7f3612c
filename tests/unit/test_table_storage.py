"""Every table is a CellTable: JSON keys and values in exactly-sized bytes (expiry: tests/unit/engine)."""

from logmonitor.engine.json_codec import CODEC
from logmonitor.pipeline.tables.cell_table import CellTable
from logmonitor.server.app import LogMonitorApp


def test_every_table_is_a_cell_table_with_the_compact_codec(app: LogMonitorApp) -> None:
    assert len(app.tables) == 6
    for table in app.tables.values():
        assert isinstance(table, CellTable), table.name
        assert (table.key_serializer, table.value_serializer) == (CODEC, CODEC)
        assert (table.changelog_topic.key_serializer, table.changelog_topic.value_serializer) == (CODEC, CODEC)

