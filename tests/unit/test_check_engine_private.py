"""``make lint``'s check that nothing outside logmonitor/engine/ touches faust's, mode's or aiokafka's internals."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tools.check_engine_private import check_source, main

ROOT = Path(__file__).resolve().parents[2]

TOUCHES = {
    "an underscore name imported": "from faust.streams import _current_event\n",
    "an underscore module imported": "import aiokafka._crc32c\n",
    "an engine class's private attribute": """
        from faust.transport.drivers import aiokafka as faust_aiokafka
        faust_aiokafka.Consumer._drain_messages
        """,
    "an engine method overridden": """
        from faust.transport.drivers import aiokafka as faust_aiokafka
        class Reader(faust_aiokafka.Consumer):
            def _new_offset(self, tp):
                return None
        """,
    "an engine attribute used by a subclass": """
        import faust
        class Worker(faust.Worker):
            def pending(self):
                return self._stopped
        """,
    "an engine method called through super()": """
        from faust.serializers import codecs
        class Codec(codecs.json):
            def encode(self, s):
                return super()._dumps(s)
        """,
    "an engine attribute of any object, by its name": """
        def replace(buffer):
            buffer._send_pending = None
        """,
    "an engine override through a class of the seam": """
        from logmonitor.engine.table_expiry import OnceExpiringTable
        class Table(OnceExpiringTable):
            def _should_expire_keys(self):
                return False
        """,
}

CLEAN = """
    import faust
    from logmonitor.engine.current_event import writing_as_handler_of

    class Worker(faust.Worker):
        def __init__(self, *args):
            super().__init__(*args)
            self._own_counter = 0  # a name no engine class defines

        async def _probe_own_lag(self):
            self._own_counter += 1

    class Plain:
        def __init__(self):
            self._stopped = False  # not an engine class: its own attribute
    """


@pytest.mark.parametrize("source", TOUCHES.values(), ids=TOUCHES.keys())
def test_a_touch_of_engine_internals_is_found(source: str) -> None:
    assert check_source(textwrap.dedent(source)), source


def test_public_engine_names_and_own_underscore_names_pass() -> None:
    assert check_source(textwrap.dedent(CLEAN)) == []


def test_the_code_base_outside_the_seam_touches_no_engine_internals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main([]) == 0
