"""Every change of a table's contents is noted by key (``tables/changed_keys.py``), as the groups index relies on.

Contract with faust-streaming 0.15.3 and mode: writes and deletes reach ``on_key_set``/``on_key_del``;
recovery and standbys apply changelog batches through the table's ``apply_changelog_batch``.
"""

from __future__ import annotations

from faust import Event
from faust.tables import base as faust_tables
from faust.tables import recovery as faust_recovery
from faust.types import Message
from mode.utils.collections import ManagedUserDict

from logmonitor.engine.current_event import writing_as_handler_of
from logmonitor.pipeline.tables.changed_keys import changed_keys
from logmonitor.server.app import LogMonitorApp
from tests.unit.engine.signatures import bare_signature, calls


def test_writes_deletes_and_changelog_batches_reach_the_methods_that_note_them() -> None:
    assert calls(ManagedUserDict.__setitem__, "self.on_key_set(key, value)")
    assert calls(ManagedUserDict.__delitem__, "self.on_key_del(key)")
    assert bare_signature(faust_tables.Collection.apply_changelog_batch) == "(self, batch)"
    assert calls(faust_recovery.Recovery.flush_buffers, "table.apply_changelog_batch(buffer)")


async def test_a_table_notes_the_keys_written_and_deleted_and_a_changelog_batch_as_unknown(
    app: LogMonitorApp
) -> None:
    groups = app.context.tables.error_groups
    changes = changed_keys(groups)
    assert changes is not None
    start = changes.generation
    message = Message("application-logs", 3, 10, 0.0, 0, [], b"svc", b"{}", None)
    with writing_as_handler_of(Event(app, b"svc", b"{}", [], message)):
        groups["svc\x1ffp1"] = {"count": 1}
        groups["svc\x1ffp2"] = {"count": 1}
        del groups["svc\x1ffp1"]
    assert changes.since(start) == {"svc\x1ffp1", "svc\x1ffp2"}
    groups.apply_changelog_batch([])
    assert changes.since(start) is None
