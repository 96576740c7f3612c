"""What a parsed record gets before anyone sees it: its place as id, and redaction unless our handler did it.

The router applies it to every error, whose text it keeps and forwards (of the other records it counts
only levels, hosts and times; an invalid record's dead-letter copy is redacted in ``dead_letter.py``); the
live record feed (``web/live_records.py``) to every record it shows, so both show a record alike, secrets
masked (DESIGN section 6).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from logmonitor.handler.redaction import REDACTED_HEADER, REDACTION_RULES, Redactor
from logmonitor.pipeline.repartition import Source

__all__ = ["FOREIGN_REDACTOR", "REDACTED", "ready_record", "redactor_for"]

REDACTED = (REDACTED_HEADER, REDACTION_RULES)  # the header our handler sends with the records it redacted
FOREIGN_REDACTOR = Redactor()  # for every other record (DESIGN section 6)


def ready_record(record: dict[str, Any], headers: Sequence[tuple[str, bytes]], place: Source) -> None:
    """Give ``record`` (parsed, read at ``place`` with ``headers``) an id and redact it, in place.

    The id is its place in the log (``<topic>-<partition>-<offset>[-<index>]``, formatted only here, for
    the few) when its producer set none; the record is redacted unless our handler marked it as done
    with the current rules (another producer's, or one redacted by other rules).
    """
    if record["id"] is None:
        at = f"{place.topic}-{place.partition}-{place.offset}"
        record["id"] = at if place.index_in_batch is None else f"{at}-{place.index_in_batch}"
    if (redactor := redactor_for(headers)) is not None:
        redactor.record(record)


def redactor_for(headers: Sequence[tuple[str, bytes]]) -> Redactor | None:
    """The redactor a record read with ``headers`` needs: none if our handler redacted it with the current rules."""
    return None if REDACTED in headers else FOREIGN_REDACTOR
