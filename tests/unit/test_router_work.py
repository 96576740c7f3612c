"""The router's work per record, counted (never timed): what issue 29 took off the per-record path stays off.

One batch of 400 records of one service, every 20th an ERROR, messages as ``bench/pipeline.py`` writes
them; each guard counts the calls of one piece of work. Our handler's records and other producers' are
routed alike but for the batch test and the redaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from logmonitor.pipeline import aggregation, fingerprint, record_ready, records, router
from logmonitor.pipeline.grouping import message
from logmonitor.pipeline.tables.group_states import state_key
from logmonitor.triage import status
from tests.unit.dict_tables import DictTables
from tests.unit.test_router import batch, raw
from tests.unit.test_router import producer as producer  # the fixtures
from tests.unit.test_router import route as route

RECORDS, ERROR_EVERY = 400, 20
VALUES = [raw("ERROR", f"request {i} failed: upstream timeout after {100 + i % 800} ms") if i % ERROR_EVERY == 0
          else raw("INFO", f"request {i} served in {i % 90} ms", host=f"pay-{i % 3}", extra={"route": "/api/items"})
          for i in range(RECORDS)]
ERRORS = RECORDS // ERROR_EVERY


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each guarded piece of work ran, by name."""
    counted: Counter[str] = Counter()

    def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def count(*args: Any, **kwargs: Any) -> Any:
            counted[name] += 1
            return real(*args, **kwargs)
        return count

    for owner, name in [(router, "parse_record"), (router, "may_be_batch"), (router, "records_of"),
                        (record_ready.FOREIGN_REDACTOR, "record"), (message, "parameterise"), (records, "_nesting"),
                        (aggregation, "admits"), (aggregation, "apply_events"), (status, "count_events")]:
        monkeypatch.setattr(owner, name, counting(name, getattr(owner, name)))
    for version, fingerprint_of in list(fingerprint._VERSIONS.items()):
        monkeypatch.setitem(fingerprint._VERSIONS, version, counting(f"grouping v{version}", fingerprint_of))
    monkeypatch.setattr(message, "_TEMPLATES", {})  # every template computed afresh once
    return counted


@pytest.mark.usefixtures("producer")
@pytest.mark.parametrize("ours", [True, False], ids=["our handler's", "another producer's"])
async def test_a_records_work_is_its_parse_and_its_counts(route: router.Router, tables: DictTables,
                                                          calls: Counter[str], ours: bool) -> None:
    await route(batch(VALUES, ours=ours))
    assert calls == Counter({
        "parse_record": RECORDS,
        "may_be_batch": 0 if ours else RECORDS,  # our handler never writes OTLP batches
        "record": 0 if ours else ERRORS,  # only errors' text is kept: only they are redacted
        "grouping v2": ERRORS,  # a new service has no version-1 groups to look for
        "parameterise": 3,  # once per text with its digits as zeros: "request 0 failed...", "request 00 ...", "... 000"
        "admits": 1,  # the service's first record; the others are admitted as listed
        "apply_events": 1, "count_events": 1,  # one group, its batch of events at once
    })
    [group] = tables.groups.values()
    triage = tables.group_states[state_key("pay", group["fingerprint"])]
    assert group["count"] == sum(n for _start, n in triage["counts"]["m"]) == ERRORS
