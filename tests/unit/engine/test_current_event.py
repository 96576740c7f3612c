"""Contract of the current event hook with Faust's streams (faust-streaming 0.15.3)."""

from __future__ import annotations

import contextvars

import faust
from faust import Event, streams
from faust.types import Message

from logmonitor.engine.current_event import writing_as_handler_of
from logmonitor.server.app import LogMonitorApp


def event(app: LogMonitorApp, offset: int) -> Event:
    return Event(app, b"svc", b"{}", [], Message("application-logs", 1, offset, 0.0, 0, [], b"svc", b"{}", None))


def test_the_current_event_is_a_context_variable_that_faust_current_event_reads() -> None:
    assert isinstance(streams._current_event, contextvars.ContextVar)
    assert faust.current_event is streams.current_event


def test_faust_sees_the_event_acted_for_inside_the_block_and_the_previous_one_after(app: LogMonitorApp) -> None:
    outer, inner = event(app, 1), event(app, 2)
    with writing_as_handler_of(outer):
        assert faust.current_event() is outer
        with writing_as_handler_of(inner):
            assert faust.current_event() is inner
        assert faust.current_event() is outer
    assert faust.current_event() is None
