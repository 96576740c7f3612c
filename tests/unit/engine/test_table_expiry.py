"""Contract of the table expiry hook with Faust's tables (faust-streaming 0.15.3)."""

from __future__ import annotations

from faust import Event
from faust.tables import base as faust_tables
from faust.tables import table as faust_table
from faust.types import Message

from logmonitor.engine.current_event import writing_as_handler_of
from logmonitor.engine.table_expiry import OnceExpiringTable
from logmonitor.pipeline.tables.event_time import current_record_epoch
from logmonitor.server.app import LogMonitorApp
from logmonitor.window import WINDOW_SECONDS
from tests.unit.engine.signatures import bare_signature, calls


def test_the_overridden_method_and_what_it_uses_have_the_verified_signatures() -> None:
    assert bare_signature(faust_tables.Collection._maybe_set_key_ttl) == "(self, key, partition)"
    assert bare_signature(OnceExpiringTable._maybe_set_key_ttl) == "(self, key, partition)"
    assert bare_signature(faust_tables.Collection._should_expire_keys) == "(self)"


def test_every_table_write_goes_through_the_overridden_method() -> None:
    assert calls(faust_table.Table.on_key_set, "self._maybe_set_key_ttl(key, partition)")
    assert calls(faust_tables.Collection._maybe_set_key_ttl,
                 "heappush(self._partition_timestamps[partition], range_end)",
                 "self._partition_timestamp_keys[(partition, range_end)].add(key)")


async def test_a_window_is_on_the_expiry_heap_once_however_often_it_is_written(app: LogMonitorApp) -> None:
    """Faust pushes a window's end on its expiry heap at every write; ours, once per window.

    Async: table writes need a running loop.
    """
    log_counts = app.context.tables.log_counts
    assert isinstance(log_counts.table, OnceExpiringTable)
    message = Message("application-logs", 3, 10, 0.0, 0, [], b"svc", b"{}", None)
    first = 1_900_000_000 // WINDOW_SECONDS * WINDOW_SECONDS
    starts = (first, first + WINDOW_SECONDS)
    with writing_as_handler_of(Event(app, b"svc", b"{}", [], message)):
        for count in range(50):
            current_record_epoch.set(starts[count % 2])
            log_counts["heap-test"] = {"INFO": count}
    heap = log_counts.table._partition_timestamps[3]
    ends = sorted(end for end in heap if end > starts[0])
    assert ends == [start + WINDOW_SECONDS - 0.1 for start in starts]
    current_record_epoch.set(starts[1])
    assert log_counts["heap-test"].value() == {"INFO": 49}
