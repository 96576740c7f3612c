"""Every table is a CellTable: JSON keys and values in exactly-sized bytes, windows expired without a leak."""

from faust import Event
from faust.types import Message

import logmonitor.tables.every  # noqa: F401  (defines every table)
from logmonitor.app import app
from logmonitor.engine.current_event import acting_for
from logmonitor.engine.json_codec import CODEC
from logmonitor.tables.define import CellTable
from logmonitor.tables.event_time import current_record_epoch
from logmonitor.tables.log_counts import WINDOW_SECONDS, log_counts


def test_every_table_is_a_cell_table_with_the_compact_codec() -> None:
    assert len(app.tables) >= 5
    for table in app.tables.values():
        assert isinstance(table, CellTable), table.name
        assert (table.key_serializer, table.value_serializer) == (CODEC, CODEC)
        assert (table.changelog_topic.key_serializer, table.changelog_topic.value_serializer) == (CODEC, CODEC)


def test_a_window_is_on_the_expiry_heap_once_however_often_it_is_written() -> None:
    """Faust pushes a window's end on its expiry heap at every write; ours, once per window."""
    message = Message("application-logs", 3, 10, 0.0, 0, [], b"svc", b"{}", None)
    first = 1_900_000_000 // WINDOW_SECONDS * WINDOW_SECONDS
    starts = (first, first + WINDOW_SECONDS)
    with acting_for(Event(app, b"svc", b"{}", [], message)):
        for count in range(50):
            current_record_epoch.set(starts[count % 2])
            log_counts["heap-test"] = {"INFO": count}
    heap = log_counts.table._partition_timestamps[3]
    ends = sorted(end for end in heap if end > starts[0])
    assert ends == [start + WINDOW_SECONDS - 0.1 for start in starts]
    current_record_epoch.set(starts[1])
    assert log_counts["heap-test"].value() == {"INFO": 49}
